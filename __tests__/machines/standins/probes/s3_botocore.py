#!/usr/bin/env python3
"""Host-side probe: botocore against the stand-in S3 with the IMDS credentials.

    s3_botocore.py <endpoint-url> <imds-url> <ca-file> <region> <bucket> <step>...
Steps: put:<key>=<value>, get:<key>, list:<prefix>. One JSON line per step.
"""
import json
import sys

import botocore.config
import botocore.credentials
import botocore.exceptions
import botocore.session
from botocore.utils import InstanceMetadataFetcher

endpoint, imds, ca, region, bucket, *steps = sys.argv[1:]
fetcher = InstanceMetadataFetcher(timeout=5, num_attempts=2, config={"ec2_metadata_service_endpoint": imds})
creds = botocore.credentials.InstanceMetadataProvider(iam_role_fetcher=fetcher).load().get_frozen_credentials()
s3 = botocore.session.get_session().create_client(
    "s3", region_name=region, endpoint_url=endpoint, verify=ca,
    config=botocore.config.Config(retries={"total_max_attempts": 1}, s3={"addressing_style": "path"}),
    aws_access_key_id=creds.access_key, aws_secret_access_key=creds.secret_key, aws_session_token=creds.token)
for step in steps:
    op, _, arg = step.partition(":")
    try:
        if op == "put":
            key, _, value = arg.partition("=")
            s3.put_object(Bucket=bucket, Key=key, Body=value.encode())
            val = None
        elif op == "get":
            val = s3.get_object(Bucket=bucket, Key=arg)["Body"].read().decode()
        elif op == "list":
            val = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=arg).get("Contents", [])]
        else:
            raise SystemExit(f"unknown step {op}")
        print(json.dumps({"step": step, "ok": True, "value": val}))
    except botocore.exceptions.ClientError as e:
        print(json.dumps({"step": step, "ok": False, "code": e.response["Error"]["Code"], "status": e.response["ResponseMetadata"]["HTTPStatusCode"]}))
