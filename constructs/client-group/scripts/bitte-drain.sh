#!/usr/bin/env bash
# bitte-drain: drains this Nomad client before its auto-scaling group terminates it.
#
# Sent by SSM Run Command when EventBridge sees "EC2 Instance-terminate Lifecycle Action" for a
# client group of the cluster (scale-in, instance refresh, max instance lifetime, rebalancing).
# The command goes to every instance of the group (Run Command targets cannot take the instance
# id from the event), so an instance that is not the terminating one exits at once.
#
# The terminating instance marks its node ineligible, drains it with a deadline through the local
# Nomad agent, and then completes the lifecycle action with CONTINUE. The action is completed
# whatever happens to the drain (trap on EXIT): a failed drain must not hold the instance until
# the hook's heartbeat timeout.
#
# Draining needs a Nomad ACL token with `node { policy = "write" }`. The script reads it from the
# SSM SecureString "$BITTE_SSM_PREFIX/$BITTE_DRAIN_TOKEN_PARAMETER" when the client's role may
# read it; otherwise it stops the Nomad agent, which drains the node with the agent's own
# identity when the client configuration sets `client.drain_on_shutdown`.
#
# Every input comes from the environment (the SSM document sets it), and every command is found
# on PATH, so a test can run the script against stand-ins.
set -euo pipefail
umask 077

: "${BITTE_INSTANCE_ID:?}" "${BITTE_GROUP:?}" "${BITTE_HOOK:?}" "${BITTE_REGION:?}" "${BITTE_DRAIN_DEADLINE:?}"
: "${BITTE_SSM_PREFIX:?}" "${BITTE_SSM_REGION:?}" "${BITTE_CA_FILE:?}"
: "${BITTE_DRAIN_TOKEN_PARAMETER:=nomad/client-drain-token}"
: "${BITTE_IMDS:=http://169.254.169.254}"
# Time after the drain deadline for tasks to stop (kill timeouts) before the action is completed.
: "${BITTE_DRAIN_GRACE:=120}"

log() { printf 'bitte-drain[%s]: %s\n' "$BITTE_INSTANCE_ID" "$*" >&2; }

# The id of the instance this runs on, from IMDSv2.
self_instance_id() {
  local token
  token=$(curl -fsS -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' "$BITTE_IMDS/latest/api/token")
  curl -fsS -H "X-aws-ec2-metadata-token: $token" "$BITTE_IMDS/latest/meta-data/instance-id"
}

complete_action() {
  if aws autoscaling complete-lifecycle-action --region "$BITTE_REGION" \
    --lifecycle-hook-name "$BITTE_HOOK" --auto-scaling-group-name "$BITTE_GROUP" \
    --instance-id "$BITTE_INSTANCE_ID" --lifecycle-action-result CONTINUE; then
    log "completed lifecycle action $BITTE_HOOK of $BITTE_GROUP (CONTINUE)"
  else
    log "could not complete the lifecycle action; the hook's default result (CONTINUE) applies at its timeout"
    return 1
  fi
}

# Reads the drain token into NOMAD_TOKEN. Non-zero when this node may not read one.
read_token() {
  local token
  token=$(aws ssm get-parameter --region "$BITTE_SSM_REGION" --name "$BITTE_SSM_PREFIX/$BITTE_DRAIN_TOKEN_PARAMETER" \
    --with-decryption --query Parameter.Value --output text 2>/dev/null) || return 1
  [ -n "$token" ] && [ "$token" != "None" ] || return 1
  export NOMAD_TOKEN="$token"
}

drain_with_token() {
  log "marking the node ineligible"
  nomad node eligibility -self -disable
  log "draining with a deadline of ${BITTE_DRAIN_DEADLINE}s"
  # Without -detach the command follows the drain until every allocation has stopped.
  timeout "$((BITTE_DRAIN_DEADLINE + BITTE_DRAIN_GRACE))" \
    nomad node drain -self -enable -deadline "${BITTE_DRAIN_DEADLINE}s" -yes
}

drain_on_shutdown() {
  log "no readable drain token at $BITTE_SSM_PREFIX/$BITTE_DRAIN_TOKEN_PARAMETER; stopping the Nomad agent (drains with the agent's identity when client.drain_on_shutdown is set)"
  timeout "$((BITTE_DRAIN_DEADLINE + BITTE_DRAIN_GRACE))" systemctl stop nomad
}

main() {
  local self
  self=$(self_instance_id)
  if [ "$self" != "$BITTE_INSTANCE_ID" ]; then
    log "this is $self, not the terminating instance: nothing to do"
    return 0
  fi
  trap complete_action EXIT
  export NOMAD_ADDR="${NOMAD_ADDR:-https://127.0.0.1:4646}" NOMAD_CACERT="$BITTE_CA_FILE"
  if read_token; then
    drain_with_token || log "draining failed (status $?); completing the lifecycle action anyway"
  else
    drain_on_shutdown || log "stopping the Nomad agent failed (status $?); completing the lifecycle action anyway"
  fi
}

main "$@"
