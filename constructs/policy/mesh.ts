/**
 * Service mesh intentions as data: who may call whom through Consul Connect. The mesh denies
 * everything not listed here.
 */

export interface MeshIntention {
  /** Destination service. */
  readonly destination: string;
  /** Source services allowed to call it. */
  readonly allowFrom: readonly string[];
}

/**
 * What the example jobs (jobs/) need: the Connect demo's dashboard calls its API. The `web`
 * service is not in the mesh: routing nodes' HAProxy reaches it directly through Consul DNS, and
 * intentions only govern mesh traffic.
 */
export const EXAMPLE_INTENTIONS: readonly MeshIntention[] = Object.freeze([{ destination: "count-api", allowFrom: ["count-dashboard"] }]);

/** Checks a list of intentions; returns problems, empty when fine. */
export function intentionProblems(intentions: readonly MeshIntention[]): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const i of intentions) {
    if (i.destination === "*" || i.allowFrom.includes("*")) problems.push(`intention ${i.allowFrom.join(",")} → ${i.destination} uses "*": allow named services only; the mesh default is deny`);
    if (seen.has(i.destination)) problems.push(`intentions for ${i.destination} are listed twice: merge their allowFrom lists`);
    if (i.allowFrom.length === 0) problems.push(`intention for ${i.destination} allows no source: remove it or list the callers`);
    seen.add(i.destination);
  }
  return problems;
}
