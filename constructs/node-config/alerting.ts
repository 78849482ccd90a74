/**
 * Alerts on the monitoring node: vmalert evaluates the rules below against VictoriaMetrics
 * (Prometheus API) and sends to Alertmanager on the same node, which sends to the cluster's SNS
 * topic and optionally a webhook. Pure renderers; the monitoring node gets them through
 * `alertingFiles`.
 *
 * Metric names are the products' own (go-metrics names with dots as underscores):
 * - Consul: `consul.server.isLeader`, `consul.autopilot.healthy`, `consul.raft.commitTime`,
 *   `consul.agent.tls.cert.expiry` (seconds left, hashicorp/consul#10768) —
 *   developer.hashicorp.com/consul/docs/reference/agent/telemetry.
 * - Nomad: the eval broker runs on the leader only, so `nomad.nomad.broker.total_pending` exists
 *   only while there is a leader; client metrics carry `node_status` and
 *   `node_scheduling_eligibility` labels (client/client.go `labels()`), and a draining node is
 *   ineligible — developer.hashicorp.com/nomad/docs/reference/metrics.
 * - Vault: `vault.core.unsealed`, `vault.core.active`, `vault.autopilot.healthy`,
 *   `vault.raft.commitTime` — developer.hashicorp.com/vault/docs/internals/telemetry/metrics.
 * - `bitte_snapshot_last_success_timestamp_seconds{product}`: written by bitte-snapshot into
 *   node exporter's textfile collector (snapshots.ts).
 */
import type { Cluster } from "../../clusters/spec";
import { PORTS } from "../ports";
import { asset, shippedScript } from "./assets";
import { CLIENT_DRAIN_DEADLINE_SECONDS } from "./nomad";
import { TEXTFILE_DIR } from "./snapshots";
import { SSM_PARAMETERS } from "./ssm";
import { serviceUnit } from "./systemd";
import type { NodeContext, NodeFile } from "./types";

/** Exported by every client through node exporter's textfile collector: its group's max size. */
export const GROUP_MAX_METRIC = "bitte_client_group_max_size";

/** Where the alerting files live on the monitoring node. */
export const ALERTING_PATHS = Object.freeze({
  rules: "/etc/vmalert/rules/bitte.yml",
  alertmanagerTemplate: "/etc/bitte/alertmanager/alertmanager.yml.in",
  /** Rendered at each start by bitte-alertmanager-config (account id, webhook token). */
  alertmanagerConfig: "/etc/bitte/alertmanager/alertmanager.yml",
  webhookTokenFile: "/etc/bitte/alertmanager/webhook-token",
  configScript: "/usr/local/sbin/bitte-alertmanager-config",
  alertmanagerData: "/var/lib/prometheus/alertmanager",
  grafanaDatasource: "/etc/grafana/provisioning/datasources/alerting.yaml",
});

/** The SSM SecureString (relative to the cluster prefix) an operator writes the webhook's token to. */
export const WEBHOOK_TOKEN_PARAMETER = SSM_PARAMETERS.alertsWebhookToken;
/** Replaced with the account id from the instance identity document at boot. */
export const ACCOUNT_ID_PLACEHOLDER = "@AWS_ACCOUNT_ID@";

/** The SNS topic every alert goes to (created by the core stack). */
export function alertTopicName(cluster: Pick<Cluster, "name">): string {
  return `bitte-${cluster.name}-alerts`;
}

export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  readonly labels: { readonly severity: "critical" | "warning" };
  /** Templates use only `{{ $labels.<name> }}`, so a test can expand them. */
  readonly annotations: { readonly summary: string; readonly description?: string };
}

export interface RuleGroup {
  readonly name: string;
  /** Evaluated every 30 s (vmalert's -evaluationInterval). */
  readonly rules: readonly AlertRule[];
}

const seconds = (s: number) => `${Math.round(s)}s`;

/** The rule groups, from the spec: snapshot age from its interval, group maxima from the groups. */
export function alertRules(cluster: Cluster): RuleGroup[] {
  const snapshotMaxAge = 2 * cluster.operations.snapshots.intervalMinutes * 60;
  const rule = (alert: string, expr: string, forDuration: string, severity: "critical" | "warning", summary: string, description?: string): AlertRule => ({
    alert,
    expr,
    for: forDuration,
    labels: { severity },
    // A description only where it adds the fix: the monitoring node's user data is near EC2's 16 KB.
    annotations: description === undefined ? { summary } : { summary, description },
  });
  return [
    {
      name: "bitte-quorum",
      rules: [
        rule("ConsulNoLeader", "max(consul_server_isLeader) < 1 or absent(consul_server_isLeader)", "1m", "critical", "Consul has no raft leader"),
        rule("ConsulBelowQuorum", "min(consul_autopilot_healthy) < 1", "2m", "critical", "Consul autopilot reports the raft cluster unhealthy"),
        rule("NomadNoLeader", "absent(nomad_nomad_broker_total_pending)", "2m", "critical", "Nomad has no leader"),
        rule("NomadBelowQuorum", `count(up{job="nomad", role="core"} == 1) < 2 or absent(up{job="nomad", role="core"} == 1)`, "2m", "critical", "Fewer than two Nomad servers answer"),
        rule("VaultNoActive", "max(vault_core_active) < 1 or absent(vault_core_active)", "1m", "critical", "Vault has no active node"),
        rule("VaultBelowQuorum", "min(vault_autopilot_healthy) < 1", "2m", "critical", "Vault autopilot reports the raft cluster unhealthy"),
        rule("VaultSealed", "vault_core_unsealed == 0", "1m", "critical", "Vault is sealed on {{ $labels.instance }}", "Vault on {{ $labels.instance }} is sealed; check its access to the cluster KMS key (awskms seal)."),
        rule(
          "RaftCommitSlow",
          `max by (job, instance) ({__name__=~"consul_raft_commitTime|nomad_raft_commitTime|vault_raft_commitTime", quantile="0.99"}) > 200`,
          "5m",
          "warning",
          "p99 raft commit time of {{ $labels.job }} on {{ $labels.instance }} is above 200 ms",
        ),
      ],
    },
    {
      name: "bitte-nodes",
      rules: [
        rule("NodeDown", `up{job="node"} == 0`, "3m", "critical", "Node {{ $labels.instance }} is down"),
        rule("AgentDown", `up{job=~"consul|nomad|vault"} == 0`, "3m", "critical", "{{ $labels.job }} on {{ $labels.instance }} is down"),
        rule(
          "DiskAlmostFull",
          `(1 - node_filesystem_avail_bytes{fstype!~"tmpfs|overlay|squashfs|ramfs"} / node_filesystem_size_bytes{fstype!~"tmpfs|overlay|squashfs|ramfs"}) > 0.8`,
          "10m",
          "warning",
          "{{ $labels.mountpoint }} on {{ $labels.instance }} is more than 80 % full",
        ),
        rule(
          "TlsCertificateExpiring",
          `consul_agent_tls_cert_expiry < ${14 * 86400}`,
          "10m",
          "warning",
          "The TLS certificate on {{ $labels.instance }} expires within 14 days",
          "Re-issue it: the core nodes' certificate is shared by Consul, Nomad and Vault.",
        ),
      ],
    },
    {
      name: "bitte-operations",
      rules: [
        ...(["consul", "nomad", "vault"] as const).map((product) =>
          rule(
            `SnapshotTooOld${product[0].toUpperCase()}${product.slice(1)}`,
            `time() - max(bitte_snapshot_last_success_timestamp_seconds{product="${product}"}) > ${snapshotMaxAge} or absent(bitte_snapshot_last_success_timestamp_seconds{product="${product}"})`,
            seconds(snapshotMaxAge),
            "warning",
            `The newest ${product} snapshot is older than twice its interval`,
            `No ${product} snapshot has succeeded for ${snapshotMaxAge / 60} minutes; see journalctl -u bitte-snapshot on the core nodes.`,
          ),
        ),
        // Each client exports its group's max (clientGroupMaxFile); counting the exporters that
        // still answer gives the group's size, so one rule covers any number of groups.
        rule(
          "ClientGroupAtMaximum",
          `count by (group) (${GROUP_MAX_METRIC}) >= max by (group) (${GROUP_MAX_METRIC})`,
          "15m",
          "warning",
          "Client group {{ $labels.group }} is at its maximum",
          "The autoscaler cannot add more; raise max in the spec.",
        ),
        rule(
          "DrainHookTimingOut",
          `max by (instance) (nomad_client_allocations_running{node_scheduling_eligibility="ineligible"}) > 0`,
          // Still running work at the drain deadline: the lifecycle hook will terminate the node anyway.
          seconds(CLIENT_DRAIN_DEADLINE_SECONDS),
          "warning",
          "The drain of {{ $labels.instance }} is running out of time",
          `Ineligible with allocations for the drain deadline (${CLIENT_DRAIN_DEADLINE_SECONDS} s): the hook terminates it anyway.`,
        ),
      ],
    },
  ];
}

/** The receiver from the spec: the SNS topic, and the webhook when the spec names one. */
export function alertmanagerConfigTemplate(cluster: Cluster): Record<string, unknown> {
  const region = cluster.coreRegion;
  const webhookUrl = cluster.operations.alerts.webhookUrl;
  return {
    global: { resolve_timeout: "5m" },
    route: { receiver: "bitte", group_by: ["alertname", "cluster"], group_wait: "30s", group_interval: "5m", repeat_interval: "4h" },
    // A critical alert silences the warnings of the same cluster it explains (e.g. NodeDown → AgentDown).
    inhibit_rules: [{ source_matchers: ['severity="critical"'], target_matchers: ['severity="warning"'], equal: ["cluster", "instance"] }],
    receivers: [
      {
        name: "bitte",
        // Signed with the instance role (AWS SDK default chain); no key in the file.
        sns_configs: [
          {
            topic_arn: `arn:aws:sns:${region}:${ACCOUNT_ID_PLACEHOLDER}:${alertTopicName(cluster)}`,
            sigv4: { region },
            // Resolved notifications are on by default for SNS and webhooks.
            subject: `[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }} (${cluster.name})`,
          },
        ],
        ...(webhookUrl === undefined
          ? {}
          : { webhook_configs: [{ url: webhookUrl, http_config: { authorization: { type: "Bearer", credentials_file: ALERTING_PATHS.webhookTokenFile } } }] }),
      },
    ],
  };
}

/** vmalert's command line: rules, datasource, notifier, and ALERTS series written back for Grafana. */
export function vmalertFlags(ctx: NodeContext): string[] {
  const vm = `http://${ctx.privateIp}:${PORTS.victoriaMetrics}`;
  return [
    `-rule=${ALERTING_PATHS.rules}`,
    `-datasource.url=${vm}`,
    `-remoteWrite.url=${vm}`,
    `-notifier.url=http://127.0.0.1:${PORTS.alertmanager}`,
    `-httpListenAddr=127.0.0.1:${PORTS.vmalert}`,
    "-evaluationInterval=30s",
    `-external.label=cluster=${ctx.cluster.name}`,
  ];
}

/** Alertmanager's command line: local only, no HA gossip (one monitoring node). */
export function alertmanagerFlags(): string[] {
  return [
    `--config.file=${ALERTING_PATHS.alertmanagerConfig}`,
    `--storage.path=${ALERTING_PATHS.alertmanagerData}`,
    `--web.listen-address=127.0.0.1:${PORTS.alertmanager}`,
    "--cluster.listen-address=",
  ];
}

/** Grafana shows the alert state through an Alertmanager data source. */
export function grafanaAlertingDatasource(): Record<string, unknown> {
  return {
    apiVersion: 1,
    datasources: [
      { name: "Alertmanager", uid: "alertmanager", type: "alertmanager", access: "proxy", url: `http://127.0.0.1:${PORTS.alertmanager}`, jsonData: { implementation: "prometheus" }, editable: false },
    ],
  };
}

/** Packages the monitoring node needs for alerting (Ubuntu's; vmalert ships in victoria-metrics). */
export const ALERTING_PACKAGES = Object.freeze(["prometheus-alertmanager"]);

/** Units the monitoring node enables for alerting. */
export const ALERTING_UNITS = Object.freeze(["vmalert", "prometheus-alertmanager"]);

/** The client's textfile-collector file naming its group and the group's max (for ClientGroupAtMaximum). */
export function clientGroupMaxFile(ctx: NodeContext): NodeFile[] {
  const group = ctx.cluster.clientGroups.find((g) => g.region === ctx.region && g.nodeClass === ctx.nodeClass);
  if (!group) return [];
  const labels = `group="${group.name}",datacenter="${group.region}",node_class="${group.nodeClass}"`;
  const content = [
    `# HELP ${GROUP_MAX_METRIC} The max size of this client's auto-scaling group, from the cluster spec.`,
    `# TYPE ${GROUP_MAX_METRIC} gauge`,
    `${GROUP_MAX_METRIC}{${labels}} ${group.max}`,
    "",
  ].join("\n");
  return [{ path: `${TEXTFILE_DIR}/bitte_client_group.prom`, content, permissions: "0644", owner: "root:root" }];
}

/** Every alerting file of the monitoring node. */
export function alertingFiles(ctx: NodeContext, yaml: (v: unknown) => string): NodeFile[] {
  const root = (path: string, content: string, permissions = "0644", owner = "root:root"): NodeFile => ({ path, content, permissions, owner });
  const env = [
    `BITTE_SSM_PREFIX=${JSON.stringify(ctx.cluster.ssmPrefix)}`,
    `BITTE_SSM_REGION=${JSON.stringify(ctx.cluster.coreRegion)}`,
    `BITTE_WEBHOOK=${ctx.cluster.operations.alerts.webhookUrl === undefined ? "0" : "1"}`,
    `BITTE_WEBHOOK_PARAMETER=${JSON.stringify(WEBHOOK_TOKEN_PARAMETER)}`,
    `BITTE_ALERTMANAGER_TEMPLATE=${ALERTING_PATHS.alertmanagerTemplate}`,
    `BITTE_ALERTMANAGER_CONFIG=${ALERTING_PATHS.alertmanagerConfig}`,
    `BITTE_WEBHOOK_TOKEN_FILE=${ALERTING_PATHS.webhookTokenFile}`,
    "BITTE_ALERTMANAGER_USER=prometheus",
    "",
  ].join("\n");
  // The package's unit is replaced; `+` runs the config step as root (it reads SSM and IMDS).
  const alertmanagerUnit = serviceUnit({
    description: "Prometheus Alertmanager",
    user: "prometheus",
    execStart: `/usr/bin/prometheus-alertmanager ${alertmanagerFlags().join(" ")}`,
    execReload: "/bin/kill -HUP $MAINPID",
    readWritePaths: [ALERTING_PATHS.alertmanagerData],
  }).replace("[Service]\n", `[Service]\nEnvironmentFile=/etc/bitte/alerting.env\nExecStartPre=+${ALERTING_PATHS.configScript}\n`);
  return [
    root(ALERTING_PATHS.rules, yaml({ groups: alertRules(ctx.cluster) })),
    root(ALERTING_PATHS.alertmanagerTemplate, yaml(alertmanagerConfigTemplate(ctx.cluster))),
    root("/etc/bitte/alerting.env", env),
    root(ALERTING_PATHS.configScript, shippedScript(asset("scripts/bitte-alertmanager-config.sh")), "0755"),
    root("/etc/systemd/system/prometheus-alertmanager.service", alertmanagerUnit),
    root(
      "/etc/systemd/system/vmalert.service",
      serviceUnit({ description: "vmalert (VictoriaMetrics alerting rules)", user: "victoriametrics", execStart: `/usr/bin/vmalert ${vmalertFlags(ctx).join(" ")}`, execReload: "/bin/kill -HUP $MAINPID", after: ["victoria-metrics.service", "prometheus-alertmanager.service"] }),
    ),
    root(ALERTING_PATHS.grafanaDatasource, yaml(grafanaAlertingDatasource())),
  ];
}
