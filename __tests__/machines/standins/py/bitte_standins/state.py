"""The shared state of the core stand-ins: what Consul's, Nomad's and Vault's raft would agree on.

One authority (this process, in the test's service namespace) so three containers see one ACL
bootstrap, one Connect CA and one Vault init. Errors carry the products' own status codes and texts:
- Consul ACL bootstrap: agent/consul/acl_endpoint.go BootstrapTokens -> "ACL bootstrap no longer
  allowed (reset index: %d)" (HTTP 403 with "Permission denied: " prefix); without a leader the RPC
  layer answers structs.ErrNoLeader "No cluster leader" (HTTP 500).
- Nomad: nomad/acl_endpoint.go Bootstrap -> "ACL bootstrap already done (reset index: %d)" (400).
- Vault: vault/init.go "Vault is already initialized" (400).
A leader exists only when bootstrap_expect servers have joined (Consul and Nomad), as in raft.
"""
import json
import os
import secrets
import subprocess
import tempfile
import threading
import uuid


class RpcError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status, self.message = status, message


def _uuid():
    return str(uuid.uuid4())


def _expired(tok):
    """A token past its ExpirationTime is gone (agent/structs/acl.go ACLToken.IsExpired)."""
    import time

    return bool(tok.get("ExpirationEpoch")) and tok["ExpirationEpoch"] <= time.time()


class SharedState:
    def __init__(self, state_dir, events, sts=None, vault_aws=None, ec2_instance=None, consul_acl=None):
        """`sts(method, url, headers, body)` answers a signed sts:GetCallerIdentity as STS would
        (the caller's ARN, or raises RpcError); `vault_aws` is what `cdktf deploy consul` writes
        into Vault's AWS auth (the consul stack's VaultAwsAuth): the server ID header value,
        the roles and their policies' texts."""
        self.sts = sts
        # ec2_instance(vault_node, instance_id, region): Vault's DescribeInstances with its own
        # instance role (raises RpcError with the caller-facing text when it cannot verify).
        self.ec2_instance = ec2_instance
        self.vault_aws = vault_aws or {}
        # What `cdktf deploy consul` configured in Consul's ACL system (auth methods, binding
        # rules, policies, roles): README "consulAcl".
        self.consul_acl = consul_acl or {}
        self.path = os.path.join(state_dir, "cluster.json")
        self.faults_path = os.path.join(state_dir, "faults.json")
        self.events = events
        self.lock = threading.Lock()
        try:
            with open(self.path, encoding="utf-8") as f:
                self.s = json.load(f)
        except FileNotFoundError:
            self.s = {"index": 1, "consul": self._acl_product(), "nomad": self._acl_product(), "vault": {"clusters": [], "members": {}}}

    @staticmethod
    def _acl_product():
        return {"servers": {}, "expect": None, "leader": None, "bootstrap": None, "policies": {}, "tokens": {}, "ca": None, "caConfig": None}

    def _save(self):
        tmp = self.path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(self.s, f)
        os.replace(tmp, self.path)

    def _next(self):
        self.s["index"] += 1
        return self.s["index"]

    def call(self, product, op, req):
        with self.lock:
            fn = getattr(self, f"_{product}_{op}", None) or getattr(self, f"_acl_{op}", None)
            if fn is None or product not in ("consul", "nomad", "vault"):
                raise RpcError(404, f"unknown operation {product}/{op}")
            out = fn(product, req) if fn.__name__.startswith("_acl_") else fn(req)
            self._save()
            return out

    # --- membership and leadership (Consul, Nomad) --------------------------------------------

    def _acl_join(self, product, req):
        p = self.s[product]
        if req.get("server"):
            p["servers"][req["node"]] = req["ip"]
            if req.get("expect"):
                p["expect"] = req["expect"]
            if req.get("caConfig"):
                p["caConfig"] = p["caConfig"] or req["caConfig"]
            if p["leader"] is None and p["expect"] and len(p["servers"]) >= p["expect"]:
                p["leader"] = sorted(p["servers"])[0]
                self.events("state", product, "leader", leader=p["leader"], servers=sorted(p["servers"]))
        return {"leader": p["leader"], "servers": p["servers"]}

    def _acl_leave(self, product, req):
        p = self.s[product]
        p["servers"].pop(req["node"], None)
        return {}

    def _need_leader(self, product):
        if self.s[product]["leader"] is None:
            raise RpcError(500, "No cluster leader")

    # --- ACLs (Consul, Nomad) -----------------------------------------------------------------

    def _acl_bootstrap(self, product, req):
        p = self.s[product]
        node = req["node"]
        if p["leader"] is None:
            self.events(node, product, "acl-bootstrap", outcome="no-leader")
            raise RpcError(500, "No cluster leader")
        if p["bootstrap"] is not None:
            self.events(node, product, "acl-bootstrap", outcome="already-bootstrapped")
            if product == "consul":
                raise RpcError(403, f"Permission denied: ACL bootstrap no longer allowed (reset index: {p['bootstrap']['index']})")
            raise RpcError(400, f"ACL bootstrap already done (reset index: {p['bootstrap']['index']})")
        secret = (req.get("secret") or "").strip() or _uuid()
        try:
            uuid.UUID(secret)
        except ValueError:
            raise RpcError(400, "Invalid Bootstrap Secret: must be a UUID") from None
        tok = {"AccessorID": _uuid(), "SecretID": secret, "Description": "Bootstrap Token (Global Management)",
               "Policies": [{"ID": "00000000-0000-0000-0000-000000000001", "Name": "global-management"}], "management": True}
        p["tokens"][tok["AccessorID"]] = tok
        p["bootstrap"] = {"index": self._next(), "accessor": tok["AccessorID"], "node": node}
        self.events(node, product, "acl-bootstrap", outcome="ok", accessor=tok["AccessorID"])
        return tok

    def _token(self, product, secret, need="acl:write"):
        p = self.s[product]
        self._need_leader(product)
        for t in p["tokens"].values():
            if t["SecretID"] == (secret or "").strip() and not _expired(t):
                if need and not t.get("management"):
                    raise RpcError(403, f"Permission denied: token with AccessorID '{t['AccessorID']}' lacks permission '{need}'")
                return t
        raise RpcError(403, "ACL not found")

    def _acl_policy_read(self, product, req):
        self._token(product, req.get("token"), "acl:read")
        for pol in self.s[product]["policies"].values():
            if pol["Name"] == req["name"]:
                return pol
        raise RpcError(404, f"Failed to find policy with name {req['name']}")

    def _acl_policy_create(self, product, req):
        self._token(product, req.get("token"))
        p = self.s[product]
        if product == "consul":
            from . import jwt

            try:
                jwt.parse_rules(req.get("rules", ""))
            except ValueError as e:
                raise RpcError(400, f"Invalid Policy: {e}") from None
        if any(x["Name"] == req["name"] for x in p["policies"].values()):
            raise RpcError(500, f'Invalid Policy: A Policy with Name "{req["name"]}" already exists')
        pol = {"ID": _uuid(), "Name": req["name"], "Rules": req.get("rules", ""), "Description": req.get("description", ""), "CreateIndex": self._next()}
        p["policies"][pol["ID"]] = pol
        self.events(req["node"], product, "acl-policy-create", name=req["name"])
        return pol

    def _acl_policy_list(self, product, req):
        self._token(product, req.get("token"), "acl:read")
        return list(self.s[product]["policies"].values())

    def _acl_token_create(self, product, req):
        self._token(product, req.get("token"))
        p = self.s[product]
        pols = []
        for name in req.get("policy_names", []):
            pol = next((x for x in p["policies"].values() if x["Name"] == name), None)
            # Consul: the consul stack's policies (consulAcl) exist too once `deploy consul` ran.
            link = {"ID": pol["ID"], "Name": name} if pol else (self._consul_policy_link(name) if product == "consul" and hasattr(self, "_consul_policy_link") else None)
            if link is None:
                raise RpcError(400, f"Invalid Policy: ID {name} not found" if product == "consul" else f"policy {name} does not exist")
            pols.append(link)
        tok = {"AccessorID": _uuid(), "SecretID": _uuid(), "Description": req.get("description", ""), "Policies": pols, "Local": False, "CreateIndex": self._next()}
        if product == "consul":
            # agent/consul/acl_token_writer.go: identities as given (names checked), roles by name.
            import re as _re

            for n in req.get("node_identities", []):
                if not _re.match(r"^[a-z0-9]([a-z0-9\-_]*[a-z0-9])?$", n.get("NodeName", "")):
                    raise RpcError(400, "Node identity has an invalid name. Only lowercase alphanumeric characters, '-' and '_' are allowed")
            for n in req.get("service_identities", []):
                if not _re.match(r"^[a-z0-9]([a-z0-9\-_]*[a-z0-9])?$", n.get("ServiceName", "")):
                    raise RpcError(400, f"Service identity \"{n.get('ServiceName', '')}\" has an invalid name. Only lowercase alphanumeric characters, '-' and '_' are allowed")
            roles = []
            for name in req.get("role_names", []):
                if name not in getattr(self, "consul_acl", {}).get("roles", {}):
                    raise RpcError(400, f"cannot find role {name}")
                roles.append({"ID": str(uuid.uuid5(uuid.NAMESPACE_URL, f"consul-role/{name}")), "Name": name})
            tok.update({"NodeIdentities": req.get("node_identities", []), "ServiceIdentities": req.get("service_identities", []), "Roles": roles})
        p["tokens"][tok["AccessorID"]] = tok
        self.events(req["node"], product, "acl-token-create", accessor=tok["AccessorID"], policies=[x["Name"] for x in pols])
        return tok

    def _acl_token_read(self, product, req):
        self._token(product, req.get("token"), "acl:read")
        t = self.s[product]["tokens"].get(req["id"])
        if t is None:
            raise RpcError(403, "ACL not found")
        return t

    def _acl_token_self(self, product, req):
        return self._token(product, req.get("token"), None)

    def _acl_token_delete(self, product, req):
        t = self._token(product, req.get("token"))
        if req["id"] == t["AccessorID"]:
            raise RpcError(403, "Permission denied: Deletion of the request's authorization token is not permitted")
        if self.s[product]["tokens"].pop(req["id"], None) is None:
            raise RpcError(403, "ACL not found")
        self.events(req["node"], product, "acl-token-delete", accessor=req["id"])
        return True

    def _acl_snapshot(self, product, req):
        """The raft state as a snapshot (ACL: management, for Consul and Nomad alike)."""
        if not self._token(product, req.get("token"), None).get("management"):
            raise RpcError(403, "Permission denied")
        p = self.s[product]
        index = self._next()
        self.events(req["node"], product, "snapshot-save", index=index)
        return {"meta": {"ID": f"2-{index}-{secrets.token_hex(4)}", "Index": index, "Term": 2, "Version": 1},
                "state": {"servers": p["servers"], "policies": p["policies"], "tokens": sorted(p["tokens"])}}

    # --- Consul Connect CA (auto_encrypt) -----------------------------------------------------

    def _consul_sign(self, req):
        """Signs an agent's CSR with the Connect CA, as AutoEncrypt.Sign does.

        The root is the leader's connect.ca_config private_key/root_cert when given (Consul's
        built-in provider accepts them: agent/connect/ca/provider_consul.go), else one Consul
        generates itself (CN "pri-<id>.consul.ca.<trust domain prefix>.consul") that nothing
        else trusts."""
        self._need_leader("consul")
        p = self.s["consul"]
        if p["ca"] is None:
            cfg = p.get("caConfig") or {}
            if cfg.get("private_key") and cfg.get("root_cert"):
                p["ca"] = {"cert": cfg["root_cert"], "key": cfg["private_key"], "generated": False}
            else:
                p["ca"] = dict(generate_root(f"pri-{secrets.token_hex(4)}.consul.ca.{secrets.token_hex(4)}.consul"), generated=True)
            self.events("state", "consul", "connect-ca", generated=p["ca"]["generated"])
        leaf = sign_csr(p["ca"]["cert"], p["ca"]["key"], req["csr"], req["cn"], req["san"])
        return {"cert": leaf, "root": p["ca"]["cert"]}

    def _consul_roots(self, req):
        p = self.s["consul"]
        return {"roots": [p["ca"]["cert"]] if p["ca"] else []}

    # --- Vault --------------------------------------------------------------------------------

    def _vault_init(self, req):
        """An init on a node that is not in any raft cluster makes a new cluster (HashiCorp:
        "operator init" bootstraps the local node's raft), whether or not another exists."""
        node = req["node"]
        v = self.s["vault"]
        if req.get("cluster"):
            self.events(node, "vault", "operator-init", outcome="already-initialized", raftJoined=True)
            raise RpcError(400, "Vault is already initialized")
        other = [c for c in v["clusters"]]
        cluster = {"id": _uuid(), "leader": node, "members": [node], "rootToken": "hvs." + secrets.token_urlsafe(18),
                   "recovery": [secrets.token_bytes(33).hex() for _ in range(req.get("recovery_shares", 5))],
                   "threshold": req.get("recovery_threshold", 3), "tokens": {}, "policies": {}, "autopilot": None}
        v["clusters"].append(cluster)
        v["members"][node] = cluster["id"]
        self.events(node, "vault", "operator-init", outcome="ok", raftJoined=False, leader=bool(other), clusters=len(v["clusters"]),
                    cluster=cluster["id"])
        return {"cluster": cluster["id"], "root_token": cluster["rootToken"], "recovery_keys": cluster["recovery"],
                "recovery_threshold": cluster["threshold"]}

    def _vault_join(self, req):
        """retry_join: joins the first initialised cluster, if any."""
        v = self.s["vault"]
        if req["node"] in v["members"]:
            return {"cluster": v["members"][req["node"]]}
        if not v["clusters"]:
            return {"cluster": None}
        c = v["clusters"][0]
        c["members"].append(req["node"])
        v["members"][req["node"]] = c["id"]
        self.events(req["node"], "vault", "raft-join", cluster=c["id"], leader=c["leader"])
        # faults.json {"vault": {"joinDelaySeconds": N}}: how long the raft snapshot takes to install.
        try:
            with open(self.faults_path, encoding="utf-8") as f:
                delay = json.load(f).get("vault", {}).get("joinDelaySeconds", 0)
        except (FileNotFoundError, ValueError):
            delay = 0
        return {"cluster": c["id"], "delay": delay}

    def _vault_forget(self, req):
        """A node whose data volume was replaced is a new raft peer: it must join again."""
        v = self.s["vault"]
        cid = v["members"].pop(req["node"], None)
        for c in v["clusters"]:
            if c["id"] == cid and req["node"] in c["members"]:
                c["members"].remove(req["node"])
        return {}

    def _vault_cluster(self, cid):
        c = next((c for c in self.s["vault"]["clusters"] if c["id"] == cid), None)
        if c is None:
            raise RpcError(503, "Vault is sealed")
        return c

    def _vault_auth(self, req):
        c = self._vault_cluster(req.get("cluster"))
        tok = (req.get("token") or "").strip()
        if tok == c["rootToken"]:
            return c, {"policies": ["root"]}
        if tok in c["tokens"]:
            return c, c["tokens"][tok]
        raise RpcError(403, "permission denied")

    def _vault_autopilot(self, req):
        c, tok = self._vault_auth(req)
        if "root" not in tok["policies"]:
            raise RpcError(403, "permission denied")
        c["autopilot"] = req["config"]
        self.events(req["node"], "vault", "autopilot-set-config", **req["config"])
        return {}

    def _vault_policy_write(self, req):
        c, tok = self._vault_auth(req)
        if "root" not in tok["policies"]:
            raise RpcError(403, "permission denied")
        c["policies"][req["name"]] = req["policy"]
        self.events(req["node"], "vault", "policy-write", name=req["name"])
        return {}

    def _vault_policy_read(self, req):
        c, _ = self._vault_auth(req)
        if req["name"] not in c["policies"]:
            raise RpcError(404, "")
        return {"name": req["name"], "rules": c["policies"][req["name"]]}

    def _vault_policy_delete(self, req):
        c, tok = self._vault_auth(req)
        if "root" not in tok["policies"]:
            raise RpcError(403, "permission denied")
        c["policies"].pop(req["name"], None)
        return {}

    def _vault_token_create(self, req):
        c, tok = self._vault_auth(req)
        pols = req.get("policies") or ["default"]
        if "root" not in tok["policies"] and not set(pols) <= set(tok["policies"]):
            raise RpcError(400, "child policies must be subset of parent")
        t = "hvs." + secrets.token_urlsafe(18)
        c["tokens"][t] = {"policies": sorted(set(pols) | {"default"}), "accessor": secrets.token_urlsafe(18)}
        self.events(req["node"], "vault", "token-create", policies=c["tokens"][t]["policies"])
        return {"auth": {"client_token": t, "accessor": c["tokens"][t]["accessor"], "policies": c["tokens"][t]["policies"]}}

    def _vault_aws_login(self, req):
        """builtin/credential/aws/path_login.go pathLoginUpdateIam, in its order and with its texts:
        the request's fields, the server ID header, STS, the role, its auth type, the bound ARN."""
        c = self._vault_cluster(req.get("cluster"))
        login, conf = req["login"], self.vault_aws
        if req["mount"] != conf.get("mount", "aws"):
            raise RpcError(403, "permission denied")
        import base64
        import re

        method = login.get("iam_http_request_method") or ""
        if not method:
            raise RpcError(400, "missing iam_http_request_method")
        if method != "POST":
            raise RpcError(400, "invalid iam_http_request_method; currently only 'POST' is supported")
        fields = {}
        for name in ("iam_request_url", "iam_request_body"):
            if not login.get(name):
                raise RpcError(400, f"missing {name}")
            try:
                fields[name] = base64.b64decode(login[name], validate=True).decode()
            except (ValueError, UnicodeDecodeError):
                raise RpcError(400, f"failed to base64 decode {name}") from None
        try:
            headers = json.loads(base64.b64decode(login.get("iam_request_headers") or "")) if login.get("iam_request_headers") else {}
        except ValueError:
            headers = {}
        if not headers:
            raise RpcError(400, "missing iam_request_headers")
        want = conf.get("serverIdHeader")
        if want:
            got = next((",".join(v) for k, v in headers.items() if k.lower() == "x-vault-aws-iam-server-id"), "")
            prefix = "error validating X-Vault-AWS-IAM-Server-ID header: "
            if not got:
                raise RpcError(400, prefix + 'missing header "X-Vault-AWS-IAM-Server-ID"')
            if got != want:
                raise RpcError(400, prefix + f'expected "{want}" but got "{got}"')
            authz = headers.get("Authorization")
            if not authz:
                raise RpcError(400, prefix + "missing Authorization header")
            m = re.match(r".*SignedHeaders=([^,]+)", ",".join(authz))
            if not m or "x-vault-aws-iam-server-id" not in m.group(1).lower().split(";"):
                raise RpcError(400, prefix + "vault header wasn't signed")
        lower = {k.lower(): v for k, v in headers.items()}
        arn = self.sts("POST", fields["iam_request_url"], lower, fields["iam_request_body"].encode())
        parts = arn.split(":", 5)[5].split("/")
        # parseIamArn: an assumed-role session's canonical ARN is its role's.
        canonical = f"arn:aws:iam::{arn.split(':')[4]}:role/{parts[1]}" if parts[0] == "assumed-role" else arn
        name = login.get("role") or parts[1]
        role = conf.get("roles", {}).get(name)
        if role is None:
            raise RpcError(400, f"entry for role {name} not found")
        if canonical not in role["boundIamPrincipalArns"]:
            self.events(req["node"], "vault", "aws-login", role=name, outcome="denied", principal=canonical)
            raise RpcError(400, f'IAM Principal "{arn}" does not belong to the role "{name}"')
        inferred_type = inferred_id = ""
        region = role.get("inferredAwsRegion", "")
        if role.get("inferredEntityType") == "ec2_instance":
            # path_login.go: the session name is the instance id; Vault's own DescribeInstances in
            # the role's region must find it running, else "failed to verify … as a valid EC2 instance".
            session = parts[2] if parts[0] == "assumed-role" and len(parts) > 2 else ""
            try:
                self.ec2_instance(req["node"], session, region)
            except RpcError:
                self.events(req["node"], "vault", "aws-login", role=name, outcome="instance-not-verified", instance=session)
                raise RpcError(400, f"failed to verify {session} as a valid EC2 instance in region {region}") from None
            inferred_type, inferred_id = "ec2_instance", session
        all_meta = {"client_arn": arn, "canonical_arn": canonical, "client_user_id": "", "auth_type": "iam", "inferred_entity_type": inferred_type,
                    "inferred_entity_id": inferred_id, "inferred_aws_region": region, "account_id": arn.split(":")[4]}
        # config/identity: iam_metadata picks the fields on the token and the entity alias
        # (default account_id, auth_type); iam_alias names the alias (role_id by default: one
        # alias, and so one entity, for every login of the role).
        ident = conf.get("identity", {})
        meta = {k: all_meta[k] for k in ident.get("iamMetadata", ["account_id", "auth_type"]) if k in all_meta}
        alias_name = {"full_arn": arn, "role_id": f"role-{name}"}.get(ident.get("iamAlias", "role_id"), f"role-{name}")
        entities = c.setdefault("entities", {})
        accessor = conf.get("accessor", "auth_aws_standin")
        ent = next((e for e in entities.values() if e["aliases"].get(accessor, {}).get("name") == alias_name), None)
        if ent is None:
            ent = {"id": _uuid(), "aliases": {}}
            entities[ent["id"]] = ent
        ent["aliases"][accessor] = {"name": alias_name, "metadata": meta}
        t = "hvs." + secrets.token_urlsafe(18)
        pols = sorted(set(role["policies"]) | {"default"})
        c["tokens"][t] = {"policies": pols, "accessor": secrets.token_urlsafe(18), "entity_id": ent["id"]}
        self.events(req["node"], "vault", "aws-login", role=name, outcome="ok", policies=pols, inferredEntityId=inferred_id)
        return {"auth": {"client_token": t, "accessor": c["tokens"][t]["accessor"], "policies": pols, "token_policies": pols,
                         "metadata": meta, "entity_id": ent["id"]}}

    def _vault_raft_snapshot(self, req):
        c, tok = self._vault_auth(req)
        if "root" not in tok["policies"] and "read" not in vault_capabilities(self._vault_policy_texts(c, tok["policies"]), "sys/storage/raft/snapshot"):
            raise RpcError(403, "1 error occurred:\n\t* permission denied")
        self.events(req["node"], "vault", "raft-snapshot-save", cluster=c["id"])
        return {"meta": {"ID": f"2-{self._next()}-{secrets.token_hex(4)}", "Index": self.s["index"], "Term": 2, "Version": 1},
                "state": {"members": c["members"], "policies": sorted(c["policies"])}}

    def _vault_policy_texts(self, c, names):
        texts = {**self.vault_aws.get("policyTexts", {}), **c["policies"]}
        return [texts[n] for n in names if n in texts]

    def _vault_token_revoke(self, req):
        c, _ = self._vault_auth(req)
        c["tokens"].pop(req["revoke"], None)
        if req["revoke"] == c["rootToken"]:
            c["rootToken"] = None
        self.events(req["node"], "vault", "token-revoke")
        return {}


    # --- Vault mounts and the PKI engine (pki_nodes) ------------------------------------------
    # builtin/logical/pki at 1.20: path_intermediate.go (generate/internal keeps the key in the
    # mount, set-signed imports issuers as path_manage_issuers.go pathImportIssuers does: a
    # certificate is linked to a key of the mount with the same public key, else imported without
    # one, and only a keyed issuer becomes the default), path_issue_sign.go + issuing/cert_verify.go
    # (the role's name checks, with allowed_domains_template populated from the caller's entity),
    # path_revoke.go (revoke by serial; only stored certificates).

    def _vault_root_only(self, req):
        c, tok = self._vault_auth(req)
        if "root" not in tok["policies"]:
            raise RpcError(403, "1 error occurred:\n\t* permission denied")
        return c

    def _vault_mounts_list(self, req):
        c = self._vault_root_only(req)
        base = {"cubbyhole/": {"type": "cubbyhole"}, "identity/": {"type": "identity"}, "sys/": {"type": "system"}}
        return {**base, **{f"{p}/": {"type": m["type"], "description": m.get("description", "")} for p, m in c.get("mounts", {}).items()}}

    def _vault_mount_enable(self, req):
        c = self._vault_root_only(req)
        path = req["path"].strip("/")
        mounts = c.setdefault("mounts", {})
        if path in mounts:
            raise RpcError(400, f"path is already in use at {path}/")
        if req.get("type") != "pki":
            raise RpcError(400, f"stand-in vault mounts pki only, not {req.get('type')}")
        mounts[path] = {"type": "pki", "description": req.get("description", ""), "keys": {}, "issuers": {}, "default": None, "certs": {}}
        self.events(req["node"], "vault", "mount-enable", path=path, type="pki")
        return {}

    def _pki_mount(self, c, path):
        m = c.get("mounts", {}).get(path)
        if m is None:
            raise RpcError(404, f"no handler for route \"{path}/\". route entry not found.")
        return m

    def _vault_pki(self, req):
        """One request to a PKI mount: method, mount path, the path inside it, body."""
        c, tok = self._vault_auth(req)
        mount, sub, method, body = req["mount"], req["sub"], req["method"], req.get("body") or {}
        m = self._pki_mount(c, mount)
        full = f"{mount}/{sub}"
        need = "read" if method == "GET" else "update"
        if "root" not in tok["policies"] and need not in vault_capabilities(self._vault_policy_texts(c, tok["policies"]), full):
            raise RpcError(403, "1 error occurred:\n\t* permission denied")
        if sub == "intermediate/generate/internal" and method in ("PUT", "POST"):
            key = pki_generate_key(body.get("key_type", "rsa"), int(body.get("key_bits", 0) or 0))
            kid = _uuid()
            m["keys"][kid] = key
            csr = pki_csr(key, body.get("common_name", ""))
            self.events(req["node"], "vault", "pki-generate", mount=mount, keyId=kid)
            return {"data": {"csr": csr, "key_id": kid, "key_type": body.get("key_type", "rsa")}}
        if sub == "intermediate/set-signed" and method in ("PUT", "POST"):
            pems = pki_split_pems(body.get("certificate", ""))
            if not pems:
                raise RpcError(400, "no data found in PEM block")
            mapping, created = {}, []
            for pem in pems:
                existing = next((i for i, x in m["issuers"].items() if x["certificate"] == pem), None)
                if existing:
                    mapping[existing] = m["issuers"][existing]["key_id"]
                    continue
                pub = pki_pubkey_of_cert(pem)
                kid = next((k for k, key in m["keys"].items() if pki_pubkey_of_key(key) == pub), "")
                iid = _uuid()
                m["issuers"][iid] = {"certificate": pem, "key_id": kid}
                mapping[iid] = kid
                created.append(iid)
            keyed = [i for i in created if mapping[i]]
            if m["default"] is None and len(keyed) == 1:
                m["default"] = keyed[0]
            warnings = []
            if m["default"] is None or not m["issuers"][m["default"]]["key_id"]:
                warnings.append("The default issuer has no key associated with it. Some operations like issuing certificates and signing CRLs will be unavailable with the requested default issuer until a key is imported or the default issuer is changed.")
            self.events(req["node"], "vault", "pki-set-signed", mount=mount, imported=len(created), keyed=len(keyed), default=m["default"])
            return {"data": {"mapping": mapping, "imported_issuers": created, "imported_keys": []}, "warnings": warnings}
        if sub in ("issuer/default", "cert/ca") and method == "GET":
            iid = m["default"]
            if iid is None:
                raise RpcError(400, "unable to resolve issuer id for reference: default")
            x = m["issuers"][iid]
            return {"data": {"issuer_id": iid, "key_id": x["key_id"], "certificate": x["certificate"], "ca_chain": [x["certificate"]] + self._pki_parents(m, x)}}
        if sub.startswith("issue/") and method in ("PUT", "POST"):
            return self._pki_issue(req["node"], c, tok, m, mount, sub.split("/", 1)[1], body)
        if sub == "revoke" and method in ("PUT", "POST"):
            serial = pki_norm_serial(body.get("serial_number", ""))
            cert = m["certs"].get(serial)
            if cert is None:
                raise RpcError(400, f"certificate with serial {body.get('serial_number', '')} not found.")
            cert["revoked"] = cert.get("revoked") or int(__import__("time").time())
            self.events(req["node"], "vault", "pki-revoke", mount=mount, serial=serial)
            return {"data": {"revocation_time": cert["revoked"]}}
        if sub.startswith("cert/") and method == "GET":
            cert = m["certs"].get(pki_norm_serial(sub.split("/", 1)[1]))
            if cert is None:
                raise RpcError(404, "")
            return {"data": {"certificate": cert["certificate"], "revocation_time": cert.get("revoked", 0)}}
        raise RpcError(404, f"stand-in vault: no handler for {method} {full}")

    def _pki_parents(self, m, issuer):
        out, cur = [], issuer
        for _ in range(5):
            parent = next((x for x in m["issuers"].values() if x is not cur and pki_signed_by(cur["certificate"], x["certificate"])), None)
            if parent is None:
                break
            out.append(parent["certificate"])
            cur = parent
        return out

    def _pki_issue(self, node, c, tok, m, mount, role_name, body):
        role = self.vault_aws.get("pkiRoles", {}).get(f"{mount}/{role_name}")
        if role is None:
            raise RpcError(400, f"unknown role: {role_name}")
        cn = (body.get("common_name") or "").strip()
        if not cn and role.get("require_cn", True):
            raise RpcError(400, 'the common_name field is required, or must be provided in a CSR with "use_csr_common_name" set to true, unless "require_cn" is set to false')
        alt = [a.strip() for a in (body.get("alt_names") or "").split(",") if a.strip()]
        ips = [a.strip() for a in (body.get("ip_sans") or "").split(",") if a.strip()]
        metadata = {}
        ent = c.get("entities", {}).get(tok.get("entity_id") or "")
        if ent:
            metadata = {acc: a.get("metadata", {}) for acc, a in ent["aliases"].items()}
        domains = []
        for d in role.get("allowed_domains", []):
            if role.get("allowed_domains_template") and "{{" in d and ent:
                filled = pki_template(d, metadata)
                if filled is None:
                    continue  # cert_verify.go: an entry the entity cannot populate is skipped
                d = filled
            domains.append(d)
        bad = pki_bad_name(role, domains, cn)
        if bad:
            self.events(node, "vault", "pki-issue", mount=mount, role=role_name, outcome="refused", name=bad)
            raise RpcError(400, f"common name {bad} not allowed by this role")
        for n in alt:
            bad = pki_bad_name(role, domains, n)
            if bad:
                self.events(node, "vault", "pki-issue", mount=mount, role=role_name, outcome="refused", name=bad)
                raise RpcError(400, f"subject alternate name {bad} not allowed by this role")
        if ips and not role.get("allow_ip_sans", True):
            raise RpcError(400, f"IP Subject Alternative Names are not allowed in this role, but was provided {ips}")
        iid = m["default"]
        if iid is None or not m["issuers"][iid]["key_id"]:
            raise RpcError(400, "unable to resolve issuer id for reference: default")
        issuer = m["issuers"][iid]
        ttl, warnings = pki_ttl(body.get("ttl"), role.get("ttl"), role.get("max_ttl"))
        dns = ([cn] if cn else []) + [a for a in alt if a != cn]
        cert, key, serial = pki_sign_leaf(issuer["certificate"], m["keys"][issuer["key_id"]], cn, dns, ips, ttl, role)
        if not role.get("no_store", False):
            m["certs"][serial] = {"certificate": cert, "role": role_name, "cn": cn}
        chain = [issuer["certificate"]] + self._pki_parents(m, issuer)
        self.events(node, "vault", "pki-issue", mount=mount, role=role_name, outcome="ok", cn=cn, serial=serial, stored=not role.get("no_store", False))
        return {"data": {"certificate": cert, "issuing_ca": issuer["certificate"], "ca_chain": chain, "private_key": key, "private_key_type": "ec",
                         "serial_number": serial}, "warnings": warnings}


# --- Vault ACL policies ------------------------------------------------------------------------


def vault_capabilities(policy_texts, path):
    """The capabilities the policies grant on `path`, as vault/policy.go matches paths: an exact
    rule wins over globs, the longest glob (`*` suffix, `+` one segment) over shorter ones, and
    `deny` takes everything away."""
    import re

    best, best_key = None, None
    for text in policy_texts:
        for pat, caps_text in re.findall(r'path\s+"([^"]+)"\s*\{[^}]*?capabilities\s*=\s*\[([^\]]*)\]', text):
            caps = set(re.findall(r'"([a-z]+)"', caps_text))
            glob = pat.endswith("*")
            stem = pat[:-1] if glob else pat
            rx = "^" + "/".join("[^/]+" if seg == "+" else re.escape(seg) for seg in stem.split("/")) + (".*" if glob else "$")
            if not re.match(rx, path):
                continue
            key = (not glob, len(pat))
            if best_key is None or key > best_key:
                best, best_key = set(caps), key
            elif key == best_key:
                best |= caps
    if not best or "deny" in best:
        return set()
    return best


# --- certificates (openssl CLI: the stand-ins stay stdlib-only) --------------------------------


def _openssl(args, inp=None):
    r = subprocess.run(["openssl", *args], input=inp, capture_output=True, text=True, timeout=60, check=False)
    if r.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)}: {r.stderr.strip()}")
    return r.stdout


def generate_root(cn):
    with tempfile.TemporaryDirectory() as d:
        _openssl(["req", "-x509", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", f"{d}/k", "-out", f"{d}/c",
                  "-days", "3650", "-subj", f"/CN={cn}", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        with open(f"{d}/c", encoding="ascii") as c, open(f"{d}/k", encoding="ascii") as k:
            return {"cert": c.read(), "key": k.read()}


def sign_csr(ca_cert, ca_key, csr, cn, san):
    with tempfile.TemporaryDirectory() as d:
        for name, text in (("ca", ca_cert), ("cakey", ca_key), ("csr", csr)):
            with open(f"{d}/{name}", "w", encoding="ascii") as f:
                f.write(text)
        with open(f"{d}/ext", "w", encoding="ascii") as f:
            f.write(f"subjectAltName={san}\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\nbasicConstraints=critical,CA:FALSE\n")
        return _openssl(["x509", "-req", "-in", f"{d}/csr", "-CA", f"{d}/ca", "-CAkey", f"{d}/cakey", "-set_serial", "0x" + secrets.token_hex(16),
                         "-days", "3", "-sha256", "-extfile", f"{d}/ext"])


# --- PKI helpers (openssl CLI) -------------------------------------------------------------------


def pki_generate_key(key_type, bits):
    if key_type == "ec":
        curve = {0: "prime256v1", 256: "prime256v1", 384: "secp384r1", 521: "secp521r1"}[bits]
        return _openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", f"ec_paramgen_curve:{curve}"])
    return _openssl(["genpkey", "-algorithm", "RSA", "-pkeyopt", f"rsa_keygen_bits:{bits or 2048}"])


def _tmp_write(d, name, text):
    with open(f"{d}/{name}", "w", encoding="ascii") as f:
        f.write(text)
    return f"{d}/{name}"


def pki_csr(key, cn):
    with tempfile.TemporaryDirectory() as d:
        return _openssl(["req", "-new", "-key", _tmp_write(d, "k", key), "-subj", f"/CN={cn}"])


def pki_split_pems(text):
    import re

    return [m + "\n" for m in re.findall(r"-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----", text or "")]


def pki_pubkey_of_cert(pem):
    return _openssl(["x509", "-noout", "-pubkey"], inp=pem)


def pki_pubkey_of_key(key):
    return _openssl(["pkey", "-pubout"], inp=key)


def pki_signed_by(child, parent):
    with tempfile.TemporaryDirectory() as d:
        r = subprocess.run(["openssl", "verify", "-partial_chain", "-CAfile", _tmp_write(d, "p", parent), _tmp_write(d, "c", child)],
                           capture_output=True, text=True, timeout=30, check=False)
        return r.returncode == 0 and child != parent


def pki_norm_serial(s):
    return s.replace(":", "").replace("-", "").lower().lstrip("0") or "0"


def pki_template(text, aliases_metadata):
    """framework.PopulateIdentityTemplate for identity.entity.aliases.<accessor>.metadata.<key>;
    None when the entity has no such alias or key (the template cannot be populated)."""
    import re

    missing = []

    def fill(mo):
        acc, key = mo.group(1), mo.group(2)
        val = aliases_metadata.get(acc, {}).get(key)
        if not val:
            missing.append(key)
            return ""
        return val

    out = re.sub(r"\{\{\s*identity\.entity\.aliases\.([^.}\s]+)\.metadata\.([^}\s]+)\s*\}\}", fill, text)
    return None if missing or "{{" in out else out


def pki_bad_name(role, domains, name):
    """issuing/cert_verify.go ValidateNames for one DNS name: "" when allowed, else the name."""
    import re

    label = r"([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9\-]*[a-zA-Z0-9])"
    if "*" in name and not role.get("allow_wildcard_certificates", True):
        return name
    if role.get("enforce_hostnames", True) and not re.match(rf"^(\*\.)?({label}\.)*{label}\.?$", name):
        return name
    if role.get("allow_any_name"):
        return ""
    low = name.lower()
    if role.get("allow_localhost", True) and low in ("localhost", "localdomain"):
        return ""
    for d in domains:
        if not d:
            continue
        if role.get("allow_bare_domains") and low == d.lower():
            return ""
        if role.get("allow_subdomains") and low.endswith("." + d.lower()):
            return ""
        if role.get("allow_glob_domains") and "*" in d:
            import fnmatch

            if fnmatch.fnmatchcase(low, d.lower()):
                return ""
    return name


def _secs(v):
    if v in (None, "", 0, "0"):
        return 0
    if isinstance(v, (int, float)):
        return int(v)
    import re

    total = 0
    for num, unit in re.findall(r"(\d+)([smhd]?)", str(v)):
        total += int(num) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[unit]
    return total


def pki_ttl(asked, role_ttl, role_max):
    """issuing.GetCertificateNotAfter: the request's ttl, else the role's; clamped to max_ttl with a warning."""
    ttl, mx = _secs(asked) or _secs(role_ttl) or 2764800, _secs(role_max) or 2764800
    if ttl > mx:
        return mx, [f"TTL {ttl}s is longer than permitted maxTTL {mx}s, so maxTTL is being used"]
    return ttl, []


def pki_sign_leaf(issuer_cert, issuer_key, cn, dns, ips, ttl, role):
    key = pki_generate_key(role.get("key_type", "ec"), int(role.get("key_bits", 256) or 256))
    serial = secrets.token_hex(16)
    eku = ",".join(x for x, on in (("serverAuth", role.get("server_flag", True)), ("clientAuth", role.get("client_flag", True))) if on)
    san = ",".join([f"DNS:{n}" for n in dns] + [f"IP:{i}" for i in ips])
    with tempfile.TemporaryDirectory() as d:
        csr = _openssl(["req", "-new", "-key", _tmp_write(d, "k", key), "-subj", f"/CN={cn}"])
        ext = _tmp_write(d, "ext", (f"subjectAltName={san}\n" if san else "") + (f"extendedKeyUsage={eku}\n" if eku else "")
                         + "keyUsage=critical,digitalSignature,keyAgreement\nbasicConstraints=critical,CA:FALSE\nauthorityKeyIdentifier=keyid\n")
        days = max(1, -(-ttl // 86400))
        cert = _openssl(["x509", "-req", "-in", _tmp_write(d, "csr", csr), "-CA", _tmp_write(d, "ca", issuer_cert), "-CAkey", _tmp_write(d, "cakey", issuer_key),
                         "-set_serial", "0x" + serial, "-days", str(days), "-sha256", "-extfile", ext])
    return cert, key, pki_norm_serial(serial)
