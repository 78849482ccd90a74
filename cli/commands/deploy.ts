/**
 * `bitte deploy`: synthesizes the cluster into its own output directory, reads the stack order from
 * the manifest cdktf wrote there (the dependencies the stacks declare, `stacks/dependencies.ts`),
 * then runs `cdktf deploy <stack>` one stack at a time, stopping at the first failure, with a
 * summary at the end. One stack per run: the consul and jobs stacks need tokens that exist only
 * once core has booted, and cdktf would run independent stacks in parallel. The tokens a stack
 * needs are those of the HashiCorp providers in its synthesized JSON; missing ones come from SSM.
 * Vault's root token, taken from SSM, is revoked once the stack that used it has deployed
 * (root-token.ts).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Cluster } from "../../clusters/spec/types";
import { synthDir } from "../../stacks/layout";
import type { Context } from "../context";
import { TOKEN_PARAMETERS } from "../contract";
import { CliError } from "../errors";
import { retireRootToken, rootTokenParameter } from "./root-token";
import { resolveTokens, TokensNotStored, type ResolvedTokens, type TokenService } from "./tokens";

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
  /**
   * Keep Vault's root token in SSM after the consul stack deployed with it.
   * @default false (revoked and its parameter deleted)
   */
  readonly keepRootToken?: boolean;
}

export interface DeployResult {
  readonly stack: string;
  readonly status: "deployed" | "failed" | "not started";
  readonly seconds?: number;
  readonly exitCode?: number;
}

/**
 * How long `bitte deploy` waits for the bootstrap tokens when it deployed core in the same run: the
 * core nodes store them at first boot, a few minutes after their instances exist (the bootstrap
 * itself gives up after BITTE_RETRIES × BITTE_RETRY_DELAY = 15 minutes).
 */
export const TOKEN_WAIT = { timeoutMs: 20 * 60_000, intervalMs: 15_000 } as const;

/** The part of cdktf's `manifest.json` the order comes from. */
export interface Manifest {
  readonly stacks: Readonly<Record<string, { readonly name: string; readonly dependencies?: readonly string[]; readonly synthesizedStackPath?: string }>>;
}

/**
 * The services whose tokens a stack's providers read from the environment: the consul, nomad and
 * vault providers its synthesized JSON configures (the providers take no token in the JSON).
 */
export function stackTokenServices(outdir: string, manifest: Manifest, stack: string): TokenService[] {
  const entry = Object.values(manifest.stacks).find((s) => s.name === stack);
  const file = join(outdir, entry?.synthesizedStackPath ?? join("stacks", stack, "cdk.tf.json"));
  const providers = (JSON.parse(readFileSync(file, "utf8")) as { provider?: Record<string, unknown> }).provider ?? {};
  return TOKEN_PARAMETERS.map((t) => t.service).filter((service) => service in providers);
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
  const manifest = readManifest(join(ctx.projectDir, outdir));
  const order = deployPlan(manifest, options.stacks, cluster);
  const envOf = (service: TokenService) => TOKEN_PARAMETERS.find((t) => t.service === service)?.env as string;
  // Set when VAULT_TOKEN is the root token read from SSM (not one the operator brought).
  let rootFromSsm = false;
  const results: DeployResult[] = order.map((stack) => ({ stack, status: "not started" }));
  const again = (i: number) => `bitte deploy --cluster ${options.clusterFile ?? cluster.name} ${order.slice(i).join(" ")}`;
  let failure: CliError | undefined;
  for (const [i, stack] of order.entries()) {
    const needs = stackTokenServices(join(ctx.projectDir, outdir), manifest, stack);
    if (needs.some((s) => !env[envOf(s)])) {
      try {
        const resolved = await tokensWhenStored({ ...ctx, env }, cluster, needs, results.some((r) => r.stack === "core" && r.status === "deployed"));
        env = { ...env, ...resolved.env };
        rootFromSsm ||= resolved.fromSsm.includes("vault");
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
    if (rootFromSsm && needs.includes("vault") && !options.keepRootToken) {
      // Vault is configured: the root token has done its one job (README, security).
      try {
        const outcome = await retireRootToken(ctx, cluster, env.VAULT_TOKEN as string);
        ctx.progress.info(`Vault's root token ${outcome === "revoked" ? "is revoked" : "was already invalid"} and ${rootTokenParameter(cluster)} deleted. Later deploys of ${stack} take VAULT_TOKEN from you (README, security).`);
      } catch (err) {
        failure = err instanceof CliError ? err : new CliError(String(err));
        break;
      }
      rootFromSsm = false;
      env = Object.fromEntries(Object.entries(env).filter(([k]) => k !== envOf("vault")));
    }
  }
  ctx.progress.info(deploySummary(results));
  if (failure) throw failure;
  return 0;
}

/**
 * The tokens of `services`; when core was deployed in this run and the core nodes have not stored
 * them yet, waits for them (bounded by TOKEN_WAIT), saying so at each attempt.
 */
async function tokensWhenStored(ctx: Context, cluster: Cluster, services: readonly TokenService[], coreJustDeployed: boolean): Promise<ResolvedTokens> {
  const deadline = ctx.now() + TOKEN_WAIT.timeoutMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await resolveTokens(ctx, cluster, services);
    } catch (err) {
      if (!(err instanceof TokensNotStored) || !coreJustDeployed || ctx.now() + TOKEN_WAIT.intervalMs > deadline) throw err;
      ctx.progress.info(`The core nodes are still bootstrapping (attempt ${attempt}): ${err.message} Waiting ${TOKEN_WAIT.intervalMs / 1000} s.`);
      await ctx.sleep(TOKEN_WAIT.intervalMs);
    }
  }
}
