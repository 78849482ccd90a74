/**
 * Vault policy documents as data, and their renderer.
 */
import { renderHcl } from "./hcl";
import { NODE_ROLES, VAULT, vaultNodePolicy, type NodeRole } from "./names";
import { consulLoginsOf } from "./node-identity";

export type VaultCapability = "create" | "read" | "update" | "patch" | "delete" | "list" | "sudo" | "deny";

export interface VaultPathRule {
  readonly path: string;
  readonly capabilities: readonly VaultCapability[];
}

export interface VaultPolicyDoc {
  readonly name: string;
  readonly paths: readonly VaultPathRule[];
}

/** Renders a document in Vault's policy language. */
export function renderVaultPolicy(doc: VaultPolicyDoc): string {
  return renderHcl({ blocks: doc.paths.map((p) => ({ type: "path", labels: [p.path], body: { attributes: { capabilities: p.capabilities } } })) });
}

const RW: readonly VaultCapability[] = ["create", "read", "update", "patch", "delete", "list"];

/**
 * The policy of every Nomad workload: read its own secrets at
 * `secret/data/<nomad namespace>/<job>` and below, list its namespace. `accessor` is the JWT auth
 * backend's mount accessor (a Terraform reference at synth time); the claims come from the
 * role's `claim_mappings`.
 */
export function workloadPolicy(accessor: string): VaultPolicyDoc {
  const meta = (claim: string): string => `{{identity.entity.aliases.${accessor}.metadata.${claim}}}`;
  const ns = meta("nomad_namespace");
  const job = meta("nomad_job_id");
  const kv = VAULT.kvMount;
  return {
    name: VAULT.workloadPolicy,
    paths: [
      { path: `${kv}/data/${ns}/${job}`, capabilities: ["read"] },
      { path: `${kv}/data/${ns}/${job}/*`, capabilities: ["read"] },
      { path: `${kv}/metadata/${ns}/${job}`, capabilities: ["read"] },
      { path: `${kv}/metadata/${ns}/${job}/*`, capabilities: ["read", "list"] },
      // Workload certificates from the intermediate CA.
      { path: `${VAULT.pkiPath}/issue/${VAULT.pkiRole}`, capabilities: ["update"] },
    ],
  };
}

/** Operators: everything, including `sys/` (sudo). */
export function vaultOperatorPolicy(): VaultPolicyDoc {
  return { name: VAULT.operatorPolicy, paths: [{ path: "*", capabilities: [...RW, "sudo"] }] };
}

/** Developers: manage application secrets of their Nomad namespaces; read the PKI chain. */
export function vaultDeveloperPolicy(namespaces: readonly string[]): VaultPolicyDoc {
  const kv = VAULT.kvMount;
  return {
    name: VAULT.developerPolicy,
    paths: [
      { path: `${kv}/metadata/`, capabilities: ["list"] },
      ...namespaces.flatMap((ns): VaultPathRule[] => [
        { path: `${kv}/data/${ns}/*`, capabilities: RW },
        { path: `${kv}/metadata/${ns}/*`, capabilities: ["read", "list", "delete"] },
        { path: `${kv}/delete/${ns}/*`, capabilities: ["update"] },
        { path: `${kv}/undelete/${ns}/*`, capabilities: ["update"] },
      ]),
      { path: `${VAULT.pkiPath}/cert/ca_chain`, capabilities: ["read"] },
      { path: "sys/mounts", capabilities: ["read"] },
    ],
  };
}

/**
 * Nodes logging in with their instance role (AWS auth): read their role's node secrets at
 * `infra/data/<role>/…`. The monitoring node also reads Vault's metrics.
 */
export function vaultNodePolicyDoc(role: NodeRole): VaultPolicyDoc {
  return {
    name: vaultNodePolicy(role),
    paths: [
      { path: `${VAULT.infraMount}/data/${role}/*`, capabilities: ["read"] },
      { path: `${VAULT.infraMount}/metadata/${role}/*`, capabilities: ["read", "list"] },
      ...(role === "monitoring" ? [{ path: "sys/metrics", capabilities: ["read"] as VaultCapability[] }] : []),
      // bitte-snapshot on the core nodes takes raft snapshots (constructs/node-config/snapshots.ts).
      ...(role === "core" ? [{ path: "sys/storage/raft/snapshot", capabilities: ["read"] as VaultCapability[] }] : []),
      // bitte-nomad-cert on the clients issues the node's own certificate (VaultNodePki); the role
      // templates the allowed name on the login's instance id. Nothing else on the mount.
      ...(role === "client" ? [{ path: `${VAULT.nodePkiPath}/issue/${VAULT.nomadClientPkiRole}`, capabilities: ["update"] as VaultCapability[] }] : []),
      // bitte-consul-token: the identity tokens of this role's Consul logins, and no other role's.
      ...consulLoginsOf(role).map((l) => ({ path: `identity/oidc/token/${l.vaultRole}`, capabilities: ["read"] as VaultCapability[] })),
    ],
  };
}

/** Every node policy, in NODE_ROLES order. */
export function vaultNodePolicies(): readonly VaultPolicyDoc[] {
  return NODE_ROLES.map(vaultNodePolicyDoc);
}
