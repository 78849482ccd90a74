#!/usr/bin/env bash
# bitte-node-env: writes /etc/bitte/node.env with the instance's private address (IMDSv2), so
# systemd units and HAProxy bind to it instead of every interface.
set -euo pipefail

OUT=${1:-/etc/bitte/node.env}
IMDS=http://169.254.169.254/latest

token=$(curl -fsS -X PUT "$IMDS/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds: 300")
ip=$(curl -fsS -H "X-aws-ec2-metadata-token: $token" "$IMDS/meta-data/local-ipv4")
[[ $ip =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "bitte-node-env: no private IPv4 from IMDS" >&2; exit 1; }
mkdir -p "$(dirname "$OUT")"
printf 'BITTE_PRIVATE_IP=%s\n' "$ip" >"$OUT.tmp"
chmod 0644 "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
