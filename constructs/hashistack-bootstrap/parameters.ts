/**
 * THE table of the bootstrap protocol: every SSM parameter under `cluster.ssmPrefix`, who creates
 * it, who reads it, how it lives and which key encrypts it. The node roles' IAM statements, the
 * cluster key's and the recovery key's policies, the on-node environment and the authorization
 * test are derived from it; nothing else names a parameter.
 */
import { NODE_ROLES, type NodeRole } from "../node-config/types";

/**
 * - `create-only`: created once without overwrite; the first writer wins, everyone reads it back.
 * - `per-node`: one per node under `nodes/<node>/`; created by its writer, read by that node only.
 * - `rotated`: its writer may overwrite it (a new value replaces the old).
 */
export type ParameterKind = "create-only" | "per-node" | "rotated";

/**
 * - `cluster`: the cluster key (also Vault's seal and Nomad's keyring).
 * - `recovery`: the recovery key, which no node role may decrypt with and which Vault's seal
 *   never uses, so the recovery keys are not one more copy of what unseals Vault.
 */
export type ParameterKey = "cluster" | "recovery";

export interface BootstrapParameter {
  /** Name relative to `cluster.ssmPrefix`, without the leading slash. */
  readonly name: string;
  /**
   * The role that creates it (a core node for the protocol, the monitoring node for Grafana), or
   * `operator` for a value a person writes with their own IAM (no node role may write it).
   */
  readonly writer: NodeRole | "operator";
  /** Roles that read (and decrypt) it. Operators read through their own IAM, not through this table. */
  readonly readers: readonly NodeRole[];
  readonly kind: ParameterKind;
  readonly key: ParameterKey;
  /** What it holds and why its readers need it. */
  readonly description: string;
}

const ALL: readonly NodeRole[] = NODE_ROLES;

/** Every bootstrap parameter, by its key in `SSM_PARAMETERS`. */
export const BOOTSTRAP_PARAMETERS = Object.freeze({
  ca: { name: "tls/ca", writer: "core", readers: ["core"], kind: "create-only", key: "cluster", description: "CA certificate and key in one bundle, so they always match; core nodes sign server certificates" },
  caCert: { name: "tls/ca-cert", writer: "core", readers: ALL, kind: "create-only", key: "cluster", description: "the CA certificate alone, trusted by every node" },
  consulGossipKey: { name: "consul/gossip-key", writer: "core", readers: ALL, kind: "create-only", key: "cluster", description: "Consul's LAN gossip key, for every agent" },
  nomadGossipKey: { name: "nomad/gossip-key", writer: "core", readers: ["core"], kind: "create-only", key: "cluster", description: "Nomad's server gossip key" },
  consulManagementToken: { name: "consul/management-token", writer: "core", readers: ["core"], kind: "create-only", key: "cluster", description: "Consul's initial management token, agreed on before the ACL bootstrap" },
  nomadManagementToken: { name: "nomad/management-token", writer: "core", readers: ["core"], kind: "create-only", key: "cluster", description: "Nomad's management token, agreed on before the ACL bootstrap" },
  consulAgentToken: { name: "consul/agent-token", writer: "core", readers: ["core"], kind: "create-only", key: "cluster", description: "the core servers' Consul agent token (clients and routing nodes log in for their own: NODE_CONSUL_LOGINS)" },
  consulMonitoringAgentToken: { name: "consul/agent-token-monitoring", writer: "core", readers: ["core", "monitoring"], kind: "create-only", key: "cluster", description: "the monitoring node's Consul agent token: a node identity for its fixed name, the monitoring services only (the cores read back the winner of their race)" },
  consulDnsToken: { name: "consul/dns-token", writer: "core", readers: ALL, kind: "create-only", key: "cluster", description: "the Consul agents' DNS token" },
  consulNomadToken: { name: "consul/nomad-token", writer: "core", readers: ["core"], kind: "create-only", key: "cluster", description: "Consul token of the Nomad servers (acl write: they revoke service identity tokens); each client logs in for its own" },
  consulVaultToken: { name: "consul/vault-token", writer: "core", readers: ["core"], kind: "create-only", key: "cluster", description: "Consul token of Vault's service registration" },
  consulMonitoringToken: { name: "consul/monitoring-token", writer: "core", readers: ["core", "monitoring"], kind: "create-only", key: "cluster", description: "Consul token of VictoriaMetrics' service discovery and scrapes" },
  vaultInitLock: { name: "vault/init-lock", writer: "core", readers: ["core"], kind: "create-only", key: "cluster", description: "which core node initialises Vault: the first to create it" },
  vaultRecoveryKeys: { name: "vault/recovery-keys", writer: "core", readers: [], kind: "create-only", key: "recovery", description: "Vault's recovery keys (generate-root, rekey): written once by the initialising node, read only by operators" },
  vaultRootToken: { name: "vault/root-token", writer: "core", readers: [], kind: "create-only", key: "recovery", description: "Vault's initial root token, for the operator's first `deploy consul`; revoked after (README, security)" },
  grafanaAdminPassword: { name: "grafana/admin-password", writer: "monitoring", readers: ["monitoring"], kind: "create-only", key: "cluster", description: "Grafana's admin password, made on the monitoring node" },
  alertsWebhookToken: { name: "alerts/webhook-token", writer: "operator", readers: ["monitoring"], kind: "create-only", key: "cluster", description: "bearer token of the spec's alert webhook: an operator writes it, Alertmanager's config script on the monitoring node reads it (README, Alerts)" },
  vaultInitialized: { name: "vault/initialized", writer: "core", readers: ["core"], kind: "create-only", key: "cluster", description: "written once Vault's recovery keys and root token are stored: a rebuilt init-lock owner joins instead of initialising (it cannot read the root token itself)" },
} satisfies Record<string, BootstrapParameter>);

export type BootstrapParameterId = keyof typeof BOOTSTRAP_PARAMETERS;

/** The table as a list. */
export function bootstrapParameters(): readonly BootstrapParameter[] {
  return Object.values(BOOTSTRAP_PARAMETERS);
}

/** Parameter names by id, relative to the prefix (what the scripts and the CLI use). */
export const SSM_PARAMETERS: Readonly<Record<BootstrapParameterId, string>> = Object.freeze(
  Object.fromEntries(Object.entries(BOOTSTRAP_PARAMETERS).map(([id, p]) => [id, p.name])) as Record<BootstrapParameterId, string>,
);

export interface SsmAccess {
  /** Parameter names relative to the cluster's prefix, readable (with decryption). */
  readonly read: readonly string[];
  /** Parameter names the role creates (create-only `PutParameter`). */
  readonly write: readonly string[];
  /** Parameter names the role may overwrite (`rotated` parameters it writes). */
  readonly overwrite: readonly string[];
}

/** What a role may do with the parameters, from the table. */
export function ssmAccess(role: NodeRole): SsmAccess {
  const params = bootstrapParameters();
  return {
    read: params.filter((p) => p.readers.includes(role)).map((p) => p.name),
    write: params.filter((p) => p.writer === role).map((p) => p.name),
    overwrite: params.filter((p) => p.writer === role && p.kind === "rotated").map((p) => p.name),
  };
}

/** The table entry of a name, or a clear error. */
export function bootstrapParameter(name: string): BootstrapParameter {
  const hit = bootstrapParameters().find((p) => p.name === name);
  if (!hit) throw new Error(`${name} is not a bootstrap parameter; add it to BOOTSTRAP_PARAMETERS (constructs/hashistack-bootstrap/parameters.ts) with its writer, readers, kind and key`);
  return hit;
}
