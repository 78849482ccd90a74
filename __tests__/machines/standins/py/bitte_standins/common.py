"""What every stand-in daemon and CLI shares: configuration loading with the products' key schemas,
file and directory checks as the daemon's own uid, TLS listeners, sd_notify, the event log, and
RPC to the shared state service. Python 3 stdlib only (runs in the containers' python3)."""
import http.server
import json
import os
import pwd
import re
import socket
import socketserver
import ssl
import sys
import threading
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))


class Fatal(Exception):
    """The product refuses to start: the message is what it prints, exit status 1."""


class JsonValue:
    """A route's JSON value that is not an object: `str` results are the products' plain-text
    errors, so a JSON string (Consul's /v1/status/leader answers `"10.0.0.1:8300"`) says so."""

    def __init__(self, value):
        self.value = value


def standin_conf():
    """/etc/bitte-standins.json ({"state": "http://<svcIp>:8700"}), written into the image per run."""
    path = os.environ.get("BITTE_STANDINS_CONF", "/etc/bitte-standins.json")
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        return {}


def rpc(product, op, req, timeout=10):
    """POST to the shared state; returns (status, decoded body). Status 0: unreachable."""
    url = standin_conf().get("state")
    if not url:
        return 0, {"error": "no shared state configured (/etc/bitte-standins.json)"}
    data = json.dumps(req).encode()
    r = urllib.request.Request(f"{url.rstrip('/')}/rpc/{product}/{op}", data=data, method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(r, timeout=timeout) as resp:
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as e:
        try:
            return e.code, json.load(e)
        except ValueError:
            return e.code, {"error": str(e)}
    except OSError as e:
        return 0, {"error": str(e)}


def event(node, source, name, **detail):
    """Best effort, bounded: the event log must never wedge a daemon."""
    url = standin_conf().get("state")
    rec = {"node": node, "source": source, "event": name, **detail}
    if url:
        for _ in range(3):
            try:
                r = urllib.request.Request(f"{url.rstrip('/')}/events", data=json.dumps(rec).encode(), method="POST", headers={"Content-Type": "application/json"})
                with urllib.request.urlopen(r, timeout=5):
                    return
            except OSError:
                time.sleep(0.5)
    print(f"bitte-standin event: {json.dumps(rec, sort_keys=True)}", file=sys.stderr, flush=True)


def sd_notify(msg):
    """sd_notify(3): one datagram to $NOTIFY_SOCKET ('@' = abstract namespace)."""
    addr = os.environ.get("NOTIFY_SOCKET")
    if not addr:
        return
    if addr.startswith("@"):
        addr = "\0" + addr[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as s:
        s.connect(addr)
        s.sendall(msg.encode())


def flag_values(argv, *names):
    """Values of Go `flag` options: -name=v, --name=v, -name v, --name v (repeatable)."""
    out = []
    i = 0
    while i < len(argv):
        a = argv[i]
        key, eq, val = a.lstrip("-").partition("=")
        if a.startswith("-") and key in names:
            if eq:
                out.append(val)
            elif i + 1 < len(argv):
                out.append(argv[i + 1])
                i += 1
        i += 1
    return out


def whoami():
    uid = os.geteuid()
    try:
        return uid, pwd.getpwuid(uid).pw_name
    except KeyError:
        return uid, str(uid)


def go_os_error(op, path, e):
    """Go's *PathError text, which the products embed in their messages."""
    why = {13: "permission denied", 2: "no such file or directory", 21: "is a directory", 20: "not a directory", 30: "read-only file system"}.get(e.errno, e.strerror.lower())
    return f"{op} {path}: {why}"


def read_file(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise Fatal(go_os_error("open", path, e)) from None


def check_writable_dir(path, probe):
    """Creates `probe` in `path` as the real product does at start (node-id, raft.db, ...)."""
    try:
        os.makedirs(path, exist_ok=True)
        p = os.path.join(path, probe)
        with open(p, "ab"):
            pass
        return p
    except OSError as e:
        raise Fatal(go_os_error("open" if e.errno != 17 else "mkdir", os.path.join(path, probe), e)) from None


# --- configuration -----------------------------------------------------------------------------

_TOKEN = re.compile(r'\s+|#[^\n]*|//[^\n]*|/\*.*?\*/|"(?:[^"\\]|\\.)*"|<<-?(\w+)\n.*?\n\s*\1|[{}\[\],=:]|[^\s{}\[\],=:"#]+', re.S)


def parse_hcl(text, path):
    """HCL1 subset the vendors' sample configs use: attributes, blocks with labels, lists, maps,
    strings, numbers, bools and comments. Repeated blocks become lists, as hcl's JSON view does."""
    toks = [m.group(0) for m in _TOKEN.finditer(text) if not m.group(0).isspace() and not m.group(0).startswith(("#", "//", "/*"))]
    pos = [0]

    def peek():
        return toks[pos[0]] if pos[0] < len(toks) else None

    def take():
        t = peek()
        if t is None:
            raise Fatal(f"At {path}: unexpected end of file")
        pos[0] += 1
        return t

    def scalar(t):
        if t.startswith('"'):
            return json.loads(t)
        if t in ("true", "false"):
            return t == "true"
        if re.fullmatch(r"-?\d+", t):
            return int(t)
        if re.fullmatch(r"-?\d+\.\d*", t):
            return float(t)
        raise Fatal(f"At {path}: Unknown token: {t}")

    def value():
        t = take()
        if t == "{":
            return body("}")
        if t == "[":
            out = []
            while peek() != "]":
                out.append(value())
                if peek() == ",":
                    take()
            take()
            return out
        return scalar(t)

    def put(obj, key, val):
        if key in obj and isinstance(val, dict):
            prev = obj[key]
            obj[key] = (prev if isinstance(prev, list) else [prev]) + [val]
        else:
            obj[key] = val

    def body(end):
        obj = {}
        while peek() != end:
            k = take()
            k = json.loads(k) if k.startswith('"') else k
            if peek() in ("=", ":"):
                take()
                put(obj, k, value())
            else:
                labels = []
                while peek() not in ("{", None):
                    labels.append(json.loads(take()))
                take()
                v = body("}")
                for lab in reversed(labels):
                    v = {lab: v}
                put(obj, k, v)
            if peek() == ",":
                take()
        if end is not None:
            take()
        return obj

    return body(None)


def load_config(paths, exts=(".json", ".hcl")):
    """[(file, dict)] for each file named or in each directory named, in lexical order as the
    products load a config directory. Unreadable files raise Fatal with Go's error text."""
    out = []
    for p in paths:
        files = [p]
        if os.path.isdir(p):
            try:
                files = [os.path.join(p, n) for n in sorted(os.listdir(p)) if n.endswith(exts) and os.path.isfile(os.path.join(p, n))]
            except OSError as e:
                raise Fatal(go_os_error("open", p, e)) from None
        for f in files:
            text = read_file(f).decode("utf-8")
            if f.endswith(".json"):
                try:
                    out.append((f, json.loads(text)))
                except json.JSONDecodeError as e:
                    raise Fatal(f"Error decoding '{f}': {e}") from None
            else:
                out.append((f, parse_hcl(text, f)))
    return out


def schema(name):
    """The extracted key schema: installed next to the package, or in the repo's standins/schema."""
    for d in (os.path.join(HERE, "schema"), os.path.join(HERE, "..", "..", "schema")):
        p = os.path.join(d, f"{name}.json")
        if os.path.exists(p):
            with open(p, encoding="utf-8") as f:
                return json.load(f)
    raise Fatal(f"stand-in schema {name}.json is missing")


def unknown_keys(node, obj, path=""):
    """Dotted paths of keys the schema does not have. A null schema node accepts anything."""
    if node is None or not isinstance(obj, (dict, list)):
        return []
    if isinstance(obj, list):
        return [k for i, item in enumerate(obj) for k in unknown_keys(node, item, path)]
    keys = node["keys"]
    out = []
    if node.get("label"):
        # `block "label" { ... }` in JSON: {"label": {...}}; unlabelled bodies are checked as is.
        if obj and all(isinstance(v, (dict, list)) for v in obj.values()) and not set(obj) & set(keys):
            return [k for lab, v in obj.items() for k in unknown_keys({"keys": keys}, v, f"{path}{lab}.")]
    for k, v in obj.items():
        if k not in keys:
            out.append(path + k)
        else:
            out.extend(unknown_keys(keys[k], v, f"{path}{k}."))
    return out


def merge(a, b):
    """Later files win for scalars; maps merge; lists append (Consul's and Nomad's merge)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = dict(a)
        for k, v in b.items():
            out[k] = merge(a[k], v) if k in a else v
        return out
    if isinstance(a, list) and isinstance(b, list):
        return a + b
    return b


def private_ip():
    """go-sockaddr's GetPrivateIP: the first RFC 1918 IPv4 address of an up interface."""
    out = os.popen("ip -4 -o addr show scope global 2>/dev/null").read()
    for m in re.finditer(r"inet (\d+\.\d+\.\d+\.\d+)/", out):
        ip = m.group(1)
        if ip.startswith(("10.", "192.168.")) or re.match(r"172\.(1[6-9]|2\d|3[01])\.", ip):
            return ip
    return "127.0.0.1"


def resolve_addr(a):
    return a.replace("{{ GetPrivateIP }}", private_ip()).replace("{{GetPrivateIP}}", private_ip())


# --- TLS and HTTP listeners --------------------------------------------------------------------


class _Srv(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def tls_context(cert, key, ca=None, verify_incoming=False):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        ctx.load_cert_chain(cert, key)
    except PermissionError as e:
        raise Fatal(go_os_error("open", e.filename or cert, e)) from None
    except (ssl.SSLError, OSError) as e:
        raise Fatal(f"tls: failed to find any PEM data in certificate input or key mismatch: {cert}, {key}: {e}") from None
    if verify_incoming:
        if not ca:
            raise Fatal("VerifyIncoming set but no CA file configured")
        ctx.verify_mode = ssl.CERT_REQUIRED
    if ca:
        try:
            ctx.load_verify_locations(ca)
        except PermissionError as e:
            raise Fatal(go_os_error("open", ca, e)) from None
    return ctx


def listen(host, port, handler_cls, ctx=None):
    try:
        srv = _Srv((host, port), handler_cls)
    except OSError as e:
        raise Fatal(f"listen tcp {host}:{port}: bind: {e.strerror.lower()}") from None
    if ctx is not None:
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True, do_handshake_on_connect=False)
        orig = srv.get_request

        def get_request():
            conn, addr = orig()
            conn.settimeout(10)
            return conn, addr

        srv.get_request = get_request
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


class Archive:
    """A route's binary body (a snapshot), sent as application/octet-stream."""

    def __init__(self, data):
        self.data = data


def snapshot_archive(meta, state):
    """A snapshot as Consul and Nomad write one (consul/snapshot/archive.go): a gzipped tar of
    meta.json, state.bin and SHA256SUMS over both; the CLIs verify the sums after saving."""
    import gzip
    import hashlib
    import io
    import tarfile

    files = {"meta.json": json.dumps(meta).encode(), "state.bin": json.dumps(state).encode()}
    files["SHA256SUMS"] = "".join(f"{hashlib.sha256(v).hexdigest()}  {k}\n" for k, v in files.items()).encode()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o600
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(buf.getvalue())


def verify_archive(data):
    """What `snapshot save` checks before it reports success: the archive opens and its sums hold.
    Returns meta.json; raises Fatal with the CLIs' wording otherwise."""
    import gzip
    import hashlib
    import io
    import tarfile

    try:
        with tarfile.open(fileobj=io.BytesIO(gzip.decompress(data)), mode="r") as tar:
            files = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
    except (OSError, EOFError, tarfile.TarError) as e:
        raise Fatal(f"Error verifying snapshot file: failed to read snapshot file: {e}") from None
    for line in files.get("SHA256SUMS", b"").decode().splitlines():
        digest, name = line.split("  ", 1)
        if hashlib.sha256(files.get(name, b"")).hexdigest() != digest:
            raise Fatal(f"Error verifying snapshot file: sha256 hash mismatch for {name!r}")
    return json.loads(files["meta.json"])


class Api(http.server.BaseHTTPRequestHandler):
    """JSON API handler: subclasses set `route(method, path, body, headers) -> (status, obj)`."""

    protocol_version = "HTTP/1.1"
    route = None

    def log_message(self, fmt, *args):
        pass

    def handle(self):
        try:
            if isinstance(self.connection, ssl.SSLSocket):
                self.connection.do_handshake()
            super().handle()
        except (ssl.SSLError, OSError):
            return  # a client that does not trust us, or sends no certificate: the handshake fails as in Go

    def _go(self, method):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        status, obj = type(self).route(method, self.path, body, {k.lower(): v for k, v in self.headers.items()})
        if isinstance(obj, JsonValue):
            obj = obj.value
            data = json.dumps(obj).encode()
            ctype = "application/json"
        elif isinstance(obj, Archive):
            data, ctype = obj.data, "application/octet-stream"
        else:
            data = (json.dumps(obj) if not isinstance(obj, (bytes, str)) else obj)
            data = data.encode() if isinstance(data, str) else data
            ctype = "application/json" if not isinstance(obj, (bytes, str)) else "text/plain"
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self._go("GET")

    def do_PUT(self):
        self._go("PUT")

    def do_POST(self):
        self._go("POST")

    def do_DELETE(self):
        self._go("DELETE")


def client_request(addr, method, path, body=None, cafile=None, headers=None, timeout=15, raw=False):
    """The CLIs' HTTP client: HTTPS verified against the given CA (Go's crypto/tls checks the
    address's host against the certificate's SANs). Returns (status, text), or (status, bytes)
    with `raw`, or raises Fatal with Go-shaped text."""
    url = addr.rstrip("/") + path
    ctx = None
    if url.startswith("https://"):
        ctx = ssl.create_default_context(cafile=cafile) if cafile else ssl.create_default_context()
    data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
    r = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    verb = {"GET": "Get", "PUT": "Put", "POST": "Post", "DELETE": "Delete"}[method]
    try:
        with urllib.request.urlopen(r, timeout=timeout, context=ctx) as resp:
            out = resp.read()
            return resp.status, (out if raw else out.decode())
    except urllib.error.HTTPError as e:
        out = e.read()
        return e.code, (out if raw else out.decode())
    except urllib.error.URLError as e:
        reason = e.reason
        if isinstance(reason, ssl.SSLCertVerificationError):
            msg = "x509: certificate signed by unknown authority" if "unable to get local issuer" in str(reason) or "self-signed" in str(reason) or "self signed" in str(reason) else f"x509: {reason.verify_message}"
            raise Fatal(f'{verb} "{url}": tls: failed to verify certificate: {msg}') from None
        if isinstance(reason, ConnectionRefusedError):
            host = url.split("/")[2]
            raise Fatal(f'{verb} "{url}": dial tcp {host}: connect: connection refused') from None
        raise Fatal(f'{verb} "{url}": {reason}') from None
    except (ssl.SSLError, OSError) as e:
        raise Fatal(f'{verb} "{url}": {e}') from None


def wait_forever(on_term, on_hup=None):
    import signal

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    if on_hup:
        signal.signal(signal.SIGHUP, lambda *_: on_hup())
    stop.wait()
    on_term()


def run_main(fn, argv, prefix=""):
    try:
        return fn(argv) or 0
    except Fatal as e:
        print(f"{prefix}{e}", file=sys.stderr, flush=True)
        return 1
