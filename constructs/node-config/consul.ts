import { PORTS } from "../ports";
import { autoJoin } from "./join";
import { PATHS } from "./paths";
import type { NodeContext, NodeRole } from "./types";

/** Consul's go-sockaddr template for the instance's private address (auto-scaling roles). */
const PRIVATE_IP_TEMPLATE = "{{ GetPrivateIP }}";

/** Consul services registered from config files, per role; metrics are found through them. */
export const CONSUL_SERVICES: Readonly<Record<NodeRole, readonly { readonly name: string; readonly port: number; readonly tags?: readonly string[] }[]>> = Object.freeze({
  core: [{ name: "node-exporter", port: PORTS.nodeExporter }, { name: "consul-https", port: PORTS.consulHttps }],
  client: [{ name: "node-exporter", port: PORTS.nodeExporter }],
  monitoring: [
    { name: "node-exporter", port: PORTS.nodeExporter },
    { name: "victoria-metrics", port: PORTS.victoriaMetrics },
    { name: "grafana", port: PORTS.grafana },
    { name: "loki", port: PORTS.loki },
  ],
  routing: [{ name: "node-exporter", port: PORTS.nodeExporter }, { name: "haproxy-metrics", port: PORTS.haproxyMetrics }],
});

/** Every config-file service of the cluster. */
export function allConsulServiceNames(): string[] {
  return [...new Set(Object.values(CONSUL_SERVICES).flatMap((s) => s.map((x) => x.name)))].sort();
}

/** Services the servers register themselves (Nomad's default server service name, Vault's service registration). */
export const SERVER_SERVICES = Object.freeze(["nomad", "vault"]);

/** Who registers which service, for the Consul policies: each role's own, and those no workload may register. */
export function consulServiceInputs(): { agentServices: Record<NodeRole, string[]>; infrastructureServices: string[] } {
  const agentServices = Object.fromEntries(Object.entries(CONSUL_SERVICES).map(([role, s]) => [role, s.map((x) => x.name)])) as Record<NodeRole, string[]>;
  return { agentServices, infrastructureServices: [...new Set([...allConsulServiceNames(), ...SERVER_SERVICES])].sort() };
}

/**
 * The agent configuration. Secrets (gossip key, agent tokens) are not here: the bootstrap script
 * writes them to `gossip.json` and `tokens.json` next to it, readable by consul only.
 */
export function consulConfig(ctx: NodeContext): Record<string, unknown> {
  const ip = ctx.privateIp ?? PRIVATE_IP_TEMPLATE;
  const common = {
    datacenter: ctx.consulDatacenter,
    ...(ctx.nodeName ? { node_name: ctx.nodeName } : {}),
    data_dir: ctx.isServer ? PATHS.consulData : PATHS.consulDataNoVolume,
    bind_addr: ip,
    advertise_addr: ip,
    // The plain HTTP API and DNS answer on localhost only; HTTPS also on the private address,
    // for HAProxy's admin endpoint and the metrics scrapes.
    client_addr: "127.0.0.1",
    addresses: { http: "127.0.0.1", https: `127.0.0.1 ${ip}`, grpc_tls: ctx.isServer ? `127.0.0.1 ${ip}` : "127.0.0.1", dns: "127.0.0.1" },
    ports: { http: PORTS.consulHttp, https: PORTS.consulHttps, grpc: -1, grpc_tls: PORTS.consulGrpcTls, dns: PORTS.consulDns },
    retry_join: [autoJoin(ctx.cluster)],
    encrypt_verify_incoming: true,
    encrypt_verify_outgoing: true,
    tls: {
      defaults: {
        ca_file: PATHS.caFile,
        ...(ctx.isServer ? { cert_file: PATHS.serverCert, key_file: `${PATHS.consulDir}/tls/server-key.pem` } : {}),
        verify_incoming: true,
        verify_outgoing: true,
      },
      internal_rpc: { verify_server_hostname: true },
      // Browsers, HAProxy and scrapers hold no client certificate; ACL tokens guard the API.
      https: { verify_incoming: false },
      // Envoy sidecars connect to the local agent without a client certificate.
      grpc: { verify_incoming: false },
    },
    acl: { enabled: true, default_policy: "deny", down_policy: "extend-cache", enable_token_persistence: true },
    connect: { enabled: true },
    telemetry: { prometheus_retention_time: "60s", disable_hostname: true },
    log_level: "INFO",
  };
  if (ctx.isServer) {
    return {
      ...common,
      server: true,
      bootstrap_expect: 3,
      performance: { raft_multiplier: 1 },
      autopilot: { cleanup_dead_servers: true, min_quorum: 3, last_contact_threshold: "200ms", server_stabilization_time: "10s" },
      auto_encrypt: { allow_tls: true },
      ui_config: { enabled: true },
    };
  }
  return { ...common, server: false, auto_encrypt: { tls: true }, leave_on_terminate: true };
}

/** Service definitions of the role; fixed nodes also get health checks on their known address. */
export function consulServices(ctx: NodeContext): Record<string, unknown> {
  return {
    services: CONSUL_SERVICES[ctx.role].map((s) => ({
      name: s.name,
      port: s.port,
      tags: [ctx.role],
      ...(ctx.privateIp ? { checks: [{ name: `${s.name} port`, tcp: `${ctx.privateIp}:${s.port}`, interval: "15s", timeout: "3s" }] } : {}),
    })),
  };
}
