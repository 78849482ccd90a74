import { readdirSync } from "node:fs";
import { join } from "node:path";
import { formatProblem } from "./define";
import type { Cluster } from "./types";

/** The cluster directory: one `<name>.ts` (or compiled `.js`) file per cluster. */
const CLUSTERS_DIR = join(__dirname, "..");

/** Names of the clusters in `clusters/`. */
export function knownClusters(dir: string = CLUSTERS_DIR): string[] {
  return readdirSync(dir)
    .filter((f) => /^[a-z0-9-]+\.(ts|js)$/.test(f) && !f.endsWith(".d.ts"))
    .map((f) => f.replace(/\.(ts|js)$/, ""))
    .filter((name, i, all) => all.indexOf(name) === i)
    .sort();
}

/**
 * Loads `clusters/<name>.ts`, whose default export is the `defineCluster(...)` result.
 * An unknown name fails with the list of known clusters.
 */
export function loadCluster(name: string = "example", dir: string = CLUSTERS_DIR): Cluster {
  const known = knownClusters(dir);
  if (!known.includes(name)) {
    throw new Error(`Unknown cluster ${JSON.stringify(name)} (BITTE_CLUSTER). Known clusters: ${known.join(", ")}. Add clusters/${name}.ts or pick one of those.`);
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(join(dir, name)) as { default?: Cluster };
  if (!mod.default) throw new Error(`clusters/${name}.ts has no default export; export the defineCluster(...) result as default.`);
  // Quota warnings go to stderr once per load: they must be seen, but do not stop a synth.
  for (const w of mod.default.warnings ?? []) process.emitWarning(`clusters/${name}.ts: ${formatProblem(w)}`, { code: "BITTE_QUOTA" });
  return mod.default;
}
