#!/usr/bin/env bash
# bitte-nomad-cert: this Nomad client's own TLS certificate, from Vault (issue 12, finding 3).
#
# Logs in to Vault with the instance's IAM role (AWS auth role client-<region>, which infers the
# EC2 instance from the role session name), and issues `<instance id>.client.global.nomad` (plus
# client.global.nomad, localhost, 127.0.0.1 and the private IP) from pki_nodes/issue/nomad-client.
# The role allows no other instance's name (VaultNodePki). The key is made by Vault for this one
# request and never stored there; the certificate is stored, so one node's can be revoked by serial.
#
# Runs before Nomad's first start (from bitte-bootstrap) and from a timer: a certificate with more
# than half its lifetime left is kept; otherwise a new one replaces it and Nomad reloads (SIGHUP
# reloads its TLS configuration). Nomad checks no CRL: the short TTL bounds a stolen certificate.
# The Vault token travels in the environment of one child process, never on argv or on disk.
set -euo pipefail
umask 077

# shellcheck source=/dev/null
. "${BITTE_NOMAD_CERT_ENV:-/etc/bitte/nomad-cert.env}"
# shellcheck source=/dev/null
[[ -z ${BITTE_NODE_ENV:-} || ! -f $BITTE_NODE_ENV ]] || . "$BITTE_NODE_ENV"
: "${BITTE_PRIVATE_IP:?BITTE_PRIVATE_IP is not set: run bitte-node-env first}" "${BITTE_INSTANCE_ID:?BITTE_INSTANCE_ID is not set: run bitte-node-env first}" "${BITTE_TLS_DIR:?}" "${BITTE_NOMAD_DIR:?}"
: "${BITTE_VAULT_ADDRS:?}" "${BITTE_VAULT_SERVER_ID:?}" "${BITTE_VAULT_AUTH_ROLE:?}" "${BITTE_PKI_ISSUE_PATH:?}" "${BITTE_CERT_NAME:?}"
: "${BITTE_CERT_TTL:=24h}" "${BITTE_CERT_RENEW_BEFORE:=43200}" "${BITTE_NOMAD_USER:=root}"
: "${BITTE_RETRIES:=90}" "${BITTE_RETRY_DELAY:=10}" "${BITTE_NODE_NAME:=$(hostname)}"
export BITTE_RETRIES BITTE_RETRY_DELAY BITTE_TLS_DIR

export VAULT_CACERT="$BITTE_TLS_DIR/ca.pem"
CERT="$BITTE_NOMAD_DIR/tls/client.pem"
KEY="$BITTE_NOMAD_DIR/tls/client-key.pem"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bitte-nomad-cert.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

log() { printf 'bitte-nomad-cert[%s]: %s\n' "$BITTE_NODE_NAME" "$*" >&2; }
die() { log "FATAL: $*"; exit 1; }

own_name="$BITTE_INSTANCE_ID.$BITTE_CERT_NAME"

# Current: this node's name, chains to the Bitte CA, the key is the certificate's, and more than
# BITTE_CERT_RENEW_BEFORE seconds left. A crash between the two writes leaves them apart: renewed.
current() {
  [[ -f $CERT && -f $KEY ]] || return 1
  openssl verify -CAfile "$VAULT_CACERT" -untrusted "$CERT" "$CERT" >/dev/null 2>&1 || return 1
  openssl x509 -in "$CERT" -noout -checkend "$BITTE_CERT_RENEW_BEFORE" >/dev/null 2>&1 || return 1
  openssl x509 -in "$CERT" -noout -ext subjectAltName 2>/dev/null | grep -qF "DNS:$own_name" || return 1
  cmp -s <(openssl x509 -in "$CERT" -noout -pubkey) <(openssl pkey -in "$KEY" -pubout 2>/dev/null)
}

if [[ ${1:-} != --force ]] && current; then
  log "certificate for $own_name is current"
  exit 0
fi

# shellcheck disable=SC2086 # BITTE_VAULT_ADDRS is a list of addresses
"${BITTE_VAULT_LOGIN:-bitte-vault-login}" "$WORK" "$BITTE_VAULT_AUTH_ROLE" "$BITTE_VAULT_SERVER_ID" $BITTE_VAULT_ADDRS || die "no Vault token (bitte-vault-login failed)"
VAULT_ADDR="https://$(<"$WORK/addr"):8200"
export VAULT_ADDR

status=0
VAULT_TOKEN=$(<"$WORK/token") vault write -format=json "$BITTE_PKI_ISSUE_PATH" "common_name=$own_name" \
  "alt_names=$BITTE_CERT_NAME,localhost" "ip_sans=127.0.0.1,$BITTE_PRIVATE_IP" "ttl=$BITTE_CERT_TTL" >"$WORK/issued.json" 2>"$WORK/issue.err" || status=$?
VAULT_TOKEN=$(<"$WORK/token") vault token revoke -self >/dev/null 2>&1 || log "could not revoke this run's Vault token (it expires with its TTL)"
rm -f "$WORK/token"
((status == 0)) || die "Vault refused the certificate for $own_name: $(tr '\n' ' ' <"$WORK/issue.err")"

# The chain Nomad presents: the leaf, then the intermediate that chains to the Bitte CA.
jq -er '.data.certificate' "$WORK/issued.json" >"$WORK/client.pem" || die "no certificate in Vault's answer"
jq -er '(.data.ca_chain // [.data.issuing_ca])[]' "$WORK/issued.json" >>"$WORK/client.pem" || die "no issuing CA in Vault's answer"
jq -er '.data.private_key' "$WORK/issued.json" >"$WORK/client-key.pem" || die "no private key in Vault's answer"
serial=$(jq -r '.data.serial_number' "$WORK/issued.json")
rm -f "$WORK/issued.json"
openssl verify -CAfile "$VAULT_CACERT" -untrusted "$WORK/client.pem" "$WORK/client.pem" >/dev/null || die "the issued certificate does not chain to $VAULT_CACERT"

[[ -d $BITTE_NOMAD_DIR/tls ]] || die "$BITTE_NOMAD_DIR/tls does not exist (bitte-bootstrap makes it)"
install -o "$BITTE_NOMAD_USER" -m 0600 "$WORK/client-key.pem" "$KEY.tmp"
install -o root -m 0644 "$WORK/client.pem" "$CERT.tmp"
mv -f "$KEY.tmp" "$KEY"
mv -f "$CERT.tmp" "$CERT"
log "issued $own_name (serial $serial, ttl $BITTE_CERT_TTL)"

# Nomad reloads its TLS configuration on SIGHUP (the unit's ExecReload); before its first start
# there is nothing to reload.
if systemctl is-active --quiet nomad; then
  systemctl reload nomad || die "systemctl reload nomad failed"
  log "nomad reloaded"
fi
