/**
 * Nomad ACL policy documents as data, and their renderer.
 */
import { renderHcl, type HclBlock } from "./hcl";
import { NOMAD_POLICIES } from "./names";

export type NomadAccess = "deny" | "read" | "write" | "scale" | "list";

export interface NomadNamespaceRule {
  /** Namespace name or glob (`*`). */
  readonly name: string;
  /** @default no coarse policy, only `capabilities` */
  readonly policy?: NomadAccess;
  /** @default none besides what `policy` implies */
  readonly capabilities?: readonly string[];
  /** Nomad Variables path rules. @default none */
  readonly variables?: readonly { readonly path: string; readonly capabilities: readonly string[] }[];
}

export interface NomadPolicyDoc {
  readonly name: string;
  readonly description: string;
  /** @default none */
  readonly namespaces?: readonly NomadNamespaceRule[];
  /** Coarse rules on node, agent, operator, quota and plugin. @default none */
  readonly global?: Readonly<Partial<Record<"node" | "agent" | "operator" | "quota" | "plugin", NomadAccess>>>;
  /** @default none */
  readonly hostVolumes?: readonly { readonly name: string; readonly policy: NomadAccess }[];
  /** @default none */
  readonly nodePools?: readonly { readonly name: string; readonly policy: NomadAccess }[];
}

/** Renders a document in Nomad's ACL policy language. */
export function renderNomadPolicy(doc: NomadPolicyDoc): string {
  const blocks: HclBlock[] = [
    ...(doc.namespaces ?? []).map(
      (ns): HclBlock => ({
        type: "namespace",
        labels: [ns.name],
        body: {
          attributes: { policy: ns.policy, capabilities: ns.capabilities },
          blocks: ns.variables?.length
            ? [{ type: "variables", body: { blocks: ns.variables.map((v) => ({ type: "path", labels: [v.path], body: { attributes: { capabilities: v.capabilities } } })) } }]
            : [],
        },
      }),
    ),
    ...Object.entries(doc.global ?? {}).map(([type, policy]): HclBlock => ({ type, body: { attributes: { policy } } })),
    ...(doc.hostVolumes ?? []).map((h): HclBlock => ({ type: "host_volume", labels: [h.name], body: { attributes: { policy: h.policy } } })),
    ...(doc.nodePools ?? []).map((p): HclBlock => ({ type: "node_pool", labels: [p.name], body: { attributes: { policy: p.policy } } })),
  ];
  return renderHcl({ blocks });
}

/** What developers may do in their namespaces: run and inspect jobs, not exec into them. */
export const DEVELOPER_CAPABILITIES = Object.freeze([
  "list-jobs",
  "parse-job",
  "read-job",
  "submit-job",
  "dispatch-job",
  "read-logs",
  "read-fs",
  "alloc-lifecycle",
  "read-job-scaling",
  "scale-job",
  "list-scaling-policies",
  "read-scaling-policy",
  "csi-list-volume",
  "csi-read-volume",
]);

/** Every Nomad ACL policy of the cluster. */
export function nomadPolicies(inputs: { readonly developerNamespaces: readonly string[] }): readonly NomadPolicyDoc[] {
  return [
    {
      // Nomad applies the policy named "anonymous" to requests without a token. Denying
      // everything explicitly documents that the UI and API show nothing without one.
      name: NOMAD_POLICIES.anonymous,
      description: "Requests without a token: nothing.",
      namespaces: [{ name: "*", policy: "deny" }],
      global: { node: "deny", agent: "deny", operator: "deny", quota: "deny", plugin: "deny" },
      hostVolumes: [{ name: "*", policy: "deny" }],
      nodePools: [{ name: "*", policy: "deny" }],
    },
    {
      name: NOMAD_POLICIES.operator,
      description: "Operators: full control of jobs, nodes, agents and the cluster.",
      namespaces: [{ name: "*", policy: "write", variables: [{ path: "*", capabilities: ["write", "read", "destroy", "list"] }] }],
      global: { node: "write", agent: "write", operator: "write", quota: "write", plugin: "read" },
      hostVolumes: [{ name: "*", policy: "write" }],
      nodePools: [{ name: "*", policy: "write" }],
    },
    {
      name: NOMAD_POLICIES.developer,
      description: "Developers: submit, scale and inspect jobs and read their logs in their namespaces; read nodes.",
      namespaces: inputs.developerNamespaces.map((name) => ({
        name,
        capabilities: DEVELOPER_CAPABILITIES,
        variables: [{ path: "*", capabilities: ["write", "read", "destroy", "list"] }],
      })),
      global: { node: "read", plugin: "read" },
      nodePools: [{ name: "*", policy: "read" }],
    },
    {
      name: NOMAD_POLICIES.readOnly,
      description: "Read-only: see jobs, nodes, agents and cluster state; no logs, no changes.",
      namespaces: [{ name: "*", policy: "read" }],
      global: { node: "read", agent: "read", operator: "read", quota: "read", plugin: "read" },
      hostVolumes: [{ name: "*", policy: "read" }],
      nodePools: [{ name: "*", policy: "read" }],
    },
  ];
}
