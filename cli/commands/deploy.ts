/**
 * `bitte deploy`: `cdktf deploy <stack>` for network, core, consul, clients and jobs, one after the
 * other, stopping at the first failure, with a summary at the end.
 */
import type { Cluster } from "../../clusters/spec/types";
import type { Context } from "../context";
import { DEPLOY_ORDER, TOKEN_PARAMETERS } from "../contract";
import { CliError } from "../errors";
import { tokensFromEnvOrSsm } from "./tokens";

export interface DeployOptions {
  /** Stacks to deploy, in DEPLOY_ORDER; empty means all. */
  readonly stacks: readonly string[];
  /** Pass `--auto-approve` to cdktf (no interactive approval per stack). */
  readonly autoApprove: boolean;
}

export interface DeployResult {
  readonly stack: string;
  readonly status: "deployed" | "failed" | "not started";
  readonly seconds?: number;
  readonly exitCode?: number;
}

/** Stacks needing the in-cluster API tokens (their providers read them from the environment). */
const NEEDS_TOKENS = new Set(["consul", "jobs"]);

export function deployPlan(stacks: readonly string[]): string[] {
  const unknown = stacks.filter((s) => !(DEPLOY_ORDER as readonly string[]).includes(s));
  if (unknown.length > 0) throw new CliError(`Unknown stack ${unknown.join(", ")}.`, `Stacks: ${DEPLOY_ORDER.join(", ")}.`);
  return DEPLOY_ORDER.filter((s) => stacks.length === 0 || stacks.includes(s));
}

export function deploySummary(results: readonly DeployResult[]): string {
  const w = Math.max(...results.map((r) => r.stack.length));
  return ["Deploy summary:", ...results.map((r) => `  ${r.stack.padEnd(w)}  ${r.status}${r.seconds !== undefined ? ` (${r.seconds}s)` : ""}${r.exitCode ? `, exit ${r.exitCode}` : ""}`)].join("\n");
}

export async function deploy(ctx: Context, cluster: Cluster, options: DeployOptions): Promise<number> {
  const order = deployPlan(options.stacks);
  const results: DeployResult[] = order.map((stack) => ({ stack, status: "not started" }));
  let env: Record<string, string | undefined> = { ...ctx.env, BITTE_CLUSTER: cluster.name };
  let failure: CliError | undefined;
  for (const [i, stack] of order.entries()) {
    if (NEEDS_TOKENS.has(stack) && TOKEN_PARAMETERS.some((t) => !env[t.env])) {
      try {
        env = { ...env, ...(await tokensFromEnvOrSsm({ ...ctx, env }, cluster)) };
      } catch (err) {
        const e = err instanceof CliError ? err : new CliError(String(err));
        failure = new CliError(`The ${stack} stack needs the bootstrap tokens. ${e.message}`, `${e.hint ?? ""} Then continue with \`bitte deploy ${order.slice(i).join(" ")}\`.`.trim());
        break;
      }
    }
    ctx.progress.info(`==> cdktf deploy ${stack} (cluster ${cluster.name})`);
    const started = ctx.now();
    const args = ["cdktf", "deploy", stack, ...(options.autoApprove ? ["--auto-approve"] : [])];
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
      failure = new CliError(`cdktf deploy ${stack} failed (exit ${code}).`, `Fix what cdktf reported above, then continue with \`bitte deploy ${order.slice(i).join(" ")}\`.`, code);
      break;
    }
  }
  ctx.progress.info(deploySummary(results));
  if (failure) throw failure;
  return 0;
}
