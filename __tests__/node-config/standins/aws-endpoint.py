#!/usr/bin/env python3
"""A local stand-in for the SSM and Auto Scaling endpoints bitte-aws talks to, on the real wire.

SSM: AWS JSON 1.1 (`X-Amz-Target: AmazonSSM.<Op>`, errors as HTTP 400 with `{"__type": code}`),
create-only PutParameter (ParameterAlreadyExists without Overwrite), ParameterNotFound,
SecureString with its KeyId. Auto Scaling: the query protocol (form body, XML answer).
Every request must carry a valid SigV4 signature for the right service, with the one test
credential (AKIDBITTETEST): the signature is recomputed with botocore's own SigV4Auth over the
headers the request says it signed (as AWS does: InvalidSignatureException / SignatureDoesNotMatch
otherwise, UnrecognizedClientException / InvalidClientTokenId for another key). Faults production
sees are injected per operation: `--throttle OP=N` answers the first N calls of OP with
ThrottlingException ("Rate exceeded"), `--too-many-updates N` the first N PutParameter calls
with TooManyUpdates. Prints the port it listens on, then serves until killed. GET /_state
returns what was stored (names, types, key ids, values) and the calls seen, for assertions.
"""

import argparse
import json
import re
import ssl
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

LOCK = threading.Lock()
PARAMS = {}
CALLS = []
FAULTS = {}  # (op) -> [(code, message, remaining)]
AUTH_RE = re.compile(r"^AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([a-z0-9-]+)/([a-z-]+)/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$")
SECRETS = {"AKIDBITTETEST": "bitte-test-secret"}  # aws-client.ts's credentials


def fault(op):
    with LOCK:
        for f in FAULTS.get(op, []):
            if f[2] > 0:
                f[2] -= 1
                return f[0], f[1]
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, ctype):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path != "/_state":
            return self.reply(404, "", "text/plain")
        with LOCK:
            self.reply(200, json.dumps({"parameters": PARAMS, "calls": CALLS}), "application/json")

    def signature_problem(self, raw, service):
        """None when the request is signed for `service` with the test credential, else (kind, message)."""
        m = AUTH_RE.match(self.headers.get("Authorization", ""))
        if not m or m.group(4) != service:
            return "missing", "Missing Authentication Token"
        akid, _, region, _, signed, signature = m.groups()
        if akid not in SECRETS:
            return "key", "The security token included in the request is invalid."
        req = AWSRequest(method="POST", url=f"http://{self.headers['Host']}{self.path}", headers={h: self.headers.get(h, "") for h in signed.split(";")}, data=raw)
        req.context["timestamp"] = self.headers.get("X-Amz-Date", "")
        auth = SigV4Auth(Credentials(akid, SECRETS[akid], self.headers.get("X-Amz-Security-Token")), service, region)
        if auth.signature(auth.string_to_sign(req, auth.canonical_request(req)), req) != signature:
            return "signature", "The request signature we calculated does not match the signature you provided."
        return None

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        body = raw.decode()
        target = self.headers.get("X-Amz-Target", "")
        if target.startswith("AmazonSSM."):
            bad = self.signature_problem(raw, "ssm")
            if bad:
                code = {"missing": "MissingAuthenticationTokenException", "key": "UnrecognizedClientException", "signature": "InvalidSignatureException"}[bad[0]]
                return self.ssm_error(code, bad[1], 400)
            return self.ssm(target.split(".", 1)[1], json.loads(body or "{}"))
        form = {k: v[0] for k, v in parse_qs(body).items()}
        if form.get("Action") == "CompleteLifecycleAction":
            bad = self.signature_problem(raw, "autoscaling")
            if bad:
                code = {"missing": "MissingAuthenticationToken", "key": "InvalidClientTokenId", "signature": "SignatureDoesNotMatch"}[bad[0]]
                return self.query_error(code, bad[1], 403)
            return self.complete(form)
        return self.reply(400, "unknown request", "text/plain")

    def ssm_error(self, code, message, status=400):
        self.reply(status, json.dumps({"__type": code, "message": message}), "application/x-amz-json-1.1")

    def ssm(self, op, req):
        with LOCK:
            CALLS.append({"op": op, "name": req.get("Name")})
        f = fault(op)
        if f:
            return self.ssm_error(*f)
        if op == "GetParameter":
            with LOCK:
                p = PARAMS.get(req.get("Name"))
            if p is None:
                return self.ssm_error("ParameterNotFound", "")
            value = p["Value"] if req.get("WithDecryption") or p["Type"] != "SecureString" else "AQICAH...(encrypted)"
            return self.reply(200, json.dumps({"Parameter": {"Name": req["Name"], "Type": p["Type"], "Value": value, "Version": 1}}), "application/x-amz-json-1.1")
        if op == "PutParameter":
            name, value, ptype = req.get("Name"), req.get("Value"), req.get("Type", "String")
            if not name or value is None:
                return self.ssm_error("ValidationException", "1 validation error detected: Value at 'name' failed to satisfy constraint: Member must not be null")
            if ptype not in ("String", "StringList", "SecureString"):
                return self.ssm_error("ValidationException", f"1 validation error detected: Value '{ptype}' at 'type' failed to satisfy constraint")
            if len(value.encode()) > 4096:
                return self.ssm_error("ValidationException", "Standard tier parameters support a maximum parameter value of 4096 characters.")
            with LOCK:
                if name in PARAMS and not req.get("Overwrite"):
                    exists = True
                else:
                    exists = False
                    PARAMS[name] = {"Value": value, "Type": ptype, "KeyId": req.get("KeyId")}
            if exists:
                return self.ssm_error("ParameterAlreadyExists", "The parameter already exists. To overwrite this request value, set the overwrite option in the request to true.")
            return self.reply(200, json.dumps({"Version": 1, "Tier": "Standard"}), "application/x-amz-json-1.1")
        return self.ssm_error("InvalidAction", f"{op} is not served by this stand-in")

    def query_error(self, code, message, status=400):
        xml = f'<ErrorResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/"><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>'
        self.reply(status, xml, "text/xml")

    def complete(self, form):
        with LOCK:
            CALLS.append({"op": "CompleteLifecycleAction", **{k: form.get(k) for k in ("AutoScalingGroupName", "LifecycleHookName", "InstanceId", "LifecycleActionResult")}})
        f = fault("CompleteLifecycleAction")
        if f:
            return self.query_error(f[0], f[1])
        xml = f'<CompleteLifecycleActionResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/"><CompleteLifecycleActionResult/><ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata></CompleteLifecycleActionResponse>'
        self.reply(200, xml, "text/xml")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--throttle", action="append", default=[], help="OP=N: first N calls of OP throttled")
    p.add_argument("--too-many-updates", type=int, default=0)
    p.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"), help="also serve HTTPS with this certificate chain and key")
    args = p.parse_args()
    for t in args.throttle:
        op, n = t.split("=")
        code = "Throttling" if op == "CompleteLifecycleAction" else "ThrottlingException"
        FAULTS.setdefault(op, []).append([code, "Rate exceeded", int(n)])
    if args.too_many_updates:
        FAULTS.setdefault("PutParameter", []).append(["TooManyUpdates", "There are concurrent updates for the resource that you tried to update.", args.too_many_updates])
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if not args.tls:
        print(server.server_address[1], flush=True)
        server.serve_forever()
        return
    # HTTPS beside the plain port (which the test reads /_state on), with the same calls and faults.
    tls = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(*args.tls)
    tls.socket = ctx.wrap_socket(tls.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(server.server_address[1], tls.server_address[1], flush=True)
    tls.serve_forever()


if __name__ == "__main__":
    main()
