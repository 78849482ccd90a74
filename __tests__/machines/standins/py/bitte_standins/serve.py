"""The service namespace's one process: IMDS, SSM + Auto Scaling (HTTPS) and the shared state.

    python3 -m bitte_standins.serve <config.json>

config.json is described in __tests__/machines/standins/README.md. Writes <stateDir>/ready once
every listener is bound; SIGTERM stops it. Everything it knows persists under stateDir, so the
test can restart it (a fault production sees) without losing parameters or credentials.
"""
import http.server
import json
import os
import signal
import socketserver
import ssl
import sys
import threading
import traceback
import urllib.parse

from . import aws
from .holds import Dropped, Holds
from .login import LoginMixin
from .state import RpcError, SharedState


class State(LoginMixin, SharedState):
    """The shared state with Vault's identity tokens and Consul's logins (login.py)."""


class EventLog:
    """<stateDir>/events.jsonl: {"seq", "node", "source", "event", ...detail}, append-only."""

    def __init__(self, state_dir):
        self.path = os.path.join(state_dir, "events.jsonl")
        self.lock = threading.Lock()
        self.seq = 0
        try:
            with open(self.path, encoding="utf-8") as f:
                for line in f:
                    self.seq = max(self.seq, json.loads(line)["seq"])
        except FileNotFoundError:
            pass

    def __call__(self, node, source, event, **detail):
        with self.lock:
            self.seq += 1
            rec = {"seq": self.seq, "node": node, "source": source, "event": event, **detail}
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(json.dumps(rec, sort_keys=True) + "\n")
            return rec


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def _addr(s):
    host, port = s.rsplit(":", 1)
    return host, int(port)


def make_handler(kind, world, state, events, holds):
    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "AmazonEC2ws" if kind == "imds" else "Server"

        def log_message(self, fmt, *args):  # quiet: the event log is the record
            pass

        def _body(self):
            if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                # HTTP/1.1 chunked transfer (botocore streams aws-chunked S3 bodies this way).
                out = bytearray()
                for _ in range(1_000_000):
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass
                        break
                    out += self.rfile.read(size)
                    self.rfile.readline()
                return bytes(out)
            n = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(n) if n else b""

        def _send(self, status, headers, body):
            if isinstance(body, str):
                body = body.encode()
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _headers(self):
            return {k.lower(): v for k, v in self.headers.items()}

        def do_GET(self):
            self._any("GET")

        def do_PUT(self):
            self._any("PUT")

        def do_POST(self):
            self._any("POST")

        def do_DELETE(self):
            self._any("DELETE")

        def do_HEAD(self):
            self._any("HEAD")

        def _any(self, method):
            body = self._body()
            try:
                if kind == "imds":
                    self._send(*aws.imds(world, method, urllib.parse.urlsplit(self.path).path, self._headers(), self.client_address[0]))
                elif kind == "aws":
                    self._aws(method, body)
                else:
                    self._state(method, body)
            except Dropped:  # a held request let go unapplied: no answer, as if it never arrived
                self.close_connection = True
            except Exception as e:  # a stand-in bug must show, not hang the caller
                traceback.print_exc()
                self._send(500, {"Content-Type": "text/plain"}, f"stand-in error: {type(e).__name__}: {e}\n")

        def _aws(self, method, body):
            h = self._headers()
            target = h.get("x-amz-target", "")
            json_hdr = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": os.urandom(16).hex()}
            if target.startswith("AmazonSSM."):
                try:
                    _, inst = aws.verify_sigv4(world, method, self.path, h, body, "ssm")
                    out = aws.ssm(world, target.split(".", 1)[1], body, inst)
                    self._send(200, json_hdr, json.dumps(out))
                except aws.AwsError as e:
                    self._send(e.status, json_hdr, json.dumps({"__type": e.code, "message": e.message}))
                return
            scope = h.get("authorization", "").split("Credential=", 1)[-1].split(",", 1)[0].split("/")
            if len(scope) == 5 and scope[3] == "s3":
                try:
                    _, inst = aws.verify_sigv4(world, method, self.path, h, body, "s3")
                except aws.AwsError as e:
                    self._send(*aws._s3_error(e.code if e.code != "InvalidSignatureException" else "SignatureDoesNotMatch", e.message, 403))
                    return
                self._send(*aws.s3(world, method, self.path, h, body, inst))
                return
            form = dict(urllib.parse.parse_qsl(body.decode("utf-8", "replace"))) if method == "POST" else {}
            if form.get("Action") and len(scope) == 5 and scope[3] == "ec2":
                xml = {"Content-Type": "text/xml;charset=UTF-8"}
                try:
                    _, inst = aws.verify_sigv4(world, method, self.path, h, body, "ec2")
                except aws.AwsError as e:
                    self._send(401 if e.code != "InvalidSignatureException" else 403, xml, f"<Response><Errors><Error><Code>{'AuthFailure' if e.code != 'InvalidSignatureException' else 'SignatureDoesNotMatch'}</Code><Message>{e.message}</Message></Error></Errors></Response>".encode())
                    return
                self._send(*((lambda s, b: (s, xml, b))(*aws.ec2(world, form, inst))))
                return
            if form.get("Action") and "autoscaling" in h.get("authorization", ""):
                xml = {"Content-Type": "text/xml"}
                try:
                    _, inst = aws.verify_sigv4(world, method, self.path, h, body, "autoscaling")
                except aws.AwsError as e:
                    self._send(e.status if e.status != 400 else 403, xml, aws._asg_error(e.code, e.message, "0"))
                    return
                self._send(*((lambda s, b: (s, xml, b))(*aws.autoscaling(world, form, inst))))
                return
            self._send(400, json_hdr, json.dumps({"__type": "UnknownOperationException", "message": f"unknown target {target!r}"}))

        def _state(self, method, body):
            # /rpc/<product>/<op> (daemons) and /events (daemons' own event records).
            parts = urllib.parse.urlsplit(self.path).path.strip("/").split("/")
            req = json.loads(body or b"{}")
            try:
                if parts == ["events"] and method == "POST":
                    rec = events(req.pop("node"), req.pop("source"), req.pop("event"), **req)
                    self._send(200, {"Content-Type": "application/json"}, json.dumps(rec))
                    return
                if len(parts) == 3 and parts[0] == "rpc" and method == "POST":
                    holds.check(req.get("node"), parts[1], parts[2])  # outside the state's lock
                    out = state.call(parts[1], parts[2], req)
                    self._send(200, {"Content-Type": "application/json"}, json.dumps(out))
                    return
                raise RpcError(404, "not found")
            except RpcError as e:
                self._send(e.status, {"Content-Type": "application/json"}, json.dumps({"error": e.message}))

    return H


def main(argv):
    with open(argv[0], encoding="utf-8") as f:
        conf = json.load(f)
    os.makedirs(conf["stateDir"], exist_ok=True)
    events = EventLog(conf["stateDir"])
    world = aws.World(conf, events)
    def sts(method, url, headers, body):
        try:
            return aws.sts_caller(world, method, url, headers, body)
        except aws.AwsError as e:
            # path_login.go: STS's refusal comes back as an upstream error, 400 to the caller.
            # STS is a query-protocol service: a bad signature is SignatureDoesNotMatch there.
            code = "SignatureDoesNotMatch" if e.code == "InvalidSignatureException" else e.code
            body = f'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>{code}</Code><Message>{e.message}</Message></Error></ErrorResponse>'
            raise RpcError(400, f"error making upstream request: received error code 403 from STS: {body}") from None

    def ec2_instance(vault_node, instance_id, region):
        """Vault's DescribeInstances for an inferred instance (builtin/credential/aws
        validateInstance), with the IAM role of the instance Vault runs on: the instance must be
        running in that region, and the role must be allowed ec2:DescribeInstances."""
        caller = next((i for i in world.instances.values() if i["name"] == vault_node), None)
        if caller is None:
            raise RpcError(500, f"vault node {vault_node} is not an instance of this world")
        try:
            aws._authorize(world, caller, "ec2:DescribeInstances", "*", {})
        except aws.AwsError as e:
            events(vault_node, "ec2", "DescribeInstances", outcome="UnauthorizedOperation", instanceId=instance_id)
            raise RpcError(400, e.message) from None
        found = next((i for i in world.instances.values() if i["instanceId"] == instance_id and i.get("state", "running") == "running"), None)
        if found is None or region != world.region:
            events(vault_node, "ec2", "DescribeInstances", outcome="InvalidInstanceID.NotFound", instanceId=instance_id)
            raise RpcError(400, f"The instance ID '{instance_id}' does not exist")
        events(vault_node, "ec2", "DescribeInstances", outcome="ok", instanceId=instance_id)

    state = State(conf["stateDir"], events, sts=sts, vault_aws=conf.get("vaultAwsAuth"), ec2_instance=ec2_instance, consul_acl=conf.get("consulAcl"))
    holds = world.holds = Holds(conf["stateDir"], events)
    servers = []
    listen = conf["listen"]
    for kind, key in (("imds", "imds"), ("aws", "ssm"), ("state", "state")):
        if key not in listen:
            continue
        srv = Server(_addr(listen[key]), make_handler(kind, world, state, events, holds))
        if kind == "aws":
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            ctx.load_cert_chain(conf["tls"]["cert"], conf["tls"]["key"])
            srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
        servers.append(srv)
    for srv in servers:
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    events("serve", "serve", "start", listen=listen)
    with open(os.path.join(conf["stateDir"], "ready"), "w", encoding="utf-8") as f:
        f.write(str(os.getpid()) + "\n")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    for srv in servers:
        srv.shutdown()
    try:
        os.unlink(os.path.join(conf["stateDir"], "ready"))
    except FileNotFoundError:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
