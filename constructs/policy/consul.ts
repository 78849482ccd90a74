/**
 * Consul ACL policy documents as data, and their renderer. Each document says what one kind of
 * token may do; the `ConsulAcl` construct turns them into policies and roles.
 *
 * Node writes are granted here only to the core servers' shared agent token; every other agent's
 * token carries a node identity for its own node (a login token, or on the monitoring node a
 * first-boot token made with `-node-identity`), so it cannot rewrite another node's catalog entry,
 * and its service writes are its role's own services (README, security).
 */
import { renderHcl, type HclBlock } from "./hcl";
import { CONSUL_POLICIES, consulAgentPolicy, consulTaskRole, type NodeRole } from "./names";

export type ConsulAccess = "deny" | "read" | "list" | "write";
/** Resources with exact (`service "web"`) and prefix (`service_prefix "web-"`) rules. */
export type ConsulRuleKind = "agent" | "event" | "identity" | "key" | "node" | "query" | "service" | "session";
/** Resources with one cluster-wide access level (`acl = "read"`). */
export type ConsulGlobal = "acl" | "operator" | "mesh" | "peering" | "keyring";

export interface ConsulRule {
  readonly kind: ConsulRuleKind;
  /** `prefix` matches every name starting with `name`; `""` with `prefix` matches everything. */
  readonly match: "exact" | "prefix";
  readonly name: string;
  readonly policy: ConsulAccess;
  /**
   * Access to the service's intentions (service rules only).
   * @default what `policy` implies
   */
  readonly intentions?: ConsulAccess;
}

export interface ConsulPolicyDoc {
  readonly name: string;
  readonly description: string;
  readonly rules: readonly ConsulRule[];
  /** @default none */
  readonly global?: Readonly<Partial<Record<ConsulGlobal, ConsulAccess>>>;
}

const prefix = (kind: ConsulRuleKind, name: string, policy: ConsulAccess, intentions?: ConsulAccess): ConsulRule => ({ kind, match: "prefix", name, policy, intentions });
const exact = (kind: ConsulRuleKind, name: string, policy: ConsulAccess): ConsulRule => ({ kind, match: "exact", name, policy });
const all = (kind: ConsulRuleKind, policy: ConsulAccess): ConsulRule => prefix(kind, "", policy);

/** Renders a document's rules in Consul's ACL rule language. */
export function renderConsulRules(doc: ConsulPolicyDoc): string {
  const blocks: HclBlock[] = doc.rules.map((r) => ({
    type: r.match === "prefix" ? `${r.kind}_prefix` : r.kind,
    labels: [r.name],
    body: { attributes: { policy: r.policy, intentions: r.intentions } },
  }));
  return renderHcl({ attributes: { ...doc.global }, blocks });
}

/** What the policies are built from. */
export interface ConsulPolicyInputs {
  /** Nomad namespaces, `default` included. */
  readonly namespaces: readonly string[];
  /** Consul services that public routes point at. */
  readonly routedServices: readonly string[];
  /**
   * Services each role's agents register from their config files: the role's agent token may
   * write these and no others.
   * @default none on any role
   */
  readonly agentServices?: Readonly<Partial<Record<NodeRole, readonly string[]>>>;
  /**
   * Services only servers and infrastructure nodes register (Vault, the Nomad servers, every
   * config-file service): the Nomad clients' token may not register them, so a workload host
   * cannot draw their traffic.
   * @default []
   */
  readonly infrastructureServices?: readonly string[];
}

/** Roles whose nodes hold no management token: each agent's token has a node identity. */
export const MEMBER_ROLES = Object.freeze(["client", "monitoring", "routing"] as const);

/**
 * Policies the first boot creates, before any Terraform can reach Consul: the tokens it makes for
 * agents, DNS, Nomad, Vault and monitoring need them. The first boot owns these (it renders them
 * from `consulPolicies` into a file the bootstrap reads); the `consul` stack creates every other
 * policy and none of these, so no name is created twice.
 */
export const FIRST_BOOT_CONSUL_POLICIES: readonly string[] = Object.freeze([
  CONSUL_POLICIES.agent,
  consulAgentPolicy("monitoring"),
  CONSUL_POLICIES.dns,
  CONSUL_POLICIES.nomadServer,
  CONSUL_POLICIES.vault,
  CONSUL_POLICIES.monitoring,
]);

/** Every Consul policy of the cluster, in a stable order. */
export function consulPolicies(inputs: ConsulPolicyInputs): readonly ConsulPolicyDoc[] {
  const discovery = [all("node", "read"), all("service", "read")];
  const ownServices = (role: NodeRole): ConsulRule[] => [...new Set(inputs.agentServices?.[role] ?? [])].sort().map((s) => exact("service", s, "write"));
  return [
    {
      name: CONSUL_POLICIES.agent,
      description: "The core servers' first-boot agent token, shared by the three cores (each holds the management token): node write, the core services.",
      rules: [all("node", "write"), all("service", "read"), ...ownServices("core")],
    },
    ...MEMBER_ROLES.map(
      (role): ConsulPolicyDoc => ({
        name: consulAgentPolicy(role),
        description: `Consul agents of ${role} nodes: catalog reads, the ${role} services; the node's own write comes from its token's node identity.`,
        rules: [...discovery, ...ownServices(role)],
      }),
    ),
    {
      name: CONSUL_POLICIES.dns,
      description: "Agents' DNS token: resolve nodes, services and prepared queries.",
      rules: [...discovery, all("query", "read")],
    },
    {
      // HashiCorp's documented minimum for Nomad servers: service writes for Connect config
      // entries and deregistration, acl write to revoke service identity tokens, mesh write for
      // mesh config entries. The node write is narrowed to the node identity.
      name: CONSUL_POLICIES.nomadServer,
      description: "Nomad servers: register Nomad, manage mesh config entries, revoke service identity tokens.",
      rules: [all("agent", "read"), all("node", "read"), all("service", "write")],
      global: { acl: "write", mesh: "write" },
    },
    {
      // Nomad clients deregister workload services with their own token, whatever the service
      // name (hashicorp/nomad#24166), so service write stays a prefix rule; exact read rules,
      // which Consul prefers over any prefix, keep the infrastructure services out of reach.
      name: CONSUL_POLICIES.nomadClient,
      description: "Nomad clients: register Nomad and workload services, never an infrastructure service; no ACL writes.",
      rules: [all("agent", "read"), all("node", "read"), all("service", "write"), ...[...new Set(inputs.infrastructureServices ?? [])].sort().map((s) => exact("service", s, "read"))],
    },
    {
      name: CONSUL_POLICIES.vault,
      description: "Vault servers: register and health-check the vault service.",
      rules: [all("agent", "read"), all("node", "read"), exact("service", "vault", "write")],
    },
    {
      name: CONSUL_POLICIES.routing,
      description: "Routing nodes' DNS token: HAProxy resolves only the services public routes point at.",
      rules: [all("node", "read"), ...[...new Set(inputs.routedServices)].sort().map((s) => exact("service", s, "read"))],
    },
    {
      name: CONSUL_POLICIES.monitoring,
      description: "Monitoring: service discovery for scraping, agent metrics, raft and autopilot health.",
      rules: [all("agent", "read"), ...discovery],
      global: { operator: "read" },
    },
    {
      name: CONSUL_POLICIES.operator,
      description: "Operators: full control of the cluster.",
      rules: (["agent", "event", "identity", "key", "node", "query", "service", "session"] as const).map((k) =>
        k === "service" ? prefix(k, "", "write", "write") : all(k, "write"),
      ),
      global: { acl: "write", operator: "write", mesh: "write", peering: "write", keyring: "write" },
    },
    {
      name: CONSUL_POLICIES.developer,
      description: "Developers: read the catalog, KV and intentions; write KV under their Nomad namespaces' prefixes.",
      rules: [
        all("node", "read"),
        prefix("service", "", "read", "read"),
        all("query", "read"),
        all("key", "read"),
        ...inputs.namespaces.map((ns) => prefix("key", `${ns}/`, "write")),
      ],
      global: { mesh: "read", operator: "read" },
    },
    ...inputs.namespaces.map(
      (ns): ConsulPolicyDoc => ({
        name: consulTaskRole(ns),
        description: `Tasks of Nomad namespace ${ns} (template blocks): discover services, read KV under ${ns}/.`,
        rules: [...discovery, prefix("key", `${ns}/`, "read")],
      }),
    ),
  ];
}
