#!/usr/bin/env bash
# bitte-node-pki <root-token-file> <ca-bundle-file>: Vault's PKI mount for the nodes' own
# certificates (issue 12, finding 3), run by bitte-bootstrap on the Vault init-lock owner with the
# root token, in the init window (the init output is removed only after this succeeded).
#
# BITTE_NODE_PKI_PATH (pki_nodes): its issuing CA is an intermediate whose key Vault generates and
# never releases (intermediate/generate/internal), signed here with the Bitte CA (CA:true, pathlen
# 0, DNS names only under BITTE_NODE_PKI_DOMAINS), so Nomad's servers, which trust only the Bitte
# CA, accept what it issues, and Vault never holds the Bitte CA's key. Idempotent: a mount whose
# default issuer has its key and chains to the Bitte CA is left alone; a mount without one (a
# crash between generate and set-signed leaves an unused key, nothing else) is completed.
# Exit 0: ready; 1: Vault did not answer or refused (the caller retries, bounded).
set -euo pipefail
umask 077

# shellcheck source=/dev/null
. "${BITTE_ENV_FILE:-/etc/bitte/bootstrap.env}"
: "${BITTE_NODE_PKI_PATH:?}" "${BITTE_NODE_PKI_DOMAINS:?}" "${BITTE_TLS_DIR:?}" "${BITTE_NODE_NAME:=$(hostname)}"
export VAULT_ADDR="${VAULT_ADDR:-https://127.0.0.1:8200}"
export VAULT_CACERT="$BITTE_TLS_DIR/ca.pem"
ROOT=${1:?usage: bitte-node-pki <root-token-file> <ca-bundle-file>}
BUNDLE=${2:?usage: bitte-node-pki <root-token-file> <ca-bundle-file>}
path=$BITTE_NODE_PKI_PATH

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bitte-node-pki.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

log() { printf 'bitte-node-pki[%s]: %s\n' "$BITTE_NODE_NAME" "$*" >&2; }

# The root token in the environment of one child process, never on argv.
v() { VAULT_TOKEN=$(tr -d '\n' <"$ROOT") vault "$@"; }

# The mount's default issuer has its key in Vault and chains to the Bitte CA.
ready() {
  v read -format=json "$path/issuer/default" >"$WORK/issuer.json" 2>/dev/null || return 1
  jq -er '.data.key_id | select(. != "")' "$WORK/issuer.json" >/dev/null || return 1
  jq -r '.data.certificate' "$WORK/issuer.json" >"$WORK/issuer.pem"
  openssl verify -CAfile "$BITTE_TLS_DIR/ca.pem" "$WORK/issuer.pem" >/dev/null 2>&1
}

v secrets list -format=json >"$WORK/mounts.json" || { log "vault did not list its mounts"; exit 1; }
if ! jq -e --arg p "$path/" 'has($p)' "$WORK/mounts.json" >/dev/null; then
  v secrets enable -path="$path" -max-lease-ttl=43800h -description="Nodes' own certificates (Nomad clients)" pki >/dev/null || exit 1
  log "enabled $path"
fi
if ready; then
  log "$path issues from an intermediate of the Bitte CA"
  exit 0
fi

v write -format=json "$path/intermediate/generate/internal" "common_name=Bitte ${BITTE_CLUSTER:-cluster} nodes CA" key_type=ec key_bits=256 >"$WORK/csr.json" || exit 1
jq -er '.data.csr' "$WORK/csr.json" >"$WORK/nodes.csr" || { log "no CSR in vault's answer"; exit 1; }
openssl x509 -in "$BUNDLE" -out "$WORK/ca.pem"
openssl pkey -in "$BUNDLE" -out "$WORK/ca-key.pem"
constraints=""
for d in $BITTE_NODE_PKI_DOMAINS; do constraints+="${constraints:+,}permitted;DNS:$d"; done
printf 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\nnameConstraints=critical,%s\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n' "$constraints" >"$WORK/int.cnf"
status=0
openssl x509 -req -in "$WORK/nodes.csr" -CA "$WORK/ca.pem" -CAkey "$WORK/ca-key.pem" -set_serial "0x$(openssl rand -hex 16)" \
  -days 1825 -sha256 -extfile "$WORK/int.cnf" -out "$WORK/nodes-ca.pem" 2>"$WORK/sign.err" || status=$?
rm -f "$WORK/ca-key.pem"
((status == 0)) || { log "cannot sign $path's intermediate with the Bitte CA: $(tr '\n' ' ' <"$WORK/sign.err")"; exit 1; }
# The chain up to the Bitte CA, so Vault's ca_chain hands clients the whole path.
cat "$WORK/nodes-ca.pem" "$WORK/ca.pem" >"$WORK/nodes-chain.pem"
v write "$path/intermediate/set-signed" "certificate=@$WORK/nodes-chain.pem" >/dev/null || exit 1
ready || { log "$path has no usable issuer after set-signed"; exit 1; }
log "$path issues from an intermediate signed by the Bitte CA"
