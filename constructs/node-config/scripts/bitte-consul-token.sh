#!/usr/bin/env bash
# bitte-consul-token: this node's own Consul tokens, by login (issue 12, finding 3).
#
# For each `<use>:<vault role>` of BITTE_CONSUL_LOGINS (NODE_CONSUL_LOGINS, rendered): reads a
# Vault identity token (`identity/oidc/token/<vault role>`), whose `node` claim Vault fills with
# this instance's id from its AWS auth login, and trades it at Consul's auth method for a token
# (`consul login`). The `agent` token carries a node identity for this node only and becomes the
# agent's `agent` and `config_file_service_registration` token (tokens.json, next to the DNS token
# the bootstrap wrote); the `nomad` token becomes Nomad's CONSUL_HTTP_TOKEN. No token is shared
# with another node; deleting one (`consul acl token delete -id <accessor>`, the description names
# the instance) touches no other node.
#
# Runs from bitte-bootstrap at every boot, twice. `--prepare <dns token file>` before the agent
# starts: names the agent by its instance id (node.json: the name its node identity writes) and
# puts the DNS token into tokens.json, keeping the agent token a login left there. Then, once the
# agent is up (the login goes through it to the servers), without arguments: a token that still
# reads itself back is kept, so a reboot makes no new token.
# Tokens travel in files (umask 077) and in one child's environment, never on argv.
set -euo pipefail
umask 077

# shellcheck source=/dev/null
. "${BITTE_CONSUL_TOKEN_ENV:-/etc/bitte/consul-token.env}"
# shellcheck source=/dev/null
[[ -z ${BITTE_NODE_ENV:-} || ! -f $BITTE_NODE_ENV ]] || . "$BITTE_NODE_ENV"
: "${BITTE_INSTANCE_ID:?BITTE_INSTANCE_ID is not set: run bitte-node-env first}" "${BITTE_TLS_DIR:?}" "${BITTE_CONSUL_DIR:?}" "${BITTE_SECRETS_DIR:?}" "${BITTE_CONSUL_USER:=consul}"
: "${BITTE_VAULT_ADDRS:?}" "${BITTE_VAULT_SERVER_ID:?}" "${BITTE_VAULT_AUTH_ROLE:?}" "${BITTE_CONSUL_AUTH_METHOD:?}" "${BITTE_CONSUL_LOGINS:?}"
: "${BITTE_RETRIES:=90}" "${BITTE_RETRY_DELAY:=10}"
export BITTE_RETRIES BITTE_RETRY_DELAY BITTE_TLS_DIR
export CONSUL_HTTP_ADDR="${CONSUL_HTTP_ADDR:-https://127.0.0.1:8501}"
export CONSUL_CACERT="$BITTE_TLS_DIR/ca.pem"
export VAULT_CACERT="$BITTE_TLS_DIR/ca.pem"
TOKENS="$BITTE_CONSUL_DIR/tokens.json"
NOMAD_ENV="$BITTE_SECRETS_DIR/nomad.env"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bitte-consul-token.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

log() { printf 'bitte-consul-token[%s]: %s\n' "$BITTE_INSTANCE_ID" "$*" >&2; }
die() { log "FATAL: $*"; exit 1; }

# Files the agent reads, as bitte-bootstrap writes tokens.json: the consul user's, 0640; replaced atomically.
put_consul() { # <src> <dest>
  install -o "$BITTE_CONSUL_USER" -m 0640 "$1" "$2.tmp"
  mv -f "$2.tmp" "$2"
}

if [[ ${1:-} == --prepare ]]; then
  [[ -f ${2:-} ]] || die "--prepare needs the DNS token file"
  jq -n --arg n "$BITTE_INSTANCE_ID" '{node_name: $n}' >"$WORK/node.json"
  put_consul "$WORK/node.json" "$BITTE_CONSUL_DIR/node.json"
  if [[ -f $TOKENS ]]; then cp "$TOKENS" "$WORK/tokens.old"; else printf '{}\n' >"$WORK/tokens.old"; fi
  jq --rawfile d "$2" '.acl.tokens.dns = ($d | sub("\\s+$"; ""))' "$WORK/tokens.old" >"$WORK/tokens.json"
  put_consul "$WORK/tokens.json" "$TOKENS"
  log "named $BITTE_INSTANCE_ID; DNS token in place"
  exit 0
fi

# The token a use has now, into a file; 1 when there is none.
current_token() { # <use> <out>
  case $1 in
    agent) [[ -f $TOKENS ]] && jq -er '.acl.tokens.agent // empty' "$TOKENS" >"$2" 2>/dev/null ;;
    nomad) [[ -f $NOMAD_ENV ]] && sed -n 's/^CONSUL_HTTP_TOKEN=//p' "$NOMAD_ENV" | grep . >"$2" ;;
    *) die "unknown use $1 in BITTE_CONSUL_LOGINS" ;;
  esac
}

# Still good: Consul reads it back as a token of our auth method (a deleted one reads "ACL not found").
still_valid() { # <token file>
  CONSUL_HTTP_TOKEN_FILE=$1 consul acl token read -self -format=json >"$WORK/self.json" 2>/dev/null &&
    [[ $(jq -r '.AuthMethod // ""' "$WORK/self.json") == "$BITTE_CONSUL_AUTH_METHOD" ]]
}

vault_token() { # logs in once per run
  [[ -s $WORK/token ]] && return 0
  # shellcheck disable=SC2086 # BITTE_VAULT_ADDRS is a list of addresses
  "${BITTE_VAULT_LOGIN:-bitte-vault-login}" "$WORK" "$BITTE_VAULT_AUTH_ROLE" "$BITTE_VAULT_SERVER_ID" $BITTE_VAULT_ADDRS || die "no Vault token (bitte-vault-login failed)"
}

login() { # <use> <vault role> <out>
  local status=0
  vault_token
  VAULT_ADDR="https://$(<"$WORK/addr"):8200" VAULT_TOKEN=$(<"$WORK/token") vault read -field=token "identity/oidc/token/$2" >"$WORK/jwt" 2>"$WORK/err" ||
    die "Vault refused the identity token $2: $(tr '\n' ' ' <"$WORK/err")"
  for ((i = 1; i <= BITTE_RETRIES; i++)); do
    status=0
    consul login -method="$BITTE_CONSUL_AUTH_METHOD" -bearer-token-file="$WORK/jwt" -token-sink-file="$3" \
      -meta "bitte_instance=$BITTE_INSTANCE_ID" -meta "bitte_use=$1" >/dev/null 2>"$WORK/err" || status=$?
    ((status == 0)) && break
    # Permission denied does not pass with time (no binding rule matches, wrong audience, ...).
    grep -q "Permission denied\|ACL not found" "$WORK/err" && die "Consul refused the login for $1: $(tr '\n' ' ' <"$WORK/err")"
    log "waiting for Consul to log in $1 (attempt $i/$BITTE_RETRIES): $(tr '\n' ' ' <"$WORK/err")"
    sleep "$BITTE_RETRY_DELAY"
  done
  ((status == 0)) || die "cannot log in to Consul for $1: $(tr '\n' ' ' <"$WORK/err")"
  rm -f "$WORK/jwt"
  [[ -s $3 ]] || die "consul login wrote no token for $1"
  log "logged in: $1 token $(CONSUL_HTTP_TOKEN_FILE=$3 consul acl token read -self -format=json 2>/dev/null | jq -r .AccessorID)"
}

install_token() { # <use> <token file>
  case $1 in
    agent)
      # --prepare wrote tokens.json (the DNS token) before the agent started.
      jq --rawfile t "$2" '($t | sub("\\s+$"; "")) as $t | .acl.tokens.agent = $t | .acl.tokens.config_file_service_registration = $t' "$TOKENS" >"$WORK/tokens.json"
      put_consul "$WORK/tokens.json" "$TOKENS"
      changed_agent=1 ;;
    nomad)
      printf 'CONSUL_HTTP_TOKEN=%s\n' "$(tr -d '\n' <"$2")" >"$WORK/nomad.env"
      install -o root -m 0600 "$WORK/nomad.env" "$NOMAD_ENV.tmp"
      mv -f "$NOMAD_ENV.tmp" "$NOMAD_ENV" ;;
  esac
}

changed_agent=0
for entry in $BITTE_CONSUL_LOGINS; do
  use=${entry%%:*} role=${entry#*:}
  if current_token "$use" "$WORK/current" && still_valid "$WORK/current"; then
    log "$use token is current"
    continue
  fi
  login "$use" "$role" "$WORK/new"
  install_token "$use" "$WORK/new"
  rm -f "$WORK/new"
done

if [[ -s $WORK/token ]]; then
  VAULT_ADDR="https://$(<"$WORK/addr"):8200" VAULT_TOKEN=$(<"$WORK/token") vault token revoke -self >/dev/null 2>&1 || log "could not revoke this run's Vault token (it expires with its TTL)"
fi
# The agent reads its tokens at start: restarted onto a new one.
if ((changed_agent)) && systemctl is-active --quiet consul; then
  systemctl restart consul || die "systemctl restart consul failed"
  log "consul restarted with its own agent token"
fi
