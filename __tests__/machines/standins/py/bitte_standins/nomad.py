"""Stand-in `nomad` (1.10.5): `nomad agent` and the CLI calls the bootstrap makes.

Agent contract (hashicorp/nomad v1.10.5):
- command/agent/config_parse.go ParseConfigFile + helper/funcs.go UnusedKeys: an unknown key
  fails with "<block path> unexpected keys <k>" (command/agent/command.go prints
  "Error loading configuration from <path>: ..."); consul/vault blocks are decoded weakly;
- data_dir writable (servers create <data_dir>/server/raft, clients <data_dir>/client);
- tls: http/rpc served with cert_file/key_file; verify_https_client requires client certs;
- the agent talks to the local Consul over HTTPS with consul.ca_file (and grpc_ca_file) and
  records whether that chain verified: Consul's auto_encrypt certificate fails against the Bitte CA.
CLI: `acl bootstrap [file]` ("Error bootstrapping: Unexpected response code: 400 (ACL bootstrap
already done (reset index: N))"), `acl policy apply`, `acl token create`, `status`.
"""
import json
import os
import ssl
import socket
import sys
import threading
import time
import urllib.parse

from . import common
from .common import Fatal

PRODUCT = "nomad"


def load(paths):
    sch = common.schema("nomad")
    merged, files = {}, []
    for f, obj in common.load_config(paths):
        bad = common.unknown_keys(sch, obj)
        if bad:
            # helper.UnusedKeys reports the first struct with extras: "<path> unexpected keys a, b".
            head = bad[0].rsplit(".", 1)
            prefix = head[0] + " " if len(head) == 2 else ""
            same = [b.rsplit(".", 1)[-1] for b in bad if (b.rsplit(".", 1)[0] if "." in b else "") == (head[0] if len(head) == 2 else "")]
            raise Fatal(f"Error loading configuration from {paths[0]}: Error loading {f}: {prefix}unexpected keys {', '.join(same)}")
        merged = common.merge(merged, obj)
        files.append(f)
    return merged, files


def _consul_check(node, cfg):
    """The agent's Consul clients: HTTPS to consul.address verified with consul.ca_file, and gRPC-TLS
    to consul.grpc_address with consul.grpc_ca_file (Envoy's xDS); each outcome is an event."""
    c = cfg.get("consul", {})
    if isinstance(c, list):
        c = c[0] if c else {}
    targets = [("http", c.get("address", "127.0.0.1:8500"), c.get("ca_file"), bool(c.get("ssl")))]
    if c.get("grpc_address"):
        targets.append(("grpc", c["grpc_address"], c.get("grpc_ca_file") or c.get("ca_file"), bool(c.get("grpc_ca_file"))))
    for endpoint, addr, cafile, tls in targets:
        threading.Thread(target=_probe, args=(node, endpoint, addr, cafile, tls), daemon=True).start()


def _probe(node, endpoint, addr, cafile, tls):
    if not tls:
        common.event(node, PRODUCT, "consul-connect", endpoint=endpoint, outcome="plaintext", address=addr)
        return
    host, port = addr.rsplit(":", 1)
    deadline = time.monotonic() + 300
    last = None
    while time.monotonic() < deadline:
        try:
            ctx = ssl.create_default_context(cafile=cafile) if cafile else ssl.create_default_context()
            with socket.create_connection((host, int(port)), timeout=5) as s, ctx.wrap_socket(s, server_hostname=host):
                common.event(node, PRODUCT, "consul-connect", endpoint=endpoint, outcome="ok", address=addr)
                return
        except ssl.SSLCertVerificationError as e:
            last = "x509: certificate signed by unknown authority" if "local issuer" in str(e) or "self" in str(e) else f"x509: {e.verify_message}"
            common.event(node, PRODUCT, "consul-connect", endpoint=endpoint, outcome="tls-error", address=addr, error=f"tls: failed to verify certificate: {last}")
            return
        except OSError as e:
            last = str(e)
            time.sleep(2)
    common.event(node, PRODUCT, "consul-connect", endpoint=endpoint, outcome="unreachable", address=addr, error=last)


def agent(argv):
    paths = common.flag_values(argv, "config")
    cfg, files = load(paths)
    uid, user = common.whoami()
    node = cfg.get("name") or os.uname().nodename
    server = bool(cfg.get("server", {}).get("enabled"))
    client = bool(cfg.get("client", {}).get("enabled"))
    data_dir = cfg.get("data_dir")
    if not data_dir:
        raise Fatal("Must specify data directory")
    try:
        if server:
            common.check_writable_dir(os.path.join(data_dir, "server", "raft"), "raft.db")
        if client:
            common.check_writable_dir(os.path.join(data_dir, "client"), "state.db")
    except Fatal as e:
        raise Fatal(f"Error starting agent: {'server' if server else 'client'} setup failed: {e}") from None
    tls = cfg.get("tls", {})
    for k in ("ca_file", "cert_file", "key_file"):
        if tls.get(k):
            try:
                common.read_file(tls[k])
            except Fatal as e:
                raise Fatal(f"Error starting agent: Failed to load TLS config: {e}") from None
    c = cfg.get("consul", {})
    for k in ("ca_file", "grpc_ca_file", "cert_file", "key_file"):
        if isinstance(c, dict) and c.get(k):
            try:
                common.read_file(c[k])
            except Fatal as e:
                raise Fatal(f"Error starting agent: consul: {e}") from None
    ip = common.resolve_addr(cfg.get("advertise", {}).get("rpc", "").split(":")[0] or cfg.get("bind_addr", "") or common.private_ip())
    if ip in ("0.0.0.0", ""):
        ip = common.private_ip()
    deadline = time.monotonic() + 600
    while True:
        status, out = common.rpc(PRODUCT, "join", {"node": node, "ip": ip, "server": server, "expect": cfg.get("server", {}).get("bootstrap_expect")})
        if status == 200:
            break
        if time.monotonic() > deadline:
            raise Fatal(f"Error starting agent: failed to join: {out.get('error')}")
        time.sleep(2)
    handler = type("NomadApi", (common.Api,), {"route": staticmethod(lambda m, p, b, h: route(node, m, p, b, h))})
    ports = cfg.get("ports", {})
    bind = common.resolve_addr(cfg.get("addresses", {}).get("http", cfg.get("bind_addr", "0.0.0.0")))
    ctx = None
    if tls.get("http"):
        ctx = common.tls_context(tls["cert_file"], tls["key_file"], tls.get("ca_file"), bool(tls.get("verify_https_client")))
    bound = []
    for host in bind.split():
        common.listen(host, ports.get("http", 4646), handler, ctx)
        bound.append(f"{'https' if ctx else 'http'}://{host}:{ports.get('http', 4646)}")
    if tls.get("rpc") and server:
        rctx = common.tls_context(tls["cert_file"], tls["key_file"], tls.get("ca_file"), True)
        common.listen(common.resolve_addr(cfg.get("addresses", {}).get("rpc", cfg.get("bind_addr", "0.0.0.0"))), ports.get("rpc", 4647), handler, rctx)
    env = sorted(k for k in ("CONSUL_HTTP_TOKEN", "VAULT_TOKEN", "NOMAD_TOKEN") if os.environ.get(k))
    common.event(node, PRODUCT, "start", uid=uid, user=user, configFiles=files, server=server, client=client, env=env, envFile="CONSUL_HTTP_TOKEN" in env, listen=bound)
    _consul_check(node, cfg)
    common.sd_notify("READY=1")
    print(f"==> Nomad agent started! (stand-in, {node})", flush=True)
    common.wait_forever(lambda: common.event(node, PRODUCT, "stop"))
    return 0


def route(node, method, path, body, headers):
    p = urllib.parse.urlsplit(path).path
    token = headers.get("x-nomad-token", "")
    req = json.loads(body) if body else {}

    def call(op, **kw):
        status, out = common.rpc(PRODUCT, op, {"node": node, "token": token, **kw})
        if status == 0:
            return 500, "rpc error: " + out.get("error", "")
        return (status, out) if status == 200 else (status, out.get("error", ""))

    if p == "/v1/acl/bootstrap" and method in ("PUT", "POST"):
        return call("bootstrap", secret=req.get("BootstrapSecret", ""))
    if p == "/v1/status/leader":
        status, out = common.rpc(PRODUCT, "join", {"node": node, "server": False})
        ld = out.get("leader")
        return (200, common.JsonValue(f"{out['servers'][ld]}:4647")) if ld else (500, "No cluster leader")
    if p == "/v1/operator/snapshot" and method == "GET":
        # nomad/operator_endpoint.go SnapshotSave (ACL: management).
        status, out = call("snapshot")
        return (200, common.Archive(common.snapshot_archive(out["meta"], out["state"]))) if status == 200 else (status, out)
    if p.startswith("/v1/acl/policy/") and method in ("PUT", "POST"):
        return call("policy_create", name=p.rsplit("/", 1)[1], rules=req.get("Rules", ""), description=req.get("Description", ""))
    if p.startswith("/v1/acl/policy/") and method == "GET":
        return call("policy_read", name=p.rsplit("/", 1)[1])
    if p == "/v1/acl/token" and method in ("PUT", "POST"):
        return call("token_create", policy_names=req.get("Policies", []), description=req.get("Name", ""))
    if p.startswith("/v1/acl/token/") and method == "DELETE":
        return call("token_delete", id=p.rsplit("/", 1)[1])
    return 404, "Invalid method"


def _api(method, path, body=None, raw=False):
    addr = os.environ.get("NOMAD_ADDR", "http://127.0.0.1:4646")
    tok = os.environ.get("NOMAD_TOKEN", "")
    return common.client_request(addr, method, path, body, os.environ.get("NOMAD_CACERT"), {"X-Nomad-Token": tok} if tok else {}, raw=raw)


def cli(argv):
    if argv[:1] in (["version"], ["-version"], ["--version"]):
        print("Nomad v1.10.5 (stand-in)")
        return 0
    if argv[:1] == ["agent"]:
        return agent(argv[1:])
    if argv[:1] == ["config"] and argv[1:2] == ["validate"]:
        load(argv[2:])
        print("Configuration is valid!")
        return 0
    if argv[:2] == ["acl", "bootstrap"]:
        body = {}
        rest = [a for a in argv[2:] if not a.startswith("-")]
        if rest:
            body["BootstrapSecret"] = common.read_file(rest[0]).decode().strip()
        try:
            status, text = _api("POST", "/v1/acl/bootstrap", body)
        except Fatal as e:
            raise Fatal(f"Error bootstrapping: {e}") from None
        if status != 200:
            raise Fatal(f"Error bootstrapping: Unexpected response code: {status} ({text})")
        t = json.loads(text)
        print(f"Accessor ID  = {t['AccessorID']}\nSecret ID    = {t['SecretID']}\nName         = Bootstrap Token\nType         = management\nGlobal       = true")
        return 0
    if argv[:3] == ["acl", "policy", "apply"]:
        args = [a for a in argv[3:] if not a.startswith("-")]
        status, text = _api("POST", f"/v1/acl/policy/{args[0]}", {"Name": args[0], "Rules": common.read_file(args[1]).decode()})
        if status != 200:
            raise Fatal(f"Error writing ACL policy: Unexpected response code: {status} ({text})")
        print(f"Successfully wrote {args[0]!r} ACL policy!")
        return 0
    if argv[:3] == ["operator", "snapshot", "save"]:
        # command/operator_snapshot_save.go: writes <file>, then "State file written to <file>".
        args = [a for a in argv[3:] if not a.startswith("-")]
        if len(args) != 1:
            raise Fatal("This command takes one argument: <filename>")
        status, data = _api("GET", "/v1/operator/snapshot", raw=True)
        if status != 200:
            raise Fatal(f"Failed to get snapshot file: Unexpected response code: {status} ({data.decode(errors='replace')})")
        common.verify_archive(data)
        with open(args[0], "wb") as f:
            f.write(data)
        print(f"State file written to {args[0]}")
        return 0
    raise Fatal(f"stand-in nomad: command not supported: {' '.join(argv)}")


def main(argv=None):
    return common.run_main(cli, sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())
