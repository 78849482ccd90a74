#!/usr/bin/env bash
# bitte-vault-login: logs this node in to Vault with its instance IAM role (AWS auth), for the
# scripts that need a Vault token once (bitte-nomad-cert, bitte-consul-token).
#
# Usage: bitte-vault-login <out-dir> <auth role> <server id header> <vault address>...
# Writes <out-dir>/token (the client token, mode 0600) and <out-dir>/addr (the address that
# answered). Any core node's Vault answers (a standby forwards to the active one); the first that
# logs in wins. Retried, bounded, by BITTE_RETRIES × BITTE_RETRY_DELAY: a client may boot before
# `deploy consul` has made its role. The caller revokes the token when done (`vault token revoke -self`).
set -euo pipefail
umask 077

(($# >= 4)) || { echo "usage: bitte-vault-login <out-dir> <auth role> <server id header> <vault address>..." >&2; exit 2; }
out=$1 role=$2 server_id=$3
shift 3
: "${BITTE_RETRIES:=90}" "${BITTE_RETRY_DELAY:=10}" "${BITTE_TLS_DIR:=/etc/bitte/tls}"
export VAULT_CACERT="${VAULT_CACERT:-$BITTE_TLS_DIR/ca.pem}"

login() {
  local addr
  for addr in "$@"; do
    if VAULT_ADDR="https://$addr:8200" vault login -method=aws -token-only -no-store "role=$role" \
      "header_value=$server_id" >"$out/token" 2>"$out/login.err"; then
      printf '%s\n' "$addr" >"$out/addr"
      return 0
    fi
  done
  return 1
}

for ((i = 1; i <= BITTE_RETRIES; i++)); do
  if login "$@"; then
    rm -f "$out/login.err"
    exit 0
  fi
  printf 'bitte-vault-login: waiting for Vault to log in role %s (attempt %d/%d): %s\n' "$role" "$i" "$BITTE_RETRIES" "$(tr '\n' ' ' <"$out/login.err")" >&2
  sleep "$BITTE_RETRY_DELAY"
done
rm -f "$out/token"
echo "bitte-vault-login: cannot log in to Vault (role $role); has 'deploy consul' run, and is Vault up on $*?" >&2
exit 1
