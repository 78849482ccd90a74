import { PORTS } from "../ports";
import { PATHS } from "./paths";
import { VAULT_TLS_SERVER_NAME } from "./vault";
import type { NodeContext } from "./types";

/** How long metrics and logs are kept on the monitoring node. */
export const RETENTION = Object.freeze({ metrics: "90d", logsHours: 744 });

/**
 * One Consul-discovered job. The token is VictoriaMetrics' `%{CONSUL_TOKEN}` placeholder, filled
 * from the environment (a root-only file the bootstrap script writes), so the file holds no secret.
 */
function consulJob(name: string, services: readonly string[], extra: Record<string, unknown> = {}, relabel: readonly Record<string, unknown>[] = []): Record<string, unknown> {
  return {
    job_name: name,
    consul_sd_configs: [
      { server: `127.0.0.1:${PORTS.consulHttps}`, scheme: "https", token: "%{CONSUL_TOKEN}", tls_config: { ca_file: PATHS.caFile, server_name: "localhost" }, services },
    ],
    relabel_configs: [
      { source_labels: ["__meta_consul_node"], target_label: "instance" },
      { source_labels: ["__meta_consul_tags"], regex: ".*,(core|client|monitoring|routing),.*", target_label: "role" },
      ...relabel,
    ],
    ...extra,
  };
}

/** Scrapes over TLS verify the cluster CA and the name the products' certificates carry. */
function tls(serverName: string): Record<string, unknown> {
  return { scheme: "https", tls_config: { ca_file: PATHS.caFile, server_name: serverName } };
}

/** VictoriaMetrics' scrape configuration (Prometheus format), every target from Consul. */
export function scrapeConfig(): Record<string, unknown> {
  // Consul agents answer on every node; found through each node's node-exporter service.
  const toConsulAgent = [{ source_labels: ["__meta_consul_address"], replacement: `$1:${PORTS.consulHttps}`, target_label: "__address__" }];
  return {
    global: { scrape_interval: "15s", scrape_timeout: "10s" },
    scrape_configs: [
      consulJob("node", ["node-exporter"]),
      consulJob("consul", ["node-exporter"], { ...tls("localhost"), metrics_path: "/v1/agent/metrics", params: { format: ["prometheus"] }, bearer_token: "%{CONSUL_TOKEN}" }, toConsulAgent),
      consulJob("nomad", ["nomad", "nomad-client"], { ...tls("localhost"), metrics_path: "/v1/metrics", params: { format: ["prometheus"] } }, [
        { source_labels: ["__meta_consul_tags"], regex: ".*,http,.*", action: "keep" },
      ]),
      consulJob("vault", ["vault"], { ...tls(VAULT_TLS_SERVER_NAME), metrics_path: "/v1/sys/metrics", params: { format: ["prometheus"] } }),
      consulJob("haproxy", ["haproxy-metrics"]),
      consulJob("victoria-metrics", ["victoria-metrics"]),
    ],
  };
}

/** Grafana data sources: VictoriaMetrics (Prometheus API) and Loki, both on this node. */
export function grafanaDatasources(ctx: NodeContext): Record<string, unknown> {
  return {
    apiVersion: 1,
    datasources: [
      { name: "VictoriaMetrics", uid: "victoriametrics", type: "prometheus", access: "proxy", url: `http://${ctx.privateIp}:${PORTS.victoriaMetrics}`, isDefault: true, editable: false },
      { name: "Loki", uid: "loki", type: "loki", access: "proxy", url: `http://${ctx.privateIp}:${PORTS.loki}`, editable: false },
    ],
  };
}

/** Grafana dashboard provider: the JSON files shipped under PATHS.grafanaDashboards. */
export function grafanaDashboardProvider(): Record<string, unknown> {
  return {
    apiVersion: 1,
    providers: [{ name: "bitte", folder: "Bitte", type: "file", disableDeletion: true, allowUiUpdates: false, options: { path: PATHS.grafanaDashboards } }],
  };
}

/** Single-node Loki with filesystem storage on the data volume and compactor-driven retention. */
export function lokiConfig(ctx: NodeContext): Record<string, unknown> {
  const root = PATHS.lokiData;
  return {
    auth_enabled: false,
    server: { http_listen_address: ctx.privateIp, http_listen_port: PORTS.loki, grpc_listen_address: "127.0.0.1", grpc_listen_port: 9095, log_level: "info" },
    common: {
      instance_addr: "127.0.0.1",
      path_prefix: root,
      replication_factor: 1,
      ring: { kvstore: { store: "inmemory" } },
      storage: { filesystem: { chunks_directory: `${root}/chunks`, rules_directory: `${root}/rules` } },
    },
    schema_config: { configs: [{ from: "2024-01-01", store: "tsdb", object_store: "filesystem", schema: "v13", index: { prefix: "index_", period: "24h" } }] },
    limits_config: { retention_period: `${RETENTION.logsHours}h`, reject_old_samples: true, reject_old_samples_max_age: "168h" },
    compactor: { working_directory: `${root}/compactor`, retention_enabled: true, delete_request_store: "filesystem" },
    analytics: { reporting_enabled: false },
  };
}

/** Promtail ships the systemd journal to Loki with host, unit and role labels. */
export function promtailConfig(ctx: NodeContext): Record<string, unknown> {
  return {
    server: { http_listen_address: "127.0.0.1", http_listen_port: PORTS.promtail, grpc_listen_port: 0 },
    positions: { filename: PATHS.promtailPositions },
    // The monitoring node's fixed address: logs flow even while Consul is not up yet.
    clients: [{ url: `http://${ctx.cluster.monitoringNode.privateIp}:${PORTS.loki}/loki/api/v1/push` }],
    scrape_configs: [
      {
        job_name: "journal",
        journal: { max_age: "12h", labels: { job: "systemd-journal", cluster: ctx.cluster.name, role: ctx.role } },
        relabel_configs: [
          { source_labels: ["__journal__hostname"], target_label: "host" },
          { source_labels: ["__journal__systemd_unit"], target_label: "unit" },
          { source_labels: ["__journal_priority_keyword"], target_label: "level" },
        ],
      },
    ],
  };
}
