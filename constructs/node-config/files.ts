import { bootstrapKeyEnvironment } from "../hashistack-bootstrap/keys";
import { PORTS } from "../ports";
import { asset, shippedBootstrapScript, shippedPython, shippedScript } from "./assets";
import { consulConfig, consulServices } from "./consul";
import { consulLoginsOf } from "../policy/node-identity";
import { firstBootConsulAcl } from "./consul-acl";
import { CONSUL_TOKEN_PATHS, consulTokenFiles } from "./consul-token";
import { SSM_PARAMETERS } from "./ssm";
import { alertingFiles, ALERTING_UNITS, clientGroupMaxFile } from "./alerting";
import { resolveNode } from "./context";
import { dockerDaemonConfig, resolvedDropIn } from "./dns";
import { haproxyConfig } from "./haproxy";
import { IMDS_GUARD, imdsGuardRules, imdsGuardUnit } from "./imds-guard";
import { VAULT } from "../policy/names";
import { NODE_PKI_PERMITTED_DOMAINS } from "../policy/vault-node-pki";
import { NOMAD_CERT_PATHS, NOMAD_CERT_UNITS, nomadCertFiles } from "./nomad-cert";
import { CLIENT_DRAIN_DEADLINE_SECONDS, CLIENT_DRAIN_GRACE_SECONDS, nomadConfig } from "./nomad";
import { grafanaDashboardProvider, grafanaDatasources, lokiConfig, promtailConfig, RETENTION, scrapeConfig } from "./observability";
import { PATHS } from "./paths";
import { snapshotFiles, SNAPSHOT_UNITS, TEXTFILE_DIR } from "./snapshots";
import { bootstrapUnit, dropIn, serviceUnit } from "./systemd";
import type { NodeContext, NodeFile, NodeUserDataProps } from "./types";
import { vaultConfig } from "./vault";
import { yamlText } from "./yaml-text";

/** Dashboard files shipped in `dashboards/`, by file name. */
export const DASHBOARD_FILES = Object.freeze(["nodes.json", "consul.json", "nomad.json", "vault.json"]);

const json = (value: unknown): string => JSON.stringify(value, null, 1) + "\n";
const yaml = yamlText;

function file(path: string, content: string, permissions = "0644", owner = "root:root"): NodeFile {
  return { path, content, permissions, owner };
}

/** The non-secret environment of the bootstrap script. */
function bootstrapEnv(ctx: NodeContext): string {
  const services: Record<string, string> = { core: SNAPSHOT_UNITS.join(" "), client: ["docker nomad", ...NOMAD_CERT_UNITS].join(" "), monitoring: ["victoria-metrics loki grafana-server", ...ALERTING_UNITS].join(" "), routing: "haproxy" };
  const vars: Record<string, string | undefined> = {
    BITTE_ROLE: ctx.role,
    BITTE_NODE_NAME: ctx.nodeName,
    BITTE_CLUSTER: ctx.cluster.name,
    BITTE_SSM_PREFIX: ctx.cluster.ssmPrefix,
    // Parameters live in the core region; clients elsewhere read them across regions.
    BITTE_SSM_REGION: ctx.cluster.coreRegion,
    // The keys of the bootstrap parameters, from HashiStackBootstrap's table.
    ...bootstrapKeyEnvironment(ctx.cluster),
    BITTE_DATACENTER: ctx.consulDatacenter,
    BITTE_PRIVATE_IP: ctx.privateIp,
    BITTE_TLS_DIR: PATHS.tlsDir,
    BITTE_SECRETS_DIR: PATHS.secretsDir,
    BITTE_STATE_DIR: PATHS.stateDir,
    BITTE_CONSUL_DIR: PATHS.consulDir,
    BITTE_NOMAD_DIR: PATHS.nomadDir,
    BITTE_VAULT_DIR: PATHS.vaultDir,
    BITTE_CONSUL_USER: "consul",
    // The Nomad client runs as root (it drives Docker and mounts task directories).
    BITTE_NOMAD_USER: ctx.isServer ? "nomad" : "root",
    BITTE_VAULT_USER: "vault",
    BITTE_SERVICES: services[ctx.role],
    BITTE_CONSUL_ACL: ctx.isServer ? PATHS.consulAcl : undefined,
    // The Vault init-lock owner asks its peers before it initialises (their fixed addresses).
    // Clients issue their own Nomad certificate from Vault before Nomad starts (nomad-cert.ts).
    BITTE_NOMAD_CERT_SCRIPT: ctx.role === "client" ? NOMAD_CERT_PATHS.script : undefined,
    // The monitoring node's agent token, made for it by the cores (consul-acl.ts).
    BITTE_CONSUL_AGENT_TOKEN_PARAMETER: ctx.role === "monitoring" ? SSM_PARAMETERS.consulMonitoringAgentToken : undefined,
    // Clients and routing nodes log in for their own Consul tokens (consul-token.ts).
    BITTE_CONSUL_TOKEN_SCRIPT: consulLoginsOf(ctx.role).length > 0 ? CONSUL_TOKEN_PATHS.script : undefined,
    // The init-lock owner sets up Vault's node PKI: its mount and the names its CA may sign.
    BITTE_NODE_PKI_SCRIPT: ctx.role === "core" ? PATHS.nodePkiScript : undefined,
    BITTE_NODE_PKI_PATH: ctx.role === "core" ? VAULT.nodePkiPath : undefined,
    BITTE_NODE_PKI_DOMAINS: ctx.role === "core" ? NODE_PKI_PERMITTED_DOMAINS.join(" ") : undefined,
    BITTE_CORE_PEERS: ctx.role === "core" ? ctx.cluster.coreNodes.filter((n) => n.name !== ctx.nodeName).map((n) => n.privateIp).join(" ") : undefined,
  };
  return Object.entries(vars)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join("\n") + "\n";
}

const unitPath = (name: string) => `/etc/systemd/system/${name}.service`;
const dropInPath = (name: string) => `/etc/systemd/system/${name}.service.d/bitte.conf`;

function commonFiles(ctx: NodeContext): NodeFile[] {
  const dataDir = ctx.isServer ? PATHS.consulData : PATHS.consulDataNoVolume;
  return [
    file(PATHS.bootstrapScript, shippedBootstrapScript(asset("scripts/bitte-bootstrap.sh"), ctx.role), "0755"),
    file(PATHS.dataVolumeScript, shippedScript(asset("scripts/bitte-data-volume.sh")), "0755"),
    file(PATHS.nodeEnvScript, shippedScript(asset("scripts/bitte-node-env.sh")), "0755"),
    file(PATHS.awsClient, shippedPython(asset("aws/bitte-aws.py")), "0755"),
    file(PATHS.bootstrapEnv, bootstrapEnv(ctx)),
    file(unitPath("bitte-bootstrap"), bootstrapUnit()),
    file(`${PATHS.consulDir}/consul.json`, json(consulConfig(ctx))),
    file(`${PATHS.consulDir}/services.json`, json(consulServices(ctx))),
    file(
      unitPath("consul"),
      serviceUnit({ description: "Consul agent", user: "consul", type: "notify", execStart: `/usr/bin/consul agent -config-dir=${PATHS.consulDir}`, execReload: "/bin/kill -HUP $MAINPID", killSignal: "SIGTERM", readWritePaths: [dataDir] }),
    ),
    file("/etc/systemd/resolved.conf.d/consul.conf", resolvedDropIn(ctx.role === "client")),
    file(
      dropInPath("prometheus-node-exporter"),
      dropIn({ environmentFiles: [PATHS.nodeEnv], execStart: `/usr/bin/prometheus-node-exporter --web.listen-address=\${BITTE_PRIVATE_IP}:${PORTS.nodeExporter} --collector.textfile.directory=${TEXTFILE_DIR}` }),
    ),
    file(PATHS.promtailConfig, yaml(promtailConfig(ctx))),
    ...consulTokenFiles(ctx),
    file(dropInPath("promtail"), dropIn({ supplementaryGroups: "systemd-journal", readWritePaths: [PATHS.promtailData] })),
  ];
}

function coreFiles(ctx: NodeContext): NodeFile[] {
  return [
    file(PATHS.consulAcl, json(firstBootConsulAcl(ctx))),
    file(PATHS.nodePkiScript, shippedScript(asset("scripts/bitte-node-pki.sh")), "0755"),
    file(`${PATHS.nomadDir}/nomad.json`, json(nomadConfig(ctx))),
    file(
      unitPath("nomad"),
      serviceUnit({ description: "Nomad server", user: "nomad", execStart: `/usr/bin/nomad agent -config=${PATHS.nomadDir}`, execReload: "/bin/kill -HUP $MAINPID", killSignal: "SIGINT", environmentFiles: [`-${PATHS.secretsDir}/nomad.env`], after: ["consul.service"], readWritePaths: [PATHS.nomadData] }),
    ),
    file(`${PATHS.vaultDir}/vault.json`, json(vaultConfig(ctx))),
    file(
      unitPath("vault"),
      serviceUnit({ description: "Vault server", user: "vault", type: "notify", execStart: `/usr/bin/vault server -config=${PATHS.vaultDir}`, execReload: "/bin/kill -HUP $MAINPID", killSignal: "SIGINT", environmentFiles: [`-${PATHS.secretsDir}/vault.env`], after: ["consul.service"], readWritePaths: [PATHS.vaultData] }),
    ),
    ...snapshotFiles(ctx),
  ];
}

function clientFiles(ctx: NodeContext): NodeFile[] {
  return [
    file(`${PATHS.nomadDir}/nomad.json`, json(nomadConfig(ctx))),
    file(
      unitPath("nomad"),
      // Stopping the client drains it: SIGTERM triggers `leave_on_terminate` and so
      // `drain_on_shutdown`; only the agent gets it (it stops its executors and plugins itself),
      // and systemd waits out the drain deadline instead of killing the agent after 90 s.
      serviceUnit({
        description: "Nomad client",
        user: "root",
        execStart: `/usr/bin/nomad agent -config=${PATHS.nomadDir}`,
        execReload: "/bin/kill -HUP $MAINPID",
        killSignal: "SIGTERM",
        killMode: "process",
        timeoutStopSec: CLIENT_DRAIN_DEADLINE_SECONDS + CLIENT_DRAIN_GRACE_SECONDS,
        environmentFiles: [`-${PATHS.secretsDir}/nomad.env`],
        after: ["consul.service", "docker.service", `${IMDS_GUARD.unit}.service`],
        sandbox: false,
      }),
    ),
    file("/etc/docker/daemon.json", json(dockerDaemonConfig())),
    file(IMDS_GUARD.rules, imdsGuardRules()),
    file(unitPath(IMDS_GUARD.unit), imdsGuardUnit()),
    ...clientGroupMaxFile(ctx),
    ...nomadCertFiles(ctx),
  ];
}

function monitoringFiles(ctx: NodeContext): NodeFile[] {
  // Compact JSON: Grafana reads it the same, and user data must fit EC2's 16 KiB.
  const dashboards = DASHBOARD_FILES.map((name) => file(`${PATHS.grafanaDashboards}/${name}`, JSON.stringify(JSON.parse(asset(`dashboards/${name}`))) + "\n"));
  const vmFlags = [
    `-storageDataPath=${PATHS.victoriaMetricsData}`,
    `-retentionPeriod=${RETENTION.metrics}`,
    `-httpListenAddr=${ctx.privateIp}:${PORTS.victoriaMetrics}`,
    `-promscrape.config=${PATHS.victoriaMetricsConfig}`,
  ];
  return [
    file(PATHS.victoriaMetricsConfig, yaml(scrapeConfig())),
    file(
      unitPath("victoria-metrics"),
      serviceUnit({ description: "VictoriaMetrics", user: "victoriametrics", execStart: `/usr/bin/victoria-metrics ${vmFlags.join(" ")}`, environmentFiles: [`-${PATHS.secretsDir}/victoria-metrics.env`], after: ["consul.service"], readWritePaths: [PATHS.victoriaMetricsData] }),
    ),
    file(PATHS.lokiConfig, yaml(lokiConfig(ctx))),
    file(dropInPath("loki"), dropIn({ readWritePaths: [PATHS.lokiData] })),
    file(`${PATHS.grafanaProvisioning}/datasources/bitte.yaml`, yaml(grafanaDatasources(ctx))),
    file(`${PATHS.grafanaProvisioning}/dashboards/bitte.yaml`, yaml(grafanaDashboardProvider())),
    ...dashboards,
    file(
      "/etc/default/grafana-server.bitte",
      [
        `GF_SERVER_HTTP_ADDR=${ctx.privateIp}`,
        `GF_SERVER_HTTP_PORT=${PORTS.grafana}`,
        `GF_SERVER_ROOT_URL=https://monitoring.${ctx.cluster.domain}/`,
        `GF_PATHS_DATA=${PATHS.grafanaData}`,
        `GF_PATHS_PROVISIONING=${PATHS.grafanaProvisioning}`,
        "GF_ANALYTICS_REPORTING_ENABLED=false",
        "GF_USERS_ALLOW_SIGN_UP=false",
        "GF_AUTH_ANONYMOUS_ENABLED=false",
        "GF_SECURITY_COOKIE_SECURE=true",
        "",
      ].join("\n"),
    ),
    file(dropInPath("grafana-server"), dropIn({ environmentFiles: ["/etc/default/grafana-server.bitte", `-${PATHS.secretsDir}/grafana.env`], readWritePaths: [PATHS.grafanaData, "/var/log/grafana"] })),
    ...alertingFiles(ctx, yaml),
  ];
}

function routingFiles(ctx: NodeContext): NodeFile[] {
  return [
    file(PATHS.haproxyConfig, haproxyConfig(ctx.cluster) + "\n"),
    file(dropInPath("haproxy"), dropIn({ environmentFiles: [PATHS.nodeEnv], readWritePaths: ["/run"] })),
  ];
}

/** Every file a node of the given role gets, in a stable order. */
export function renderNodeFiles(props: NodeUserDataProps): readonly NodeFile[] {
  const ctx = resolveNode(props);
  const roleFiles = { core: coreFiles, client: clientFiles, monitoring: monitoringFiles, routing: routingFiles }[ctx.role](ctx);
  return [...commonFiles(ctx), ...roleFiles];
}
