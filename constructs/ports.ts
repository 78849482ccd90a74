/**
 * Every port Bitte's nodes listen on, in one place: the node configuration renderers bind to
 * them and the security-group rule catalogue opens them.
 */
export const PORTS = Object.freeze({
  consulServerRpc: 8300,
  consulSerfLan: 8301,
  consulHttp: 8500, // localhost only
  consulHttps: 8501,
  consulGrpcTls: 8503,
  consulDns: 8600,
  nomadHttp: 4646,
  nomadRpc: 4647,
  nomadSerf: 4648,
  vaultApi: 8200,
  vaultCluster: 8201,
  nodeExporter: 9100,
  promtail: 9080,
  victoriaMetrics: 8428,
  vmalert: 8880, // localhost only
  alertmanager: 9093, // localhost only
  grafana: 3000,
  loki: 3100,
  haproxyHttp: 8080, // the ALB's target port on the routing nodes
  haproxyStats: 8404, // localhost only
  haproxyMetrics: 8405, // Prometheus exporter, scraped by the monitoring node
});

/**
 * Nomad's dynamic port range on clients: allocations bind here and HAProxy reaches them.
 * Nomad's defaults (`min_dynamic_port`, `max_dynamic_port`).
 */
export const NOMAD_DYNAMIC_PORTS = Object.freeze({ from: 20000, to: 32000 });

