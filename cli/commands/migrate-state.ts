/**
 * `bitte migrate-state`: moves local state from the single-cluster layout
 * (`terraform.<stack>.tfstate`) to the cluster's own files (`terraform.<cluster>.<stack>.tfstate`),
 * after checking that the files belong to the cluster, that no Terraform run holds their lock, and
 * that nothing would be overwritten. Nothing is moved unless every check passes.
 */
import { existsSync, linkSync, readFileSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import type { Cluster } from "../../clusters/spec/types";
import type { StackId } from "../../stacks/base";
import { DEFAULT_SYNTH_DIR, legacyLocalStateFile, localStateFile, synthDir } from "../../stacks/layout";
import type { Context } from "../context";
import { TAGS } from "../contract";
import { CliError } from "../errors";

const STACKS: readonly StackId[] = ["state", "network", "core", "consul", "clients", "jobs"];

export interface StateMove {
  readonly stack: StackId;
  /** Relative to the project directory. */
  readonly from: string;
  readonly to: string;
  /** Resources tagged with this cluster's name (the evidence it is this cluster's state). */
  readonly tagged: number;
}

interface StateFile {
  readonly resources?: ReadonlyArray<{ readonly instances?: ReadonlyArray<{ readonly attributes?: Record<string, unknown> }> }>;
}

/** The `Cluster` tags of a state's resources (`tags_all` carries the provider's default tags). */
export function clusterTags(state: StateFile): string[] {
  const found: string[] = [];
  for (const r of state.resources ?? []) {
    for (const i of r.instances ?? []) {
      const tags = (i.attributes?.tags_all ?? i.attributes?.tags) as Record<string, unknown> | undefined;
      const name = tags?.[TAGS.cluster];
      if (typeof name === "string") found.push(name);
    }
  }
  return found;
}

/** Which files move, or every reason to move none. */
export function planStateMigration(projectDir: string, cluster: Cluster): { moves: StateMove[]; problems: string[] } {
  const moves: StateMove[] = [];
  const problems: string[] = [];
  // With the S3 backend only the state stack ever kept local state.
  const stacks = cluster.backend.type === "s3" ? (["state"] as const) : STACKS;
  for (const stack of stacks) {
    const from = legacyLocalStateFile(stack);
    const to = localStateFile(cluster.name, stack);
    if (!existsSync(join(projectDir, from))) continue;
    if (existsSync(join(projectDir, `.${from}.lock.info`))) problems.push(`${from} is locked by a running Terraform (.${from}.lock.info): wait for it to finish.`);
    if (existsSync(join(projectDir, to))) problems.push(`${to} exists already: compare it with ${from} and remove the one that is not current.`);
    let state: StateFile;
    try {
      state = JSON.parse(readFileSync(join(projectDir, from), "utf8")) as StateFile;
    } catch (err) {
      problems.push(`${from} is not a Terraform state file: ${(err as Error).message}.`);
      continue;
    }
    const tags = clusterTags(state);
    const others = [...new Set(tags.filter((t) => t !== cluster.name))];
    if (others.length > 0) problems.push(`${from} holds resources of cluster ${others.join(", ")}, not ${cluster.name}: run \`bitte migrate-state --cluster ${others[0]}\` instead.`);
    moves.push({ stack, from, to, tagged: tags.length - tags.filter((t) => t !== cluster.name).length });
  }
  // consul and jobs resources carry no tags: they move only with AWS state proven to be this cluster's.
  if (moves.length > 0 && !moves.some((m) => m.tagged > 0)) {
    problems.push(`None of ${moves.map((m) => m.from).join(", ")} has a resource tagged ${TAGS.cluster}=${cluster.name}, so nothing shows they are this cluster's. Move them by hand if you are sure (README, Deploying).`);
  }
  return { moves, problems };
}

/** `.terraform/terraform.tfstate` of a working directory records the backend it was initialised with. */
function staleBackendRecords(projectDir: string, cluster: Cluster, moves: readonly StateMove[]): string[] {
  const stale: string[] = [];
  for (const dir of new Set([DEFAULT_SYNTH_DIR, synthDir(cluster.name)])) {
    for (const m of moves) {
      const record = join(dir, "stacks", m.stack, ".terraform", "terraform.tfstate");
      if (!existsSync(join(projectDir, record))) continue;
      const backend = (JSON.parse(readFileSync(join(projectDir, record), "utf8")) as { backend?: { type?: string; config?: { path?: string } } }).backend;
      if (backend?.type === "local" && backend.config?.path?.endsWith(`/${m.from}`)) stale.push(record);
    }
  }
  return stale;
}

export async function migrateState(ctx: Context, cluster: Cluster, options: { readonly dryRun: boolean }): Promise<number> {
  const { moves, problems } = planStateMigration(ctx.projectDir, cluster);
  if (problems.length > 0) throw new CliError(`Not moving any state:\n${problems.map((p) => `  - ${p}`).join("\n")}`, "Nothing was changed.");
  if (moves.length === 0) {
    ctx.progress.info(`No single-cluster state files (terraform.<stack>.tfstate) here; ${cluster.name} already uses terraform.${cluster.name}.<stack>.tfstate.`);
    return 0;
  }
  const stale = staleBackendRecords(ctx.projectDir, cluster, moves);
  for (const m of moves) ctx.stdout.write(`${options.dryRun ? "would move" : "move"} ${m.from} → ${m.to}\n`);
  for (const r of stale) ctx.stdout.write(`${options.dryRun ? "would remove" : "remove"} ${r} (records the old state path; the next deploy re-initialises)\n`);
  if (options.dryRun) return 0;
  for (const m of moves) {
    for (const suffix of ["", ".backup"]) {
      const from = join(ctx.projectDir, m.from + suffix);
      if (!existsSync(from)) continue;
      // A hard link fails if the target exists: never overwrites, unlike rename.
      linkSync(from, join(ctx.projectDir, m.to + suffix));
      unlinkSync(from);
    }
  }
  for (const r of stale) unlinkSync(join(ctx.projectDir, r));
  ctx.progress.info(`Moved ${moves.length} state file(s) of ${cluster.name}. Check with \`npx bitte deploy --cluster ${cluster.name}\` or \`cdktf diff\`: nothing may be replaced.`);
  return 0;
}
