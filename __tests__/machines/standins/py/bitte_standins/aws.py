"""Stand-in AWS endpoints: IMDSv2, SSM (JSON 1.1), Auto Scaling CompleteLifecycleAction (query).

Wire protocols and errors are AWS's:
- IMDSv2: https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-instance-metadata-service.html
  (PUT /latest/api/token with X-aws-ec2-metadata-token-ttl-seconds 1..21600, else 400; a GET
  without a valid token is 401; X-Forwarded-For on the PUT is refused with 403).
- SSM: https://docs.aws.amazon.com/systems-manager/latest/APIReference/ (GetParameter,
  GetParameters, PutParameter, DeleteParameter, GetParametersByPath; errors and HTTP 400) and
  https://docs.aws.amazon.com/systems-manager/latest/APIReference/CommonErrors.html
  (ThrottlingException, AccessDeniedException, ValidationException, UnrecognizedClientException,
  InvalidSignatureException, MissingAuthenticationTokenException).
- SigV4: https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
- Auto Scaling query protocol: https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_CompleteLifecycleAction.html
"""
import base64
import datetime
import hashlib
import hmac
import json
import os
import re
import secrets
import threading
import urllib.parse

from . import iam

# Standard tier: https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html
STANDARD_MAX_VALUE = 4096


class AwsError(Exception):
    def __init__(self, code, message, status=400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def now():
    return datetime.datetime.now(datetime.timezone.utc)


class World:
    """Everything the endpoints share, persisted under stateDir so a restart keeps it."""

    def __init__(self, conf, events):
        self.conf = conf
        self.events = events
        self.lock = threading.Lock()
        self.state_dir = conf["stateDir"]
        self.region = conf["region"]
        self.account = conf["accountId"]
        self.instances = {i["ip"]: i for i in conf["instances"]}
        self.policies = conf.get("iamPolicies", {})
        key = conf["kmsKeyId"]
        self.kms_keys = {key}
        self.kms_key_arn = key if key.startswith("arn:") else f"arn:aws:kms:{self.region}:{self.account}:key/{key}"
        self.kms_keys.add(self.kms_key_arn)
        for alias in conf.get("kmsAliases", []):
            self.kms_keys.add(alias)
        self.params = self._load("ssm.json", {})
        self.creds = self._load("credentials.json", {})
        self.lifecycle = self._load("lifecycle.json", [])
        self.objects = self._load("s3.json", {})
        self.imds_tokens = {}
        self.call_counts = {}

    def _path(self, name):
        return os.path.join(self.state_dir, name)

    def _load(self, name, default):
        try:
            with open(self._path(name), encoding="utf-8") as f:
                return json.load(f)
        except FileNotFoundError:
            return default

    def save(self, name, value):
        tmp = self._path(name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(value, f)
        os.replace(tmp, self._path(name))

    def faults(self):
        """faults.json, re-read per request; absent means none."""
        try:
            with open(self._path("faults.json"), encoding="utf-8") as f:
                return json.load(f)
        except (FileNotFoundError, json.JSONDecodeError):
            return {}

    def take_fault(self, kind, target):
        """Consumes one injected fault of `kind` ("throttle", "tooManyUpdates") for `target`.

        faults.json {"ssm": {"throttle": {"PutParameter": 5}, "everyNth": {"GetParameter": 3},
        "tooManyUpdates": {"PutParameter": 1}}}: the next N calls fail, or every Nth call fails."""
        with self.lock:
            f = self.faults()
            ssm = f.get("ssm", {})
            n = ssm.get(kind, {}).get(target, 0)
            if n > 0:
                ssm[kind][target] = n - 1
                self.save("faults.json", f)
                return True
            if kind == "throttle":
                nth = ssm.get("everyNth", {}).get(target, 0)
                c = self.call_counts[target] = self.call_counts.get(target, 0) + 1
                if nth > 0 and c % nth == 0:
                    return True
        return False

    # --- credentials ---------------------------------------------------------------------------

    def credentials_for(self, inst):
        with self.lock:
            c = self.creds.get(inst["instanceId"])
            if c is None or datetime.datetime.fromisoformat(c["Expiration"].replace("Z", "+00:00")) < now() + datetime.timedelta(minutes=15):
                c = {
                    "AccessKeyId": "ASIA" + secrets.token_hex(8).upper(),
                    "SecretAccessKey": base64.b64encode(secrets.token_bytes(30)).decode(),
                    "Token": base64.b64encode(secrets.token_bytes(96)).decode(),
                    "Expiration": (now() + datetime.timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "LastUpdated": now().strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "instanceId": inst["instanceId"],
                }
                self.creds[inst["instanceId"]] = c
                self.save("credentials.json", self.creds)
            return c

    def principal(self, access_key):
        for iid, c in self.creds.items():
            if c["AccessKeyId"] == access_key:
                inst = next(i for i in self.instances.values() if i["instanceId"] == iid)
                return c, inst
        return None, None


# --- IMDSv2 ------------------------------------------------------------------------------------


def imds(world, method, path, headers, client_ip):
    """Returns (status, headers, body bytes)."""
    inst = world.instances.get(client_ip)
    if inst is None:
        return 404, {}, b""
    text = {"Content-Type": "text/plain"}
    if path == "/latest/api/token":
        if method != "PUT":
            return 405, text, b""
        if headers.get("x-forwarded-for"):
            return 403, text, b""
        try:
            ttl = int(headers.get("x-aws-ec2-metadata-token-ttl-seconds", ""))
        except ValueError:
            ttl = 0
        if not 1 <= ttl <= 21600:
            return 400, text, b""
        token = base64.urlsafe_b64encode(secrets.token_bytes(42)).decode()
        with world.lock:
            world.imds_tokens[token] = (client_ip, now() + datetime.timedelta(seconds=ttl))
        world.events(inst["name"], "imds", "token", ttl=ttl)
        return 200, {**text, "X-aws-ec2-metadata-token-ttl-seconds": str(ttl)}, token.encode()
    if method != "GET":
        return 405, text, b""
    tok = world.imds_tokens.get(headers.get("x-aws-ec2-metadata-token", ""))
    if tok is None or tok[0] != client_ip or tok[1] < now():
        return 401, text, b""
    role = inst["iamRole"]
    zone = inst["zone"]
    mac = inst.get("mac", "02:00:00:00:00:01")
    md = {
        "meta-data/instance-id": inst["instanceId"],
        "meta-data/local-ipv4": inst["ip"],
        "meta-data/local-hostname": f"ip-{inst['ip'].replace('.', '-')}.{world.region}.compute.internal",
        "meta-data/hostname": f"ip-{inst['ip'].replace('.', '-')}.{world.region}.compute.internal",
        "meta-data/mac": mac,
        "meta-data/placement/availability-zone": zone,
        "meta-data/placement/region": world.region,
        "meta-data/instance-type": inst.get("instanceType", "m7i.large"),
        "meta-data/ami-id": inst.get("amiId", "ami-00000000000000000"),
        f"meta-data/network/interfaces/macs/{mac}/local-ipv4s": inst["ip"],
        "meta-data/iam/security-credentials/": role,
        "meta-data/iam/security-credentials": role,
        "meta-data/autoscaling/target-lifecycle-state": inst.get("lifecycleState", "InService"),
    }
    rel = path[len("/latest/"):] if path.startswith("/latest/") else None
    if rel == "dynamic/instance-identity/document":
        doc = {"accountId": world.account, "architecture": "x86_64", "availabilityZone": zone, "imageId": md["meta-data/ami-id"],
               "instanceId": inst["instanceId"], "instanceType": md["meta-data/instance-type"], "privateIp": inst["ip"], "region": world.region, "version": "2017-09-30"}
        return 200, {"Content-Type": "application/json"}, json.dumps(doc, indent=2).encode()
    if rel == "meta-data/iam/info":
        info = {"Code": "Success", "LastUpdated": now().strftime("%Y-%m-%dT%H:%M:%SZ"),
                "InstanceProfileArn": f"arn:aws:iam::{world.account}:instance-profile/{role}", "InstanceProfileId": "AIPA" + inst["instanceId"][2:].upper()}
        return 200, {"Content-Type": "application/json"}, json.dumps(info, indent=2).encode()
    if rel == f"meta-data/iam/security-credentials/{role}":
        c = world.credentials_for(inst)
        body = {"Code": "Success", "LastUpdated": c["LastUpdated"], "Type": "AWS-HMAC", "AccessKeyId": c["AccessKeyId"],
                "SecretAccessKey": c["SecretAccessKey"], "Token": c["Token"], "Expiration": c["Expiration"]}
        world.events(inst["name"], "imds", "credentials", role=role)
        return 200, {"Content-Type": "application/json"}, json.dumps(body, indent=2).encode()
    if rel in md:
        return 200, text, md[rel].encode()
    return 404, text, b""


# --- SigV4 -------------------------------------------------------------------------------------


def _sign(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def verify_sigv4(world, method, raw_path, headers, body, service, region_ok=None):
    """Returns (credentials, instance) of the caller or raises the error AWS would. `region_ok`:
    the scope's region a global endpoint expects (STS's sts.amazonaws.com: us-east-1)."""
    auth = headers.get("authorization")
    if not auth:
        raise AwsError("MissingAuthenticationTokenException", "Missing Authentication Token", 400)
    try:
        algo, rest = auth.split(" ", 1)
        fields = dict(p.strip().split("=", 1) for p in rest.split(","))
        akid, date, region, svc, term = fields["Credential"].split("/")
        signed = fields["SignedHeaders"].split(";")
        signature = fields["Signature"]
    except (ValueError, KeyError) as e:
        raise AwsError("IncompleteSignatureException", f"Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters. ({e})") from None
    if algo != "AWS4-HMAC-SHA256" or term != "aws4_request":
        raise AwsError("IncompleteSignatureException", f"Unsupported AWS 'algorithm': '{algo}'")
    creds, inst = world.principal(akid)
    if creds is None:
        raise AwsError("UnrecognizedClientException", "The security token included in the request is invalid.")
    if datetime.datetime.fromisoformat(creds["Expiration"].replace("Z", "+00:00")) < now():
        raise AwsError("ExpiredTokenException", "The security token included in the request is expired")
    if headers.get("x-amz-security-token") != creds["Token"]:
        raise AwsError("UnrecognizedClientException", "The security token included in the request is invalid.")
    expected_region = region_ok or world.region
    if region != expected_region or svc != service:
        raise AwsError("InvalidSignatureException", f"Credential should be scoped to a valid region, not '{region}'. " if region != expected_region else f"Credential should be scoped to correct service: '{service}'. ")
    amz_date = headers.get("x-amz-date", "")
    if not amz_date.startswith(date):
        raise AwsError("InvalidSignatureException", "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: " + amz_date)
    when = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
    if abs((now() - when).total_seconds()) > 300:
        raise AwsError("InvalidSignatureException", f"Signature expired: {amz_date} is now earlier than the allowed 5-minute window.")
    if "host" not in signed:
        raise AwsError("InvalidSignatureException", "'Host' must be a 'SignedHeader' in the AWS Authorization.")
    parsed = urllib.parse.urlsplit(raw_path)
    path = parsed.path or "/"
    # Canonical URI (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html):
    # the decoded path's segments URI-encoded once for S3; every other service encodes them twice.
    canonical_uri = "/".join(urllib.parse.quote(urllib.parse.unquote(seg), safe="-_.~") for seg in path.split("/"))
    if service != "s3":
        canonical_uri = "/".join(urllib.parse.quote(seg, safe="-_.~") for seg in canonical_uri.split("/"))
    q = urllib.parse.parse_qsl(parsed.query, keep_blank_values=True)
    canonical_query = "&".join(f"{urllib.parse.quote(k, safe='-_.~')}={urllib.parse.quote(v, safe='-_.~')}" for k, v in sorted(q))
    canonical_headers = "".join(f"{h}:{' '.join(headers.get(h, '').split())}\n" for h in signed)
    payload_hash = headers.get("x-amz-content-sha256") or hashlib.sha256(body).hexdigest()
    # Streaming bodies (aws-chunked) carry their own checksums; their chunk signatures are not checked here.
    if service == "s3" and payload_hash != "UNSIGNED-PAYLOAD" and not payload_hash.startswith("STREAMING-") and payload_hash != hashlib.sha256(body).hexdigest():
        raise AwsError("XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.")
    creq = "\n".join([method, canonical_uri, canonical_query, canonical_headers, ";".join(signed), payload_hash])
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, f"{date}/{region}/{svc}/aws4_request", hashlib.sha256(creq.encode()).hexdigest()])
    k = _sign(("AWS4" + creds["SecretAccessKey"]).encode(), date)
    k = _sign(_sign(_sign(k, region), svc), "aws4_request")
    want = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(want, signature):
        raise AwsError("InvalidSignatureException", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
    return creds, inst


# --- SSM ---------------------------------------------------------------------------------------


def _authorize(world, inst, action, resource, context):
    docs = world.policies.get(inst["iamRole"], [])
    decision = iam.evaluate(docs, action, resource, {"aws:SecureTransport": "true", **context})
    if decision != "Allow":
        why = "with an explicit deny in an identity-based policy" if decision == "Deny" else "because no identity-based policy allows the " + action + " action"
        raise AwsError("AccessDeniedException",
                       f"User: arn:aws:sts::{world.account}:assumed-role/{inst['iamRole']}/{inst['instanceId']} is not authorized to perform: {action} on resource: {resource} {why}")


def _param_arn(world, name):
    return f"arn:aws:ssm:{world.region}:{world.account}:parameter{name if name.startswith('/') else '/' + name}"


def _validate_name(name, field="name"):
    if not isinstance(name, str) or not 1 <= len(name) <= 2048:
        raise AwsError("ValidationException", f"1 validation error detected: Value at '{field}' failed to satisfy constraint: Member must have length between 1 and 2048")
    if name.startswith("/") and name.count("/") > 15:
        raise AwsError("ValidationException", "Parameter name hierarchy depth must be at most 15 levels")


def _kms(world, inst, action, key_id, name):
    """KMS as Parameter Store calls it for the caller: the encryption context is
    {"PARAMETER_ARN": <the parameter's ARN>} (https://docs.aws.amazon.com/kms/latest/developerguide/services-parameter-store.html),
    so policies may bind a role's use of the key to its own parameters."""
    if key_id not in world.kms_keys:
        raise AwsError("InvalidKeyId", f"Invalid keyId {key_id}")
    _authorize(world, inst, action, world.kms_key_arn, {"kms:ViaService": f"ssm.{world.region}.amazonaws.com", "kms:CallerAccount": world.account,
                                                        "kms:EncryptionContext:PARAMETER_ARN": _param_arn(world, name), "kms:EncryptionContextKeys": ["PARAMETER_ARN"]})


def _out(world, p, decrypt, inst):
    value = p["Value"]
    if p["Type"] == "SecureString":
        if decrypt:
            _kms(world, inst, "kms:Decrypt", p["KeyId"], p["Name"])
        else:
            value = base64.b64encode(b"\x01\x02\x02\x00" + hashlib.sha256(value.encode()).digest() + secrets.token_bytes(16)).decode()
    return {"Name": p["Name"], "Type": p["Type"], "Value": value, "Version": p["Version"], "LastModifiedDate": p["LastModifiedDate"],
            "ARN": _param_arn(world, p["Name"]), "DataType": p.get("DataType", "text")}


def ssm(world, target, body, inst):
    """One AmazonSSM.<target> call; returns the response object or raises AwsError."""
    node = inst["name"]
    try:
        req = json.loads(body or b"{}")
    except json.JSONDecodeError:
        raise AwsError("SerializationException", "Start of structure or map found where not expected.") from None
    holds = getattr(world, "holds", None)
    if holds is not None:
        holds.check(node, "ssm", target, req.get("Name"))  # may wait, then raise holds.Dropped
    try:
        if world.take_fault("throttle", target):
            raise AwsError("ThrottlingException", "Rate exceeded")
        result = _ssm(world, target, req, inst)
        world.events(node, "ssm", target, name=req.get("Name") or req.get("Names") or req.get("Path"), outcome="ok",
                     **({"overwrite": bool(req.get("Overwrite"))} if target == "PutParameter" else {}))
        return result
    except AwsError as e:
        world.events(node, "ssm", target, name=req.get("Name") or req.get("Names") or req.get("Path"), outcome=e.code)
        raise


def _ssm(world, target, req, inst):
    if target == "GetParameter":
        name = req.get("Name")
        _validate_name(name)
        _authorize(world, inst, "ssm:GetParameter", _param_arn(world, name), {})
        with world.lock:
            p = world.params.get(name)
        if p is None:
            raise AwsError("ParameterNotFound", "")
        return {"Parameter": _out(world, p, req.get("WithDecryption", False), inst)}
    if target == "GetParameters":
        names = req.get("Names") or []
        if not 1 <= len(names) <= 10:
            raise AwsError("ValidationException", "1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length less than or equal to 10")
        found, invalid = [], []
        for name in names:
            _validate_name(name, "names")
            _authorize(world, inst, "ssm:GetParameters", _param_arn(world, name), {})
            p = world.params.get(name)
            if p is None:
                invalid.append(name)
            else:
                found.append(_out(world, p, req.get("WithDecryption", False), inst))
        return {"Parameters": found, "InvalidParameters": invalid}
    if target == "GetParametersByPath":
        path = req.get("Path", "")
        _authorize(world, inst, "ssm:GetParametersByPath", _param_arn(world, path.rstrip("/") or "/"), {})
        prefix = path.rstrip("/") + "/"
        rec = req.get("Recursive", False)
        hits = [p for n, p in sorted(world.params.items()) if n.startswith(prefix) and (rec or "/" not in n[len(prefix):])]
        return {"Parameters": [_out(world, p, req.get("WithDecryption", False), inst) for p in hits]}
    if target == "PutParameter":
        name, value, typ = req.get("Name"), req.get("Value"), req.get("Type")
        _validate_name(name)
        if not isinstance(value, str) or value == "":
            raise AwsError("ValidationException", "1 validation error detected: Value at 'value' failed to satisfy constraint: Member must have length greater than or equal to 1")
        tier = req.get("Tier", "Standard")
        if len(value) > STANDARD_MAX_VALUE and tier == "Standard":
            raise AwsError("ValidationException", "Standard tier parameters support a maximum parameter value of 4096 characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier. For more information, see https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html")
        overwrite = bool(req.get("Overwrite", False))
        _authorize(world, inst, "ssm:PutParameter", _param_arn(world, name), {"ssm:Overwrite": "true" if overwrite else "false"})
        key_id = req.get("KeyId")
        if key_id is not None and typ != "SecureString":
            raise AwsError("ValidationException", "KeyId is required for SecureString type parameter only.")
        if typ == "SecureString":
            key_id = key_id or "alias/aws/ssm"
            # Standard parameters are encrypted with kms:Encrypt, advanced ones by envelope with
            # kms:GenerateDataKey (https://docs.aws.amazon.com/kms/latest/developerguide/services-parameter-store.html).
            _kms(world, inst, "kms:Encrypt" if tier == "Standard" else "kms:GenerateDataKey", key_id, name)
        if world.take_fault("tooManyUpdates", target):
            raise AwsError("TooManyUpdates", "There are concurrent updates for a resource that supports one update at a time.")
        with world.lock:
            old = world.params.get(name)
            if old is not None and not overwrite:
                raise AwsError("ParameterAlreadyExists", "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.")
            if old is None and typ not in ("String", "StringList", "SecureString"):
                raise AwsError("ValidationException", f"1 validation error detected: Value '{typ}' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [SecureString, StringList, String]")
            version = (old["Version"] + 1) if old else 1
            world.params[name] = {"Name": name, "Type": typ or old["Type"], "Value": value, "KeyId": key_id, "Version": version,
                                  "LastModifiedDate": now().timestamp(), "Tier": tier, "DataType": req.get("DataType", "text")}
            world.save("ssm.json", world.params)
        return {"Version": version, "Tier": tier}
    if target == "DeleteParameter":
        name = req.get("Name")
        _validate_name(name)
        _authorize(world, inst, "ssm:DeleteParameter", _param_arn(world, name), {})
        with world.lock:
            if world.params.pop(name, None) is None:
                raise AwsError("ParameterNotFound", "")
            world.save("ssm.json", world.params)
        return {}
    raise AwsError("InvalidAction", f"The action or operation requested is invalid. Verify that the action is typed correctly. ({target})")


# --- Auto Scaling ------------------------------------------------------------------------------

ASG_NS = "http://autoscaling.amazonaws.com/doc/2011-01-01/"


def autoscaling(world, form, inst):
    """Query-protocol call; returns (status, xml body)."""
    action = form.get("Action", "")
    rid = secrets.token_hex(16)
    if action != "CompleteLifecycleAction":
        return 400, _asg_error("InvalidAction", f"Could not find operation {action} for version {form.get('Version', '')}", rid)
    missing = [k for k in ("AutoScalingGroupName", "LifecycleHookName", "LifecycleActionResult") if not form.get(k)]
    if missing:
        return 400, _asg_error("ValidationError", f"1 validation error detected: Value null at '{missing[0][0].lower() + missing[0][1:]}' failed to satisfy constraint: Member must not be null", rid)
    if form["LifecycleActionResult"] not in ("CONTINUE", "ABANDON"):
        return 400, _asg_error("ValidationError", "Valid values for LifecycleActionResult are CONTINUE and ABANDON", rid)
    arn = f"arn:aws:autoscaling:{world.region}:{world.account}:autoScalingGroup:*:autoScalingGroupName/{form['AutoScalingGroupName']}"
    try:
        _authorize(world, inst, "autoscaling:CompleteLifecycleAction", arn, {})
    except AwsError as e:
        world.events(inst["name"], "autoscaling", "CompleteLifecycleAction", outcome="AccessDenied")
        return 403, _asg_error("AccessDenied", e.message, rid)
    with world.lock:
        world.lifecycle.append({k: form.get(k) for k in ("AutoScalingGroupName", "LifecycleHookName", "LifecycleActionResult", "InstanceId", "LifecycleActionToken")})
        world.save("lifecycle.json", world.lifecycle)
    world.events(inst["name"], "autoscaling", "CompleteLifecycleAction", outcome="ok", result=form["LifecycleActionResult"], instanceId=form.get("InstanceId"))
    return 200, (f'<CompleteLifecycleActionResponse xmlns="{ASG_NS}"><CompleteLifecycleActionResult/>'
                 f"<ResponseMetadata><RequestId>{rid}</RequestId></ResponseMetadata></CompleteLifecycleActionResponse>")


def _asg_error(code, message, rid):
    from xml.sax.saxutils import escape

    return (f'<ErrorResponse xmlns="{ASG_NS}"><Error><Type>Sender</Type><Code>{code}</Code><Message>{escape(message)}</Message></Error>'
            f"<RequestId>{rid}</RequestId></ErrorResponse>")


# --- STS GetCallerIdentity, as Vault's AWS auth sends a node's signed request on --------------------
# https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html: an instance
# profile's session is arn:aws:sts::<account>:assumed-role/<role>/<instance id>.


def sts_caller(world, method, url, headers, body):
    """The caller's ARN for a signed request to the global STS endpoint, or raises AwsError."""
    u = urllib.parse.urlsplit(url)
    if u.hostname != "sts.amazonaws.com":
        raise AwsError("InvalidEndpoint", f"this stand-in STS answers sts.amazonaws.com only, not {u.hostname}")
    hdrs = {k.lower(): (v[0] if isinstance(v, list) else v) for k, v in headers.items()}
    hdrs.setdefault("host", u.netloc)
    _, inst = verify_sigv4(world, method, u.path or "/", hdrs, body, "sts", region_ok="us-east-1")
    world.events(inst["name"], "sts", "GetCallerIdentity", outcome="ok")
    return f"arn:aws:sts::{world.account}:assumed-role/{inst['iamRole']}/{inst['instanceId']}"


# --- EC2 DescribeTags (the snapshot timer reads the bucket's name from its instance's tag) ------------
# Query API: https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeTags.html; the
# action takes no resource-level permissions (Service Authorization Reference: Resource "*").

EC2_NS = "http://ec2.amazonaws.com/doc/2016-11-15/"


def ec2(world, form, inst):
    rid = secrets.token_hex(16)
    if form.get("Action") != "DescribeTags":
        return 400, f'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>InvalidAction</Code><Message>The action {form.get("Action")} is not valid for this web service.</Message></Error></Errors><RequestID>{rid}</RequestID></Response>'.encode()
    try:
        _authorize(world, inst, "ec2:DescribeTags", "*", {})
    except AwsError as e:
        world.events(inst["name"], "ec2", "DescribeTags", outcome="UnauthorizedOperation")
        return 403, f'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>{e.message}</Message></Error></Errors><RequestID>{rid}</RequestID></Response>'.encode()
    filters = {}
    for k, v in form.items():
        m = re.match(r"^Filter\.(\d+)\.(Name|Value\.\d+)$", k)
        if m:
            f = filters.setdefault(m.group(1), {"name": None, "values": []})
            if m.group(2) == "Name":
                f["name"] = v
            else:
                f["values"].append(v)
    items = []
    for i in world.instances.values():
        for key, value in sorted(i.get("tags", {}).items()):
            row = {"resource-id": i["instanceId"], "key": key, "value": value, "resource-type": "instance"}
            if all(row.get(f["name"]) in f["values"] for f in filters.values()):
                items.append(f"<item><resourceId>{i['instanceId']}</resourceId><resourceType>instance</resourceType><key>{key}</key><value>{value}</value></item>")
    world.events(inst["name"], "ec2", "DescribeTags", outcome="ok", found=len(items))
    return 200, f'<?xml version="1.0" encoding="UTF-8"?>\n<DescribeTagsResponse xmlns="{EC2_NS}"><requestId>{rid}</requestId><tagSet>{"".join(items)}</tagSet></DescribeTagsResponse>'.encode()


# --- S3 (PutObject, GetObject, ListObjectsV2 for snapshots/ and artifacts/) ------------------------
# REST API: https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html, API_GetObject.html,
# API_ListObjectsV2.html; errors https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html.
# A bucket with SSE-KMS default encryption makes S3 call KMS as the caller (kms:GenerateDataKey on
# write, kms:Decrypt on read, kms:ViaService = s3.<region>.amazonaws.com):
# https://docs.aws.amazon.com/kms/latest/developerguide/services-s3.html

S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/"


def _s3_error(code, message, status, resource=""):
    from xml.sax.saxutils import escape

    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{escape(message)}</Message>'
            f"<Resource>{escape(resource)}</Resource><RequestId>{secrets.token_hex(8).upper()}</RequestId></Error>")
    return status, {"Content-Type": "application/xml"}, body.encode()


def _dechunk(body, headers):
    """aws-chunked bodies (botocore's default CRC32 trailer): <hex size>[;chunk-signature=..]\\r\\n<data>\\r\\n ... 0\\r\\n<trailers>."""
    if "aws-chunked" not in headers.get("content-encoding", "") and not headers.get("x-amz-content-sha256", "").startswith("STREAMING-"):
        return body
    out, i = bytearray(), 0
    for _ in range(100000):
        j = body.index(b"\r\n", i)
        size = int(body[i:j].split(b";")[0], 16)
        i = j + 2
        if size == 0:
            break
        out += body[i:i + size]
        i += size + 2
    return bytes(out)


def s3(world, method, raw_path, headers, body, inst):
    """Returns (status, headers, body)."""
    u = urllib.parse.urlsplit(raw_path)
    host = headers.get("host", "").split(":")[0]
    parts = urllib.parse.unquote(u.path).lstrip("/")
    if ".s3." in host and not host.startswith("s3."):
        bucket, key = host.split(".s3.", 1)[0], parts
    else:
        bucket, _, key = parts.partition("/")
    buckets = world.conf.get("s3", {}).get("buckets", {})
    if bucket not in buckets:
        return _s3_error("NoSuchBucket", "The specified bucket does not exist", 404, f"/{bucket}")
    spec = buckets[bucket]
    q = dict(urllib.parse.parse_qsl(u.query, keep_blank_values=True))
    store = world.objects.setdefault(bucket, {})
    node = inst["name"]

    def deny(action, arn, ctx=None):
        try:
            _authorize(world, inst, action, arn, ctx or {})
            return None
        except AwsError:
            world.events(node, "s3", action.split(":", 1)[1], bucket=bucket, key=key or q.get("prefix"), outcome="AccessDenied")
            return _s3_error("AccessDenied", "Access Denied", 403, f"/{bucket}/{key}")

    # A PUT may name its key (x-amz-server-side-encryption-aws-kms-key-id, an ARN, key id or
    # alias); S3 then uses that key instead of the bucket's default, and fails if KMS has none.
    named = headers.get("x-amz-server-side-encryption-aws-kms-key-id") if method == "PUT" else None

    def kms(action):
        kid = spec.get("kmsKeyArn")
        if named:
            if named not in world.kms_keys and f"alias/{named}" not in world.kms_keys:
                return _s3_error("KMS.NotFoundException", f"Invalid keyId {named}", 400, f"/{bucket}/{key}")
            kid = world.kms_key_arn
        if not kid:
            return None
        try:
            # S3's encryption context is {"aws:s3:arn": <object ARN>}, or the bucket's ARN with an
            # S3 Bucket Key (https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html#encryption-context).
            ec = f"arn:aws:s3:::{bucket}" if spec.get("bucketKey") else f"arn:aws:s3:::{bucket}/{key}"
            _authorize(world, inst, action, world.kms_key_arn if kid in world.kms_keys else kid,
                       {"kms:ViaService": f"s3.{world.region}.amazonaws.com", "kms:CallerAccount": world.account,
                        "kms:EncryptionContext:aws:s3:arn": ec, "kms:EncryptionContextKeys": ["aws:s3:arn"]})
            return None
        except AwsError as e:
            world.events(node, "s3", "kms", action=action, bucket=bucket, key=key, outcome="AccessDenied")
            return _s3_error("AccessDenied", e.message, 403, f"/{bucket}/{key}")

    if method == "GET" and not key and q.get("list-type") == "2":
        prefix = q.get("prefix", "")
        err = deny("s3:ListBucket", f"arn:aws:s3:::{bucket}", {"s3:prefix": prefix})
        if err:
            return err
        keys = sorted(k for k in store if k.startswith(prefix))[: int(q.get("max-keys", "1000"))]
        items = "".join(f"<Contents><Key>{k}</Key><Size>{len(base64.b64decode(store[k]['data']))}</Size><ETag>&quot;{store[k]['etag']}&quot;</ETag><StorageClass>STANDARD</StorageClass></Contents>" for k in keys)
        world.events(node, "s3", "ListObjectsV2", bucket=bucket, prefix=prefix, outcome="ok")
        xml = (f'<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="{S3_NS}"><Name>{bucket}</Name><Prefix>{prefix}</Prefix>'
               f"<KeyCount>{len(keys)}</KeyCount><MaxKeys>{q.get('max-keys', '1000')}</MaxKeys><IsTruncated>false</IsTruncated>{items}</ListBucketResult>")
        return 200, {"Content-Type": "application/xml"}, xml.encode()
    arn = f"arn:aws:s3:::{bucket}/{key}"
    if method == "PUT" and key:
        err = deny("s3:PutObject", arn) or kms("kms:GenerateDataKey")
        if err:
            return err
        data = _dechunk(body, headers)
        etag = hashlib.md5(data).hexdigest()  # noqa: S324 - S3's ETag of a single-part object is its MD5
        with world.lock:
            store[key] = {"data": base64.b64encode(data).decode(), "etag": etag, "writer": node,
                          "sse": headers.get("x-amz-server-side-encryption") or ("aws:kms" if spec.get("kmsKeyArn") else None),
                          "kmsKeyId": named or spec.get("kmsKeyArn"),
                          "metadata": {k[len("x-amz-meta-"):]: v for k, v in headers.items() if k.startswith("x-amz-meta-")}}
            world.save("s3.json", world.objects)
        world.events(node, "s3", "PutObject", bucket=bucket, key=key, outcome="ok", size=len(data))
        return 200, {"ETag": f'"{etag}"', **({"x-amz-server-side-encryption": "aws:kms"} if spec.get("kmsKeyArn") else {})}, b""
    if method in ("GET", "HEAD") and key:
        err = deny("s3:GetObject", arn)
        if err:
            return err
        obj = store.get(key)
        if obj is None:
            # Without s3:ListBucket a missing key is 403, with it 404 (ErrorResponses: NoSuchKey).
            try:
                _authorize(world, inst, "s3:ListBucket", f"arn:aws:s3:::{bucket}", {"s3:prefix": key})
            except AwsError:
                return _s3_error("AccessDenied", "Access Denied", 403, f"/{bucket}/{key}")
            return _s3_error("NoSuchKey", "The specified key does not exist.", 404, f"/{bucket}/{key}")
        err = kms("kms:Decrypt")
        if err:
            return err
        data = base64.b64decode(obj["data"])
        world.events(node, "s3", "GetObject", bucket=bucket, key=key, outcome="ok")
        return 200, {"ETag": f'"{obj["etag"]}"', "Content-Type": "binary/octet-stream"}, (data if method == "GET" else b"")
    return _s3_error("NotImplemented", "A header you provided implies functionality that is not implemented", 501, f"/{bucket}/{key}")
