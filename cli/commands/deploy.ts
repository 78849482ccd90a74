/**
 * `bitte deploy`: synthesizes the cluster into its own output directory, reads the stack order from
 * the manifest cdktf wrote there (the dependencies the stacks declare, `stacks/dependencies.ts`),
 * then runs `cdktf deploy <stack>` one stack at a time, stopping at the first failure, with a
 * summary at the end. One stack per run: the consul and jobs stacks need tokens that exist only
 * once core has booted, and cdktf would run independent stacks in parallel.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Cluster } from "../../clusters/spec/types";
import { synthDir } from "../../stacks/layout";
import type { Context } from "../context";
import { TOKEN_PARAMETERS } from "../contract";
import { CliError } from "../errors";
import { tokensFromEnvOrSsm } from "./tokens";

export interface DeployOptions {
  /** Stacks to deploy (run in manifest order); empty means all. */
  readonly stacks: readonly string[];
  /** Pass `--auto-approve` to cdktf (no interactive approval per stack). */
  readonly autoApprove: boolean;
  /**
   * The cluster's file name (`clusters/<file>.ts`), what BITTE_CLUSTER selects.
   * @default the spec's name
   */
  readonly clusterFile?: string;
}

export interface DeployResult {
  readonly stack: string;
  readonly status: "deployed" | "failed" | "not started";
  readonly seconds?: number;
  readonly exitCode?: number;
}

/** Stacks needing the in-cluster API tokens (their providers read them from the environment). */
const NEEDS_TOKENS = new Set(["consul", "jobs"]);

/** The part of cdktf's `manifest.json` the order comes from. */
export interface Manifest {
  readonly stacks: Readonly<Record<string, { readonly name: string; readonly dependencies?: readonly string[] }>>;
}

/** Reads `<outdir>/manifest.json`, as the cdktf CLI does. */
export function readManifest(outdir: string): Manifest {
  const file = join(outdir, "manifest.json");
  if (!existsSync(file)) throw new CliError(`No manifest at ${file} after synthesis.`, "Run `npx cdktf synth` by hand to see what failed.");
  return JSON.parse(readFileSync(file, "utf8")) as Manifest;
}

/**
 * The stacks to deploy, dependencies first (ties in manifest order). A named stack the cluster
 * does not have is refused with the list; a dependency not named is assumed deployed.
 */
export function deployPlan(manifest: Manifest, stacks: readonly string[], cluster: Cluster): string[] {
  const deps = new Map(Object.values(manifest.stacks).map((s) => [s.name, s.dependencies ?? []]));
  const order: string[] = [];
  const visiting = new Set<string>();
  const visit = (name: string) => {
    if (order.includes(name)) return;
    if (visiting.has(name)) throw new CliError(`The stacks' dependencies form a cycle through ${name}.`, "Fix stacks/dependencies.ts.");
    visiting.add(name);
    for (const d of deps.get(name) ?? []) visit(d);
    visiting.delete(name);
    order.push(name);
  };
  [...deps.keys()].forEach(visit);
  const unknown = stacks.filter((s) => !order.includes(s));
  if (unknown.length > 0) {
    const stateHint = unknown.includes("state") && cluster.backend.type !== "s3" ? ` Cluster ${cluster.name} keeps local state, so it has no state stack.` : "";
    throw new CliError(`Unknown stack ${unknown.join(", ")}.${stateHint}`, `Stacks of cluster ${cluster.name}, in deploy order: ${order.join(", ")}.`, 2);
  }
  const wanted = new Set(stacks.length === 0 ? order : stacks);
  return order.filter((s) => wanted.has(s));
}

export function deploySummary(results: readonly DeployResult[]): string {
  const w = Math.max(...results.map((r) => r.stack.length));
  return ["Deploy summary:", ...results.map((r) => `  ${r.stack.padEnd(w)}  ${r.status}${r.seconds !== undefined ? ` (${r.seconds}s)` : ""}${r.exitCode ? `, exit ${r.exitCode}` : ""}`)].join("\n");
}

export async function deploy(ctx: Context, cluster: Cluster, options: DeployOptions): Promise<number> {
  const outdir = synthDir(cluster.name);
  let env: Record<string, string | undefined> = { ...ctx.env, BITTE_CLUSTER: options.clusterFile ?? cluster.name };
  ctx.progress.info(`==> cdktf synth --output ${outdir} (cluster ${cluster.name})`);
  let synth: number;
  try {
    synth = (await ctx.run("npx", ["cdktf", "synth", "--output", outdir], { cwd: ctx.projectDir, env, stdio: "stderr" })).code;
  } catch (err) {
    throw new CliError(`Could not start npx cdktf: ${(err as Error).message}.`, "Run `npm ci` in the project directory, with Node.js ≥ 20.6 on PATH.");
  }
  if (synth !== 0) throw new CliError(`cdktf synth failed (exit ${synth}).`, "Fix what it reported above; nothing was deployed.", synth);
  const order = deployPlan(readManifest(join(ctx.projectDir, outdir)), options.stacks, cluster);
  const results: DeployResult[] = order.map((stack) => ({ stack, status: "not started" }));
  const again = (i: number) => `bitte deploy --cluster ${options.clusterFile ?? cluster.name} ${order.slice(i).join(" ")}`;
  let failure: CliError | undefined;
  for (const [i, stack] of order.entries()) {
    if (NEEDS_TOKENS.has(stack) && TOKEN_PARAMETERS.some((t) => !env[t.env])) {
      try {
        env = { ...env, ...(await tokensFromEnvOrSsm({ ...ctx, env }, cluster)) };
      } catch (err) {
        const e = err instanceof CliError ? err : new CliError(String(err));
        failure = new CliError(`The ${stack} stack needs the bootstrap tokens. ${e.message}`, `${e.hint ?? ""} Then continue with \`${again(i)}\`.`.trim());
        break;
      }
    }
    ctx.progress.info(`==> cdktf deploy ${stack} (cluster ${cluster.name})`);
    const started = ctx.now();
    // Synthesized once above; its dependencies were deployed by the steps before (or earlier runs).
    const args = ["cdktf", "deploy", stack, "--output", outdir, "--skip-synth", "--ignore-missing-stack-dependencies", ...(options.autoApprove ? ["--auto-approve"] : [])];
    let code: number;
    try {
      code = (await ctx.run("npx", args, { cwd: ctx.projectDir, env, stdio: "inherit" })).code;
    } catch (err) {
      failure = new CliError(`Could not start npx cdktf: ${(err as Error).message}.`, "Run `npm ci` in the project directory, with Node.js ≥ 20.6 on PATH.");
      break;
    }
    const seconds = Math.round((ctx.now() - started) / 1000);
    results[i] = { stack, status: code === 0 ? "deployed" : "failed", seconds, exitCode: code };
    if (code !== 0) {
      failure = new CliError(`cdktf deploy ${stack} failed (exit ${code}).`, `Fix what cdktf reported above, then continue with \`${again(i)}\`.`, code);
      break;
    }
  }
  ctx.progress.info(deploySummary(results));
  if (failure) throw failure;
  return 0;
}
