/**
 * The security-group rule catalogue: which role may reach which port of which other role. Pure
 * data; the core and clients stacks turn it into one SG-to-SG rule per entry, and into CIDR
 * rules for peered regions, where security-group references cannot cross regions.
 */
import { NOMAD_DYNAMIC_PORTS, PORTS } from "../ports";

/** A role with a security group of its own. */
export type SgRole = "core" | "monitoring" | "routing" | "client" | "alb";

/** Every role that runs a Consul agent. */
export const AGENT_ROLES: readonly SgRole[] = ["core", "monitoring", "routing", "client"];

export interface PortSpec {
  readonly port: number;
  /** Last port of a range. @default port */
  readonly toPort?: number;
  readonly protocol: "tcp" | "udp";
  /** What the port is for (becomes the rule's description). */
  readonly what: string;
}

export interface IngressRule extends PortSpec {
  /** The role whose group gets the rule. */
  readonly to: SgRole;
  /** The role allowed in. */
  readonly from: SgRole;
}

const tcp = (port: number, what: string, toPort?: number): PortSpec => ({ port, toPort, protocol: "tcp", what });
const udp = (port: number, what: string): PortSpec => ({ port, protocol: "udp", what });

const GOSSIP = [tcp(PORTS.consulSerfLan, "Consul LAN gossip"), udp(PORTS.consulSerfLan, "Consul LAN gossip")];
const DYNAMIC = tcp(NOMAD_DYNAMIC_PORTS.from, "Nomad allocation ports", NOMAD_DYNAMIC_PORTS.to);
/** What every agent needs of the servers. */
const AGENT_TO_SERVER = [
  tcp(PORTS.consulServerRpc, "Consul server RPC"),
  tcp(PORTS.consulGrpcTls, "Consul gRPC (TLS)"),
  tcp(PORTS.consulDns, "Consul DNS"),
  udp(PORTS.consulDns, "Consul DNS"),
];

function rules(to: SgRole, from: readonly SgRole[], ports: readonly PortSpec[]): IngressRule[] {
  return from.flatMap((f) => ports.map((p) => ({ ...p, to, from: f })));
}

/** SG-to-SG rules inside the core region. */
export function ingressRules(): IngressRule[] {
  return [
    // Consul LAN gossip is all-to-all between agents.
    ...AGENT_ROLES.flatMap((to) => rules(to, AGENT_ROLES, GOSSIP)),
    ...rules("core", AGENT_ROLES, AGENT_TO_SERVER),
    ...rules("core", ["core"], [
      tcp(PORTS.nomadRpc, "Nomad server RPC"),
      tcp(PORTS.nomadSerf, "Nomad server gossip"),
      udp(PORTS.nomadSerf, "Nomad server gossip"),
      tcp(PORTS.vaultApi, "Vault API (request forwarding)"),
      tcp(PORTS.vaultCluster, "Vault cluster (raft, forwarding)"),
    ]),
    ...rules("core", ["client"], [tcp(PORTS.nomadRpc, "Nomad client RPC"), tcp(PORTS.vaultApi, "Vault API for workloads")]),
    // The admin endpoints, through HAProxy; and the monitoring node's scrapes.
    ...rules("core", ["routing", "monitoring"], [tcp(PORTS.consulHttps, "Consul HTTPS API"), tcp(PORTS.nomadHttp, "Nomad HTTPS API"), tcp(PORTS.vaultApi, "Vault API")]),
    ...rules("client", ["monitoring"], [tcp(PORTS.nomadHttp, "Nomad client metrics")]),
    ...AGENT_ROLES.flatMap((to) => rules(to, ["monitoring"], [tcp(PORTS.nodeExporter, "node exporter"), tcp(PORTS.promtail, "Promtail metrics")])),
    ...rules("routing", ["monitoring"], [tcp(PORTS.haproxyMetrics, "HAProxy metrics")]),
    ...rules("monitoring", AGENT_ROLES, [tcp(PORTS.loki, "Loki push (Promtail)")]),
    ...rules("monitoring", ["routing"], [tcp(PORTS.grafana, "Grafana through HAProxy")]),
    // The Nomad Autoscaler (a job on core-region clients) reads metrics through the Prometheus API.
    ...rules("monitoring", ["client"], [tcp(PORTS.victoriaMetrics, "VictoriaMetrics query API for the Nomad Autoscaler")]),
    // Only the load balancer reaches HAProxy; HAProxy reaches the services' instances.
    ...rules("routing", ["alb"], [tcp(PORTS.haproxyHttp, "HAProxy ingress from the load balancer")]),
    ...rules("client", ["routing", "client"], [DYNAMIC]),
  ];
}

/**
 * What client nodes in another (peered) region may reach of the core region's roles, by CIDR,
 * and what the core region's roles may reach of them: the same agent traffic as above.
 */
export function remoteClientIngress(): ReadonlyArray<{ readonly to: SgRole } & PortSpec> {
  const to = (role: SgRole, ports: readonly PortSpec[]) => ports.map((p) => ({ ...p, to: role }));
  return [
    ...to("core", [...GOSSIP, ...AGENT_TO_SERVER, tcp(PORTS.nomadRpc, "Nomad client RPC"), tcp(PORTS.vaultApi, "Vault API for workloads")]),
    ...to("monitoring", [...GOSSIP, tcp(PORTS.loki, "Loki push (Promtail)")]),
    ...to("routing", GOSSIP),
    ...to("client", [...GOSSIP, DYNAMIC]),
  ];
}

/**
 * The ports a client's security group admits from any of `roles`, each port once: the catalogue's
 * rules whose target is `client`. A client region outside the core region admits these by CIDR
 * (security-group references cannot cross regions): from the core VPC what every role there needs
 * of clients, from another client region what clients need of each other.
 */
export function clientPortsFrom(roles: readonly SgRole[]): PortSpec[] {
  const ports = new Map<string, PortSpec>();
  for (const r of ingressRules()) {
    if (r.to !== "client" || !roles.includes(r.from)) continue;
    const key = `${r.protocol}/${r.port}-${r.toPort ?? r.port}`;
    if (!ports.has(key)) ports.set(key, { port: r.port, toPort: r.toPort, protocol: r.protocol, what: r.what });
  }
  return [...ports.values()];
}

/** Public ingress: the load balancer's HTTP (redirected) and HTTPS, and nothing else. */
export const PUBLIC_INGRESS: readonly PortSpec[] = [tcp(80, "HTTP (redirects to HTTPS)"), tcp(443, "HTTPS")];
