import { resolveNode } from "./context";
import { ALERTING_UNITS } from "./alerting";
import { renderNodeFiles } from "./files";
import { aptConfig, rolePackages } from "./packages";
import { DATA_VOLUME_MOUNT, PATHS } from "./paths";
import { NOMAD_CERT_UNITS } from "./nomad-cert";
import { SNAPSHOT_UNITS } from "./snapshots";
import type { NodeContext, NodeUserDataProps } from "./types";
import { yamlText } from "./yaml-text";

/**
 * Directories the services write (their units' ReadWritePaths), created after the data volume is
 * mounted and the packages made the users, before any unit starts: systemd refuses to start a
 * unit whose ReadWritePaths does not exist (226/NAMESPACE).
 */
/** A directory the first boot makes: path, owner, group (default: the owner's own group). */
type DataDirectory = [string, string, string?];

function dataDirectories(ctx: NodeContext): DataDirectory[] {
  // Consul's package makes /opt/consul; the agents of non-server roles keep their data here.
  const agent: DataDirectory[] = [[PATHS.promtailData, "promtail"], ...(ctx.isServer ? [] : [[PATHS.consulDataNoVolume, "consul"] as DataDirectory])];
  return [...agent, ...roleDataDirectories(ctx)];
}

function roleDataDirectories(ctx: NodeContext): DataDirectory[] {
  switch (ctx.role) {
    case "core":
      return [[PATHS.consulData, "consul"], [PATHS.nomadData, "nomad"], [PATHS.vaultData, "vault"], [PATHS.stateDir, "root"]];
    case "client":
      return [[PATHS.nomadData, "root"], [PATHS.dockerData, "root"]];
    case "monitoring":
      // Loki's package makes its user without a group of its own (loki-postinstall.sh: `adduser
      // --system` puts it in nogroup): its directory's group is root's, not a shared one.
      return [[PATHS.victoriaMetricsData, "victoriametrics"], [PATHS.lokiData, "loki", "root"], [PATHS.grafanaData, "grafana"]];
    case "routing":
      return [];
  }
}

/** Units started by systemd on every later boot; the first boot starts them from the bootstrap. */
const ENABLED_UNITS = {
  core: ["consul", "vault", "nomad", ...SNAPSHOT_UNITS],
  client: ["bitte-imds-guard", "consul", "docker", "nomad", ...NOMAD_CERT_UNITS],
  monitoring: ["consul", "victoria-metrics", "loki", "grafana-server", ...ALERTING_UNITS],
  routing: ["consul", "haproxy"],
} as const;

/** First-boot commands, in order. Each is an argv list: no shell, nothing to quote. */
function runcmd(ctx: NodeContext): string[][] {
  const dirs = dataDirectories(ctx);
  return [
    [PATHS.nodeEnvScript, PATHS.nodeEnv],
    ...(ctx.hasDataVolume ? [[PATHS.dataVolumeScript, DATA_VOLUME_MOUNT]] : []),
    // The packages' sample configurations would merge into ours.
    ["rm", "-f", `${PATHS.consulDir}/consul.hcl`, `${PATHS.nomadDir}/nomad.hcl`, `${PATHS.vaultDir}/vault.hcl`],
    ["install", "-d", "-m", "0700", "-o", "root", "-g", "root", PATHS.secretsDir],
    ...dirs.map(([dir, owner, group]) => ["install", "-d", "-m", "0750", "-o", owner, "-g", group ?? owner, dir]),
    ["systemctl", "daemon-reload"],
    // Before anything can start a task: no task reaches the metadata service (imds-guard.ts).
    ...(ctx.role === "client" ? [["systemctl", "start", "bitte-imds-guard"]] : []),
    ["systemctl", "restart", "systemd-resolved"],
    ["systemctl", "enable", ...ENABLED_UNITS[ctx.role], "bitte-bootstrap"],
    ["systemctl", "restart", "prometheus-node-exporter", "promtail"],
    ["systemctl", "start", "--no-block", "bitte-bootstrap"],
  ];
}

/**
 * The node's cloud-init user data (`#cloud-config`): vendor apt repositories with their signing
 * keys, pinned packages, every rendered file, and the first-boot commands. Deterministic: the
 * same props give the same bytes. Nothing secret: the bootstrap script fetches secrets at boot.
 */
export function renderUserData(props: NodeUserDataProps): string {
  const ctx = resolveNode(props);
  const config = {
    package_update: true,
    package_upgrade: false,
    apt: aptConfig(ctx.cluster, ctx.role),
    users: ["default", ...(ctx.role === "monitoring" ? [{ name: "victoriametrics", system: true, shell: "/usr/sbin/nologin", no_create_home: true }] : [])],
    packages: rolePackages(ctx.cluster, ctx.role),
    write_files: renderNodeFiles(props).map((f) => ({ path: f.path, content: f.content, permissions: f.permissions, owner: f.owner })),
    runcmd: runcmd(ctx),
  };
  return "#cloud-config\n" + yamlText(config);
}
