/**
 * Where a cluster's files live in the project directory: its synthesized output (one directory per
 * cluster) and, with the local backend, its state files (one per cluster and stack). Two clusters
 * never share either: a shared state file would make one cluster's deploy plan to replace the
 * other's resources, and a shared output directory shares Terraform's working directory
 * (`.terraform/`, with its backend configuration) between them.
 */
import { basename, dirname, resolve } from "node:path";
import type { StackId } from "./base";

/** The cluster `npx cdktf synth` builds without `BITTE_CLUSTER`. */
export const DEFAULT_CLUSTER = "example";

/** cdktf.json's `output`: where the cdktf CLI reads the manifest unless given `--output`. */
export const DEFAULT_SYNTH_DIR = "cdktf.out";

/**
 * A cluster's output directory, relative to the project directory: `cdktf.out` for the default
 * cluster (what `npx cdktf synth` writes), `cdktf.out-<name>` for every other one. It is a direct
 * child of the project directory, so local state paths relative to `<dir>/stacks/<id>` hold.
 */
export function synthDir(clusterName: string): string {
  return clusterName === DEFAULT_CLUSTER ? DEFAULT_SYNTH_DIR : `${DEFAULT_SYNTH_DIR}-${clusterName}`;
}

/** A local-backend state file, relative to the project directory. */
export function localStateFile(clusterName: string, stackId: StackId): string {
  return `terraform.${clusterName}.${stackId}.tfstate`;
}

/** The state file of the layout before per-cluster state (one cluster per checkout). */
export function legacyLocalStateFile(stackId: StackId): string {
  return `terraform.${stackId}.tfstate`;
}

/**
 * Refuses to synthesize a cluster into another cluster's output directory. Only directories
 * directly in the project directory named like an output directory are checked, so tests and
 * `bitte deployer-policy` may synthesize anywhere else.
 */
export function checkOutdir(clusterName: string, outdir: string, projectDir: string): void {
  const dir = resolve(projectDir, outdir);
  const name = basename(dir);
  if (dirname(dir) !== resolve(projectDir) || !name.startsWith(DEFAULT_SYNTH_DIR)) return;
  const expected = synthDir(clusterName);
  if (name === expected) return;
  throw new Error(
    `Cluster ${clusterName} synthesizes into ${expected}/, not ${name}/ (one output directory per cluster, so two clusters never share Terraform's working directory). ` +
      `Pass it to cdktf: \`BITTE_CLUSTER=${clusterName} npx cdktf <synth|deploy|diff> --output ${expected} …\`, or use \`npx bitte deploy --cluster ${clusterName}\`.`,
  );
}

/** The cdktf command line that synthesizes a cluster where the app accepts it. */
export function cdktfCommand(clusterName: string, verb: "synth" | "deploy" | "diff", stack?: string): string {
  const env = clusterName === DEFAULT_CLUSTER ? "" : `BITTE_CLUSTER=${clusterName} `;
  const output = clusterName === DEFAULT_CLUSTER ? "" : ` --output ${synthDir(clusterName)}`;
  return `${env}npx cdktf ${verb}${stack ? ` ${stack}` : ""}${output}`;
}
