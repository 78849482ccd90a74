#!/usr/bin/env bash
# bitte-bootstrap: the on-node half of HashiStackBootstrap.
#
# Runs at first boot (and is safe to run again). Core nodes agree on the cluster's trust material
# through create-only SSM SecureStrings (the first writer wins, everyone reads the winner back),
# issue their own server certificates, bootstrap Consul and Nomad ACLs and initialise Vault
# exactly once. Every other node waits for what its role needs.
#
# Every command (bitte-aws, consul, nomad, vault, systemctl, openssl, jq) is found on PATH and every
# path comes from the environment file, so a test can run three copies against stand-ins.
# Secrets never reach argv, stdout or a world-readable file: umask 077, values travel in files.
set -euo pipefail
umask 077

# shellcheck source=/dev/null
. "${BITTE_ENV_FILE:-/etc/bitte/bootstrap.env}"

: "${BITTE_ROLE:?}" "${BITTE_NODE_NAME:=$(hostname)}" "${BITTE_SSM_PREFIX:?}" "${BITTE_SSM_REGION:?}" "${BITTE_KMS_KEY_ID:?}"
: "${BITTE_DATACENTER:?}" "${BITTE_TLS_DIR:?}" "${BITTE_SECRETS_DIR:?}" "${BITTE_STATE_DIR:?}"
: "${BITTE_CONSUL_DIR:?}" "${BITTE_NOMAD_DIR:?}" "${BITTE_VAULT_DIR:?}"
: "${BITTE_CONSUL_USER:=consul}" "${BITTE_NOMAD_USER:=nomad}" "${BITTE_VAULT_USER:=vault}"
: "${BITTE_RETRIES:=90}" "${BITTE_RETRY_DELAY:=10}" "${BITTE_SERVICES:=}" "${BITTE_CONSUL_SERVICES:=}"

export CONSUL_HTTP_ADDR="${CONSUL_HTTP_ADDR:-https://127.0.0.1:8501}"
export CONSUL_CACERT="$BITTE_TLS_DIR/ca.pem"
export NOMAD_ADDR="${NOMAD_ADDR:-https://127.0.0.1:4646}"
export NOMAD_CACERT="$BITTE_TLS_DIR/ca.pem"
export VAULT_ADDR="${VAULT_ADDR:-https://127.0.0.1:8200}"
export VAULT_CACERT="$BITTE_TLS_DIR/ca.pem"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bitte-bootstrap.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

log() { printf 'bitte-bootstrap[%s %s]: %s\n' "$BITTE_ROLE" "$BITTE_NODE_NAME" "$*" >&2; }
die() { log "FATAL: $*"; exit 1; }

# --- Parameter store ---------------------------------------------------------------------------


# Every SSM call goes through bitte-aws (installed by the user data; Python's standard library),
# whose exit status tells the outcomes apart: 0 done, 3 ParameterNotFound, 4 ParameterAlreadyExists,
# anything else an error that outlasted bitte-aws's own retries (throttling in the three-node race,
# TooManyUpdates, no network yet). Those are retried here with capped, jittered exponential backoff,
# bounded by BITTE_AWS_RETRIES; only then is the run given up (and the unit restarts it, bounded).
: "${BITTE_AWS_RETRIES:=8}"
aws_call() { # <bitte-aws command and arguments>; returns 0, 3 or 4
  local i status err=""
  for ((i = 1; i <= BITTE_AWS_RETRIES; i++)); do
    status=0
    err=$(bitte-aws --region "$BITTE_SSM_REGION" "$@" 2>&1 >/dev/null) || status=$?
    case $status in 0 | 3 | 4) return "$status" ;; esac
    # A refusal of the role's own policy does not pass with time: stop at once, say what.
    case $err in *AccessDenied*) die "SSM $1 $2 refused by this node's IAM policy: $err" ;; esac
    log "SSM call failed (attempt $i/$BITTE_AWS_RETRIES): ${err//$'\n'/ }"
    sleep "$(backoff "$i")"
  done
  die "SSM $1 $2 failed $BITTE_AWS_RETRIES times; last error: $err"
}

# Seconds to wait before retry <n>: BITTE_RETRY_DELAY doubled per attempt, capped at 60, half jittered.
backoff() { awk -v d="$BITTE_RETRY_DELAY" -v n="$1" -v r="$RANDOM" 'BEGIN { b = d * 2 ^ (n - 1); if (b > 60) b = 60; printf "%.3f\n", b / 2 + (r / 32767) * b / 2 }'; }

# The key of a parameter, from HashiStackBootstrap's table: the recovery key (which no node may
# decrypt with) for BITTE_RECOVERY_PARAMETERS, the cluster key for everything else.
ssm_key_id() {
  case " ${BITTE_RECOVERY_PARAMETERS:-} " in
    *" $1 "*) printf '%s\n' "${BITTE_RECOVERY_KMS_KEY_ID:?}" ;;
    *) printf '%s\n' "$BITTE_KMS_KEY_ID" ;;
  esac
}

# Creates a SecureString from a file, never overwriting. 0: created; 1: it already exists.
ssm_create() {
  local status=0
  aws_call ssm-create "$BITTE_SSM_PREFIX/$1" "$2" --key-id "$(ssm_key_id "$1")" || status=$?
  case $status in
    0) return 0 ;;
    4) return 1 ;;
    *) die "cannot create parameter $1 (bitte-aws status $status)" ;;
  esac
}

# Reads a parameter into a file (mode 0600). 1 when it does not exist (yet).
ssm_get() {
  local status=0
  aws_call ssm-get "$BITTE_SSM_PREFIX/$1" "$2" || status=$?
  case $status in
    0) return 0 ;;
    3) return 1 ;;
    *) die "cannot read parameter $1 (bitte-aws status $status)" ;;
  esac
}

# Waits, bounded, for a parameter another node writes.
ssm_wait() {
  local i
  for ((i = 1; i <= BITTE_RETRIES; i++)); do
    if ssm_get "$1" "$2"; then return 0; fi
    log "waiting for $BITTE_SSM_PREFIX/$1 (attempt $i/$BITTE_RETRIES)"
    sleep "$BITTE_RETRY_DELAY"
  done
  die "gave up waiting for $BITTE_SSM_PREFIX/$1; check the core nodes' bitte-bootstrap journal"
}

# The agreement step: read the winner, or offer a candidate made by "$2" and read the winner.
agree() {
  local name=$1 generate=$2 out=$3
  if ssm_get "$name" "$out"; then return 0; fi
  "$generate" "$WORK/candidate"
  if ssm_create "$name" "$WORK/candidate"; then log "created $BITTE_SSM_PREFIX/$name"; fi
  rm -f "$WORK/candidate"
  ssm_get "$name" "$out" || die "cannot read back $BITTE_SSM_PREFIX/$name"
}

# --- Generators --------------------------------------------------------------------------------

gen_gossip_key() { openssl rand -base64 32 >"$1"; }
gen_uuid() { cat /proc/sys/kernel/random/uuid >"$1"; }
gen_password() { openssl rand -base64 24 | tr -d '\n/+=' >"$1"; }

# A bundle of the CA certificate followed by its key: one parameter, so cert and key always match.
gen_ca() {
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$WORK/ca-key.new" -out "$WORK/ca-cert.new" -days 3650 -sha256 \
    -subj "/CN=Bitte ${BITTE_CLUSTER:-cluster} CA" -set_serial "0x$(openssl rand -hex 16)" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  cat "$WORK/ca-cert.new" "$WORK/ca-key.new" >"$1"
  rm -f "$WORK/ca-key.new" "$WORK/ca-cert.new"
}

# Splits a cert+key bundle into its certificate and its key.
split_bundle() {
  openssl x509 -in "$1" -out "$2"
  openssl pkey -in "$1" -out "$3"
}

# Issues a certificate from the CA in $WORK: issue_cert <cert> <key> <cn> <subjectAltName>.
issue_cert() {
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$2" -out "$WORK/req.csr" -subj "/CN=$3" 2>/dev/null
  printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\nbasicConstraints=critical,CA:FALSE\n' "$4" >"$WORK/ext.cnf"
  openssl x509 -req -in "$WORK/req.csr" -CA "$WORK/ca.pem" -CAkey "$WORK/ca-key.pem" \
    -set_serial "0x$(openssl rand -hex 16)" -days 825 -sha256 -extfile "$WORK/ext.cnf" -out "$1" 2>/dev/null
  rm -f "$WORK/req.csr" "$WORK/ext.cnf"
}

# --- Files -------------------------------------------------------------------------------------

# Directories get explicit owners and modes: under `umask 077` a plain `mkdir -p` would make them
# 0700 root and lock every service out of its CA, certificate and key. The public TLS directory is
# world-readable; each product's key directory is traversable by its own group only; the secrets
# directory (environment files systemd reads as root) is root-only. `install -d` also repairs the
# mode of a directory an earlier run left wrong.
layout() {
  install -d -o root -g root -m 0755 "$BITTE_TLS_DIR"
  install -d -o root -g root -m 0700 "$BITTE_SECRETS_DIR"
  product_dir "$BITTE_CONSUL_DIR" "$BITTE_CONSUL_USER"
  case "$BITTE_ROLE" in
    core) product_dir "$BITTE_NOMAD_DIR" "$BITTE_NOMAD_USER"; product_dir "$BITTE_VAULT_DIR" "$BITTE_VAULT_USER" ;;
    client) product_dir "$BITTE_NOMAD_DIR" "$BITTE_NOMAD_USER" ;;
  esac
}

product_dir() { # <config dir> <user>: the config dir as the packages leave it (0755), tls/ for the user
  [[ -d $1 ]] || install -d -o root -g root -m 0755 "$1"
  install -d -o root -g "$(id -gn "$2")" -m 0750 "$1/tls"
}

# put <src> <dest> <owner> <mode>: atomic install with owner and mode, into a directory layout made.
put() {
  [[ -d ${2%/*} ]] || die "${2%/*} does not exist (layout makes every directory the bootstrap writes to)"
  install -o "$3" -m "$4" "$1" "$2.tmp"
  mv -f "$2.tmp" "$2"
}

# Writes a JSON document {"key": "<value of file>"} nested under the given path prefix.
write_json_secret() { # <value-file> <dest> <owner> <jq-path>
  jq -Rn --rawfile v "$1" "$4 = (\$v | sub(\"\\\\s+$\"; \"\"))" >"$WORK/json"
  put "$WORK/json" "$2" "$3" 0640
  rm -f "$WORK/json"
}

# Writes an environment file VAR=<value> for systemd's EnvironmentFile (root only).
write_env_secret() { # <value-file> <dest> <VAR>
  printf '%s=%s\n' "$3" "$(tr -d '\n' <"$1")" >"$WORK/env"
  put "$WORK/env" "$2" root 0600
  rm -f "$WORK/env"
}

# The agent tokens file: the agent and config-file-service token, and the DNS token (cores, monitoring).
write_consul_tokens() {
  jq -n --rawfile a "$WORK/agent-token" --rawfile d "$WORK/dns-token" \
    '($a | sub("\\s+$"; "")) as $agent | {acl: {tokens: {agent: $agent, config_file_service_registration: $agent, dns: ($d | sub("\\s+$"; ""))}}}' >"$WORK/tokens.json"
  put "$WORK/tokens.json" "$BITTE_CONSUL_DIR/tokens.json" "$BITTE_CONSUL_USER" 0640
  rm -f "$WORK/tokens.json"
}

service() { systemctl "$1" "$2" || die "systemctl $1 $2 failed"; }

# --- Core: trust material ----------------------------------------------------------------------

# The server certificate is current when it chains to the CA, is not about to expire, and every
# product's key file exists and is the certificate's key (a crash between writes leaves them apart).
server_tls_current() { # <cert>
  local key
  [[ -f $1 ]] && openssl verify -CAfile "$WORK/ca.pem" "$1" >/dev/null 2>&1 && openssl x509 -in "$1" -noout -checkend 2592000 >/dev/null || return 1
  openssl x509 -in "$1" -noout -pubkey >"$WORK/cert.pub" || return 1
  for key in "$BITTE_CONSUL_DIR/tls/server-key.pem" "$BITTE_NOMAD_DIR/tls/server-key.pem" "$BITTE_VAULT_DIR/tls/server-key.pem"; do
    [[ -f $key ]] && openssl pkey -in "$key" -pubout 2>/dev/null | cmp -s - "$WORK/cert.pub" || return 1
  done
}

core_tls() {
  agree tls/ca gen_ca "$WORK/ca.bundle"
  split_bundle "$WORK/ca.bundle" "$WORK/ca.pem" "$WORK/ca-key.pem"
  rm -f "$WORK/ca.bundle"
  # The public half for every other role; all core nodes offer the same value.
  if ! ssm_get tls/ca-cert "$WORK/ca-published.pem"; then
    ssm_create tls/ca-cert "$WORK/ca.pem" || true
    ssm_get tls/ca-cert "$WORK/ca-published.pem" || die "cannot read back tls/ca-cert"
  fi
  cmp -s <(openssl x509 -in "$WORK/ca-published.pem") "$WORK/ca.pem" || die "tls/ca-cert does not match tls/ca; an operator must repair the parameters"
  put "$WORK/ca.pem" "$BITTE_TLS_DIR/ca.pem" root 0644
  # Consul's built-in Connect CA signs the auto_encrypt certificates every non-server agent serves
  # on HTTPS and gRPC. Given the Bitte CA (connect.ca_config private_key/root_cert, read when the
  # first leader initialises the CA), those chain to the one CA Nomad and VictoriaMetrics trust.
  # Consul-only: 0600, owned by consul. Written before Consul first starts.
  jq -n --rawfile k "$WORK/ca-key.pem" --rawfile c "$WORK/ca.pem" '{connect: {ca_provider: "consul", ca_config: {private_key: $k, root_cert: $c}}}' >"$WORK/connect-ca.json"
  put "$WORK/connect-ca.json" "$BITTE_CONSUL_DIR/connect-ca.json" "$BITTE_CONSUL_USER" 0600
  rm -f "$WORK/connect-ca.json"

  local cert="$BITTE_TLS_DIR/server.pem"
  if server_tls_current "$cert"; then
    log "server certificate is current"
  else
    issue_cert "$WORK/server.pem" "$WORK/server-key.pem" "server.$BITTE_DATACENTER.consul" \
      "DNS:server.$BITTE_DATACENTER.consul,DNS:server.global.nomad,DNS:vault.service.consul,DNS:active.vault.service.consul,DNS:localhost,IP:127.0.0.1,IP:${BITTE_PRIVATE_IP:?}"
    # Each product gets its own copy of the key, readable only by its own user. The certificate
    # goes last: a crash before it leaves no certificate, so the next run issues a fresh pair.
    put "$WORK/server-key.pem" "$BITTE_CONSUL_DIR/tls/server-key.pem" "$BITTE_CONSUL_USER" 0600
    put "$WORK/server-key.pem" "$BITTE_NOMAD_DIR/tls/server-key.pem" "$BITTE_NOMAD_USER" 0600
    put "$WORK/server-key.pem" "$BITTE_VAULT_DIR/tls/server-key.pem" "$BITTE_VAULT_USER" 0600
    put "$WORK/server.pem" "$cert" root 0644
    log "issued the server certificate"
  fi
  rm -f "$WORK/ca-key.pem"
}

core_gossip() {
  agree consul/gossip-key gen_gossip_key "$WORK/consul-gossip"
  write_json_secret "$WORK/consul-gossip" "$BITTE_CONSUL_DIR/gossip.json" "$BITTE_CONSUL_USER" '.encrypt'
  agree nomad/gossip-key gen_gossip_key "$WORK/nomad-gossip"
  write_json_secret "$WORK/nomad-gossip" "$BITTE_NOMAD_DIR/gossip.json" "$BITTE_NOMAD_USER" '.server.encrypt'
}

# --- Core: ACL bootstrap ------------------------------------------------------------------------

# The management token is agreed on in the parameter store BEFORE bootstrapping with it, so a node
# that dies right after bootstrapping never loses it. Exactly one bootstrap call succeeds.
acl_bootstrap() { # <product> <already-done pattern>
  local product=$1 done_pattern=$2 out i
  agree "$product/management-token" gen_uuid "$WORK/$product-management"
  for ((i = 1; i <= BITTE_RETRIES; i++)); do
    if out=$("$product" acl bootstrap "$WORK/$product-management" 2>&1 >/dev/null); then
      log "$product ACL system bootstrapped by this node"
      return 0
    fi
    case "$out" in
      *"$done_pattern"*) log "$product ACL system already bootstrapped"; return 0 ;;
    esac
    log "waiting for a $product leader to bootstrap ACLs (attempt $i/$BITTE_RETRIES)"
    sleep "$BITTE_RETRY_DELAY"
  done
  die "$product ACL bootstrap did not succeed"
}

consul_policy() { # <name> <rules file>
  local i
  for ((i = 1; i <= BITTE_RETRIES; i++)); do
    consul acl policy read -name "$1" >/dev/null 2>&1 && return 0
    consul acl policy create -name "$1" -rules "@$2" >/dev/null 2>&1 && return 0
    sleep "$BITTE_RETRY_DELAY"
  done
  die "cannot create Consul policy $1"
}

# Creates a token for a policy, offers it to the parameter store, and deletes it again when another
# node's token won, so exactly one token per purpose stays.
consul_token() { # <parameter> <policy> <out-file> [<node identity name:datacenter>]
  local json accessor
  if ssm_get "$1" "$3"; then return 0; fi
  json=$(consul acl token create -policy-name "$2" ${4:+-node-identity "$4"} -description "bitte $2${4:+ for ${4%%:*}}" -format json) || die "cannot create a Consul token for $2"
  accessor=$(jq -r .AccessorID <<<"$json")
  jq -r .SecretID <<<"$json" >"$WORK/token"
  if ssm_create "$1" "$WORK/token"; then
    log "created $BITTE_SSM_PREFIX/$1"
  else
    consul acl token delete -id "$accessor" >/dev/null 2>&1 || log "could not delete the redundant token $accessor"
  fi
  rm -f "$WORK/token"
  ssm_get "$1" "$3" || die "cannot read back $BITTE_SSM_PREFIX/$1"
}

# The policies and each token's policy come from BITTE_CONSUL_ACL, rendered from the one definition
# in constructs/policy/consul.ts; the consul stack creates none of these.
core_consul_acls() {
  local name
  export CONSUL_HTTP_TOKEN_FILE="$WORK/consul-management"
  [[ -f ${BITTE_CONSUL_ACL:?} ]] || die "$BITTE_CONSUL_ACL is missing (rendered by the user data)"
  while IFS= read -r name; do
    jq -r --arg n "$name" '.policies[] | select(.name == $n) | .rules' "$BITTE_CONSUL_ACL" >"$WORK/rules.hcl"
    consul_policy "$name" "$WORK/rules.hcl"
  done < <(jq -r '.policies[].name' "$BITTE_CONSUL_ACL")
  rm -f "$WORK/rules.hcl"
  consul_token consul/agent-token "$(token_policy consul/agent-token)" "$WORK/agent-token"
  consul_token consul/dns-token "$(token_policy consul/dns-token)" "$WORK/dns-token"
  consul_token consul/nomad-token "$(token_policy consul/nomad-token)" "$WORK/nomad-consul-token"
  consul_token consul/vault-token "$(token_policy consul/vault-token)" "$WORK/vault-consul-token"
  consul_token consul/monitoring-token "$(token_policy consul/monitoring-token)" "$WORK/monitoring-token"
  # Tokens for another node by its fixed name (the monitoring node's), with a node identity for it.
  local p
  for p in $(jq -r '.nodeIdentities | keys[]' "$BITTE_CONSUL_ACL"); do
    consul_token "$p" "$(token_policy "$p")" "$WORK/node-token" "$(jq -r --arg p "$p" '.nodeIdentities[$p]' "$BITTE_CONSUL_ACL")"
  done
  rm -f "$WORK/node-token"
  unset CONSUL_HTTP_TOKEN_FILE
}

token_policy() { jq -er --arg p "$1" '.tokens[$p]' "$BITTE_CONSUL_ACL" || die "$BITTE_CONSUL_ACL names no policy for $1"; }


# --- Core: Vault init --------------------------------------------------------------------------

# Guarded by a create-only lock holding the initialising node's name, so a re-run on that node
# finishes a half-done init, and no other node ever calls init. The owner initialises only on real
# evidence that no Vault cluster exists: vault/initialized unset, and every peer's Vault answering
# "not initialised". Its own "not initialised" proves nothing: a node on a fresh data volume says
# so until its raft join completes.
vault_init() {
  local i status init_out="$BITTE_STATE_DIR/vault-init.json"
  printf '%s\n' "$BITTE_NODE_NAME" >"$WORK/lock"
  ssm_create vault/init-lock "$WORK/lock" || true
  ssm_get vault/init-lock "$WORK/lock-owner" || die "cannot read vault/init-lock"
  if [[ $(tr -d '\n' <"$WORK/lock-owner") != "$BITTE_NODE_NAME" ]]; then
    log "vault is initialised by $(tr -d '\n' <"$WORK/lock-owner"); this node joins through raft retry_join"
    return 0
  fi
  adopt_vault_init_output "$init_out"
  if [[ -f $init_out ]]; then store_vault_init_output "$init_out"; return 0; fi
  # The root token itself is for operators only (no node may read it): vault/initialized records
  # that the init output was stored.
  if ssm_get vault/initialized "$WORK/initialized"; then
    rm -f "$WORK/initialized"
    log "vault was initialised before (vault/initialized is set); this node joins through raft retry_join"
    return 0
  fi
  for ((i = 1; i <= BITTE_RETRIES; i++)); do
    status=0
    vault operator init -status >/dev/null 2>&1 || status=$?
    case $status in
      0) log "vault is initialised"; break ;;
      2)
        if ! peers_uninitialised; then sleep "$BITTE_RETRY_DELAY"; continue; fi
        install -d -o root -g root -m 0700 "$BITTE_STATE_DIR"
        # Written next to its final name and renamed: a crash leaves either a complete output (the
        # re-run stores it) or a partial .tmp (the re-run discards it, loudly).
        vault operator init -recovery-shares=5 -recovery-threshold=3 -format=json >"$init_out.tmp" || die "vault operator init failed"
        # On disk before the rename: the only copy of the root token must survive a power loss.
        sync "$init_out.tmp"
        mv "$init_out.tmp" "$init_out"
        log "vault initialised by this node"
        store_vault_init_output "$init_out"
        return 0 ;;
      *) log "waiting for vault to answer (attempt $i/$BITTE_RETRIES)"; sleep "$BITTE_RETRY_DELAY" ;;
    esac
  done
  ((i <= BITTE_RETRIES)) || die "vault did not become ready for init; check the peers' vault units"
}

# True when every core peer's Vault answers and none is initialised; says what it waits for.
peers_uninitialised() {
  local peer out status
  for peer in ${BITTE_CORE_PEERS:-}; do
    status=0
    out=$(vault status -address="https://$peer:8200" -format=json 2>&1) || status=$?
    if [[ $status != 0 && $status != 2 ]]; then log "waiting for vault on $peer to answer before init"; return 1; fi
    if [[ $(jq -r .initialized <<<"$out" 2>/dev/null) != false ]]; then log "vault on $peer is initialised; waiting for this node's raft join"; return 1; fi
  done
}

# A run killed between `vault operator init` and storing its output left it in the state directory.
adopt_vault_init_output() { # <init output file>
  [[ -f $1.tmp ]] || return 0
  # Slurped, so an empty file (a crash before init wrote anything) is [] and fails: jq 1.6's -e
  # exits 0 when there is no input at all.
  if jq -es 'length == 1 and (.[0].root_token | type == "string") and (.[0].recovery_keys_b64 | length > 0)' "$1.tmp" >/dev/null 2>&1; then
    mv -f "$1.tmp" "$1"
    log "found the vault init output of an interrupted run; storing it"
  else
    rm -f "$1.tmp"
    log "ERROR: an interrupted run left a partial vault init output; it was discarded. Recover with vault operator generate-root"
  fi
}

# Stores the init output (create-only: a re-run after a crash here stores nothing twice), configures
# autopilot with the root token, then removes the file.
store_vault_init_output() { # <init output file>
  jq -c .recovery_keys_b64 "$1" >"$WORK/recovery"
  jq -r .root_token "$1" >"$WORK/root"
  ssm_create vault/recovery-keys "$WORK/recovery" || true
  ssm_create vault/root-token "$WORK/root" || true
  printf '%s\n' "$BITTE_NODE_NAME" >"$WORK/initialized"
  ssm_create vault/initialized "$WORK/initialized" || true
  rm -f "$WORK/initialized"
  vault_autopilot "$WORK/root"
  vault_node_pki "$WORK/root"
  rm -f "$WORK/recovery" "$WORK/root" "$1"
  log "stored vault recovery keys and root token"
}

# Dead-server cleanup is an API setting in Vault, not a config file key: set it once, right after
# init, with the root token (in the environment of one child process, never on argv).
vault_autopilot() { # <root-token-file>
  local i
  for ((i = 1; i <= BITTE_RETRIES; i++)); do
    if VAULT_TOKEN=$(tr -d '\n' <"$1") vault operator raft autopilot set-config \
      -cleanup-dead-servers=true -min-quorum=3 -dead-server-last-contact-threshold=10m >/dev/null 2>&1; then
      log "vault autopilot: dead-server cleanup on, min quorum 3"
      return 0
    fi
    log "waiting for an active vault to configure autopilot (attempt $i/$BITTE_RETRIES)"
    sleep "$BITTE_RETRY_DELAY"
  done
  die "cannot configure vault autopilot"
}

# --- Core: the nodes' PKI (per-node Nomad client certificates) ----------------------------------

# A root-token step like vault_autopilot, in bitte-node-pki (core only: every role ships this
# script, and the user data is limited to 16 KiB). It signs Vault's intermediate with the Bitte CA.
vault_node_pki() { # <root-token-file>
  local i
  ssm_get tls/ca "$WORK/ca.bundle" || die "cannot read tls/ca to sign the node PKI's intermediate"
  for ((i = 1; i <= BITTE_RETRIES; i++)); do
    if "${BITTE_NODE_PKI_SCRIPT:?}" "$1" "$WORK/ca.bundle"; then rm -f "$WORK/ca.bundle"; return 0; fi
    log "waiting for an active vault to set up the node PKI (attempt $i/$BITTE_RETRIES)"
    sleep "$BITTE_RETRY_DELAY"
  done
  die "cannot set up vault's node PKI"
}

# --- Roles -------------------------------------------------------------------------------------

# True until a bootstrap has run to the end on this node.
first_boot() { [ ! -e "$BITTE_STATE_DIR/bootstrapped" ]; }

# --- Core: main --------------------------------------------------------------------------------

core_main() {
  core_tls
  core_gossip
  agree nomad/management-token gen_uuid "$WORK/nomad-management"
  # A node rebuilt with its data volume kept has a fresh /etc: when the tokens are stored already,
  # the agent starts with them instead of without.
  if ssm_get consul/agent-token "$WORK/agent-token" && ssm_get consul/dns-token "$WORK/dns-token"; then write_consul_tokens; fi
  service start consul
  acl_bootstrap consul "no longer allowed"
  core_consul_acls
  local before="$WORK/tokens.before"
  cp "$BITTE_CONSUL_DIR/tokens.json" "$before" 2>/dev/null || : >"$before"
  write_consul_tokens
  # The agent runs with its tokens: restarted whenever they changed (first boot, a rebuilt /etc).
  if ! cmp -s "$before" "$BITTE_CONSUL_DIR/tokens.json"; then service restart consul; fi
  rm -f "$before"
  write_env_secret "$WORK/vault-consul-token" "$BITTE_SECRETS_DIR/vault.env" CONSUL_HTTP_TOKEN
  write_env_secret "$WORK/nomad-consul-token" "$BITTE_SECRETS_DIR/nomad.env" CONSUL_HTTP_TOKEN
  service start vault
  vault_init
  service start nomad
  acl_bootstrap nomad "already done"
}

# --- Member: main (client, monitoring and routing nodes) ---------------------------------------

member_main() {
  ssm_wait tls/ca-cert "$WORK/ca.txt"
  openssl x509 -in "$WORK/ca.txt" -out "$WORK/ca.pem" || die "tls/ca-cert is not a certificate"
  put "$WORK/ca.pem" "$BITTE_TLS_DIR/ca.pem" root 0644
  ssm_wait consul/gossip-key "$WORK/consul-gossip"
  write_json_secret "$WORK/consul-gossip" "$BITTE_CONSUL_DIR/gossip.json" "$BITTE_CONSUL_USER" '.encrypt'
  ssm_wait consul/dns-token "$WORK/dns-token"
  if [[ -n ${BITTE_CONSUL_TOKEN_SCRIPT:-} ]]; then
    # The agent's name (its instance id) and DNS token, before it starts; its own token comes by login below.
    "$BITTE_CONSUL_TOKEN_SCRIPT" --prepare "$WORK/dns-token" || die "bitte-consul-token --prepare failed"
  else
    # The monitoring node's token, made for its fixed name by the cores.
    ssm_wait "${BITTE_CONSUL_AGENT_TOKEN_PARAMETER:?}" "$WORK/agent-token"
    write_consul_tokens
  fi
  case "$BITTE_ROLE" in
    client)
      # This node's own certificate from Vault (pki_nodes, AWS auth by its instance role), before
      # Nomad first starts; its timer renews it. No certificate or key is shared between clients.
      "${BITTE_NOMAD_CERT_SCRIPT:?}" || die "no Nomad client certificate (bitte-nomad-cert failed)" ;;
    monitoring)
      ssm_wait consul/monitoring-token "$WORK/monitoring-token"
      write_env_secret "$WORK/monitoring-token" "$BITTE_SECRETS_DIR/victoria-metrics.env" CONSUL_TOKEN
      agree grafana/admin-password gen_password "$WORK/grafana-password"
      write_env_secret "$WORK/grafana-password" "$BITTE_SECRETS_DIR/grafana.env" GF_SECURITY_ADMIN_PASSWORD ;;
    routing) ;;
    *) die "unknown role $BITTE_ROLE" ;;
  esac
  service start consul
  # This node's own agent token (and a Nomad client's Consul token), by login through the agent
  # just started: no other node's token is readable here (NODE_CONSUL_LOGINS).
  if [[ -n ${BITTE_CONSUL_TOKEN_SCRIPT:-} ]]; then "$BITTE_CONSUL_TOKEN_SCRIPT" || die "no Consul token of this node (bitte-consul-token failed)"; fi
}

# --- Main --------------------------------------------------------------------------------------

main() {
  log "starting"
  layout
  case "$BITTE_ROLE" in
    core) core_main ;;
    *) member_main ;;
  esac
  # The first boot restarts the services onto what it wrote. Later boots change nothing they read
  # and only start them: restarting a Nomad client would drain it (drain_on_shutdown).
  local unit verb=start
  if first_boot; then verb=restart; fi
  for unit in $BITTE_SERVICES; do service "$verb" "$unit"; done
  mkdir -p "$BITTE_STATE_DIR" && touch "$BITTE_STATE_DIR/bootstrapped"
  log "done"
}

main "$@"
