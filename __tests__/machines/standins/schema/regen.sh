#!/usr/bin/env bash
# Regenerates the key schemas from product source checked out at the pinned versions.
#   regen.sh <consul-src> <nomad-src> <vault-src>
# consul: justin4957/consul-doc (fork of hashicorp/consul with full history) at 7fab4f4c19e9,
#         "update: changelog for release 1.21.4" (the fork has no tags; VERSION there is 1.22.0-dev).
# nomad:  hashicorp/nomad tag v1.10.5.
# vault:  ydb-platform/hashicorp-vault (fork with full history) at 5fe9d62ab4e8, "Update CHANGELOG.md"
#         that adds ## 1.20.4 (2025-09-24; no tags in the fork).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
c=$1 n=$2 v=$3
python3 "$here/extract.py" --tag mapstructure --root config.decodeTarget --pkg "config=$c/agent/config" \
  --source "hashicorp/consul agent/config/config.go mapstructure tags (decodeTarget = Config + DeprecatedConfig), via justin4957/consul-doc@7fab4f4c19e9 = release 1.21.4 changelog commit; unknown keys fail: builder.go 'invalid config key %s'" >"$here/consul.json"
python3 "$here/extract.py" --tag hcl --root agent.Config --pkg "agent=$n/command/agent" --pkg "config=$n/nomad/structs/config" \
  --pkg "client=$n/client/config" --pkg "structs=$n/nomad/structs" --free consul --free vault \
  --source "hashicorp/nomad v1.10.5 command/agent/config.go hcl tags; unknown keys fail: helper/funcs.go UnusedKeys '<path> unexpected keys <k>'; consul/vault blocks are mapstructure.WeakDecode'd (config_parse.go parseConsuls/parseVaults): sub-keys unchecked" >"$here/nomad.json"
free=""; for f in backend cloud entropy ha_backend ha_storage hsm kms seal service_registration storage user_lockout; do free="$free --free $f"; done
# shellcheck disable=SC2086
python3 "$here/extract.py" --tag hcl --root server.Config --pkg "server=$v/command/server" --pkg "configutil=$v/internalshared/configutil" \
  --merge configutil.SharedConfig --block listener=configutil.Listener,label --block telemetry=configutil.Telemetry $free \
  --source "hashicorp/vault 1.20.4 command/server/config.go + internalshared/configutil/{config,listener,telemetry}.go hcl tags and list.Filter blocks, via ydb-platform/hashicorp-vault@5fe9d62ab4e8; unknown keys only WARN: configutil/lint.go 'unknown or unsupported field %s found in configuration'" >"$here/vault.json"
