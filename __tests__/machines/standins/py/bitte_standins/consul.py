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
CLI: `acl bootstrap [file]`, `acl policy read|create`, `acl token create|delete|read`, with the
api package's error texts ("Unexpected response code: <code> (<body>)") and exit status 1.
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
    handler = type("ConsulApi", (common.Api,), {"route": staticmethod(lambda m, p, b, h: route(node, m, p, b, h))})
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

    def hup():
        try:
            c, _ = load(paths)
            common.event(node, PRODUCT, "reload", tokens=sorted(c.get("acl", {}).get("tokens", {}).keys()))
        except Fatal as e:
            common.event(node, PRODUCT, "reload-failed", error=str(e))

    common.wait_forever(lambda: common.event(node, PRODUCT, "stop"), hup)
    return 0


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


def route(node, method, path, body, headers):
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
    if p == "/v1/acl/bootstrap" and method == "PUT":
        return call("bootstrap", secret=req.get("BootstrapSecret", ""))
    if p.startswith("/v1/acl/policy/name/") and method == "GET":
        return call("policy_read", name=urllib.parse.unquote(p.rsplit("/", 1)[1]))
    if p == "/v1/acl/policy" and method == "PUT":
        return call("policy_create", name=req.get("Name"), rules=req.get("Rules", ""), description=req.get("Description", ""))
    if p == "/v1/acl/policies" and method == "GET":
        return call("policy_list")
    if p == "/v1/acl/token" and method == "PUT":
        return call("token_create", policy_names=[x.get("Name") for x in req.get("Policies", [])], description=req.get("Description", ""))
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
        print(json.dumps({k: v for k, v in t.items() if k != "management"}, indent=4))
        return
    print(f"AccessorID:       {t['AccessorID']}\nSecretID:         {t['SecretID']}\nDescription:      {t.get('Description', '')}\nLocal:            false\nPolicies:")
    for p in t.get("Policies", []):
        print(f"   {p['ID']} - {p['Name']}")


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
        body = {"Policies": [{"Name": n} for n in flags.get("policy-name", [])], "Description": flags.get("description", [""])[0]}
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


def main(argv=None):
    return common.run_main(cli, sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())
