import type { Cluster } from "../../clusters/spec";
import { PORTS } from "../ports";
import { PATHS } from "./paths";
import { VAULT_TLS_SERVER_NAME } from "./vault";

/** Answered by HAProxy itself: the load balancer's target-group health check. */
export const ROUTING_HEALTH_PATH = "/haproxy-health";
/** Nomad's workload-identity public keys: Vault and Consul fetch them from outside the admin networks. */
export const NOMAD_JWKS_PATH = "/.well-known/jwks.json";

/** Instances per backend HAProxy keeps slots for; Consul DNS fills them. */
const SLOTS = 10;

/** An HTTP backend found through a Consul DNS SRV record. */
interface Backend {
  readonly name: string;
  readonly host: string;
  /** SRV name, e.g. `_web._tcp.service.consul`. */
  readonly srv: string;
  readonly slots: number;
  /** Health check path. */
  readonly check: string;
  /** TLS to the backend, verified against the cluster CA with this name. */
  readonly verifyHost?: string;
  /** Only from the admin networks. */
  readonly admin: boolean;
}

/**
 * The admin endpoints: Consul, Nomad, Vault (active node) and Grafana. Each verifies a name only
 * the servers' certificates carry (bitte-bootstrap issues them from the Bitte CA); an agent's
 * certificate names localhost, so `verifyhost localhost` would accept any node registered as
 * consul-https.
 */
function adminBackends(datacenter: string): Backend[] {
  return [
    { name: "admin_consul", host: "consul", srv: "_consul-https._tcp.service.consul", slots: 3, check: "/v1/status/leader", verifyHost: `server.${datacenter}.consul`, admin: true },
    { name: "admin_nomad", host: "nomad", srv: "_nomad._http.service.consul", slots: 3, check: "/v1/agent/health?type=server", verifyHost: "server.global.nomad", admin: true },
    { name: "admin_vault", host: "vault", srv: "_vault._active.service.consul", slots: 1, check: "/v1/sys/health", verifyHost: `active.${VAULT_TLS_SERVER_NAME}`, admin: true },
    { name: "admin_monitoring", host: "monitoring", srv: "_grafana._tcp.service.consul", slots: 1, check: "/api/health", admin: true },
  ];
}

function routeBackends(cluster: Cluster): Backend[] {
  return cluster.routes.map((r) => ({ name: `route_${r.host}`, host: r.host, srv: `_${r.service}._tcp.service.consul`, slots: SLOTS, check: "/", admin: false }));
}

function backendSection(b: Backend): string[] {
  const tls = b.verifyHost ? ` ssl verify required ca-file ${PATHS.caFile} verifyhost ${b.verifyHost} sni str(${b.verifyHost})` : "";
  return [
    `backend ${b.name}`,
    `    option httpchk GET ${b.check}`,
    "    http-check expect status 200-399",
    `    server-template ${b.host.replace(/[^a-z0-9]/g, "_")} ${b.slots} ${b.srv} resolvers consul resolve-prefer ipv4 init-addr none check${tls}`,
    "",
  ];
}

/**
 * HAProxy behind the ALB: one frontend on the ALB's target port, a backend per public route and
 * per admin endpoint, instances from Consul DNS SRV records through the local agent. The stats
 * page answers on localhost only. `${BITTE_PRIVATE_IP}` comes from the unit's environment.
 */
export function haproxyConfig(cluster: Cluster): string {
  const backends = [...adminBackends(cluster.coreRegion), ...routeBackends(cluster)];
  // No admin networks in the spec: the admin endpoints answer nobody.
  const adminAllowed = cluster.adminCidrs.length > 0;
  const lines = [
    "global",
    "    log stdout format raw local0",
    "    maxconn 20000",
    "    user haproxy",
    "    group haproxy",
    "    ssl-default-server-options ssl-min-ver TLSv1.2",
    "",
    "defaults",
    "    mode http",
    "    log global",
    "    option httplog",
    "    option forwardfor",
    "    timeout connect 5s",
    "    timeout client 60s",
    "    timeout server 60s",
    "    timeout http-request 10s",
    "    default-server inter 5s fall 3 rise 2",
    "",
    "resolvers consul",
    `    nameserver consul 127.0.0.1:${PORTS.consulDns}`,
    "    accepted_payload_size 8192",
    "    resolve_retries 3",
    "    timeout resolve 1s",
    "    timeout retry 1s",
    "    hold valid 10s",
    "    hold nx 5s",
    "    hold obsolete 30s",
    "",
    "frontend stats",
    `    bind 127.0.0.1:${PORTS.haproxyStats}`,
    "    stats enable",
    "    stats uri /",
    "    stats refresh 10s",
    "",
    "frontend metrics",
    `    bind "\${BITTE_PRIVATE_IP}:${PORTS.haproxyMetrics}"`,
    "    http-request use-service prometheus-exporter if { path /metrics }",
    "    http-request deny",
    "",
    "frontend ingress",
    `    bind "\${BITTE_PRIVATE_IP}:${PORTS.haproxyHttp}"`,
    `    monitor-uri ${ROUTING_HEALTH_PATH}`,
    "    http-request set-var(txn.host) req.hdr(host),field(1,:),lower",
    `    acl public_keys path ${NOMAD_JWKS_PATH}`,
    // The ALB adds the client's address to X-Forwarded-For; its last entry is the real client.
    ...(adminAllowed ? [`    acl from_admin req.hdr_ip(x-forwarded-for,-1) ${cluster.adminCidrs.join(" ")}`] : []),
    ...backends.map((b) => `    acl host_${b.name} var(txn.host) -m str ${b.host}.${cluster.domain}`),
    // Public keys are public: the JWKS path of the Nomad host is the one admin path open to all.
    ...backends.filter((b) => b.admin).map((b) => `    http-request deny deny_status 403 if host_${b.name}${adminAllowed ? " !from_admin" : ""}${b.host === "nomad" ? " !public_keys" : ""}`),
    ...backends.map((b) => `    use_backend ${b.name} if host_${b.name}`),
    "    default_backend no_route",
    "",
    "backend no_route",
    "    http-request deny deny_status 404",
    "",
    ...backends.flatMap(backendSection),
  ];
  return lines.join("\n");
}
