#!/usr/bin/env bash
# bitte-node-env: writes /etc/bitte/node.env with the instance's private address and id (IMDSv2):
# systemd units and HAProxy bind to the address instead of every interface; bitte-nomad-cert and
# bitte-consul-token name the node by the id. The one place a node asks IMDS who it is.
set -euo pipefail

OUT=${1:-/etc/bitte/node.env}
IMDS=http://169.254.169.254/latest

token=$(curl -fsS -X PUT "$IMDS/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds: 300")
ip=$(curl -fsS -H "X-aws-ec2-metadata-token: $token" "$IMDS/meta-data/local-ipv4")
[[ $ip =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "bitte-node-env: no private IPv4 from IMDS" >&2; exit 1; }
id=$(curl -fsS -H "X-aws-ec2-metadata-token: $token" "$IMDS/meta-data/instance-id")
[[ $id =~ ^i-[0-9a-f]+$ ]] || { echo "bitte-node-env: IMDS answered instance id '$id'" >&2; exit 1; }
mkdir -p "$(dirname "$OUT")"
printf 'BITTE_PRIVATE_IP=%s\nBITTE_INSTANCE_ID=%s\n' "$ip" "$id" >"$OUT.tmp"
chmod 0644 "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
