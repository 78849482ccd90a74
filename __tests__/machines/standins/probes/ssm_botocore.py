#!/usr/bin/env python3
"""Host-side probe: botocore (the AWS CLI's own library) against the stand-in SSM.

    ssm_botocore.py <endpoint-url> <imds-url> <ca-file> <region> <step>...

Credentials come from the stand-in IMDS through botocore's own InstanceMetadataProvider (IMDSv2).
Each step prints one JSON line {"step", "ok", "code", "value"}; retries are off so every
injected fault shows.
"""
import json
import sys

import botocore.config
import botocore.credentials
import botocore.exceptions
import botocore.session
from botocore.utils import InstanceMetadataFetcher

endpoint, imds, ca, region, *steps = sys.argv[1:]
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"  # the harness config's kmsKeyId
fetcher = InstanceMetadataFetcher(timeout=5, num_attempts=2, config={"ec2_metadata_service_endpoint": imds})
creds = botocore.credentials.InstanceMetadataProvider(iam_role_fetcher=fetcher).load()
if creds is None:
    print(json.dumps({"step": "credentials", "ok": False}))
    sys.exit(1)
session = botocore.session.get_session()
cfg = botocore.config.Config(retries={"total_max_attempts": 1})
frozen = creds.get_frozen_credentials()
ssm = session.create_client("ssm", region_name=region, endpoint_url=endpoint, verify=ca, config=cfg,
                            aws_access_key_id=frozen.access_key, aws_secret_access_key=frozen.secret_key, aws_session_token=frozen.token)
bad = session.create_client("ssm", region_name=region, endpoint_url=endpoint, verify=ca, config=cfg,
                            aws_access_key_id=frozen.access_key, aws_secret_access_key=("y" if frozen.secret_key.startswith("x") else "x") + frozen.secret_key[1:], aws_session_token=frozen.token)
for step in steps:
    op, _, arg = step.partition(":")
    try:
        if op == "put":
            name, _, value = arg.partition("=")
            out = ssm.put_parameter(Name=name, Value=value, Type="SecureString", KeyId=KEY_ID)
            val = out["Version"]
        elif op == "overwrite":
            name, _, value = arg.partition("=")
            val = ssm.put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)["Version"]
        elif op == "get":
            val = ssm.get_parameter(Name=arg, WithDecryption=True)["Parameter"]["Value"]
        elif op == "getenc":
            val = ssm.get_parameter(Name=arg)["Parameter"]["Value"]
        elif op == "gets":
            out = ssm.get_parameters(Names=arg.split(","), WithDecryption=True)
            val = {"found": [p["Name"] for p in out["Parameters"]], "invalid": out["InvalidParameters"]}
        elif op == "badsig":
            val = bad.get_parameter(Name=arg)["Parameter"]["Value"]
        else:
            raise SystemExit(f"unknown step {op}")
        print(json.dumps({"step": step, "ok": True, "value": val}))
    except botocore.exceptions.ClientError as e:
        print(json.dumps({"step": step, "ok": False, "code": e.response["Error"]["Code"], "message": e.response["Error"].get("Message", ""),
                          "status": e.response["ResponseMetadata"]["HTTPStatusCode"]}))
