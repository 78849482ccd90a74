#!/usr/bin/env python3
"""Host-side check: bitte-aws's SigV4 signer against botocore's own (botocore.auth.SigV4Auth,
S3SigV4Auth for S3), for every request shape bitte-aws sends, with and without a session token.

    sigv4-botocore.py <path of bitte-aws.py>

botocore signs first; bitte-aws then signs the same request at botocore's X-Amz-Date. Prints one
JSON line per case: {"case", "same", "botocore", "bitte"}.
"""
import datetime
import hashlib
import importlib.util
import json
import sys

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

spec = importlib.util.spec_from_file_location("bitte_aws", sys.argv[1])
bitte = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bitte)

JSON = {"Content-Type": "application/x-amz-json-1.1"}
FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
CASES = [
    ("ssm GetParameter", "ssm", "POST", "https://ssm.eu-central-1.amazonaws.com/", {**JSON, "X-Amz-Target": "AmazonSSM.GetParameter"}, b'{"Name": "/bitte/x/tls/ca", "WithDecryption": true}'),
    ("ssm PutParameter", "ssm", "POST", "https://ssm.eu-central-1.amazonaws.com/", {**JSON, "X-Amz-Target": "AmazonSSM.PutParameter"}, b'{"Name": "/bitte/x/a", "Value": "v  w", "Overwrite": false}'),
    ("autoscaling", "autoscaling", "POST", "https://autoscaling.eu-central-1.amazonaws.com/", FORM, b"Action=CompleteLifecycleAction&Version=2011-01-01&InstanceId=i-0123"),
    ("ec2", "ec2", "POST", "http://127.0.0.1:8443/", FORM, b"Action=DescribeTags&Version=2016-11-15&Filter.1.Name=resource-id"),
    ("s3 virtual-hosted", "s3", "PUT", "https://b.s3.eu-central-1.amazonaws.com/snapshots/consul/2026-12-01T10%3A00%3A00Z%2Bx.snap",
     {"X-Amz-Server-Side-Encryption": "aws:kms", "X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id": "arn:aws:kms:eu-central-1:1:key/k", "X-Amz-Meta-bitte-cluster": "  two  spaces "}, b"\x00snapshot"),
    ("s3 path-style with a query", "s3", "PUT", "http://127.0.0.1:9000/b/a%20b/c?partNumber=1&uploadId=x%2By", {}, b""),
]

for token in (None, "IQoJb3JpZ2luX2VjE/token+="):
    creds = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token)
    for name, service, method, url, headers, body in CASES:
        req = AWSRequest(method=method, url=url, headers=dict(headers), data=body)
        (S3SigV4Auth if service == "s3" else SigV4Auth)(creds, service, "eu-central-1").add_auth(req)
        when = datetime.datetime.strptime(req.headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
        mine = dict(headers)
        if service == "s3":
            mine["X-Amz-Content-SHA256"] = hashlib.sha256(body).hexdigest()
        out = bitte.sign(method, url, mine, hashlib.sha256(body).hexdigest(), (creds.access_key, creds.secret_key, creds.token), "eu-central-1", service, when)
        case = f"{name}{' (session token)' if token else ''}"
        print(json.dumps({"case": case, "same": out["Authorization"] == req.headers["Authorization"], "botocore": req.headers["Authorization"], "bitte": out["Authorization"]}))
