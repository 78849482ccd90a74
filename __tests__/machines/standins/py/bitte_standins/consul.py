"""Stand-in `consul` (1.21.4): `consul agent` and the CLI calls the bootstrap makes.

Agent contract (from hashicorp/consul at the 1.21.4 changelog commit, see schema/consul.json):
- every config file's keys are checked against the mapstructure schema; an unknown key fails
  with agent/config/builder.go's "failed to parse <file>: ... invalid config key <k>";
- data_dir must be writable: the agent writes <data_dir>/node-id first (agent/config/builder.go
  / agent/setup.go "failed to write NodeID to disk");
- TLS files are read as the agent's uid; HTTPS and gRPC-TLS are served with the configured
  certificate on servers, and on clients with `auto_encrypt.tls` with a certificate the servers'
  Connect CA signs (agent/auto-config/auto_encrypt.go): that root is connect.ca_config's
  root_cert when given, else one Consul generates and nothing else trusts;
- READY=1 via sd_notify once listening (agent/agent.go: notifySystemd after Start).
CLI: `acl bootstrap [file]`, `acl policy read|create`, `acl token create|delete|read` (create:
-policy-name, -role-name, -node-identity NAME:DC, -service-identity NAME[:DCS]), `acl set-agent-token`,
`login`, `logout` (login.py has the server side), with the api package's error texts
("Unexpected response code: <code> (<body>)") and exit status 1.
ACLs on the agent (class Agent): its node and config-file services are registered with its tokens
and checked by the servers (node-register / service-register events).
"""
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.parse

from . import common
from .common import Fatal

PRODUCT = "consul"


def _files(argv):
    return common.flag_values(argv, "config-dir", "config-file")


def load(paths):
    sch = common.schema("consul")
    merged, files = {}, []
    for f, obj in common.load_config(paths):
        bad = common.unknown_keys(sch, obj)
        if bad:
            errs = "".join(f"\t* invalid config key {k}\n" for k in bad)
            n = len(bad)
            raise Fatal(f"==> failed to parse {f}: {n} error{'s' if n > 1 else ''} occurred:\n{errs}\n")
        merged = common.merge(merged, obj)
        files.append(f)
    return merged, files


def _tls(cfg, listener):
    d = dict(cfg.get("tls", {}).get("defaults", {}))
    d.update(cfg.get("tls", {}).get(listener, {}))
    for legacy in ("ca_file", "cert_file", "key_file", "verify_incoming"):
        if legacy in cfg and legacy not in d:
            d[legacy] = cfg[legacy]
    return d


def agent(argv):
    paths = _files(argv)
    cfg, files = load(paths)
    uid, user = common.whoami()
    node = cfg.get("node_name") or os.uname().nodename
    server = bool(cfg.get("server"))
    data_dir = cfg.get("data_dir")
    if not data_dir:
        raise Fatal("==> data_dir cannot be empty")
    try:
        common.check_writable_dir(data_dir, "node-id")
    except Fatal as e:
        raise Fatal(f"==> failed to write NodeID to disk: {e}") from None
    for listener in ("defaults", "https", "grpc", "internal_rpc"):
        t = _tls(cfg, listener)
        for k in ("ca_file", "cert_file", "key_file"):
            if t.get(k):
                try:
                    common.read_file(t[k])
                except Fatal as e:
                    raise Fatal(f"==> Failed to load TLS configurations: failed to load {k}: {e}") from None
    if cfg.get("encrypt"):
        import base64
        import binascii

        try:
            if len(base64.b64decode(cfg["encrypt"], validate=True)) not in (16, 24, 32):
                raise ValueError
        except (binascii.Error, ValueError):
            raise Fatal("==> Failed to decode encrypt key: key size must be 16, 24 or 32 bytes") from None
    tokens = sorted(cfg.get("acl", {}).get("tokens", {}).keys())
    expect = cfg.get("bootstrap_expect")
    ip = common.resolve_addr(cfg.get("advertise_addr") or cfg.get("bind_addr") or common.private_ip())
    # Servers (and clients, through them) join the one cluster the shared state keeps.
    ca_config = cfg.get("connect", {}).get("ca_config") if server else None
    deadline = time.monotonic() + 600
    while True:
        status, out = common.rpc(PRODUCT, "join", {"node": node, "ip": ip, "server": server, "expect": expect, "caConfig": ca_config})
        if status == 200:
            break
        if time.monotonic() > deadline:
            raise Fatal(f"==> Failed to join: {out.get('error')}")
        time.sleep(2)

    https = _tls(cfg, "https")
    grpc = _tls(cfg, "grpc")
    cert, key = https.get("cert_file"), https.get("key_file")
    served = "configured"
    if not server and cfg.get("auto_encrypt", {}).get("tls"):
        cert, key = _auto_encrypt(cfg, node, ip, data_dir)
        served = "auto_encrypt"
    ports = cfg.get("ports", {})
    addrs = cfg.get("addresses", {})
    client_addr = cfg.get("client_addr", "127.0.0.1")
    live = Agent(node, cfg.get("datacenter", "dc1"), data_dir, cfg, paths)
    handler = type("ConsulApi", (common.Api,), {"route": staticmethod(lambda m, p, b, h: route(node, m, p, b, h, live))})
    bound = []
    if ports.get("http", 8500) > 0:
        for host in common.resolve_addr(addrs.get("http", client_addr)).split():
            common.listen(host, ports.get("http", 8500), handler)
            bound.append(f"http://{host}:{ports.get('http', 8500)}")
    for name, port_key, t in (("https", "https", https), ("grpc_tls", "grpc_tls", grpc)):
        port = ports.get(port_key, -1 if port_key == "https" else 8503)
        if port is None or port <= 0:
            continue
        if not (cert and key):
            raise Fatal(f"==> {name} port {port} is configured but no TLS certificate: set tls.{name.split('_')[0]}.cert_file or auto_encrypt")
        ctx = common.tls_context(cert, key, t.get("ca_file"), bool(t.get("verify_incoming")))
        for host in common.resolve_addr(addrs.get(name, client_addr)).split():
            common.listen(host, port, handler, ctx)
            bound.append(f"{name}://{host}:{port}")
    common.event(node, PRODUCT, "start", uid=uid, user=user, configFiles=files, server=server, tokens=tokens, certificate=served, listen=bound)
    common.sd_notify("READY=1")
    print(f"==> Consul agent running! (stand-in, node {node}, {'server' if server else 'client'})", flush=True)
    live.sync()

    def hup():
        try:
            c, _ = load(paths)
            common.event(node, PRODUCT, "reload", tokens=sorted(c.get("acl", {}).get("tokens", {}).keys()))
            live.reload(c)
        except Fatal as e:
            common.event(node, PRODUCT, "reload-failed", error=str(e))

    common.wait_forever(lambda: common.event(node, PRODUCT, "stop"), hup)
    return 0


class Agent:
    """The agent's ACL tokens and its anti-entropy sync (agent/local/state.go).

    Tokens: `acl.tokens.agent` (else `default`) registers the node, `acl.tokens.
    config_file_service_registration` (else `default`) the services of the config files;
    `consul acl set-agent-token` (PUT /v1/agent/token/<kind>) replaces one in memory and, with
    `acl.enable_token_persistence`, in `<data_dir>/acl-tokens.json` (agent/token/persistence.go),
    which overrides the config on the next start. Each sync sends the node and the services to the
    servers (the shared state checks node:write / service:write and records node-register /
    service-register); a denial is logged as Consul logs it and the agent keeps running (real
    agents retry anti-entropy)."""

    KINDS = {"agent": "agent", "default": "default", "agent_recovery": "agent_recovery", "agent_master": "agent_recovery",
             "replication": "replication", "config_file_service_registration": "config_file_service_registration", "dns": "dns"}

    def __init__(self, node, datacenter, data_dir, cfg, paths):
        self.node, self.datacenter, self.data_dir, self.paths = node, datacenter, data_dir, paths
        self.persisted = {}
        self.reload(cfg, sync=False)
        if self.persist:
            try:
                with open(os.path.join(data_dir, "acl-tokens.json"), encoding="utf-8") as f:
                    self.persisted = json.load(f)
            except (FileNotFoundError, ValueError):
                self.persisted = {}

    def reload(self, cfg, sync=True):
        acl = cfg.get("acl", {})
        self.persist = bool(acl.get("enable_token_persistence"))
        self.configured = dict(acl.get("tokens", {}))
        self.services = []
        for _, obj in common.load_config(self.paths):
            svcs = obj.get("services", [])
            svcs = svcs if isinstance(svcs, list) else [svcs]
            if isinstance(obj.get("service"), dict):
                svcs = svcs + [obj["service"]]
            self.services += [x.get("name") for x in svcs if isinstance(x, dict) and x.get("name")]
        if sync:
            # agent/agent.go reloadConfig -> tokens.Load: the config's tokens again; API-set ones
            # survive only when persisted (enable_token_persistence).
            if not self.persist:
                self.persisted = {}
            self.sync()

    def token(self, kind):
        t = self.persisted.get(kind) or self.configured.get(kind)
        if not t and kind in ("agent", "config_file_service_registration"):
            t = self.persisted.get("default") or self.configured.get("default")
        return t or ""

    def set(self, kind, secret):
        self.persisted[kind] = secret
        if self.persist:
            path = os.path.join(self.data_dir, "acl-tokens.json")
            with open(path + ".tmp", "w", encoding="utf-8") as f:
                json.dump(self.persisted, f)
            os.chmod(path + ".tmp", 0o600)
            os.replace(path + ".tmp", path)
        self.sync()

    def sync(self):
        status, out = common.rpc(PRODUCT, "register", {"node": self.node, "datacenter": self.datacenter, "agentToken": self.token("agent"),
                                                      "serviceToken": self.token("config_file_service_registration"), "services": self.services})
        if status != 200:
            # No leader yet (or the servers unreachable): anti-entropy retries, as the agent's sync loop does.
            print(f"[ERR] agent: failed to sync remote state: {out.get('error', '')}", flush=True)
            self.retries = getattr(self, "retries", 0) + 1
            if self.retries <= 120:
                import threading

                t = threading.Timer(5, self.sync)
                t.daemon = True
                t.start()
            return
        self.retries = 0
        if out["node"]["error"]:
            print(f"[WARN] agent: Node info update blocked by ACLs: node={self.node} accessorID={out['node']['accessor']}", flush=True)
            print(f"[ERR] agent: failed to sync remote state: rpc error making call: {out['node']['error']}", flush=True)
        for svc in out["services"]:
            if svc["error"]:
                print(f"[WARN] agent: Service registration blocked by ACLs: service={svc['service']} accessorID={svc['accessor']}", flush=True)
                print(f"[ERR] agent: failed to sync remote state: rpc error making call: {svc['error']}", flush=True)


def _auto_encrypt(cfg, node, ip, data_dir):
    """AutoEncrypt.Sign: a key and CSR here, the leaf from the servers' Connect CA."""
    ae = cfg.get("auto_encrypt", {})
    dc = cfg.get("datacenter", "dc1")
    sans = ["DNS:localhost", "IP:127.0.0.1", f"IP:{ip}"] + [f"DNS:{d}" for d in ae.get("dns_san", [])] + [f"IP:{i}" for i in ae.get("ip_san", [])]
    sans.append(f"URI:spiffe://{'11111111-2222-3333-4444-555555555555'}.consul/agent/client/dc/{dc}/id/{node}")
    d = tempfile.mkdtemp(prefix="auto-encrypt.", dir=data_dir)
    key = os.path.join(d, "key.pem")
    subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
                    "-out", os.path.join(d, "csr.pem"), "-subj", f"/CN={node}"], check=True, capture_output=True, timeout=60)
    with open(os.path.join(d, "csr.pem"), encoding="ascii") as f:
        csr = f.read()
    deadline = time.monotonic() + 600
    while True:
        status, out = common.rpc(PRODUCT, "sign", {"csr": csr, "cn": node, "san": ",".join(sans)})
        if status == 200:
            break
        if time.monotonic() > deadline:
            raise Fatal(f"==> AutoEncrypt failed: {out.get('error')}")
        time.sleep(2)
    cert = os.path.join(d, "cert.pem")
    with open(cert, "w", encoding="ascii") as f:
        f.write(out["cert"])
    return cert, key


def route(node, method, path, body, headers, live=None):
    """The HTTP API: ACL endpoints forward to the servers (the shared state)."""
    u = urllib.parse.urlsplit(path)
    p = u.path
    q = dict(urllib.parse.parse_qsl(u.query))
    token = headers.get("x-consul-token") or (headers.get("authorization", "")[7:] if headers.get("authorization", "").startswith("Bearer ") else "")
    req = json.loads(body) if body else {}

    def call(op, **kw):
        status, out = common.rpc(PRODUCT, op, {"node": node, "token": token, **kw})
        if status == 0:
            return 500, "rpc error making call: " + out.get("error", "")
        return (status, out) if status == 200 else (status, out.get("error", ""))

    if p == "/v1/status/leader" and method == "GET":
        status, out = common.rpc(PRODUCT, "join", {"node": node, "server": False})
        ld = out.get("leader")
        # agent/status_endpoint.go StatusLeader: the JSON encoding of "<ip>:8300", or of "" without one.
        return 200, common.JsonValue(f"{out['servers'][ld]}:8300" if ld else "")
    if p == "/v1/snapshot" and method == "GET":
        # agent/snapshot_endpoint.go: the leader streams a snapshot archive (ACL: management).
        status, out = call("snapshot")
        return (200, common.Archive(common.snapshot_archive(out["meta"], out["state"]))) if status == 200 else (status, out)
    if p == "/v1/agent/self":
        return 200, {"Config": {"NodeName": node}}
    dc = live.datacenter if live else "dc1"
    if p == "/v1/acl/login" and method in ("PUT", "POST"):
        # agent/acl_endpoint.go ACLLogin -> ACL.Login on the servers (login.py); the request's token is not read.
        return call("login", authMethod=req.get("AuthMethod", ""), bearerToken=req.get("BearerToken", ""), meta=req.get("Meta") or {}, datacenter=dc)
    if p == "/v1/acl/logout" and method in ("PUT", "POST"):
        return call("logout")
    if p.startswith("/v1/agent/token/") and method == "PUT" and live is not None:
        # agent/agent_endpoint.go AgentToken: agent:write on this agent's node, then the token is used at once.
        kind = p.rsplit("/", 1)[1]
        if kind not in Agent.KINDS:
            return 404, f"Token {json.dumps(kind)} is unknown"
        status, out = call("authorize", resource="agent", name=node, need="write", datacenter=dc)
        if status != 200:
            return status, out
        common.event(node, PRODUCT, "set-agent-token", kind=Agent.KINDS[kind], accessor=out["accessor"])
        live.set(Agent.KINDS[kind], req.get("Token", ""))
        return 200, ""
    if p == "/v1/acl/bootstrap" and method == "PUT":
        return call("bootstrap", secret=req.get("BootstrapSecret", ""))
    if p.startswith("/v1/acl/policy/name/") and method == "GET":
        return call("policy_read", name=urllib.parse.unquote(p.rsplit("/", 1)[1]))
    if p == "/v1/acl/policy" and method == "PUT":
        return call("policy_create", name=req.get("Name"), rules=req.get("Rules", ""), description=req.get("Description", ""))
    if p == "/v1/acl/policies" and method == "GET":
        return call("policy_list")
    if p == "/v1/acl/token" and method == "PUT":
        return call("token_create", policy_names=[x.get("Name") for x in req.get("Policies", [])], description=req.get("Description", ""),
                    node_identities=req.get("NodeIdentities") or [], service_identities=req.get("ServiceIdentities") or [],
                    role_names=[x.get("Name") for x in req.get("Roles") or []])
    if p == "/v1/acl/token/self" and method == "GET":
        return call("token_self")
    if p.startswith("/v1/acl/token/") and method == "GET":
        return call("token_read", id=p.rsplit("/", 1)[1])
    if p.startswith("/v1/acl/token/") and method == "DELETE":
        return call("token_delete", id=p.rsplit("/", 1)[1])
    return 404, f"Invalid URL path: not a recognized HTTP API endpoint ({p}) {q and ''}"


# --- CLI -----------------------------------------------------------------------------------------


def _flags(args):
    out, pos = {}, []
    i = 0
    while i < len(args):
        a = args[i]
        if a.startswith("-") and len(a) > 1:
            k = a.lstrip("-")
            if "=" in k:
                k, v = k.split("=", 1)
            elif i + 1 < len(args) and not args[i + 1].startswith("-"):
                v = args[i + 1]
                i += 1
            else:
                v = "true"
            out.setdefault(k, []).append(v)
        else:
            pos.append(a)
        i += 1
    return out, pos


def _api(method, path, body=None, raw=False):
    addr = os.environ.get("CONSUL_HTTP_ADDR", "http://127.0.0.1:8500")
    if "://" not in addr:
        addr = ("https://" if os.environ.get("CONSUL_HTTP_SSL") == "true" else "http://") + addr
    token = os.environ.get("CONSUL_HTTP_TOKEN", "")
    if os.environ.get("CONSUL_HTTP_TOKEN_FILE"):
        token = common.read_file(os.environ["CONSUL_HTTP_TOKEN_FILE"]).decode().strip()
    headers = {"X-Consul-Token": token} if token else {}
    return common.client_request(addr, method, path, body, os.environ.get("CONSUL_CACERT"), headers, raw=raw)


def _check(what, status, text):
    if status != 200:
        raise Fatal(f"{what}: Unexpected response code: {status} ({text})")
    return json.loads(text) if text else None


def _print_token(t, fmt):
    if fmt == "json":
        print(json.dumps({k: v for k, v in t.items() if k not in ("management", "ExpirationEpoch")}, indent=4))
        return
    # command/acl/token/formatter.go prettyFormatter
    print(f"AccessorID:       {t['AccessorID']}\nSecretID:         {t['SecretID']}")
    if t.get("AuthMethod"):
        print(f"Auth Method:      {t['AuthMethod']} (Namespace: )")
    print(f"Description:      {t.get('Description', '')}\nLocal:            {str(bool(t.get('Local'))).lower()}")
    if t.get("ExpirationTime"):
        print(f"Expiration Time:  {t['ExpirationTime']}")
    print("Policies:")
    for p in t.get("Policies", []):
        print(f"   {p['ID']} - {p['Name']}")
    if t.get("Roles"):
        print("Roles:")
        for r in t["Roles"]:
            print(f"   {r['ID']} - {r['Name']}")
    if t.get("ServiceIdentities"):
        print("Service Identities:")
        for x in t["ServiceIdentities"]:
            print(f"   {x['ServiceName']} (Datacenters: all)")
    if t.get("NodeIdentities"):
        print("Node Identities:")
        for x in t["NodeIdentities"]:
            print(f"   {x['NodeName']} (Datacenter: {x['Datacenter']})")


def cli(argv):
    if not argv:
        print("Usage: consul [--version] [--help] <command> [<args>]", file=sys.stderr)
        return 1
    if argv[0] in ("version", "--version", "-version"):
        print("Consul v1.21.4 (stand-in)\nRevision 0\nBuild Date 2025-08-21T00:00:00Z")
        return 0
    if argv[0] == "agent":
        return agent(argv[1:])
    if argv[0] == "validate":
        load(argv[1:] or ["/etc/consul.d"])
        print("Configuration is valid!")
        return 0
    if argv[:2] == ["snapshot", "save"]:
        # command/snapshot/save/snapshot_save.go: GET /v1/snapshot into <file>, verify, then
        # "Saved and verified snapshot to index N".
        _, pos = _flags(argv[2:])
        if len(pos) != 1:
            raise Fatal("This command takes one argument: <file>")
        status, data = _api("GET", "/v1/snapshot", raw=True)
        if status != 200:
            raise Fatal(f"Error saving snapshot: Unexpected response code: {status} ({data.decode(errors='replace')})")
        meta = common.verify_archive(data)
        with open(pos[0], "wb") as f:
            f.write(data)
        print(f"Saved and verified snapshot to index {meta['Index']}")
        return 0
    if argv[:1] == ["login"]:
        return _login(argv[1:])
    if argv[:1] == ["logout"]:
        # command/logout/logout.go: POST /v1/acl/logout with the request's token.
        status, text = _api("POST", "/v1/acl/logout")
        if status != 200:
            raise Fatal(f"Error destroying token: Unexpected response code: {status} ({text})")
        return 0
    if argv[:2] == ["acl", "set-agent-token"]:
        # command/acl/agenttokens/agent_tokens.go: PUT /v1/agent/token/<type> {"Token"}.
        _, pos = _flags(argv[2:])
        if len(pos) != 2:
            raise Fatal("Missing TYPE and TOKEN arguments")
        status, text = _api("PUT", f"/v1/agent/token/{pos[0]}", {"Token": pos[1]})
        if status != 200:
            raise Fatal(f"Failed to set ACL token {json.dumps(pos[0])}: Unexpected response code: {status} ({text})")
        print(f"ACL token {json.dumps(pos[0])} set successfully")
        return 0
    if argv[:1] != ["acl"] or len(argv) < 2:
        raise Fatal(f"stand-in consul: command not supported: {' '.join(argv)}")
    sub = argv[1:3] if argv[1] in ("policy", "token") else argv[1:2]
    flags, pos = _flags(argv[1 + len(sub):])
    fmt = flags.get("format", ["pretty"])[0]
    if sub == ["bootstrap"]:
        body = {}
        if pos:
            body["BootstrapSecret"] = common.read_file(pos[0]).decode().strip() if pos[0] != "-" else sys.stdin.read().strip()
        status, text = _api("PUT", "/v1/acl/bootstrap", body)
        _print_token(_check("Failed ACL bootstrapping", status, text), fmt)
        return 0
    if sub == ["policy", "read"]:
        name = flags.get("name", [""])[0]
        status, text = _api("GET", f"/v1/acl/policy/name/{urllib.parse.quote(name)}")
        if status == 404:
            raise Fatal(f"Error reading policy: Failed to find policy with name {name}")
        pol = _check("Error reading policy", status, text)
        print(json.dumps(pol, indent=4) if fmt == "json" else f"ID:           {pol['ID']}\nName:         {pol['Name']}\nRules:\n{pol['Rules']}")
        return 0
    if sub == ["policy", "create"]:
        rules = flags.get("rules", [""])[0]
        if rules.startswith("@"):
            rules = common.read_file(rules[1:]).decode()
        status, text = _api("PUT", "/v1/acl/policy", {"Name": flags.get("name", [""])[0], "Rules": rules, "Description": flags.get("description", [""])[0]})
        pol = _check("Failed to create new policy", status, text)
        print(json.dumps(pol, indent=4) if fmt == "json" else f"ID:           {pol['ID']}\nName:         {pol['Name']}")
        return 0
    if sub == ["token", "create"]:
        body = {"Policies": [{"Name": n} for n in flags.get("policy-name", [])], "Description": flags.get("description", [""])[0],
                "Roles": [{"Name": n} for n in flags.get("role-name", [])]}
        # command/acl/token/create: -node-identity NAME:DATACENTER, -service-identity NAME[:DC1,DC2].
        nodes = []
        for v in flags.get("node-identity", []):
            name, sep, dc = v.partition(":")
            if not sep or not dc:
                raise Fatal(f"Malformed -node-identity argument: {v!r}")
            nodes.append({"NodeName": name, "Datacenter": dc})
        svcs = []
        for v in flags.get("service-identity", []):
            name, _, dcs = v.partition(":")
            svcs.append({"ServiceName": name, **({"Datacenters": dcs.split(",")} if dcs else {})})
        if nodes:
            body["NodeIdentities"] = nodes
        if svcs:
            body["ServiceIdentities"] = svcs
        status, text = _api("PUT", "/v1/acl/token", body)
        _print_token(_check("Failed to create new token", status, text), fmt)
        return 0
    if sub == ["token", "read"]:
        tid = flags.get("id", [""])[0]
        status, text = _api("GET", "/v1/acl/token/self" if flags.get("self") else f"/v1/acl/token/{tid}")
        _print_token(_check("Error reading token", status, text), fmt)
        return 0
    if sub == ["token", "delete"]:
        tid = flags.get("id", [""])[0]
        status, text = _api("DELETE", f"/v1/acl/token/{tid}")
        _check(f"Error deleting token {tid}", status, text)
        print(f'Token "{tid}" deleted successfully')
        return 0
    raise Fatal(f"stand-in consul: command not supported: {' '.join(argv)}")


def _login(args):
    """command/login/login.go: `consul login -method=M -bearer-token-file=F -token-sink-file=F [-meta k=v]...`:
    PUT /v1/acl/login, the SecretID written to the sink file (mode 0600, no newline), nothing printed."""
    flags, _ = _flags(args)
    method = flags.get("method", [""])[0]
    if not method:
        raise Fatal("Missing required '-method' flag")
    bearer_file = flags.get("bearer-token-file", [""])[0]
    if not bearer_file:
        raise Fatal("Missing required '-bearer-token-file' flag")
    sink = flags.get("token-sink-file", [""])[0]
    if not sink:
        raise Fatal("Missing required '-token-sink-file' flag")
    try:
        bearer = common.read_file(bearer_file).decode().strip()
    except Fatal as e:
        raise Fatal(f"Error reading bearer token file: {e}") from None
    if not bearer:
        raise Fatal("No bearer token found in " + bearer_file)
    meta = {}
    for kv in flags.get("meta", []):
        k, sep, v = kv.partition("=")
        if not sep:
            raise Fatal(f"Error parsing -meta: {kv!r} is not of the form key=value")
        meta[k] = v
    # The agent refuses a request token on login: the CLI sends none (api/acl.go Login).
    os.environ.pop("CONSUL_HTTP_TOKEN", None)
    os.environ.pop("CONSUL_HTTP_TOKEN_FILE", None)
    status, text = _api("PUT", "/v1/acl/login", {"AuthMethod": method, "BearerToken": bearer, "Meta": meta or None})
    if status != 200:
        raise Fatal(f"Error logging in: Unexpected response code: {status} ({text})")
    tok = json.loads(text)
    tmp = sink + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(tok["SecretID"])
    os.replace(tmp, sink)
    return 0


def main(argv=None):
    return common.run_main(cli, sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())
