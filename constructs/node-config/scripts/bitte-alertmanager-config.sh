#!/usr/bin/env bash
# bitte-alertmanager-config (ExecStartPre, root): Alertmanager's config from the template, with
# the account id from IMDSv2 and the webhook's token from SSM, in a file only its user reads.
set -euo pipefail
umask 077
# shellcheck source=/dev/null
. "${BITTE_ALERTING_ENV:-/etc/bitte/alerting.env}"
: "${BITTE_ALERTMANAGER_USER:=prometheus}" "${BITTE_ALERTMANAGER_GROUP:=$BITTE_ALERTMANAGER_USER}" "${BITTE_CONFIG_OWNER:=root}" "${BITTE_IMDS:=http://169.254.169.254}"
out=$BITTE_ALERTMANAGER_CONFIG
log() { echo "bitte-alertmanager-config: $*" >&2; }

t=$(curl -fsS --max-time 5 -X PUT "$BITTE_IMDS/latest/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds: 60")
account=$(curl -fsS --max-time 5 -H "X-aws-ec2-metadata-token: $t" "$BITTE_IMDS/latest/dynamic/instance-identity/document" | jq -r .accountId)
[[ $account =~ ^[0-9]{12}$ ]] || { log "no account id from IMDS (got '$account')"; exit 1; }

tmp=$(mktemp "$out.XXXXXX")
trap 'rm -f "$tmp" "$tmp.t" "$tmp.y"' EXIT
sed "s/@AWS_ACCOUNT_ID@/$account/g" "$BITTE_ALERTMANAGER_TEMPLATE" >"$tmp"
if [[ ${BITTE_WEBHOOK:-0} == 1 ]]; then
  if bitte-aws --region "$BITTE_SSM_REGION" ssm-get "$BITTE_SSM_PREFIX/$BITTE_WEBHOOK_PARAMETER" "$tmp.t" 2>/dev/null && [[ -s $tmp.t ]]; then
    install -m 0400 -o "$BITTE_ALERTMANAGER_USER" -g "$BITTE_ALERTMANAGER_GROUP" "$tmp.t" "$BITTE_WEBHOOK_TOKEN_FILE"
  else
    log "WARNING: $BITTE_SSM_PREFIX/$BITTE_WEBHOOK_PARAMETER is missing: sending to SNS only. Write it with aws ssm put-parameter --type SecureString, then restart prometheus-alertmanager."
    # No yq on the image: drop the block by its indentation (the renderer writes two-space YAML).
    awk '/^    webhook_configs:/ { s = 1; next } s && /^      / { next } { s = 0; print }' "$tmp" >"$tmp.y"
    mv "$tmp.y" "$tmp"
  fi
fi
chmod 0640 "$tmp"
chown "$BITTE_CONFIG_OWNER:$BITTE_ALERTMANAGER_GROUP" "$tmp"
mv "$tmp" "$out"
