#!/usr/bin/env bash
# bitte-drain: drains this Nomad client before its auto-scaling group terminates it.
#
# Sent by SSM Run Command when EventBridge sees "EC2 Instance-terminate Lifecycle Action" for a
# client group of the cluster (scale-in, instance refresh, max instance lifetime, rebalancing).
# The command goes to every instance of the group (Run Command targets cannot take the instance
# id from the event), so an instance that is not the terminating one exits at once.
#
# The terminating instance runs `systemctl stop nomad` under `timeout` (the drain deadline plus a
# grace for the last tasks to stop). The client unit stops the agent with SIGTERM, and the agent's
# configuration (`leave_on_terminate`, `client.drain_on_shutdown` with the same deadline) makes it
# drain its own node before it exits, with the agent's own identity: no ACL token is involved.
# Then the script completes the lifecycle action with CONTINUE. The action is completed whatever
# happens to the stop (trap on EXIT): a failed drain must not hold the instance until the hook's
# heartbeat timeout.
#
# Every input comes from the environment (the SSM document sets it), and every command is found
# on PATH, so a test can run the script against stand-ins.
set -euo pipefail
umask 077

: "${BITTE_INSTANCE_ID:?}" "${BITTE_GROUP:?}" "${BITTE_HOOK:?}" "${BITTE_REGION:?}" "${BITTE_DRAIN_DEADLINE:?}"
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
  # bitte-aws (installed by the client's user data) retries throttling itself, bounded.
  if bitte-aws --region "$BITTE_REGION" complete-lifecycle-action \
    --hook "$BITTE_HOOK" --group "$BITTE_GROUP" --instance-id "$BITTE_INSTANCE_ID" --result CONTINUE; then
    log "completed lifecycle action $BITTE_HOOK of $BITTE_GROUP (CONTINUE)"
  else
    log "could not complete the lifecycle action; the hook's default result (CONTINUE) applies at its timeout"
    return 1
  fi
}

# Stopping the agent drains the node (drain_on_shutdown); the unit waits out the deadline.
stop_agent() {
  log "stopping the Nomad agent, which drains the node with a deadline of ${BITTE_DRAIN_DEADLINE}s"
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
  stop_agent || log "stopping the Nomad agent failed (status $?); completing the lifecycle action anyway"
}

main "$@"
