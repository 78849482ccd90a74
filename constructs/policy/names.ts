/**
 * Names of the ACL policies, roles, auth methods and mounts the `consul` stack creates. They are a
 * contract: the first-boot bootstrap (HashiStackBootstrap) and the node configuration refer to
 * them by name, and renaming one breaks every token or agent that uses it.
 */

/** Consul ACL policies; each has a role of the same name. */
export const CONSUL_POLICIES = Object.freeze({
  /**
   * The core servers' `agent` token, made at first boot and shared by the three cores only (each
   * holds the management token anyway). Every other node has its own (`consulAgentPolicy`).
   */
  agent: "bitte-agent",
  /** Every agent's `dns` token, except on routing nodes. */
  dns: "bitte-consul-dns",
  /** Nomad servers' `consul.token` (add `-node-identity`). */
  nomadServer: "bitte-nomad-server",
  /** Nomad clients' `consul.token`, each client's own by login: workloads, never ACLs or an infrastructure service. */
  nomadClient: "bitte-nomad-client",
  /** Vault's `service_registration "consul"` token. */
  vault: "bitte-vault",
  /** Routing nodes' `dns` token: HAProxy resolves only the routed services. */
  routing: "bitte-routing",
  /** The monitoring node's scrape token (VictoriaMetrics `consul_sd_configs` and `/v1/agent/metrics`). */
  monitoring: "bitte-monitoring",
  /** Human operators: everything. */
  operator: "bitte-operator",
  /** Human developers: read-mostly. */
  developer: "bitte-developer",
});

/**
 * The `agent` token policy of a non-core role's Consul agents: catalog reads and the role's own
 * config-file services. The node's own write comes from the token's node identity: a login token
 * on clients and routing nodes (NODE_CONSUL_LOGINS), a first-boot token on the monitoring node.
 */
export function consulAgentPolicy(role: "client" | "monitoring" | "routing"): string {
  return `bitte-consul-agent-${role}`;
}

/** Auth method client and routing nodes log in with, by a Vault identity token naming their instance. */
export const CONSUL_NODE_AUTH_METHOD = "bitte-nodes";

/** Consul role of the tasks of one Nomad namespace, chosen by the workload binding rule. */
export function consulTaskRole(namespace: string): string {
  return `bitte-nomad-tasks-${namespace}`;
}

/** Name of the auth method Nomad uses by default (`consul.service_auth_method`, `task_auth_method`). */
export const CONSUL_WORKLOAD_AUTH_METHOD = "nomad-workloads";

/** Vault names. */
export const VAULT = Object.freeze({
  /** KV v2 mount for application secrets: `secret/data/<nomad namespace>/<job>/…`. */
  kvMount: "secret",
  /** KV v2 mount for node secrets: `infra/data/<role>/…`, unreachable from workload policies. */
  infraMount: "infra",
  /** Nomad's default `vault.jwt_auth_backend_path`. */
  jwtPath: "jwt-nomad",
  /** JWT role for Nomad workloads, the auth method's default role. */
  workloadRole: "nomad-workloads",
  workloadPolicy: "nomad-workloads",
  awsPath: "aws",
  rootPkiPath: "pki",
  pkiPath: "pki_int",
  pkiRole: "workloads",
  /**
   * PKI mount of the nodes' own certificates. Its issuing CA is an intermediate whose key Vault
   * generates and keeps, signed by the Bitte CA on the Vault init-lock owner at first boot
   * (bitte-bootstrap `vault_node_pki`), so Nomad's servers, which trust only the Bitte CA, accept
   * what it issues, and Vault never holds the Bitte CA's key.
   */
  nodePkiPath: "pki_nodes",
  /** Role on `nodePkiPath` that issues each Nomad client `<instance id>.client.global.nomad`. */
  nomadClientPkiRole: "nomad-client",
  /** Vault identity token key that signs the nodes' Consul login tokens (NODE_CONSUL_LOGINS). */
  nodeOidcKey: "bitte-nodes",
  operatorPolicy: "bitte-operator",
  developerPolicy: "bitte-developer",
  /** Where the file audit device writes on the core nodes. */
  auditFile: "/var/log/vault/audit.log",
});

/** The node roles with an IAM role each (`bitte-<cluster>-<role>`) and a Vault AWS auth role. */
export const NODE_ROLES = Object.freeze(["core", "client", "monitoring", "routing"] as const);
export type NodeRole = (typeof NODE_ROLES)[number];

/**
 * Vault AWS auth role of the Nomad clients of one region. Vault infers the EC2 instance from the
 * login's role session name (`inferred_entity_type = "ec2_instance"`) in exactly one region per
 * role, so each client region has its own role; the instance id then templates the client's
 * certificate name (VaultNodePki).
 */
export function vaultClientAuthRole(region: string): string {
  return `client-${region}`;
}

/** Vault policy of the nodes of one role. */
export function vaultNodePolicy(role: NodeRole): string {
  return `bitte-node-${role}`;
}

/** Nomad ACL policies. `anonymous` is the name Nomad applies to requests without a token. */
export const NOMAD_POLICIES = Object.freeze({
  anonymous: "anonymous",
  operator: "operator",
  developer: "developer",
  readOnly: "read-only",
});
