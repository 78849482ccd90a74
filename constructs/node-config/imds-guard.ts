/**
 * The IMDS guard of the Nomad clients (issue 12, finding 2): no task reaches the instance metadata
 * service, so no task takes the client's role credentials. Two layers:
 * - the hop limit of 1 (instance-defaults): an IMDSv2 token response to a bridged container is one
 *   hop too far and is dropped;
 * - this nftables table, loaded before Docker and Nomad start: packets to the metadata addresses
 *   forwarded from any task network namespace (Docker bridge, Nomad's CNI bridge) are dropped,
 *   and so are packets from sockets of processes in `nomad.slice`, the cgroup Nomad puts every
 *   task in on cgroups v2 (host-network exec and docker tasks included).
 * The host itself (cloud-init, the bootstrap, the SSM agent that runs the drain, Consul and the
 * Nomad agent, all outside nomad.slice) keeps its access. `socket cgroupv2` resolves the cgroup
 * path when the table is loaded, so the unit creates `nomad.slice` first, as Nomad itself would
 * (nftables wiki, "Matching packets by cgroup"; Nomad docs, "cgroups v2: nomad.slice").
 */
import { unitFile } from "./systemd";

/** IPv4 and IPv6 (Nitro) addresses of the instance metadata service. */
export const IMDS_ADDRESSES = Object.freeze({ ipv4: "169.254.169.254", ipv6: "fd00:ec2::254" });

/** The cgroup under which Nomad runs every task on cgroups v2. */
export const NOMAD_TASK_CGROUP = "nomad.slice";

export const IMDS_GUARD = Object.freeze({ unit: "bitte-imds-guard", rules: "/etc/bitte/imds-guard.nft", table: "bitte_imds_guard" });

/** The ruleset, replaced atomically on every load (`nft -f`). */
export function imdsGuardRules(): string {
  const { ipv4, ipv6 } = IMDS_ADDRESSES;
  const t = IMDS_GUARD.table;
  return [
    "#!/usr/sbin/nft -f",
    "# Bitte: Nomad tasks never reach the instance metadata service (README, security).",
    `table inet ${t}`,
    `delete table inet ${t}`,
    `table inet ${t} {`,
    "  chain forward {",
    "    type filter hook forward priority filter - 10; policy accept;",
    `    ip daddr ${ipv4} counter drop comment "task network namespaces"`,
    `    ip6 daddr ${ipv6} counter drop comment "task network namespaces"`,
    "  }",
    "  chain output {",
    "    type filter hook output priority filter - 10; policy accept;",
    `    ip daddr ${ipv4} socket cgroupv2 level 1 "${NOMAD_TASK_CGROUP}" counter drop comment "host-network tasks"`,
    `    ip6 daddr ${ipv6} socket cgroupv2 level 1 "${NOMAD_TASK_CGROUP}" counter drop comment "host-network tasks"`,
    "  }",
    "}",
    "",
  ].join("\n");
}

/** The oneshot unit loading the rules before Docker and Nomad. */
export function imdsGuardUnit(): string {
  return unitFile({
    Unit: { Description: "Bitte: keep Nomad tasks away from the instance metadata service", DefaultDependencies: "no", Before: "docker.service nomad.service network-pre.target", Wants: "network-pre.target" },
    Service: { Type: "oneshot", RemainAfterExit: "yes", ExecStartPre: `/bin/mkdir -p /sys/fs/cgroup/${NOMAD_TASK_CGROUP}`, ExecStart: `/usr/sbin/nft -f ${IMDS_GUARD.rules}` },
    Install: { WantedBy: "multi-user.target" },
  });
}
