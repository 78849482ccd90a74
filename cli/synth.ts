/**
 * Reading the synthesized Terraform JSON (`cdktf.out/stacks/<id>/cdk.tf.json`), or synthesizing
 * it in-process into a directory of our own.
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { Cluster } from "../clusters/spec/types";
import { cdktfCommand, TAGS } from "./contract";
import { CliError } from "./errors";

/** Loads a module on first use (CommonJS require, relative to this file): keeps `--help` fast. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const load = <T>(id: string): T => require(id) as T;

/** The parts of a stack's Terraform JSON we read. */
export interface TfJson {
  readonly resource?: Record<string, Record<string, Record<string, unknown>>>;
  readonly data?: Record<string, Record<string, Record<string, unknown>>>;
  readonly provider?: Record<string, ReadonlyArray<Record<string, unknown>>>;
  readonly terraform?: { readonly backend?: Record<string, Record<string, unknown>> };
}

export interface SynthesizedStack {
  readonly id: string;
  /** Directory Terraform runs in. */
  readonly dir: string;
  readonly json: TfJson;
}

/** Every stack under `<outdir>/stacks`, by id. */
export function readSynthesized(outdir: string): Map<string, SynthesizedStack> {
  const stacksDir = join(outdir, "stacks");
  if (!existsSync(stacksDir)) return new Map();
  const stacks = new Map<string, SynthesizedStack>();
  for (const id of readdirSync(stacksDir).sort()) {
    const file = join(stacksDir, id, "cdk.tf.json");
    if (!existsSync(file)) continue;
    stacks.set(id, { id, dir: join(stacksDir, id), json: JSON.parse(readFileSync(file, "utf8")) as TfJson });
  }
  return stacks;
}

/**
 * Synthesizes every stack of `cluster` into `outdir` the way `main.ts` does (the app's own synth,
 * no CLI; every job file of `<projectDir>/jobs`) and reads it back.
 */
export async function synthesize(cluster: Cluster, outdir: string, projectDir: string): Promise<Map<string, SynthesizedStack>> {
  // Loaded here, not at the top: `bitte --help` and the AWS commands never pay for the providers.
  const { App } = load<typeof import("cdktf")>("cdktf");
  const { addStacks } = load<typeof import("../stacks")>("../stacks");
  const { loadJobs } = load<typeof import("../constructs/jobs")>("../constructs/jobs");
  const jobs = await loadJobs({ dir: join(projectDir, "jobs"), cluster, select: undefined });
  const app = new App({ outdir });
  addStacks(app, cluster, { jobs });
  app.synth();
  return readSynthesized(outdir);
}

/** The `Cluster` default tag of a stack's AWS providers, if any. */
export function synthesizedClusterName(stack: SynthesizedStack): string | undefined {
  for (const p of stack.json.provider?.aws ?? []) {
    const defaultTags = p.default_tags as ReadonlyArray<{ tags?: Record<string, string> }> | undefined;
    const name = defaultTags?.[0]?.tags?.[TAGS.cluster];
    if (name) return name;
  }
  return undefined;
}

/**
 * The synthesized stack `id` of `cluster` in `outdir`, refusing a missing one or one synthesized
 * for another cluster (running Terraform there would act on the wrong cluster).
 */
export function synthesizedStack(outdir: string, id: string, cluster: Cluster): SynthesizedStack {
  const stack = readSynthesized(outdir).get(id);
  const synthHint = `Run \`${cdktfCommand(cluster.name, "synth")}\` in the project directory first.`;
  if (!stack) throw new CliError(`No synthesized ${id} stack at ${join(outdir, "stacks", id, "cdk.tf.json")}.`, synthHint);
  const synthesizedFor = synthesizedClusterName(stack);
  if (synthesizedFor !== undefined && synthesizedFor !== cluster.name) {
    throw new CliError(`${join(outdir, "stacks", id)} was synthesized for cluster ${synthesizedFor}, not ${cluster.name}.`, synthHint);
  }
  return stack;
}

/** Terraform addresses of `aws_instance` resources by their Name tag. */
export function instanceAddresses(stack: SynthesizedStack): Map<string, string> {
  const found = new Map<string, string>();
  for (const [id, config] of Object.entries(stack.json.resource?.aws_instance ?? {})) {
    const name = (config.tags as Record<string, unknown> | undefined)?.[TAGS.name];
    if (typeof name === "string") found.set(name, `aws_instance.${id}`);
  }
  return found;
}
