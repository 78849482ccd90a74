#!/usr/bin/env bash
# bitte-data-volume: finds the node's separate EBS data volume, formats it only when it holds no
# filesystem (it survives instance replacement and carries raft, metrics and log data), and mounts
# it. Usage: bitte-data-volume <mount point>
set -euo pipefail

MOUNT=${1:?usage: bitte-data-volume <mount point>}
LABEL=bitte-data
RETRIES=${BITTE_RETRIES:-60}

log() { printf 'bitte-data-volume: %s\n' "$*" >&2; }

# The disk that holds the root filesystem, e.g. /dev/nvme0n1.
root_disk() {
  local source
  source=$(findmnt -no SOURCE /)
  printf '/dev/%s\n' "$(lsblk -no PKNAME "$source" | head -n1)"
}

# On Nitro instances EBS volumes are NVMe devices whose model names EBS; instance-store disks
# name themselves differently and are never chosen.
data_disk() {
  local root name model
  root=$(root_disk)
  while read -r name model; do
    [[ $name == "$root" ]] && continue
    [[ $model == "Amazon Elastic Block Store" ]] && { printf '%s\n' "$name"; return 0; }
  done < <(lsblk -dpno NAME,MODEL)
  return 1
}

main() {
  local disk="" i
  for ((i = 1; i <= RETRIES; i++)); do
    disk=$(data_disk) && break
    log "waiting for the data volume to attach (attempt $i/$RETRIES)"
    sleep 5
  done
  [[ -n $disk ]] || { log "no data volume attached"; exit 1; }

  if [[ -z $(blkid -p -o value -s TYPE "$disk" || true) ]]; then
    log "formatting $disk (no filesystem on it)"
    mkfs.ext4 -q -L "$LABEL" "$disk"
  else
    log "$disk already has a filesystem; keeping its data"
  fi

  mkdir -p "$MOUNT"
  if ! grep -q "^LABEL=$LABEL " /etc/fstab; then
    printf 'LABEL=%s %s ext4 defaults,nofail,noatime,x-systemd.device-timeout=60s 0 2\n' "$LABEL" "$MOUNT" >>/etc/fstab
  fi
  mountpoint -q "$MOUNT" || mount "$MOUNT"
  log "data volume mounted at $MOUNT"
}

main "$@"
