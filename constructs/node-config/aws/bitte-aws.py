#!/usr/bin/python3
"""bitte-aws: the few AWS calls the node scripts make, through botocore from the OS archive.

Ubuntu 24.04 has no `awscli` package; `python3-botocore` (noble universe, 1.34) is the same
library the CLI is built on. This program implements exactly what bitte-bootstrap and bitte-drain
call, with botocore's "standard" retry mode (throttling and transient errors, bounded attempts,
exponential backoff with jitter) and its normal endpoints and credential chain (the instance
role through IMDSv2). Secrets travel in files, never on argv or stdout.

Exit codes, so a shell script can tell outcomes apart:
  0  done
  1  an AWS error after retries, or no answer (message on stderr, in the CLI's wording)
  2  usage error
  3  ParameterNotFound (ssm-get)
  4  ParameterAlreadyExists (ssm-create)
  5  the instance has no such tag (instance-tag)
"""

import argparse
import os
import random
import sys
import time

import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

EXIT_ERROR, EXIT_USAGE, EXIT_NOT_FOUND, EXIT_EXISTS, EXIT_NO_TAG = 1, 2, 3, 4, 5
# SSM answers TooManyUpdates to concurrent writes of one parameter; botocore's standard mode does
# not treat that code as throttling, so it is retried here, bounded.
EXTRA_RETRY_CODES = ("TooManyUpdates",)
EXTRA_ATTEMPTS = 6


def client(service, region):
    config = Config(
        region_name=region,
        retries={"mode": "standard", "total_max_attempts": int(os.environ.get("BITTE_AWS_MAX_ATTEMPTS", "8"))},
        connect_timeout=5,
        read_timeout=20,
    )
    return botocore.session.get_session().create_client(service, config=config)


def call(fn, **kwargs):
    """Calls fn, retrying EXTRA_RETRY_CODES with capped exponential backoff and full jitter."""
    for attempt in range(1, EXTRA_ATTEMPTS + 1):
        try:
            return fn(**kwargs)
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") not in EXTRA_RETRY_CODES or attempt == EXTRA_ATTEMPTS:
                raise
            time.sleep(random.uniform(0, min(8.0, 0.2 * 2**attempt)))
    raise AssertionError("unreachable")


def code_of(e):
    return e.response.get("Error", {}).get("Code", "")


def write_private(path, text):
    """Writes text to path, created 0600 whatever the umask, replaced atomically."""
    tmp = f"{path}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def ssm_get(args):
    try:
        r = call(client("ssm", args.region).get_parameter, Name=args.name, WithDecryption=True)
    except ClientError as e:
        if code_of(e) == "ParameterNotFound":
            print(f"bitte-aws: {args.name}: ParameterNotFound", file=sys.stderr)
            return EXIT_NOT_FOUND
        raise
    # What `aws ssm get-parameter --output text` prints: the value and a newline.
    write_private(args.out, r["Parameter"]["Value"] + "\n")
    return 0


def ssm_create(args):
    with open(args.value_file, encoding="utf-8") as f:
        value = f.read().rstrip("\n")
    try:
        call(
            client("ssm", args.region).put_parameter,
            Name=args.name,
            Value=value,
            Type="SecureString",
            KeyId=args.key_id,
            Overwrite=False,
            Tier="Standard",
        )
    except ClientError as e:
        if code_of(e) == "ParameterAlreadyExists":
            print(f"bitte-aws: {args.name}: ParameterAlreadyExists", file=sys.stderr)
            return EXIT_EXISTS
        raise
    return 0


def complete_lifecycle_action(args):
    call(
        client("autoscaling", args.region).complete_lifecycle_action,
        LifecycleHookName=args.hook,
        AutoScalingGroupName=args.group,
        InstanceId=args.instance_id,
        LifecycleActionResult=args.result,
    )
    return 0


def instance_tag(args):
    """Prints one tag of an instance (not secret): what `aws ec2 describe-tags --query Tags[0].Value` gives."""
    r = call(
        client("ec2", args.region).describe_tags,
        Filters=[{"Name": "resource-id", "Values": [args.instance_id]}, {"Name": "key", "Values": [args.key]}],
    )
    tags = r.get("Tags", [])
    if not tags:
        print(f"bitte-aws: instance {args.instance_id} has no tag {args.key}", file=sys.stderr)
        return EXIT_NO_TAG
    print(tags[0]["Value"])
    return 0


def s3_put(args):
    """Uploads a file with SSE-KMS under the given key and object metadata (the snapshot timer)."""
    metadata = dict(m.split("=", 1) for m in args.metadata)
    with open(args.file, "rb") as body:
        call(
            client("s3", args.region).put_object,
            Bucket=args.bucket,
            Key=args.key,
            Body=body,
            ServerSideEncryption="aws:kms",
            SSEKMSKeyId=args.kms_key_id,
            Metadata=metadata,
        )
    return 0


def parser():
    p = argparse.ArgumentParser(prog="bitte-aws", description="the AWS calls of the Bitte node scripts")
    p.add_argument("--region", required=True)
    sub = p.add_subparsers(dest="command", required=True)
    g = sub.add_parser("ssm-get", help="read a parameter (decrypted) into a 0600 file")
    g.add_argument("name")
    g.add_argument("out")
    g.set_defaults(fn=ssm_get)
    c = sub.add_parser("ssm-create", help="create a SecureString from a file, never overwriting")
    c.add_argument("name")
    c.add_argument("value_file")
    c.add_argument("--key-id", required=True)
    c.set_defaults(fn=ssm_create)
    a = sub.add_parser("complete-lifecycle-action", help="complete an Auto Scaling lifecycle action")
    a.add_argument("--group", required=True)
    a.add_argument("--hook", required=True)
    a.add_argument("--instance-id", required=True)
    a.add_argument("--result", choices=["CONTINUE", "ABANDON"], required=True)
    a.set_defaults(fn=complete_lifecycle_action)
    t = sub.add_parser("instance-tag", help="print one tag of an instance")
    t.add_argument("--instance-id", required=True)
    t.add_argument("--key", required=True)
    t.set_defaults(fn=instance_tag)
    u = sub.add_parser("s3-put", help="upload a file with SSE-KMS and object metadata")
    u.add_argument("--bucket", required=True)
    u.add_argument("--key", required=True)
    u.add_argument("--file", required=True)
    u.add_argument("--kms-key-id", required=True)
    u.add_argument("--metadata", action="append", default=[], help="k=v, repeatable")
    u.set_defaults(fn=s3_put)
    return p


def main(argv):
    args = parser().parse_args(argv)
    try:
        return args.fn(args)
    except ClientError as e:
        # The CLI's wording, which operators search for.
        err = e.response.get("Error", {})
        print(f"bitte-aws: An error occurred ({err.get('Code')}) when calling the {e.operation_name} operation: {err.get('Message', '')}", file=sys.stderr)
        return EXIT_ERROR
    except (BotoCoreError, OSError) as e:
        print(f"bitte-aws: {e}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
