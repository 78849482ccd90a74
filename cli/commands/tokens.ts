/**
 * `bitte tokens`: the bootstrap tokens the core nodes stored in SSM at first boot.
 */
import { GetParametersCommand } from "@aws-sdk/client-ssm";
import type { Cluster } from "../../clusters/spec/types";
import type { AwsClients, Context } from "../context";
import { adminEndpoint } from "../../clusters/spec/define";
import { TOKEN_PARAMETERS, type TokenParameter } from "../contract";
import { CliError, awsCall } from "../errors";

export interface Token extends TokenParameter {
  readonly parameter: string;
  readonly value: string;
}

/** Full SSM parameter names of the bootstrap tokens. */
export function tokenParameterNames(cluster: Cluster): string[] {
  return TOKEN_PARAMETERS.map((t) => `${cluster.ssmPrefix}${t.suffix}`);
}

/** Reads and decrypts the tokens in the core region; a missing one is an error that says why. */
export async function readTokens(cluster: Cluster, aws: AwsClients): Promise<Token[]> {
  const names = tokenParameterNames(cluster);
  const result = await awsCall(`ssm:GetParameters ${names.join(", ")} in ${cluster.coreRegion}`, () =>
    aws.ssm(cluster.coreRegion).send(new GetParametersCommand({ Names: names, WithDecryption: true })),
  );
  const byName = new Map((result.Parameters ?? []).map((p) => [p.Name, p.Value]));
  const missing = names.filter((n) => !byName.get(n));
  if (missing.length > 0) {
    throw new CliError(
      `Not in SSM Parameter Store (${cluster.coreRegion}): ${missing.join(", ")}.`,
      "The core nodes store these at first boot, once Consul, Nomad and Vault have bootstrapped. If `bitte deploy` just created them, wait a few minutes; otherwise check the bootstrap on a core node: `bitte ssh core-1 -- journalctl -b --no-pager | tail -n 100`.",
    );
  }
  return TOKEN_PARAMETERS.map((t, i) => ({ ...t, parameter: names[i], value: byName.get(names[i]) as string }));
}

/** A value in single quotes, safe to paste into sh, bash or zsh. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** `export VAR='…'` lines: each token and its service's address, for `eval "$(bitte tokens --export)"`. */
export function exportLines(cluster: Cluster, tokens: readonly Token[]): string {
  const lines = [`# bitte tokens for cluster ${cluster.name}: eval "$(bitte tokens --export --cluster ${cluster.name})"`];
  for (const t of tokens) {
    lines.push(`export ${t.addrEnv}=${shellQuote(adminEndpoint(cluster, t.service))}`);
    lines.push(`export ${t.env}=${shellQuote(t.value)}`);
  }
  return lines.join("\n") + "\n";
}

/** One line per token: service, parameter, value. */
export function tokenTable(tokens: readonly Token[]): string {
  const w = Math.max(...tokens.map((t) => t.service.length));
  return tokens.map((t) => `${t.service.padEnd(w)}  ${t.value}  (${t.parameter})`).join("\n") + "\n";
}

export async function tokens(ctx: Context, cluster: Cluster, options: { readonly export: boolean }): Promise<number> {
  ctx.progress.start(`Reading bootstrap tokens of ${cluster.name} from SSM (${cluster.coreRegion})`);
  let found: Token[];
  try {
    found = await readTokens(cluster, ctx.aws);
  } catch (err) {
    ctx.progress.fail();
    throw err;
  }
  ctx.progress.succeed();
  ctx.stdout.write(options.export ? exportLines(cluster, found) : tokenTable(found));
  return 0;
}

/**
 * Tokens for the API calls of `rebuild` and `deploy`: the environment's, else SSM's.
 * Returns env-var name → token.
 */
export async function tokensFromEnvOrSsm(ctx: Context, cluster: Cluster): Promise<Record<string, string>> {
  const fromEnv = Object.fromEntries(TOKEN_PARAMETERS.map((t) => [t.env, ctx.env[t.env] ?? ""]));
  if (TOKEN_PARAMETERS.every((t) => fromEnv[t.env])) return fromEnv;
  const missing = TOKEN_PARAMETERS.filter((t) => !fromEnv[t.env]).map((t) => t.env);
  ctx.progress.info(`${missing.join(", ")} not set; reading the bootstrap tokens from SSM.`);
  const stored = await readTokens(cluster, ctx.aws);
  for (const t of stored) if (!fromEnv[t.env]) fromEnv[t.env] = t.value;
  return fromEnv;
}
