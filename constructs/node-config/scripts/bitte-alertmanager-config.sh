#!/usr/bin/env bash
# bitte-alertmanager-config: renders Alertmanager's configuration before each start (systemd
# ExecStartPre, as root). The template from the user data holds no account id and no secret:
# the account id comes from the instance identity document (IMDSv2), and the webhook's bearer
# token, when the spec names a webhook, from the SSM SecureString an operator wrote. The token
# lands only in a file readable by Alertmanager's user.
set -euo pipefail
umask 077

# shellcheck source=/dev/null
. "${BITTE_ALERTING_ENV:-/etc/bitte/alerting.env}"
: "${BITTE_SSM_PREFIX:?}" "${BITTE_SSM_REGION:?}" "${BITTE_WEBHOOK:=0}" "${BITTE_WEBHOOK_PARAMETER:?}"
: "${BITTE_ALERTMANAGER_TEMPLATE:?}" "${BITTE_ALERTMANAGER_CONFIG:?}" "${BITTE_WEBHOOK_TOKEN_FILE:?}"
: "${BITTE_ALERTMANAGER_USER:=prometheus}" "${BITTE_ALERTMANAGER_GROUP:=$BITTE_ALERTMANAGER_USER}" "${BITTE_CONFIG_OWNER:=root}"
: "${BITTE_IMDS:=http://169.254.169.254}"

log() { printf 'bitte-alertmanager-config: %s\n' "$*" >&2; }

token=$(curl -fsS --max-time 5 -X PUT "$BITTE_IMDS/latest/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds: 60")
account=$(curl -fsS --max-time 5 -H "X-aws-ec2-metadata-token: $token" "$BITTE_IMDS/latest/dynamic/instance-identity/document" | jq -r .accountId)
[[ $account =~ ^[0-9]{12}$ ]] || { log "no account id in the instance identity document (got '$account')"; exit 1; }

tmp=$(mktemp "$BITTE_ALERTMANAGER_CONFIG.XXXXXX")
trap 'rm -f "$tmp" "$tmp.token" "$tmp.nowebhook"' EXIT
sed "s/@AWS_ACCOUNT_ID@/$account/g" "$BITTE_ALERTMANAGER_TEMPLATE" >"$tmp"

if [[ $BITTE_WEBHOOK == 1 ]]; then
  if aws ssm get-parameter --region "$BITTE_SSM_REGION" --name "$BITTE_SSM_PREFIX/$BITTE_WEBHOOK_PARAMETER" \
    --with-decryption --query Parameter.Value --output text >"$tmp.token" 2>/dev/null && [[ -s $tmp.token ]]; then
    install -m 0400 -o "$BITTE_ALERTMANAGER_USER" -g "$BITTE_ALERTMANAGER_GROUP" "$tmp.token" "$BITTE_WEBHOOK_TOKEN_FILE"
  else
    # Alerts still reach the SNS topic; the webhook is left out until its token exists.
    log "WARNING: $BITTE_SSM_PREFIX/$BITTE_WEBHOOK_PARAMETER is missing: sending to SNS only. Write it with aws ssm put-parameter --type SecureString, then restart prometheus-alertmanager."
    # yq is not on the image: drop the block by its indentation (the renderer writes two-space YAML).
    awk '/^    webhook_configs:/ { skip = 1; next } skip && /^      / { next } { skip = 0; print }' "$tmp" >"$tmp.nowebhook"
    mv "$tmp.nowebhook" "$tmp"
  fi
fi

chmod 0640 "$tmp"
chown "$BITTE_CONFIG_OWNER:$BITTE_ALERTMANAGER_GROUP" "$tmp"
mv "$tmp" "$BITTE_ALERTMANAGER_CONFIG"
log "rendered $BITTE_ALERTMANAGER_CONFIG for account $account"
