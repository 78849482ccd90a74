#!/usr/bin/python3
"""bitte-aws: the few AWS calls the node scripts make, in Python's standard library alone.

Ubuntu 24.04 has no `awscli` package. An earlier bitte-aws ran on `python3-botocore` (universe,
85 MB), but every call here is its own process, and botocore loads its endpoint and service
models at each start: ~0.5 s of CPU per call, ~30 calls per core node's first boot. This speaks
the four wire protocols directly instead, with what botocore does that matters here:

- Credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, else the instance
  role through IMDSv2 (token PUT, then iam/security-credentials/<role>), as botocore's chain.
- Signing: Signature Version 4
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html);
  a tool-tier test checks it against botocore's own SigV4Auth for every request shape sent here.
- Retries: as botocore's "standard" mode (botocore/retries/standard.py): the throttling and
  transient codes these services answer, HTTP 500/502/503/504 and connection errors are retried
  with exponential backoff and full jitter, capped at 20 s, for BITTE_AWS_MAX_ATTEMPTS attempts in
  all (default 8). SSM's TooManyUpdates (concurrent writes of one parameter) is retried the same way.
- Endpoints: https://<service>.<region>.amazonaws.com (S3 virtual-hosted), or AWS_ENDPOINT_URL_<SERVICE>
  / AWS_ENDPOINT_URL as botocore takes them (S3 then path-style); TLS verified against the
  system's CA store.

Secrets travel in files, never on argv or stdout. Exit codes, so a shell script can tell
outcomes apart:
  0  done
  1  an AWS error after retries, or no answer (message on stderr, in the CLI's wording)
  2  usage error
  3  ParameterNotFound (ssm-get)
  4  ParameterAlreadyExists (ssm-create)
  5  the instance has no such tag (instance-tag)
"""

import argparse
import datetime
import hashlib
import hmac
import http.client
import json
import os
import random
import ssl
import sys
import time
import urllib.parse
import xml.etree.ElementTree as ET

EXIT_ERROR, EXIT_USAGE, EXIT_NOT_FOUND, EXIT_EXISTS, EXIT_NO_TAG = 1, 2, 3, 4, 5
# Retried as botocore's standard mode retries them (botocore/retries/standard.py), as the four
# services here answer them: SSM ThrottlingException and TooManyUpdates (concurrent writes of one
# parameter), Auto Scaling Throttling, EC2 RequestLimitExceeded, S3 SlowDown and RequestTimeout;
# and HTTP 500/502/503/504 and connection errors whatever the code.
RETRY_CODES = {"ThrottlingException", "TooManyUpdates", "Throttling", "RequestLimitExceeded", "SlowDown", "RequestTimeout"}
RETRY_STATUS = {500, 502, 503, 504}
# Answers that are outcomes, not errors, with their exit codes.
OUTCOMES = {"ParameterNotFound": EXIT_NOT_FOUND, "ParameterAlreadyExists": EXIT_EXISTS}
env = os.environ.get


class AwsError(Exception):
    """An error answer (code, message) of a service, or no answer (code None)."""

    def __init__(self, code, message, op="", retry=False):
        super().__init__(message)
        self.code, self.message, self.op, self.retry, self.attempts = code, message, op, retry, 1


def credentials():
    """(access key, secret key, session token or None): the environment's, else the instance role's."""
    if env("AWS_ACCESS_KEY_ID") and env("AWS_SECRET_ACCESS_KEY"):
        return env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY"), env("AWS_SESSION_TOKEN")
    u = urllib.parse.urlsplit(env("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://169.254.169.254"))
    last = ""
    for attempt in range(3):
        try:
            # IMDSv2: a session token first, then the role's name, then its credentials.
            token = imds(u, "PUT", "/latest/api/token", {"X-aws-ec2-metadata-token-ttl-seconds": "21600"})
            path = "/latest/meta-data/iam/security-credentials/"
            role = imds(u, "GET", path, {"X-aws-ec2-metadata-token": token}).split()[0]
            c = json.loads(imds(u, "GET", path + role, {"X-aws-ec2-metadata-token": token}))
            return c["AccessKeyId"], c["SecretAccessKey"], c.get("Token")
        except (OSError, ValueError, KeyError, IndexError) as e:
            last = str(e)
        time.sleep(attempt + 1)
    raise AwsError(None, f"Unable to locate credentials (instance metadata: {last})")


def imds(u, method, path, headers):
    conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=2)
    try:
        conn.request(method, path, headers=headers)
        r = conn.getresponse()
        text = r.read().decode()
        if r.status != 200:
            raise OSError(f"HTTP {r.status} for {path}")
        return text
    finally:
        conn.close()


def _hmac(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def _quote(s):
    return urllib.parse.quote(s, safe="-_.~")


def sign(method, url, headers, payload_hash, creds, region, service, now):
    """`headers` with Host, X-Amz-Date, X-Amz-Security-Token and Authorization (SigV4) added."""
    access, secret, token = creds
    u = urllib.parse.urlsplit(url)
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    out = {**headers, "Host": u.netloc, "X-Amz-Date": stamp, **({"X-Amz-Security-Token": token} if token else {})}
    canon = {k.lower(): " ".join(str(v).split()) for k, v in out.items()}
    names = ";".join(sorted(canon))
    # The path as sent is encoded once; every service but S3 signs it encoded once more.
    path = u.path if service == "s3" else "/".join(map(_quote, u.path.split("/")))
    query = "&".join(f"{_quote(k)}={_quote(v)}" for k, v in sorted(urllib.parse.parse_qsl(u.query, keep_blank_values=True)))
    creq = "\n".join([method, path, query, "".join(f"{k}:{canon[k]}\n" for k in sorted(canon)), names, payload_hash])
    scope = f"{stamp[:8]}/{region}/{service}/aws4_request"
    key = ("AWS4" + secret).encode()
    for part in scope.split("/"):
        key = _hmac(key, part)
    sig = hmac.new(key, f"AWS4-HMAC-SHA256\n{stamp}\n{scope}\n{hashlib.sha256(creq.encode()).hexdigest()}".encode(), hashlib.sha256).hexdigest()
    out["Authorization"] = f"AWS4-HMAC-SHA256 Credential={access}/{scope}, SignedHeaders={names}, Signature={sig}"
    return out


def error_of(status, body):
    """(code, message) of an error answer: JSON 1.1 (`__type`) or XML (query, EC2, S3)."""
    try:
        if body.lstrip().startswith(b"{"):
            doc = json.loads(body)
            return doc["__type"].split("#")[-1], doc.get("message") or doc.get("Message", "")
        found = {el.tag.split("}")[-1]: el.text or "" for el in ET.fromstring(body).iter()}
        return found["Code"], found.get("Message", "")
    except (ValueError, KeyError, ET.ParseError):
        return str(status), http.client.responses.get(status, "")


def tls_context():
    """The system's trust store as create_default_context() uses it, read through its hashed
    directory (one certificate looked up per issuer) instead of parsing the whole bundle: that
    costs ~42 ms of CPU at every start, and each call is a process of its own. SSL_CERT_FILE, or
    no such directory: the default context, bundle and all."""
    paths = ssl.get_default_verify_paths()
    if paths.capath and not env(paths.openssl_cafile_env):
        return ssl.create_default_context(capath=paths.capath)
    return ssl.create_default_context()


def call(op, service, region, method, path="/", headers=None, body=b"", bucket=None):
    """A signed request, retried as botocore's standard mode does; returns the answer's body.
    Endpoint: AWS_ENDPOINT_URL_<SERVICE> or AWS_ENDPOINT_URL (an S3 bucket path-style), else
    AWS's (an S3 bucket virtual-hosted)."""
    custom = env("AWS_ENDPOINT_URL_" + service.upper().replace("AUTOSCALING", "AUTO_SCALING")) or env("AWS_ENDPOINT_URL")
    if custom:
        url = custom.rstrip("/") + (f"/{bucket}" if bucket else "") + path
    else:
        url = f"https://{bucket + '.' if bucket else ''}{service}.{region}.amazonaws.com{path}"
    u = urllib.parse.urlsplit(url)
    creds, digest = credentials(), hashlib.sha256(body).hexdigest()
    headers = {**(headers or {}), **({"X-Amz-Content-SHA256": digest} if service == "s3" else {})}
    attempts = max(1, int(env("BITTE_AWS_MAX_ATTEMPTS", "8")))
    # TLS verified against the system's CA store; plain HTTP only to an endpoint set in the environment.
    tls = tls_context() if u.scheme == "https" else None
    for attempt in range(1, attempts + 1):
        signed = sign(method, url, headers, digest, creds, region, service, datetime.datetime.now(datetime.timezone.utc))
        conn = (http.client.HTTPSConnection(u.hostname, u.port, timeout=20, context=tls) if tls
                else http.client.HTTPConnection(u.hostname, u.port, timeout=20))
        try:
            conn.request(method, url[len(f"{u.scheme}://{u.netloc}"):], body=body, headers=signed)
            r = conn.getresponse()
            data = r.read()
            if r.status < 300:
                return data
            code, message = error_of(r.status, data)
            err = AwsError(code, message, op, code in RETRY_CODES or r.status in RETRY_STATUS)
        except (OSError, http.client.HTTPException) as e:
            err = AwsError(None, f'Could not connect to the endpoint URL: "{url}": {e}', op, True)
        finally:
            conn.close()
        if not err.retry or attempt == attempts:
            err.attempts = attempt
            raise err
        # Exponential backoff with full jitter, capped at 20 s (botocore's ExponentialBackoff).
        time.sleep(min(random.random() * 2 ** (attempt - 1), 20))
    raise AssertionError("unreachable")


def ssm(op, region, **payload):
    """An AWS JSON 1.1 call to SSM."""
    headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": f"AmazonSSM.{op}"}
    return json.loads(call(op, "ssm", region, "POST", headers=headers, body=json.dumps(payload).encode()))


def query(op, service, region, version, **params):
    """A query-protocol call (form body, XML answer): Auto Scaling, EC2."""
    body = urllib.parse.urlencode({"Action": op, "Version": version, **params}).encode()
    return ET.fromstring(call(op, service, region, "POST", headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}, body=body))


def write_private(path, text):
    """Writes text to path, created 0600 whatever the umask, replaced atomically."""
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600), "w") as f:
            f.write(text)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def ssm_get(a):
    r = ssm("GetParameter", a.region, Name=a.name, WithDecryption=True)
    # What `aws ssm get-parameter --output text` prints: the value and a newline.
    write_private(a.out, r["Parameter"]["Value"] + "\n")
    return 0


def ssm_create(a):
    with open(a.value_file, encoding="utf-8") as f:
        ssm("PutParameter", a.region, Name=a.name, Value=f.read().rstrip("\n"), Type="SecureString", KeyId=a.key_id, Overwrite=False, Tier="Standard")
    return 0


def complete_lifecycle_action(a):
    query("CompleteLifecycleAction", "autoscaling", a.region, "2011-01-01", LifecycleHookName=a.hook, AutoScalingGroupName=a.group,
          InstanceId=a.instance_id, LifecycleActionResult=a.result)
    return 0


def instance_tag(a):
    """Prints one tag of an instance (not secret): what `aws ec2 describe-tags --query Tags[0].Value` gives."""
    root = query("DescribeTags", "ec2", a.region, "2016-11-15", **{"Filter.1.Name": "resource-id", "Filter.1.Value.1": a.instance_id,
                                                                  "Filter.2.Name": "key", "Filter.2.Value.1": a.key})
    for el in root.iter():
        if el.tag.split("}")[-1] == "value":
            print(el.text or "")
            return 0
    print(f"bitte-aws: instance {a.instance_id} has no tag {a.key}", file=sys.stderr)
    return EXIT_NO_TAG


def s3_put(a):
    """Uploads a file with SSE-KMS under the given key and object metadata (the snapshot timer)."""
    headers = {"X-Amz-Server-Side-Encryption": "aws:kms", "X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id": a.kms_key_id}
    headers.update((f"X-Amz-Meta-{k}", v) for k, _, v in (m.partition("=") for m in a.metadata))
    with open(a.file, "rb") as f:
        call("PutObject", "s3", a.region, "PUT", "/" + urllib.parse.quote(a.key, safe="/-_.~"), headers, f.read(), a.bucket)
    return 0


# Each command: its function and arguments ("--x" options are required; "--x*" repeatable).
COMMANDS = {
    "ssm-get": (ssm_get, ["name", "out"]),
    "ssm-create": (ssm_create, ["name", "value_file", "--key-id"]),
    "complete-lifecycle-action": (complete_lifecycle_action, ["--group", "--hook", "--instance-id", "--result"]),
    "instance-tag": (instance_tag, ["--instance-id", "--key"]),
    "s3-put": (s3_put, ["--bucket", "--key", "--file", "--kms-key-id", "--metadata*"]),
}


def parser():
    p = argparse.ArgumentParser(prog="bitte-aws", description="the AWS calls of the Bitte node scripts")
    p.add_argument("--region", required=True)
    sub = p.add_subparsers(dest="command", required=True)
    for name, (fn, args) in COMMANDS.items():
        c = sub.add_parser(name)
        for arg in args:
            if arg.endswith("*"):
                c.add_argument(arg[:-1], action="append", default=[])
            else:
                c.add_argument(arg, **({"required": True} if arg.startswith("-") else {}))
        c.set_defaults(fn=fn)
    return p


def main(argv):
    a = parser().parse_args(argv)
    if a.command == "complete-lifecycle-action" and a.result not in ("CONTINUE", "ABANDON"):
        print("bitte-aws: --result must be CONTINUE or ABANDON", file=sys.stderr)
        return EXIT_USAGE
    try:
        return a.fn(a)
    except AwsError as e:
        if e.code in OUTCOMES:
            print(f"bitte-aws: {a.name}: {e.code}", file=sys.stderr)
            return OUTCOMES[e.code]
        # The CLI's wording, which operators search for.
        retried = f" (reached max retries: {e.attempts - 1})" if e.attempts > 1 else ""
        print(f"bitte-aws: An error occurred ({e.code}) when calling the {e.op} operation{retried}: {e.message}" if e.code else f"bitte-aws: {e.message}", file=sys.stderr)
        return EXIT_ERROR
    except (OSError, ValueError, KeyError, ET.ParseError) as e:
        print(f"bitte-aws: {e}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
