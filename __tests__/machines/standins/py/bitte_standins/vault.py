"""Stand-in `vault` (1.20.4): `vault server` and the CLI calls the bootstrap makes.

Server contract (hashicorp/vault 1.20.4, see schema/vault.json):
- unknown config keys are only warned about (command/server.go logs each ConfigError from
  configutil/lint.go "unknown or unsupported field <k> found in configuration at <file>");
- a storage block is required; raft needs cluster_addr and a writable `path` (vault.db);
- each tcp listener loads tls_cert_file/tls_key_file as the vault uid
  ("Error initializing listener of type tcp: error loading TLS cert: ...");
- initialisation is local to the node's raft: a node whose data is fresh reports
  "not initialized" (operator init -status exit 2) until its retry_join completes, and an
  `operator init` there creates a second cluster, as real Vault would;
- awskms seal: unsealed as soon as the node holds raft data of an initialised cluster.
CLI exit codes as the real CLI: `operator init -status` 0 initialised / 2 not / 1 error;
API errors exit 2 with "Error making API request." bodies.
"""
import json
import os
import sys
import threading
import time
import urllib.parse

from . import common
from .common import Fatal

PRODUCT = "vault"


def load(paths):
    sch = common.schema("vault")
    merged, files, warnings = {}, [], []
    for f, obj in common.load_config(paths):
        for k in common.unknown_keys(sch, obj):
            warnings.append(f"unknown or unsupported field {k.rsplit('.', 1)[-1]} found in configuration at {f}")
        merged = common.merge(merged, obj)
        files.append(f)
    return merged, files, warnings


def _listeners(cfg):
    out = []
    ls = cfg.get("listener", [])
    for item in ls if isinstance(ls, list) else [ls]:
        for typ, body in item.items():
            for b in body if isinstance(body, list) else [body]:
                out.append((typ, b))
    return out


class Node:
    def __init__(self, cfg):
        raft = cfg["storage"]["raft"]
        self.path = raft["path"]
        self.node = raft.get("node_id") or os.uname().nodename
        self.marker = os.path.join(self.path, "vault.db")
        self.api_addr = cfg.get("api_addr", "")
        self.lock = threading.Lock()

    def cluster(self):
        try:
            with open(self.marker, encoding="utf-8") as f:
                return (json.load(f) or {}).get("cluster")
        except (FileNotFoundError, ValueError):
            return None

    def set_cluster(self, cid):
        tmp = self.marker + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump({"cluster": cid}, f)
        os.replace(tmp, self.marker)


def server(argv):
    paths = common.flag_values(argv, "config")
    cfg, files, warnings = load(paths)
    uid, user = common.whoami()
    storage = cfg.get("storage") or cfg.get("backend")
    if not storage:
        raise Fatal("A storage backend must be specified")
    if "raft" not in storage:
        raise Fatal(f"stand-in vault supports raft storage only, got {sorted(storage)}")
    if not cfg.get("cluster_addr"):
        raise Fatal("Cluster address must be set when using raft storage")
    n = Node(cfg)
    try:
        common.check_writable_dir(n.path, "vault.db")
    except Fatal as e:
        raise Fatal(f"Error initializing storage of type raft: failed to create fsm: failed to open bolt file: {e}") from None
    for w in warnings:
        print(f"[WARN]  {w}", file=sys.stderr, flush=True)
    handler = type("VaultApi", (common.Api,), {"route": staticmethod(lambda m, p, b, h: route(n, m, p, b, h))})
    bound = []
    for typ, lst in _listeners(cfg):
        if typ != "tcp":
            raise Fatal(f"Error initializing listener of type {typ}: unknown listener type: {typ!r}")
        ctx = None
        if not lst.get("tls_disable"):
            for k in ("tls_cert_file", "tls_key_file", "tls_client_ca_file"):
                if lst.get(k):
                    try:
                        common.read_file(lst[k])
                    except Fatal as e:
                        raise Fatal(f"Error initializing listener of type tcp: error loading TLS cert: {e}") from None
            ctx = common.tls_context(lst["tls_cert_file"], lst["tls_key_file"], lst.get("tls_client_ca_file"), bool(lst.get("tls_require_and_verify_client_cert")))
        host, port = lst.get("address", "127.0.0.1:8200").rsplit(":", 1)
        common.listen(host, int(port), handler, ctx)
        bound.append(f"{'https' if ctx else 'http'}://{host}:{port}")
    env = sorted(k for k in ("CONSUL_HTTP_TOKEN", "VAULT_TOKEN", "AWS_REGION") if os.environ.get(k))
    common.event(n.node, PRODUCT, "start", uid=uid, user=user, configFiles=files, env=env, envFile="CONSUL_HTTP_TOKEN" in env,
                 initialized=n.cluster() is not None, warnings=warnings, listen=bound)
    threading.Thread(target=_retry_join, args=(n, cfg), daemon=True).start()
    threading.Thread(target=_service_registration, args=(n, cfg), daemon=True).start()
    common.sd_notify("READY=1")
    print(f"==> Vault server started! (stand-in, {n.node})", flush=True)
    common.wait_forever(lambda: common.event(n.node, PRODUCT, "stop"))
    return 0


def _retry_join(n, cfg):
    """storage.raft.retry_join: until this node holds a cluster's data. A node with a fresh data
    dir first forgets any membership the cluster had for its node id (it is a new peer)."""
    if not cfg["storage"]["raft"].get("retry_join"):
        return
    if n.cluster() is None:
        common.rpc(PRODUCT, "forget", {"node": n.node})
    for _ in range(3600):
        if n.cluster() is not None:
            return
        status, out = common.rpc(PRODUCT, "join", {"node": n.node})
        if status == 200 and out.get("cluster"):
            time.sleep(float(out.get("delay", 0)))
            with n.lock:
                if n.cluster() is None:
                    n.set_cluster(out["cluster"])
                    common.event(n.node, PRODUCT, "raft-joined", cluster=out["cluster"])
            return
        time.sleep(2)


def _service_registration(n, cfg):
    sr = (cfg.get("service_registration") or {}).get("consul")
    if not sr:
        return
    import socket
    import ssl

    host, port = sr.get("address", "127.0.0.1:8500").rsplit(":", 1)
    if sr.get("scheme") != "https":
        return
    for _ in range(150):
        try:
            ctx = ssl.create_default_context(cafile=sr.get("tls_ca_file")) if sr.get("tls_ca_file") else ssl.create_default_context()
            with socket.create_connection((host, int(port)), timeout=5) as s, ctx.wrap_socket(s, server_hostname=host):
                common.event(n.node, PRODUCT, "consul-connect", outcome="ok")
                return
        except ssl.SSLCertVerificationError as e:
            common.event(n.node, PRODUCT, "consul-connect", outcome="tls-error", error=f"tls: failed to verify certificate: x509: {e.verify_message}")
            return
        except OSError:
            time.sleep(2)


def _err(status, *errors):
    return status, {"errors": list(errors)}


def route(n, method, path, body, headers):
    p = urllib.parse.urlsplit(path).path
    req = json.loads(body) if body else {}
    token = headers.get("x-vault-token", "")
    cid = n.cluster()
    if p == "/v1/sys/init" and method == "GET":
        return 200, {"initialized": cid is not None}
    if p == "/v1/sys/init" and method in ("PUT", "POST"):
        with n.lock:
            status, out = common.rpc(PRODUCT, "init", {"node": n.node, "cluster": n.cluster(), "recovery_shares": req.get("recovery_shares", 5),
                                                       "recovery_threshold": req.get("recovery_threshold", 3)})
            if status != 200:
                return _err(status or 500, out.get("error", ""))
            n.set_cluster(out["cluster"])
        keys = out["recovery_keys"]
        import base64

        return 200, {"keys": [], "keys_base64": [], "recovery_keys": keys, "recovery_keys_base64": [base64.b64encode(bytes.fromhex(k)).decode() for k in keys],
                     "root_token": out["root_token"]}
    if p == "/v1/sys/health":
        return (200 if cid else 501), {"initialized": cid is not None, "sealed": cid is None and False, "standby": False}
    if cid is None:
        return _err(503, "Vault is sealed")
    if p == "/v1/identity/oidc/.well-known/keys" and method == "GET":
        # vault/identity_store_oidc.go pathOIDCReadPublicKeys: unauthenticated, the raw JWKS.
        status, out = common.rpc(PRODUCT, "oidc_keys", {"node": n.node, "cluster": cid})
        return (200, out) if status == 200 else _err(status or 500, out.get("error", ""))

    def call(op, **kw):
        status, out = common.rpc(PRODUCT, op, {"node": n.node, "cluster": cid, "token": token, **kw})
        return (200, out) if status == 200 else _err(status or 500, out.get("error", ""))

    if p == "/v1/sys/storage/raft/autopilot/configuration" and method in ("PUT", "POST"):
        return call("autopilot", config=req)
    if p.startswith("/v1/sys/policies/acl/"):
        name = p.rsplit("/", 1)[1]
        if method in ("PUT", "POST"):
            return call("policy_write", name=name, policy=req.get("policy", ""))
        if method == "GET":
            return call("policy_read", name=name)
        if method == "DELETE":
            return call("policy_delete", name=name)
    if p == "/v1/auth/token/create" and method in ("PUT", "POST"):
        return call("token_create", policies=req.get("policies"))
    if p == "/v1/auth/token/revoke-self":
        return call("token_revoke", revoke=token)
    if p == "/v1/auth/token/revoke":
        return call("token_revoke", revoke=req.get("token", ""))
    if p == "/v1/sys/storage/raft/snapshot" and method == "GET":
        # vault/logical_system_raft.go: the raft snapshot archive (sys/storage/raft/snapshot, read).
        status, out = call("raft_snapshot")
        return (200, common.Archive(common.snapshot_archive(out["meta"], out["state"]))) if status == 200 else (status, out)
    if p.startswith("/v1/auth/") and p.endswith("/login") and method in ("PUT", "POST"):
        # builtin/credential/aws/path_login.go pathLoginUpdateIam: the caller's signed
        # sts:GetCallerIdentity request, which Vault sends to STS and matches against the role.
        mount = p[len("/v1/auth/"):-len("/login")]
        return call("aws_login", mount=mount, login={k: req.get(k) for k in ("role", "iam_http_request_method", "iam_request_url", "iam_request_body", "iam_request_headers")})
    if p.startswith("/v1/identity/oidc/token/") and method == "GET":
        # pathOIDCGenerateToken (login.py): the role's signed identity token for the caller's entity.
        status, out = call("oidc_token", name=p[len("/v1/identity/oidc/token/"):], apiAddr=n.api_addr)
        if status != 200:
            return status, out
        return 200, {"request_id": str(__import__("uuid").uuid4()), "lease_id": "", "lease_duration": 0, "renewable": False, "data": out["data"], "warnings": out.get("warnings") or None}
    if p.startswith("/v1/identity/"):
        return _err(404, f"stand-in vault: no handler for {method} {p}")
    if p == "/v1/sys/storage/raft/join":
        return 200, {"joined": True}
    if p == "/v1/sys/mounts" and method == "GET":
        status, out = call("mounts_list")
        return (200, {"data": out, **out}) if status == 200 else (status, out)
    if p.startswith("/v1/sys/mounts/") and method in ("PUT", "POST"):
        return call("mount_enable", path=p[len("/v1/sys/mounts/"):], type=req.get("type"), description=req.get("description", ""), config=req.get("config") or {})
    if not p.startswith(("/v1/sys/", "/v1/auth/")) and p.count("/") >= 3:
        # A secrets engine: the shared state holds the mounts (pki only), as raft would.
        mount, _, sub = p[len("/v1/"):].partition("/")
        status, out = call("pki", mount=mount, sub=sub, method=method, body=req)
        if status != 200:
            return status, out
        return 200, {"request_id": str(__import__("uuid").uuid4()), "lease_id": "", "lease_duration": 0, "renewable": False, "data": out.get("data"), "warnings": out.get("warnings") or None}
    return _err(404, "no handler for route")


# --- CLI -----------------------------------------------------------------------------------------


def _api(method, path, body=None, raw=False):
    addr = os.environ.get("VAULT_ADDR", "https://127.0.0.1:8200")
    tok = os.environ.get("VAULT_TOKEN", "")
    return common.client_request(addr, method, path, body, os.environ.get("VAULT_CACERT"), {"X-Vault-Token": tok} if tok else {}, raw=raw)


def _request(what, method, path, body=None, fail=2, shown=None, raw=False):
    """One API call as the CLI makes it: the body, or None after printing "Error <what>: ..."
    (Vault's wording) with the CLI's exit code in `fail` ("shown" is the path the real CLI names)."""
    try:
        status, out = _api(method, path, body, raw=raw)
    except Fatal as e:
        print(f"Error {what}: {e}", file=sys.stderr)
        return None
    if status not in (200, 204):
        text = out.decode(errors="replace") if raw else out
        print(f"Error {what}: {_api_error(method, shown or path, status, text)}", file=sys.stderr)
        return None
    return out


def _aws_credentials():
    """The AWS SDK's default chain as the CLI uses it: the environment, else IMDSv2 (the role)."""
    if os.environ.get("AWS_ACCESS_KEY_ID") and os.environ.get("AWS_SECRET_ACCESS_KEY"):
        return os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"], os.environ.get("AWS_SESSION_TOKEN", "")
    import urllib.request

    base = "http://169.254.169.254/latest"
    try:
        req = urllib.request.Request(f"{base}/api/token", method="PUT", headers={"X-aws-ec2-metadata-token-ttl-seconds": "21600"})
        with urllib.request.urlopen(req, timeout=5) as r:
            tok = r.read().decode()
        get = lambda path: urllib.request.urlopen(urllib.request.Request(f"{base}/{path}", headers={"X-aws-ec2-metadata-token": tok}), timeout=5).read().decode()  # noqa: E731
        role = get("meta-data/iam/security-credentials/").strip()
        c = json.loads(get(f"meta-data/iam/security-credentials/{role}"))
    except OSError as e:
        raise Fatal(f"Error authenticating: failed to retrieve credentials from credential chain: NoCredentialProviders: no valid providers in chain ({e})") from None
    return c["AccessKeyId"], c["SecretAccessKey"], c["Token"]


def _aws_login_data(header_value, region):
    """builtin/credential/aws/cli.go GenerateLoginData: a SigV4-signed sts:GetCallerIdentity POST
    (the global endpoint for us-east-1, the CLI's default region), base64-encoded for the login."""
    import base64
    import datetime
    import hashlib
    import hmac

    akid, secret, session = _aws_credentials()
    host = "sts.amazonaws.com" if region == "us-east-1" else f"sts.{region}.amazonaws.com"
    body = "Action=GetCallerIdentity&Version=2011-06-15"
    now = datetime.datetime.now(datetime.timezone.utc)
    amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    headers = {"content-type": "application/x-www-form-urlencoded; charset=utf-8", "host": host, "x-amz-date": amz_date}
    if session:
        headers["x-amz-security-token"] = session
    if header_value:
        headers["x-vault-aws-iam-server-id"] = header_value
    signed = sorted(headers)
    creq = "\n".join(["POST", "/", "", "".join(f"{h}:{headers[h]}\n" for h in signed), ";".join(signed), hashlib.sha256(body.encode()).hexdigest()])
    scope = f"{day}/{region}/sts/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(creq.encode()).hexdigest()])
    k = ("AWS4" + secret).encode()
    for part in (day, region, "sts", "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    sig = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
    # Go's http.Header: canonical names, a list per name; Host is the request's, not a header.
    out = {"-".join(w.capitalize() for w in h.split("-")): [v] for h, v in headers.items() if h != "host"}
    out["Authorization"] = [f"AWS4-HMAC-SHA256 Credential={akid}/{scope}, SignedHeaders={';'.join(signed)}, Signature={sig}"]
    b64 = lambda t: base64.b64encode(t.encode()).decode()  # noqa: E731
    return {"iam_http_request_method": "POST", "iam_request_url": b64(f"https://{host}/"), "iam_request_body": b64(body), "iam_request_headers": b64(json.dumps(out))}


def _login(argv):
    """`vault login -method=aws [-path=aws] [-token-only] [-no-store] role=R header_value=H [region=R]`."""
    o, pos = _opts(argv)
    if o.get("method", "token") != "aws":
        raise Fatal(f"stand-in vault: login method not supported: {o.get('method')}")
    kv = dict(a.split("=", 1) for a in pos if "=" in a)
    body = {"role": kv.get("role", ""), **_aws_login_data(kv.get("header_value", ""), kv.get("region") or "us-east-1")}
    text = _request("authenticating", "POST", f"/v1/auth/{o.get('path', 'aws').strip('/')}/login", body)
    if text is None:
        return 2
    auth = json.loads(text)["auth"]
    if o.get("no-store") != "true":
        home = os.path.expanduser("~")
        fd = os.open(os.path.join(home, ".vault-token"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(auth["client_token"])
    if o.get("token-only") == "true":
        print(auth["client_token"])
    else:
        print(f"Success! You are now authenticated.\n\nKey                  Value\n---                  -----\ntoken                {auth['client_token']}\ntoken_policies       {auth['policies']}")
    return 0


def _api_error(method, path, status, text):
    addr = os.environ.get("VAULT_ADDR", "https://127.0.0.1:8200").rstrip("/")
    try:
        errs = json.loads(text).get("errors", [])
    except ValueError:
        errs = [text]
    lines = "".join(f"\n* {e}" for e in errs)
    return f"Error making API request.\n\nURL: {method} {addr}{path}\nCode: {status}. Errors:\n{lines}"


def _opts(args):
    out, pos = {}, []
    for a in args:
        if a.startswith("-"):
            k, _, v = a.lstrip("-").partition("=")
            out[k] = v if _ else "true"
        else:
            pos.append(a)
    return out, pos


def cli(argv):
    if argv[:1] in (["version"], ["-version"], ["--version"]):
        print("Vault v1.20.4 (stand-in)")
        return 0
    if argv[:1] == ["server"]:
        return server(argv[1:])
    if argv[:2] == ["operator", "init"]:
        o, _ = _opts(argv[2:])
        if o.get("status") == "true":
            text = _request("checking init status", "GET", "/v1/sys/init")
            if text is None:
                return 1
            if json.loads(text)["initialized"]:
                print("Vault is initialized")
                return 0
            print("Vault is not initialized")
            return 2
        body = {"recovery_shares": int(o.get("recovery-shares", 5)), "recovery_threshold": int(o.get("recovery-threshold", 3))}
        text = _request("initializing", "PUT", "/v1/sys/init", body)
        if text is None:
            return 2
        r = json.loads(text)
        if o.get("format") == "json":
            print(json.dumps({"unseal_keys_b64": [], "unseal_keys_hex": [], "unseal_shares": 1, "unseal_threshold": 1,
                              "recovery_keys_b64": r["recovery_keys_base64"], "recovery_keys_hex": r["recovery_keys"],
                              "recovery_keys_shares": body["recovery_shares"], "recovery_keys_threshold": body["recovery_threshold"],
                              "root_token": r["root_token"]}, indent=2))
        else:
            for i, k in enumerate(r["recovery_keys_base64"], 1):
                print(f"Recovery Key {i}: {k}")
            print(f"\nInitial Root Token: {r['root_token']}\n\nSuccess! Vault is initialized")
        return 0
    if argv[:1] == ["status"]:
        # vault/command/status.go: GET sys/seal-status, no token needed; exit 0 unsealed, 2 sealed,
        # 1 error. With the awskms seal a Vault is sealed exactly until it is initialised (or has
        # joined an initialised raft cluster), so the stand-in answers from sys/init.
        o, _ = _opts(argv[1:])
        if o.get("address"):
            os.environ["VAULT_ADDR"] = o["address"]
        text = _request("checking seal status", "GET", "/v1/sys/init", shown="/v1/sys/seal-status")
        if text is None:
            return 1
        initialized = bool(json.loads(text)["initialized"])
        sealed = not initialized
        doc = {"type": "awskms", "initialized": initialized, "sealed": sealed, "t": 1, "n": 1, "progress": 0,
               "version": "1.20.4", "recovery_seal": True, "storage_type": "raft", "ha_enabled": True}
        if o.get("format") == "json":
            print(json.dumps(doc, indent=2))
        else:
            print(f"Key                      Value\n---                      -----\nRecovery Seal Type       shamir\nInitialized              {str(initialized).lower()}\nSealed                   {str(sealed).lower()}\nStorage Type             raft")
        return 2 if sealed else 0
    if argv[:1] == ["login"]:
        return _login(argv[1:])
    if argv[:4] == ["operator", "raft", "snapshot", "save"]:
        # command/operator_raft_snapshot_save.go: streams sys/storage/raft/snapshot into <file>.
        _, pos = _opts(argv[4:])
        if len(pos) != 1:
            print("Incorrect arguments (expected 1, got %d)" % len(pos), file=sys.stderr)
            return 1
        data = _request("taking the snapshot", "GET", "/v1/sys/storage/raft/snapshot", raw=True)
        if data is None:
            return 2
        with open(pos[0], "wb") as f:
            f.write(data)
        return 0
    if argv[:4] == ["operator", "raft", "autopilot", "set-config"]:
        o, _ = _opts(argv[4:])
        conf = {}
        for k, key in (("cleanup-dead-servers", "cleanup_dead_servers"), ("min-quorum", "min_quorum"), ("dead-server-last-contact-threshold", "dead_server_last_contact_threshold")):
            if k in o:
                conf[key] = o[k] == "true" if k == "cleanup-dead-servers" else int(o[k]) if k == "min-quorum" else o[k]
        return _simple("PUT", "/v1/sys/storage/raft/autopilot/configuration", conf)
    if argv[:3] == ["operator", "raft", "join"]:
        return _simple("POST", "/v1/sys/storage/raft/join", {"leader_api_addr": argv[-1]}, "Joined: true")
    if argv[:2] == ["policy", "write"]:
        _, pos = _opts(argv[2:])
        text = sys.stdin.read() if pos[1] == "-" else common.read_file(pos[1]).decode()
        return _simple("PUT", f"/v1/sys/policies/acl/{pos[0]}", {"policy": text}, f"Success! Uploaded policy: {pos[0]}")
    if argv[:2] == ["policy", "delete"]:
        return _simple("DELETE", f"/v1/sys/policies/acl/{argv[2]}", None, f"Success! Deleted policy: {argv[2]}")
    if argv[:2] == ["policy", "read"]:
        status, text = _api("GET", f"/v1/sys/policies/acl/{argv[2]}")
        if status == 404:
            print(f"No policy named: {argv[2]}", file=sys.stderr)
            return 2
        if status != 200:
            print(f"Error reading policy named {argv[2]}: {_api_error('GET', '/v1/sys/policies/acl/' + argv[2], status, text)}", file=sys.stderr)
            return 2
        print(json.loads(text)["rules"])
        return 0
    if argv[:2] == ["token", "create"]:
        pols = [a.split("=", 1)[1] for a in argv[2:] if a.startswith(("-policy=", "--policy="))]
        text = _request("creating token", "POST", "/v1/auth/token/create", {"policies": pols or None})
        if text is None:
            return 2
        r = json.loads(text)
        print(json.dumps(r, indent=2) if "-format=json" in argv else f"token    {r['auth']['client_token']}")
        return 0
    if argv[:2] == ["token", "revoke"]:
        if "-self" in argv:
            return _simple("POST", "/v1/auth/token/revoke-self", {}, "Success! Revoked token (if it existed)")
        return _simple("POST", "/v1/auth/token/revoke", {"token": argv[-1]}, "Success! Revoked token (if it existed)")
    if argv[:2] == ["secrets", "list"]:
        # command/secrets_list.go: GET sys/mounts; -format=json prints the mounts by path.
        text = _request("listing secrets engines", "GET", "/v1/sys/mounts")
        if text is None:
            return 2
        mounts = json.loads(text)["data"]
        if "-format=json" in argv:
            print(json.dumps(mounts, indent=2))
        else:
            print("Path          Type\n----          ----\n" + "\n".join(f"{k:<13} {v['type']}" for k, v in sorted(mounts.items())))
        return 0
    if argv[:2] == ["secrets", "enable"]:
        o, pos = _opts(argv[2:])
        if len(pos) != 1:
            print(f"Incorrect arguments (expected 1, got {len(pos)})", file=sys.stderr)
            return 1
        path = o.get("path", pos[0]).strip("/")
        body = {"type": pos[0], "description": o.get("description", ""), "config": {k: o[f] for k, f in (("max_lease_ttl", "max-lease-ttl"), ("default_lease_ttl", "default-lease-ttl")) if f in o}}
        if _request("enabling", "POST", f"/v1/sys/mounts/{path}", body) is None:
            return 2
        print(f"Success! Enabled the {pos[0]} secrets engine at: {path}/")
        return 0
    if argv[:1] in (["read"], ["write"]):
        return _read_write(argv[0], argv[1:])
    raise Fatal(f"stand-in vault: command not supported: {' '.join(argv)}")


def _read_write(verb, args):
    """command/read.go, command/write.go: `vault read|write [-format=json] [-field=F] PATH [k=v|k=@file|k=-]`."""
    o, pos = _opts(args)
    if not pos:
        print("Not enough arguments (expected 1, got 0)", file=sys.stderr)
        return 1
    path, kvs = pos[0].strip("/"), pos[1:]
    body = {}
    for kv in kvs:
        k, sep, v = kv.partition("=")
        if not sep:
            print(f"Failed to parse K=V data: invalid key/value pair \"{kv}\"", file=sys.stderr)
            return 1
        if v.startswith("@"):
            v = common.read_file(v[1:]).decode()
        elif v == "-":
            v = sys.stdin.read()
        body[k] = v
    what = f"reading {path}" if verb == "read" else f"writing data to {path}"
    try:
        status, text = _api("GET" if verb == "read" else "PUT", f"/v1/{path}", body if verb == "write" else None)
    except Fatal as e:
        print(f"Error {what}: {e}", file=sys.stderr)
        return 2
    if verb == "read" and status == 404:
        print(f"No value found at {path}", file=sys.stderr)
        return 2
    if status not in (200, 204):
        print(f"Error {what}: {_api_error('GET' if verb == 'read' else 'PUT', '/v1/' + path, status, text)}", file=sys.stderr)
        return 2
    resp = json.loads(text) if text else {}
    data = resp.get("data") or {}
    if o.get("field"):
        if o["field"] not in data:
            print(f'Field "{o["field"]}" not present in secret', file=sys.stderr)
            return 1
        v = data[o["field"]]
        print(v if isinstance(v, str) else json.dumps(v))
        return 0
    if o.get("format") == "json":
        print(json.dumps(resp, indent=2))
        return 0
    if not data:
        print(f"Success! Data written to: {path}")
        return 0
    for w in resp.get("warnings") or []:
        print(f"WARNING! The following warnings were returned from Vault:\n\n  * {w}\n")
    print("Key    Value\n---    -----\n" + "\n".join(f"{k}    {v}" for k, v in data.items()))
    return 0


def _simple(method, path, body, ok=""):
    try:
        status, text = _api(method, path, body)
    except Fatal as e:
        print(f"Error: {e}", file=sys.stderr)
        return 2
    if status not in (200, 204):
        print(f"Error: {_api_error(method, path, status, text)}", file=sys.stderr)
        return 2
    if ok:
        print(ok)
    return 0


def main(argv=None):
    return common.run_main(cli, sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())
