/**
 * Names the `bitte` command shares with the stacks and the bootstrap protocol. Keep every such
 * name here, so a rename on either side is one edit.
 */
import type { Cluster } from "../clusters/spec/types";
import { SSM_PARAMETERS } from "../constructs/node-config/ssm";

/** Where `cdktf synth` writes a cluster, relative to the project directory (one directory per cluster). */
export { cdktfCommand, synthDir } from "../stacks/layout";

/** The stack whose `aws_instance` resources are the core nodes. */
export const CORE_STACK = "core";

/** Instance tags every stack sets (the contract `bitte info` and `bitte ssh` read). */
export const TAGS = { cluster: "Cluster", name: "Name", role: "Role", nodeClass: "NodeClass" } as const;

/** Instance roles, in the order `bitte info` shows them. */
export const ROLES = ["core", "monitoring", "routing", "client"] as const;
export type Role = (typeof ROLES)[number];

/** Bootstrap tokens the first boot stores as SSM SecureStrings, and the variable each goes in. */
export interface TokenParameter {
  readonly service: "consul" | "nomad" | "vault";
  /** Parameter name below the cluster's `ssmPrefix`. */
  readonly suffix: string;
  /** Environment variable the providers and CLIs read the token from. */
  readonly env: string;
  /** Environment variable of the service's address. */
  readonly addrEnv: string;
}

export const TOKEN_PARAMETERS: readonly TokenParameter[] = [
  // The names the first boot writes (constructs/node-config/ssm.ts).
  { service: "consul", suffix: `/${SSM_PARAMETERS.consulManagementToken}`, env: "CONSUL_HTTP_TOKEN", addrEnv: "CONSUL_HTTP_ADDR" },
  { service: "nomad", suffix: `/${SSM_PARAMETERS.nomadManagementToken}`, env: "NOMAD_TOKEN", addrEnv: "NOMAD_ADDR" },
  { service: "vault", suffix: `/${SSM_PARAMETERS.vaultRootToken}`, env: "VAULT_TOKEN", addrEnv: "VAULT_ADDR" },
];

/** Auto-scaling group of a client group. */
export function clientGroupAsgName(cluster: Cluster, group: string): string {
  return `bitte-${cluster.name}-${group}`;
}

/** Auto-scaling group of the routing nodes. */
export function routingAsgName(cluster: Cluster): string {
  return `bitte-${cluster.name}-routing`;
}

/** Name tag of a client group's instances. */
export function clientInstanceName(cluster: Cluster, group: string): string {
  return `${cluster.name}-${group}`;
}

/** Prefix of IAM roles, instance profiles and policies the stacks create, when they do not say. */
export function iamNamePrefix(cluster: Cluster): string {
  return `bitte-${cluster.name}-`;
}
