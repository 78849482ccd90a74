"""Vault identity tokens, Consul's jwt auth method and Consul's ACL checks on agent registration.

Part of the shared state (SharedState mixes this in), so Vault's keys and Consul's tokens live in
one place, as the test network's Vault and Consul servers would hold them.

Vault (vault/identity_store_oidc.go at 1.20, pathOIDCGenerateToken and friends):
- `GET identity/oidc/token/:name` needs `read` on that path by the token's policies (root passes);
  then, in Vault's order and with its texts: `role "<r>" not found`, `key "<k>" not found`,
  `the key "<k>" does not list the client ID of the role "<r>" as an allowed client ID`,
  `no entity associated with the request's token` (all 400). The JWT (RS256, header alg + kid)
  has `iss` = `<issuer>/v1/identity/oidc` (vault_identity_oidc's issuer, else the node's api_addr),
  `namespace` "root", `sub` = the entity id, `aud` = the role's client_id, `iat`, `exp` = iat + the
  role's ttl (clamped to the key's verification_ttl with Vault's warning), and the role's template
  rendered in identitytpl JSON mode (values become JSON strings); a template the entity cannot
  populate is dropped (Vault logs it and issues the basic token), reserved claims are ignored
  (mergeJSONTemplates). Answer: `{"token", "client_id", "ttl"}`.
- `GET identity/oidc/.well-known/keys` (unauthenticated, pathOIDCReadPublicKeys /
  lookupPublicJwksByRoles): the public keys of every key a role uses.

Consul (agent/consul/acl_endpoint.go Login/Logout, agent/consul/auth/binder.go,
agent/consul/authmethod/ssoauth with hashicorp/cap jwt):
- `ACL.Login`: the method by name (else "ACL not found", 403); type `jwt` only. The JWKS: the
  synthesized method's JWKSURL names Vault's `/v1/identity/oidc/.well-known/keys` behind the
  cluster's admin endpoint, which does not resolve in the test network, so the keys are taken from
  the Vault state this process holds (the first Vault cluster: the one retry_join joins), the same
  keys that Vault's .well-known endpoint serves. A method whose JWKSURL is not https or whose path
  is not `/v1/identity/oidc/.well-known/keys` is refused (500): the stand-in cannot fetch it.
  Validation as jwt.validate (BoundIssuer, BoundAudiences, JWTSupportedAlgs, leeways);
  ClaimMappings / ListClaimMappings project claims to `value.<k>` / `list.<k>`; every binding
  rule of the method whose Selector matches binds (BindName interpolated; a name invalid for the
  bind type fails the login: "computed "node" bind name for bind target is invalid: "…"", as
  agent/structs/acl.go IsValidNodeIdentityName checks; a role or policy that does not exist is
  skipped); nothing bound =
  "Permission denied" (403). The token: Description `token created via login[: <meta JSON>]`,
  AuthMethod, Local (token_locality "global" → false), ExpirationTime = now + MaxTokenTTL.
- `ACL.Logout`: deletes the request's own token; a token not made by a login is refused with
  "Permission denied" (403); an unknown one "ACL not found".
- Registration (agent/local/state.go syncNodeInfo / syncService with the agent token and the
  config_file_service_registration token): `node:write` on the node, `service:write` on each
  config-file service, evaluated as acl/policy_authorizer.go does (jwt.allowed); a denial is
  acl/errors.go's `Permission denied: token with AccessorID '<id>' lacks permission
  '<resource>:<level>' on "<name>"`, an unknown token "ACL not found".
"""
import json
import time
import urllib.parse
import uuid

from . import jwt
from .state import RpcError, _uuid, pki_template, vault_capabilities

ANONYMOUS = "00000000-0000-0000-0000-000000000002"
RESERVED_CLAIMS = ("iat", "aud", "exp", "iss", "sub", "namespace", "nonce", "auth_time", "at_hash", "c_hash")


def go_duration(v):
    """Go's time.ParseDuration for the forms Terraform writes ("1h", "30m0s", "90s"); seconds."""
    import re

    if v in (None, "", "0", 0):
        return 0
    if isinstance(v, (int, float)):
        return int(v)
    total = 0.0
    for num, unit in re.findall(r"([0-9.]+)(ns|us|µs|ms|s|m|h)", str(v)):
        total += float(num) * {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}[unit]
    return int(total)


def _q(s):
    """Go's %q for plain strings."""
    return json.dumps(s)


def _render_identity_template(template, entity, aliases_metadata):
    """identitytpl JSON mode: every {{identity.entity...}} becomes a JSON string; None when a
    value is missing (PopulateString fails and Vault drops the template)."""
    import re

    missing = []

    def fill(m):
        ref = m.group(1).strip()
        val = None
        if ref == "identity.entity.id":
            val = entity["id"]
        elif ref == "identity.entity.name":
            val = entity.get("name")
        else:
            am = re.match(r"identity\.entity\.aliases\.([^.]+)\.(name|metadata\.(.+))$", ref)
            if am:
                if am.group(2) == "name":
                    val = entity["aliases"].get(am.group(1), {}).get("name")
                else:
                    val = pki_template("{{identity.entity.aliases.%s.metadata.%s}}" % (am.group(1), am.group(3)), aliases_metadata)
            em = re.match(r"identity\.entity\.metadata\.(.+)$", ref)
            if em:
                val = (entity.get("metadata") or {}).get(em.group(1))
        if val is None:
            missing.append(ref)
            return '""'
        return json.dumps(val)

    out = re.sub(r"\{\{([^}]+)\}\}", fill, template)
    if missing:
        return None
    try:
        parsed = json.loads(out)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


class LoginMixin:
    # --- Vault identity tokens ---------------------------------------------------------------

    def _oidc(self):
        return self.vault_aws.get("oidc") or {}

    def _oidc_key_material(self, c, name):
        keys = c.setdefault("oidcKeys", {})
        if name not in keys:
            keys[name] = {"kid": _uuid(), "pem": jwt.rsa_key()}
            self.events("state", "vault", "oidc-key-generate", key=name, kid=keys[name]["kid"])
        return keys[name]

    def _oidc_jwks(self, c):
        oidc = self._oidc()
        used = sorted({r["key"] for r in oidc.get("roles", {}).values() if r.get("key") in oidc.get("keys", {})})
        return {"keys": [jwt.jwk(self._oidc_key_material(c, k)["pem"], self._oidc_key_material(c, k)["kid"]) for k in used]}

    def _vault_oidc_keys(self, req):
        return self._oidc_jwks(self._vault_cluster(req.get("cluster")))

    def _vault_oidc_token(self, req):
        c, tok = self._vault_auth(req)
        name = req["name"]
        path = f"identity/oidc/token/{name}"
        if "root" not in tok["policies"] and "read" not in vault_capabilities(self._vault_policy_texts(c, tok["policies"]), path):
            self.events(req["node"], "vault", "oidc-token", role=name, outcome="permission-denied")
            raise RpcError(403, "1 error occurred:\n\t* permission denied")
        oidc = self._oidc()
        role = oidc.get("roles", {}).get(name)
        if role is None:
            raise RpcError(400, f"role {_q(name)} not found")
        key = oidc.get("keys", {}).get(role["key"])
        if key is None:
            raise RpcError(400, f"key {_q(role['key'])} not found")
        allowed = key.get("allowedClientIds") or []
        if "*" not in allowed and role["clientId"] not in allowed:
            self.events(req["node"], "vault", "oidc-token", role=name, outcome="client-id-not-allowed")
            raise RpcError(400, f"the key {_q(role['key'])} does not list the client ID of the role {_q(name)} as an allowed client ID")
        ent = c.get("entities", {}).get(tok.get("entity_id") or "")
        if not ent:
            self.events(req["node"], "vault", "oidc-token", role=name, outcome="no-entity")
            raise RpcError(400, "no entity associated with the request's token")
        ent.setdefault("name", "entity_" + ent["id"].split("-")[0])
        warnings = []
        ttl = int(role.get("ttl") or 86400)
        vttl = int(key.get("verificationTtl") or 86400)
        expiry = ttl
        if expiry > vttl:
            expiry = vttl
            warnings.append(f"a role's token ttl cannot be longer than the verification_ttl of the key it references, setting token ttl to {expiry}")
        issuer = (oidc.get("issuer") or req.get("apiAddr") or "").rstrip("/") + "/v1/identity/oidc"
        now = int(time.time())
        claims = {"iss": issuer, "namespace": "root", "sub": ent["id"], "aud": role["clientId"], "exp": now + expiry, "iat": now}
        metadata = {acc: a.get("metadata", {}) for acc, a in ent["aliases"].items()}
        extra = _render_identity_template(role["template"], ent, metadata) if role.get("template") else {}
        for k, v in (extra or {}).items():
            if k not in RESERVED_CLAIMS:
                claims[k] = v
        if (key.get("algorithm") or "RS256") != "RS256":
            raise RpcError(500, f"stand-in vault: key {role['key']} uses {key.get('algorithm')}; the stand-in signs RS256 only")
        material = self._oidc_key_material(c, role["key"])
        token = jwt.sign(claims, material["pem"], material["kid"])
        self.events(req["node"], "vault", "oidc-token", role=name, outcome="ok", sub=ent["id"], templated=extra is not None)
        return {"data": {"token": token, "client_id": role["clientId"], "ttl": ttl}, "warnings": warnings}

    # --- Consul ACL objects from the consul stack --------------------------------------------

    def _consul_policy_rules(self, name):
        for pol in self.s["consul"]["policies"].values():
            if pol["Name"] == name:
                return pol["Rules"]
        return self.consul_acl.get("policies", {}).get(name)

    def _consul_policy_link(self, name):
        for pol in self.s["consul"]["policies"].values():
            if pol["Name"] == name:
                return {"ID": pol["ID"], "Name": name}
        if name in self.consul_acl.get("policies", {}):
            return {"ID": str(uuid.uuid5(uuid.NAMESPACE_URL, f"consul-policy/{name}")), "Name": name}
        return None

    def _consul_authorizer(self, secret, datacenter):
        """(merged rules or "management", accessor) for a token secret; RpcError 403 "ACL not found"."""
        secret = (secret or "").strip()
        if not secret:
            return jwt.merge_rules([]), ANONYMOUS
        t = next((t for t in self.s["consul"]["tokens"].values() if t["SecretID"] == secret and not self._expired(t)), None)
        if t is None:
            raise RpcError(403, "ACL not found")
        if t.get("management"):
            return "management", t["AccessorID"]
        texts = []
        policy_names = [p["Name"] for p in t.get("Policies", [])]
        node_ids = list(t.get("NodeIdentities", []))
        svc_ids = list(t.get("ServiceIdentities", []))
        for r in t.get("Roles", []):
            role = self.consul_acl.get("roles", {}).get(r["Name"], {})
            policy_names += role.get("policies", [])
            node_ids += role.get("nodeIdentities", [])
            svc_ids += role.get("serviceIdentities", [])
        for n in policy_names:
            rules = self._consul_policy_rules(n)
            if rules is not None:
                texts.append(rules)
        # Synthetic policies: a node identity holds only in its datacenter.
        texts += [jwt.node_identity_rules(n["NodeName"]) for n in node_ids if n.get("Datacenter") == datacenter]
        texts += [jwt.service_identity_rules(s["ServiceName"]) for s in svc_ids if not s.get("Datacenters") or datacenter in s["Datacenters"]]
        return jwt.merge_rules([jwt.parse_rules(x) for x in texts]), t["AccessorID"]

    @staticmethod
    def _expired(t):
        return bool(t.get("ExpirationEpoch")) and t["ExpirationEpoch"] <= time.time()

    def _consul_check(self, secret, datacenter, resource, name, need):
        """None when allowed, else Consul's denial text."""
        try:
            authz, accessor = self._consul_authorizer(secret, datacenter)
        except RpcError as e:
            return e.message, ""
        if authz == "management" or jwt.allowed(authz, resource, name, need):
            return None, accessor
        return f"Permission denied: token with AccessorID '{accessor}' lacks permission '{resource}:{need}' on \"{name}\"", accessor

    def _consul_authorize(self, req):
        err, accessor = self._consul_check(req.get("token"), req.get("datacenter", "dc1"), req["resource"], req["name"], req["need"])
        if err:
            raise RpcError(403, err)
        return {"accessor": accessor}

    def _consul_register(self, req):
        """The agent's anti-entropy sync: its node with the agent token, its config-file services
        with the config_file_service_registration token."""
        self._need_leader("consul")
        node, dc = req["node"], req.get("datacenter", "dc1")
        err, accessor = self._consul_check(req.get("agentToken"), dc, "node", node, "write")
        out = {"node": {"outcome": "denied" if err else "ok", "accessor": accessor, "error": err}, "services": []}
        self.events(node, "consul", "node-register", outcome=out["node"]["outcome"], accessor=accessor, **({"error": err} if err else {}))
        for svc in req.get("services", []):
            err, accessor = self._consul_check(req.get("serviceToken"), dc, "service", svc, "write")
            out["services"].append({"service": svc, "outcome": "denied" if err else "ok", "accessor": accessor, "error": err})
            self.events(node, "consul", "service-register", service=svc, outcome="denied" if err else "ok", accessor=accessor, **({"error": err} if err else {}))
        return out

    # --- Consul login / logout ---------------------------------------------------------------

    def _consul_login(self, req):
        self._need_leader("consul")
        node, dc = req["node"], req.get("datacenter", "dc1")
        name = req.get("authMethod") or ""
        method = self.consul_acl.get("authMethods", {}).get(name)
        if method is None:
            self.events(node, "consul", "acl-login", method=name, outcome="method-not-found")
            raise RpcError(403, "ACL not found")
        if method.get("type") != "jwt":
            raise RpcError(500, f"stand-in consul: auth method type {method.get('type')} is not supported (jwt only)")
        cfg = method.get("config") or {}
        url = urllib.parse.urlsplit(cfg.get("JWKSURL") or "")
        if url.scheme != "https" or url.path != "/v1/identity/oidc/.well-known/keys":
            self.events(node, "consul", "acl-login", method=name, outcome="jwks-unreachable")
            raise RpcError(500, f"stand-in consul: the JWKSURL {cfg.get('JWKSURL')!r} of auth method {name!r} is not Vault's https://…/v1/identity/oidc/.well-known/keys; the stand-in takes only Vault's keys")
        clusters = self.s["vault"]["clusters"]
        if not clusters:
            raise RpcError(500, f"failed to fetch keys: Get \"{cfg.get('JWKSURL')}\": dial tcp: connect: connection refused")
        jwks = self._oidc_jwks(clusters[0])
        leeway = {k: go_duration(cfg.get(k)) if not str(cfg.get(k, "")).startswith("-") else -1 for k in ("ExpirationLeeway", "NotBeforeLeeway", "ClockSkewLeeway")}
        try:
            claims = jwt.validate(req.get("bearerToken", ""), jwks, cfg.get("BoundIssuer", ""), cfg.get("BoundAudiences") or [], cfg.get("JWTSupportedAlgs") or [], leeway)
        except jwt.JwtError as e:
            self.events(node, "consul", "acl-login", method=name, outcome="invalid-token", error=str(e))
            raise RpcError(500, str(e)) from None
        value, lists = {}, {}
        for src, dst in (cfg.get("ClaimMappings") or {}).items():
            v = _claim(claims, src)
            if v is not None:
                value[dst] = v if isinstance(v, str) else json.dumps(v) if isinstance(v, (dict, list)) else str(v).lower() if isinstance(v, bool) else str(v)
        for src, dst in (cfg.get("ListClaimMappings") or {}).items():
            v = _claim(claims, src)
            if v is not None:
                lists[dst] = [str(x) for x in (v if isinstance(v, list) else [v])]
        fields = {"value": value, "list": lists}
        projected = {f"value.{k}": v for k, v in value.items()}
        bound = {"Policies": [], "Roles": [], "ServiceIdentities": [], "NodeIdentities": []}
        for rule in self.consul_acl.get("bindingRules", []):
            if rule.get("authMethod") != name or not jwt.selector_matches(rule.get("selector", ""), fields):
                continue
            kind = rule["bindType"]
            # binder.go Bind: an interpolation error or a name invalid for the bind type fails the login.
            try:
                bind = jwt.interpolate(rule["bindName"], projected)
            except KeyError as e:
                raise RpcError(500, f"cannot compute {_q(kind)} bind name for bind target: unknown variable accessed: {e.args[0]}") from None
            if kind in ("node", "service"):
                valid = len(bind) <= 256 and bool(jwt.VALID_IDENTITY_NAME.match(bind))
            elif kind == "role":
                valid = bool(jwt.VALID_ROLE_NAME.match(bind))
            elif kind == "policy":
                valid = bool(bind)
            else:
                raise RpcError(500, f"unknown binding rule bind type: {kind}")
            if not valid:
                self.events(node, "consul", "acl-login", method=name, outcome="invalid-bind-name", bindType=kind, bindName=bind)
                raise RpcError(500, f"computed {_q(kind)} bind name for bind target is invalid: {_q(bind)}")
            if kind == "node":
                bound["NodeIdentities"].append({"NodeName": bind, "Datacenter": dc})
            elif kind == "service":
                bound["ServiceIdentities"].append({"ServiceName": bind})
            elif kind == "role" and bind in self.consul_acl.get("roles", {}):  # a role that does not exist is skipped
                bound["Roles"].append({"ID": str(uuid.uuid5(uuid.NAMESPACE_URL, f"consul-role/{bind}")), "Name": bind})
            elif kind == "policy":
                link = self._consul_policy_link(bind)
                if link:
                    bound["Policies"].append(link)
        if not any(bound.values()):
            self.events(node, "consul", "acl-login", method=name, outcome="permission-denied", value=value)
            raise RpcError(403, "Permission denied")
        meta = req.get("meta") or {}
        desc = "token created via login" + (": " + json.dumps(meta, separators=(",", ":"), sort_keys=True) if meta else "")
        now = time.time()
        tok = {"AccessorID": _uuid(), "SecretID": _uuid(), "Description": desc, "Local": method.get("tokenLocality", "local") != "global",
               "AuthMethod": name, "CreateTime": _rfc3339(now), "CreateIndex": self._next(), **bound}
        ttl = go_duration(method.get("maxTokenTTL"))
        if ttl:
            tok["ExpirationTime"] = _rfc3339(now + ttl)
            tok["ExpirationEpoch"] = now + ttl
        self.s["consul"]["tokens"][tok["AccessorID"]] = tok
        self.events(node, "consul", "acl-login", method=name, outcome="ok", accessor=tok["AccessorID"],
                    nodeIdentities=[n["NodeName"] for n in bound["NodeIdentities"]], roles=[r["Name"] for r in bound["Roles"]],
                    policies=[p["Name"] for p in bound["Policies"]], serviceIdentities=[s["ServiceName"] for s in bound["ServiceIdentities"]])
        return tok

    def _consul_logout(self, req):
        self._need_leader("consul")
        secret = (req.get("token") or "").strip()
        t = next((t for t in self.s["consul"]["tokens"].values() if secret and t["SecretID"] == secret and not self._expired(t)), None)
        if t is None:
            raise RpcError(403, "ACL not found")
        if not t.get("AuthMethod"):
            self.events(req["node"], "consul", "acl-logout", outcome="permission-denied", accessor=t["AccessorID"])
            raise RpcError(403, "Permission denied")
        del self.s["consul"]["tokens"][t["AccessorID"]]
        self.events(req["node"], "consul", "acl-logout", outcome="ok", accessor=t["AccessorID"])
        return True


def _claim(claims, src):
    """ssoauth getClaim: a JSON pointer ("/a/b") or a top-level claim name."""
    if not src.startswith("/"):
        return claims.get(src)
    cur = claims
    for part in src.strip("/").split("/"):
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return cur


def _rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
