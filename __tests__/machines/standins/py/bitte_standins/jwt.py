"""JWTs, JWKS, go-bexpr selectors and Consul ACL rules for the stand-ins (stdlib + the openssl CLI).

- RS256 signing with `openssl dgst -sha256 -sign`, verification with `openssl dgst -verify`; the
  JWKS `n`/`e` come from the DER SubjectPublicKeyInfo (a tiny DER reader below), as Vault's
  `identity/oidc/.well-known/keys` serves them (vault/identity_store_oidc.go
  pathOIDCReadPublicKeys: `{"keys": [{"use": "sig", "kty": "RSA", "kid", "alg": "RS256", "n", "e"}]}`).
- JWT validation as hashicorp/cap jwt/jwt.go Validator.validateAll (the library Consul's jwt auth
  method uses through agent/consul/authmethod/ssoauth): signature first ("error verifying token
  signature: ..."), then `alg` against JWTSupportedAlgs ("invalid algorithm (alg) header
  parameter: token signed with unexpected algorithm"), `iss` ("invalid issuer (iss) claim"),
  `aud` ("invalid audience (aud) claim: audience claim does not match any expected audience"),
  then time: exp/nbf with cap's 150 s default leeway when absent and go-jose's 60 s clock skew
  ("invalid expiration time (exp) claim: token is expired", "invalid not before (nbf) claim:
  token not yet valid", "invalid issued at (iat) claim: token issued in the future").
- Selectors: the go-bexpr forms Consul's binding rules use (agent/consul/auth/binder.go
  doesSelectorMatch: an invalid selector or a failed evaluation does not match): `a == "x"`,
  `a != "x"`, `"x" in a`, `"x" not in a`, `a is empty`, `a is not empty`, `and`, `or`, `not`,
  parentheses.
- Consul ACL rules (acl/policy.go, acl/policy_authorizer.go, acl/policy_merger.go): HCL blocks
  `<resource> "<name>" { policy = "..." }` and `<resource>_prefix "<prefix>" {...}`, top-level
  `acl|operator|keyring|mesh|peering = "..."`; merged over all of a token's policies with `deny`
  taking precedence over `write` over `read`; an exact rule beats every prefix rule, the longest
  prefix wins; nothing matching = the default policy (deny).
"""
import base64
import json
import os
import re
import subprocess
import tempfile
import time


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64u_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _openssl(args, inp=None):
    r = subprocess.run(["openssl", *args], input=inp, capture_output=True, timeout=60, check=False)
    if r.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)}: {r.stderr.decode(errors='replace').strip()}")
    return r.stdout


def rsa_key():
    """A 2048-bit RSA private key (PEM), as Vault's generateKeys("RS256") makes."""
    return _openssl(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]).decode()


# --- DER ---------------------------------------------------------------------------------------


def _der(data, pos):
    """One TLV at `pos`: (tag, content start, content end)."""
    tag = data[pos]
    n = data[pos + 1]
    pos += 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(data[pos:pos + k], "big")
        pos += k
    return tag, pos, pos + n


def rsa_public_numbers(key_pem):
    """(n, e) of an RSA key: SubjectPublicKeyInfo SEQUENCE { AlgorithmIdentifier, BIT STRING {
    RSAPublicKey SEQUENCE { INTEGER n, INTEGER e } } } from `openssl pkey -pubout -outform DER`."""
    der = _openssl(["pkey", "-pubout", "-outform", "DER"], inp=key_pem.encode())
    tag, s, _ = _der(der, 0)
    assert tag == 0x30, "SubjectPublicKeyInfo is a SEQUENCE"
    tag, a, a_end = _der(der, s)  # AlgorithmIdentifier
    tag, b, b_end = _der(der, a_end)
    assert tag == 0x03, "subjectPublicKey is a BIT STRING"
    inner = der[b + 1:b_end]  # skip the unused-bits octet
    tag, s2, _ = _der(inner, 0)
    tag, n0, n1 = _der(inner, s2)
    tag, e0, e1 = _der(inner, n1)
    return int.from_bytes(inner[n0:n1], "big"), int.from_bytes(inner[e0:e1], "big")


def _int_bytes(i):
    return i.to_bytes((i.bit_length() + 7) // 8, "big")


def jwk(key_pem, kid):
    n, e = rsa_public_numbers(key_pem)
    return {"use": "sig", "kty": "RSA", "kid": kid, "alg": "RS256", "n": b64u(_int_bytes(n)), "e": b64u(_int_bytes(e))}


def _pem_from_jwk(k):
    """A PEM public key from a JWK's n/e (DER built by hand, read back by openssl)."""

    def tlv(tag, content):
        n = len(content)
        if n < 0x80:
            ln = bytes([n])
        else:
            b = _int_bytes(n)
            ln = bytes([0x80 | len(b)]) + b
        return bytes([tag]) + ln + content

    def integer(i):
        b = _int_bytes(i)
        if b[0] & 0x80:
            b = b"\x00" + b
        return tlv(0x02, b)

    n = int.from_bytes(b64u_decode(k["n"]), "big")
    e = int.from_bytes(b64u_decode(k["e"]), "big")
    rsa = tlv(0x30, integer(n) + integer(e))
    alg = tlv(0x30, bytes.fromhex("06092a864886f70d010101") + b"\x05\x00")  # rsaEncryption, NULL
    spki = tlv(0x30, alg + tlv(0x03, b"\x00" + rsa))
    body = base64.encodebytes(spki).decode().replace("\n", "")
    lines = "\n".join(body[i:i + 64] for i in range(0, len(body), 64))
    return f"-----BEGIN PUBLIC KEY-----\n{lines}\n-----END PUBLIC KEY-----\n"


# --- JWS ---------------------------------------------------------------------------------------


def sign(claims, key_pem, kid):
    """A compact JWS (RS256), header as go-jose writes it for Vault: {"alg","kid"}."""
    header = b64u(json.dumps({"alg": "RS256", "kid": kid}, separators=(",", ":")).encode())
    payload = b64u(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}".encode()
    with tempfile.TemporaryDirectory() as d:
        kf = os.path.join(d, "k")
        with open(kf, "w", encoding="ascii") as f:
            f.write(key_pem)
        sig = _openssl(["dgst", "-sha256", "-sign", kf], inp=signing_input)
    return f"{header}.{payload}.{b64u(sig)}"


def _verify_rs256(signing_input, sig, k):
    with tempfile.TemporaryDirectory() as d:
        pub = os.path.join(d, "pub")
        sf = os.path.join(d, "sig")
        with open(pub, "w", encoding="ascii") as f:
            f.write(_pem_from_jwk(k))
        with open(sf, "wb") as f:
            f.write(sig)
        r = subprocess.run(["openssl", "dgst", "-sha256", "-verify", pub, "-signature", sf], input=signing_input, capture_output=True, timeout=60, check=False)
        return r.returncode == 0


class JwtError(Exception):
    pass


def validate(token, jwks, bound_issuer="", bound_audiences=(), supported_algs=(), leeway=None, now=None):
    """cap jwt Validator.Validate with Consul's Expected (ssoauth: BoundIssuer, BoundAudiences,
    JWTSupportedAlgs, ExpirationLeeway/NotBeforeLeeway/ClockSkewLeeway in seconds, 0 = default,
    negative = none). Returns the claims or raises JwtError with cap's text."""
    leeway = leeway or {}
    parts = (token or "").strip().split(".")
    if len(parts) != 3:
        raise JwtError("error verifying token signature: failed to parse JWT token: go-jose/go-jose: compact JWS format must have three parts")
    try:
        header = json.loads(b64u_decode(parts[0]))
        claims = json.loads(b64u_decode(parts[1]))
        sig = b64u_decode(parts[2])
    except (ValueError, UnicodeDecodeError):
        raise JwtError("error verifying token signature: failed to parse JWT token: illegal base64 data") from None
    # cap keyset.go (jsonWebKeySet.VerifySignature through go-oidc's RemoteKeySet): every key is tried.
    keys = [k for k in jwks.get("keys", []) if k.get("kty") == "RSA"]
    if header.get("alg") != "RS256" or not any(_verify_rs256(f"{parts[0]}.{parts[1]}".encode(), sig, k) for k in keys):
        raise JwtError("error verifying token signature: failed to verify id token signature")
    algs = list(supported_algs) or ["RS256"]
    if header.get("alg") not in algs:
        raise JwtError("invalid algorithm (alg) header parameter: token signed with unexpected algorithm")
    if bound_issuer and claims.get("iss") != bound_issuer:
        raise JwtError("invalid issuer (iss) claim")
    aud = claims.get("aud")
    aud = [aud] if isinstance(aud, str) else list(aud or [])
    if bound_audiences and not any(a in aud for a in bound_audiences):
        raise JwtError("invalid audience (aud) claim: audience claim does not match any expected audience")

    def lw(name, default):
        v = leeway.get(name, 0) or 0
        return 0 if v < 0 else (default if v == 0 else v)

    iat, exp, nbf = int(claims.get("iat") or 0), int(claims.get("exp") or 0), int(claims.get("nbf") or 0)
    if not (iat or exp or nbf):
        raise JwtError("no issued at (iat), not before (nbf), or expiration time (exp) claims in token")
    if not exp:
        exp = max(iat, nbf) + lw("ExpirationLeeway", 150)
    if not nbf:
        nbf = iat if iat else exp - lw("NotBeforeLeeway", 150)
    skew = lw("ClockSkewLeeway", 60)
    t = time.time() if now is None else now
    if t + skew < nbf:
        raise JwtError("invalid not before (nbf) claim: token not yet valid")
    if t - skew > exp:
        raise JwtError("invalid expiration time (exp) claim: token is expired")
    if iat and t + skew < iat:
        raise JwtError("invalid issued at (iat) claim: token issued in the future")
    return claims


# --- go-bexpr (the forms binding rules use) -----------------------------------------------------


_TOKEN = re.compile(r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<op>==|!=|\(|\))|(?P<word>[A-Za-z_][A-Za-z0-9_.\-/]*))')


def _lex(text):
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ValueError(f"bexpr: cannot parse at {text[pos:]!r}")
        pos = m.end()
        if m.group("str") is not None:
            out.append(("str", json.loads(m.group("str"))))
        elif m.group("op"):
            out.append(("op", m.group("op")))
        else:
            out.append(("word", m.group("word")))
    return out


def selector_matches(selector, fields):
    """`fields` are Consul's selectable vars: {"value": {k: v}} (ssoauth SelectableFields)."""
    if not (selector or "").strip():
        return True
    try:
        toks = _lex(selector)
        val, rest = _or(toks, fields)
        if rest:
            return False
        return bool(val)
    except (ValueError, KeyError, IndexError):
        return False


def _lookup(path, fields):
    cur = fields
    for part in path.split("."):
        if not isinstance(cur, dict) or part not in cur:
            raise KeyError(path)
        cur = cur[part]
    return cur


def _or(toks, f):
    v, toks = _and(toks, f)
    while toks and toks[0] == ("word", "or"):
        r, toks = _and(toks[1:], f)
        v = v or r
    return v, toks


def _and(toks, f):
    v, toks = _not(toks, f)
    while toks and toks[0] == ("word", "and"):
        r, toks = _not(toks[1:], f)
        v = v and r
    return v, toks


def _not(toks, f):
    if toks and toks[0] == ("word", "not"):
        v, toks = _not(toks[1:], f)
        return not v, toks
    if toks and toks[0] == ("op", "("):
        v, toks = _or(toks[1:], f)
        if not toks or toks[0] != ("op", ")"):
            raise ValueError("bexpr: missing )")
        return v, toks[1:]
    return _match(toks, f)


def _match(toks, f):
    a = toks[0]
    if a[0] == "str":  # "x" in sel / "x" not in sel
        if toks[1] == ("word", "in"):
            coll = _lookup(toks[2][1], f)
            return a[1] in coll, toks[3:]
        if toks[1] == ("word", "not") and toks[2] == ("word", "in"):
            coll = _lookup(toks[3][1], f)
            return a[1] not in coll, toks[4:]
        raise ValueError("bexpr: bad match")
    sel = a[1]
    if toks[1] in (("op", "=="), ("op", "!=")):
        val = _lookup(sel, f)
        want = toks[2][1]
        return (str(val) == want) if toks[1][1] == "==" else (str(val) != want), toks[3:]
    if toks[1] == ("word", "is"):
        neg = toks[2] == ("word", "not")
        i = 3 if neg else 2
        if toks[i] != ("word", "empty"):
            raise ValueError("bexpr: bad is")
        empty = len(_lookup(sel, f)) == 0
        return (not empty) if neg else empty, toks[i + 1:]
    if toks[1] == ("word", "contains"):
        return toks[2][1] in _lookup(sel, f), toks[3:]
    raise ValueError("bexpr: bad match")


def interpolate(bind_name, projected):
    """template.InterpolateHIL for `${value.x}` (an unknown variable is an error)."""

    def fill(m):
        name = m.group(1).strip()
        if name not in projected:
            raise KeyError(name)
        return projected[name]

    return re.sub(r"\$\{([^}]+)\}", fill, bind_name)


VALID_IDENTITY_NAME = re.compile(r"^[a-z0-9]([a-z0-9\-_]*[a-z0-9])?$")  # agent/structs/acl.go, 1..256
VALID_ROLE_NAME = re.compile(r"^[A-Za-z0-9\-_]{1,256}$")


# --- Consul ACL rules --------------------------------------------------------------------------

_LEVEL = {"deny": 3, "write": 2, "read": 1, "list": 0}
RESOURCES = ("agent", "event", "identity", "key", "node", "query", "service", "session")
GLOBAL = ("acl", "operator", "keyring", "mesh", "peering")


def parse_rules(text):
    """The rules of one Consul policy: {"exact": {(res, name): level}, "prefix": {(res, prefix): level}, "global": {res: level}}."""
    out = {"exact": {}, "prefix": {}, "global": {}}
    text = text or ""
    if text.strip().startswith("{"):
        obj = json.loads(text)
        for k, v in obj.items():
            if isinstance(v, str):
                out["global"][k] = v
                continue
            res, kind = (k[:-7], "prefix") if k.endswith("_prefix") else (k, "exact")
            for name, body in v.items():
                out[kind][(res, name)] = body.get("policy", "deny")
        return out
    body_re = re.compile(r'([a-z_]+)\s+"((?:[^"\\]|\\.)*)"\s*\{([^{}]*)\}', re.S)
    for m in body_re.finditer(text):
        res, name, body = m.group(1), m.group(2), m.group(3)
        pol = re.search(r'\bpolicy\s*=\s*"([a-z]+)"', body)
        if not pol:
            continue
        kind = "exact"
        if res.endswith("_prefix"):
            res, kind = res[:-7], "prefix"
        if res not in RESOURCES:
            raise ValueError(f"Failed to parse ACL rules: unknown rule block {m.group(1)}")
        out[kind][(res, name)] = _merge_level(out[kind].get((res, name)), pol.group(1))
    rest = body_re.sub("", text)
    for m in re.finditer(r'^\s*([a-z_]+)\s*=\s*"([a-z]+)"\s*$', rest, re.M):
        out["global"][m.group(1)] = _merge_level(out["global"].get(m.group(1)), m.group(2))
    return out


def _merge_level(a, b):
    if a is None:
        return b
    return a if _LEVEL.get(a, 0) >= _LEVEL.get(b, 0) else b


def merge_rules(parsed):
    out = {"exact": {}, "prefix": {}, "global": {}}
    for p in parsed:
        for kind in out:
            for k, v in p[kind].items():
                out[kind][k] = _merge_level(out[kind].get(k), v)
    return out


def node_identity_rules(name):
    """structs.ACLNodeIdentity.SyntheticPolicy."""
    return f'node "{name}" {{\n  policy = "write"\n}}\nservice_prefix "" {{\n  policy = "read"\n}}\n'


def service_identity_rules(name):
    """structs.ACLServiceIdentity.SyntheticPolicy."""
    return (f'service "{name}" {{\n  policy = "write"\n}}\nservice "{name}-sidecar-proxy" {{\n  policy = "write"\n}}\n'
            'service_prefix "" {\n  policy = "read"\n}\nnode_prefix "" {\n  policy = "read"\n}\n')


def allowed(merged, resource, name, need):
    """policy_authorizer.go: the exact rule, else the longest prefix rule, else default deny."""
    if resource in GLOBAL:
        level = merged["global"].get(resource)
    else:
        level = merged["exact"].get((resource, name))
        if level is None:
            best = None
            for (res, prefix), lv in merged["prefix"].items():
                if res == resource and name.startswith(prefix) and (best is None or len(prefix) > len(best[0])):
                    best = (prefix, lv)
            level = best[1] if best else None
    if level is None or level == "deny":
        return False
    if need == "read":
        return level in ("read", "write")
    if need == "list":
        return level in ("list", "read", "write")
    return level == "write"
