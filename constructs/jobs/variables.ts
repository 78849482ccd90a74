/**
 * The HCL2 variables Bitte supplies to every job from the cluster spec, so job files stay
 * cluster-independent. A job receives only the ones it declares (the Nomad provider parses job
 * files strictly: an undeclared variable is an error).
 */
import type { Cluster } from "../../clusters/spec";
import { labeledBlocks, toVarValue, typeExpression, type HclBody, type VarValue } from "./hcl";

/** Names and meaning of the variables a job file may declare to receive from the spec. */
export const SUPPLIED_VARIABLES = {
  /** `list(string)`: every region with Nomad clients (Nomad datacenter = region), table order. */
  datacenters: "list(string)",
  /** `string`: the core region, the Nomad datacenter of clients there. */
  core_datacenter: "string",
  /** `list(string)`: the Nomad node classes of the cluster's client groups. */
  node_classes: "list(string)",
  /** `string`: the cluster domain; public routes serve `<host>.<domain>`. */
  domain: "string",
  /** `string`: the cluster name. */
  cluster: "string",
} as const;

export type SuppliedVariable = keyof typeof SUPPLIED_VARIABLES;

/** Nomad datacenters with clients: the regions of the client groups, in the cluster's region order. */
export function clientDatacenters(cluster: Cluster): string[] {
  const used = new Set(cluster.clientGroups.map((g) => g.region));
  return cluster.regions.map((r) => r.name).filter((r) => used.has(r));
}

/** The values Bitte supplies for `cluster`. */
export function suppliedVariables(cluster: Cluster): Readonly<Record<SuppliedVariable, VarValue>> {
  return {
    datacenters: clientDatacenters(cluster),
    core_datacenter: cluster.coreRegion,
    node_classes: [...new Set(cluster.clientGroups.map((g) => g.nodeClass))],
    domain: cluster.domain,
    cluster: cluster.name,
  };
}

/** A `variable "<name>" { type, default }` block of a job file. */
export interface DeclaredVariable {
  readonly name: string;
  /** The type constraint without spaces, e.g. `list(string)`; undefined when not written. */
  readonly type?: string;
  /** The default as a string or string list; undefined when absent or of another shape. */
  readonly default?: VarValue;
  /** Whether the block has a `default` attribute at all. */
  readonly hasDefault: boolean;
}

export function declaredVariables(file: HclBody): DeclaredVariable[] {
  return labeledBlocks(file, "variable").map(([name, body]) => ({
    name,
    type: typeExpression(body.type),
    default: toVarValue(body.default),
    hasDefault: "default" in body,
  }));
}

/** Whether a declared type constraint takes a value of the supplied variable's kind. */
export function typeAccepts(declared: string | undefined, supplied: VarValue): boolean {
  // Nomad reads a supplied value as a string literal for `string` or no type, else as an HCL expression.
  if (typeof supplied === "string") return declared === undefined || declared === "string";
  return declared !== undefined && /^((list|set)\((string|any)\)|any)$/.test(declared);
}

/** A value as the Nomad provider's `hcl2.vars` takes it: strings as is, lists as HCL (JSON) lists. */
export function serializeVar(value: VarValue): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}
