import type { NodeRole } from "./types";

/**
 * The bootstrap protocol's SSM parameters, relative to `cluster.ssmPrefix`, and who may touch
 * them. The IAM policies of the stacks are generated from `ssmAccess`, so a role reads only what
 * it needs and only core nodes (and the monitoring node, for Grafana's password) write.
 */
export const SSM_PARAMETERS = Object.freeze({
  /** CA certificate and key in one bundle, so they always match. Core only. */
  ca: "tls/ca",
  /** The CA certificate alone, for every role. */
  caCert: "tls/ca-cert",
  /** Certificate and key shared by the Nomad clients (client.global.nomad). */
  nomadClientTls: "nomad/client-tls",
  consulGossipKey: "consul/gossip-key",
  nomadGossipKey: "nomad/gossip-key",
  consulManagementToken: "consul/management-token",
  nomadManagementToken: "nomad/management-token",
  consulAgentToken: "consul/agent-token",
  consulDnsToken: "consul/dns-token",
  /** Consul token of the Nomad agents (servers and clients). */
  consulNomadToken: "consul/nomad-token",
  /** Consul token of Vault's service registration. */
  consulVaultToken: "consul/vault-token",
  /** Consul token of VictoriaMetrics' service discovery and scrapes. */
  consulMonitoringToken: "consul/monitoring-token",
  vaultInitLock: "vault/init-lock",
  vaultRecoveryKeys: "vault/recovery-keys",
  vaultRootToken: "vault/root-token",
  grafanaAdminPassword: "grafana/admin-password",
  /** Bearer token of the spec's alert webhook: written by an operator, read by the monitoring node. */
  alertsWebhookToken: "alerts/webhook-token",
});

export interface SsmAccess {
  /** Parameter names relative to the cluster's prefix, readable (with decryption). */
  readonly read: readonly string[];
  /** Parameter names the role creates (create-only `PutParameter`). */
  readonly write: readonly string[];
}

const P = SSM_PARAMETERS;
const MEMBER_READ = [P.caCert, P.consulGossipKey, P.consulAgentToken, P.consulDnsToken];
/** Core nodes create everything of the core protocol and read it back. */
const CORE_PARAMETERS = [
  P.ca, P.caCert, P.nomadClientTls, P.consulGossipKey, P.nomadGossipKey, P.consulManagementToken, P.nomadManagementToken,
  P.consulAgentToken, P.consulDnsToken, P.consulNomadToken, P.consulVaultToken, P.consulMonitoringToken, P.vaultInitLock,
];

/** Least-privilege SSM access of a role, for the IAM policies of the stacks. */
export function ssmAccess(role: NodeRole): SsmAccess {
  switch (role) {
    case "core":
      // Vault's recovery keys and root token are written once and read only by an operator.
      return { read: [...CORE_PARAMETERS], write: [...CORE_PARAMETERS, P.vaultRecoveryKeys, P.vaultRootToken] };
    case "client":
      return { read: [...MEMBER_READ, P.nomadClientTls, P.consulNomadToken], write: [] };
    case "monitoring":
      return { read: [...MEMBER_READ, P.consulMonitoringToken, P.grafanaAdminPassword, P.alertsWebhookToken], write: [P.grafanaAdminPassword] };
    case "routing":
      return { read: [...MEMBER_READ], write: [] };
  }
}
