#!/usr/bin/env python3
"""Host-side probe: botocore's EC2 client against the stand-in, as `bitte-aws instance-tag` calls it.

    ec2_botocore.py <endpoint-url> <imds-url> <ca-file> <region> <instance-id> <tag key>

Prints one JSON line {"ok", "value"} (the tags found) or {"ok": false, "code", "status"}.
"""
import json
import sys

import botocore.config
import botocore.credentials
import botocore.exceptions
import botocore.session
from botocore.utils import InstanceMetadataFetcher

endpoint, imds, ca, region, instance_id, key = sys.argv[1:]
fetcher = InstanceMetadataFetcher(timeout=5, num_attempts=2, config={"ec2_metadata_service_endpoint": imds})
frozen = botocore.credentials.InstanceMetadataProvider(iam_role_fetcher=fetcher).load().get_frozen_credentials()
ec2 = botocore.session.get_session().create_client("ec2", region_name=region, endpoint_url=endpoint, verify=ca, config=botocore.config.Config(retries={"total_max_attempts": 1}),
                                                   aws_access_key_id=frozen.access_key, aws_secret_access_key=frozen.secret_key, aws_session_token=frozen.token)
try:
    out = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [instance_id]}, {"Name": "key", "Values": [key]}])
    print(json.dumps({"ok": True, "value": [{"key": t["Key"], "value": t["Value"], "resourceId": t["ResourceId"]} for t in out["Tags"]]}))
except botocore.exceptions.ClientError as e:
    print(json.dumps({"ok": False, "code": e.response["Error"]["Code"], "status": e.response["ResponseMetadata"]["HTTPStatusCode"]}))
