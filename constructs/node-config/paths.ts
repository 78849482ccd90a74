/**
 * Where things live on a node. One place, because the renderers, the scripts' environment file
 * and the tests all refer to these.
 */

/** Mount point of the separate EBS data volume: raft, Vault, Nomad, metrics and log data. */
export const DATA_VOLUME_MOUNT = "/data";

export const PATHS = Object.freeze({
  bitteDir: "/etc/bitte",
  /** CA certificate (public), the server certificate of core nodes. */
  tlsDir: "/etc/bitte/tls",
  caFile: "/etc/bitte/tls/ca.pem",
  serverCert: "/etc/bitte/tls/server.pem",
  /** Root-only environment files with tokens, written by the bootstrap script. */
  secretsDir: "/etc/bitte/secrets",
  /** `BITTE_PRIVATE_IP=…`, written at boot from IMDSv2. */
  nodeEnv: "/etc/bitte/node.env",
  bootstrapEnv: "/etc/bitte/bootstrap.env",
  /** Core only: the Consul policies and token policies the first boot creates (not secret). */
  consulAcl: "/etc/bitte/consul-acl.json",
  bootstrapScript: "/usr/local/sbin/bitte-bootstrap",
  dataVolumeScript: "/usr/local/sbin/bitte-data-volume",
  nodeEnvScript: "/usr/local/sbin/bitte-node-env",
  /** Core only: sets up Vault's node PKI with the root token (bitte-bootstrap's init window). */
  nodePkiScript: "/usr/local/sbin/bitte-node-pki",
  /** The nodes' AWS client (SSM, Auto Scaling), on PATH for the bootstrap and the drain command. */
  awsClient: "/usr/local/bin/bitte-aws",
  /** Vault's init output lives here only until it is stored; root-only, on the data volume. */
  stateDir: `${DATA_VOLUME_MOUNT}/bitte`,
  consulDir: "/etc/consul.d",
  nomadDir: "/etc/nomad.d",
  vaultDir: "/etc/vault.d",
  consulData: `${DATA_VOLUME_MOUNT}/consul`,
  consulDataNoVolume: "/var/lib/consul",
  nomadData: `${DATA_VOLUME_MOUNT}/nomad`,
  vaultData: `${DATA_VOLUME_MOUNT}/vault`,
  dockerData: `${DATA_VOLUME_MOUNT}/docker`,
  victoriaMetricsData: `${DATA_VOLUME_MOUNT}/victoria-metrics`,
  lokiData: `${DATA_VOLUME_MOUNT}/loki`,
  grafanaData: `${DATA_VOLUME_MOUNT}/grafana`,
  grafanaProvisioning: "/etc/grafana/provisioning",
  grafanaDashboards: "/etc/grafana/dashboards",
  victoriaMetricsConfig: "/etc/victoria-metrics/scrape.yml",
  lokiConfig: "/etc/loki/config.yml",
  promtailConfig: "/etc/promtail/config.yml",
  /** Promtail's state (journal positions); the user data makes it, owned by promtail. */
  promtailData: "/var/lib/promtail",
  promtailPositions: "/var/lib/promtail/positions.yaml",
  haproxyConfig: "/etc/haproxy/haproxy.cfg",
  /** Ubuntu's containernetworking-plugins package. */
  cniBin: "/usr/lib/cni",
});
