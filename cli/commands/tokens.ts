/**
 * `bitte tokens`: the bootstrap tokens the core nodes stored in SSM at first boot.
 */
import { GetParametersCommand } from "@aws-sdk/client-ssm";
import type { Cluster } from "../../clusters/spec/types";
import type { AwsClients, Context } from "../context";
import { adminEndpoint } from "../../clusters/spec/define";
import { TOKEN_PARAMETERS, type TokenParameter } from "../contract";
import { SSM_PARAMETERS } from "../../constructs/node-config/ssm";
import { CliError, awsCall } from "../errors";

export interface Token extends TokenParameter {
  readonly parameter: string;
  readonly value: string;
}

export type TokenService = TokenParameter["service"];

/** Vault's root token was revoked and its parameter deleted by `bitte deploy` (see root-token.ts). */
export class RootTokenRetired extends CliError {}

/** A token the core nodes have not stored yet (their first boot is still running, or failed). */
export class TokensNotStored extends CliError {}
const ALL_SERVICES: readonly TokenService[] = TOKEN_PARAMETERS.map((t) => t.service);

/** Full SSM parameter names of the bootstrap tokens (of `services`, default all, in table order). */
export function tokenParameterNames(cluster: Cluster, services: readonly TokenService[] = ALL_SERVICES): string[] {
  return TOKEN_PARAMETERS.filter((t) => services.includes(t.service)).map((t) => `${cluster.ssmPrefix}${t.suffix}`);
}

/**
 * Reads and decrypts the tokens of `services` in the core region; a missing one is an error that
 * says why. Vault's root token is missing for good once `bitte deploy` has retired it (README,
 * security): `vault/initialized`, read alongside, tells that apart from "not stored yet".
 */
export async function readTokens(cluster: Cluster, aws: AwsClients, services: readonly TokenService[] = ALL_SERVICES): Promise<Token[]> {
  const wanted = TOKEN_PARAMETERS.filter((t) => services.includes(t.service));
  const names = tokenParameterNames(cluster, services);
  const initialized = `${cluster.ssmPrefix}/${SSM_PARAMETERS.vaultInitialized}`;
  const asked = services.includes("vault") ? [...names, initialized] : names;
  const result = await awsCall(`ssm:GetParameters ${asked.join(", ")} in ${cluster.coreRegion}`, () =>
    aws.ssm(cluster.coreRegion).send(new GetParametersCommand({ Names: asked, WithDecryption: true })),
  );
  const byName = new Map((result.Parameters ?? []).map((p) => [p.Name, p.Value]));
  const missing = names.filter((n) => !byName.get(n));
  const root = `${cluster.ssmPrefix}/${SSM_PARAMETERS.vaultRootToken}`;
  if (missing.includes(root) && byName.get(initialized)) {
    throw new RootTokenRetired(
      `Vault's root token is no longer in SSM (${root}): \`bitte deploy\` revoked it after the consul stack's first deploy.`,
      "Set VAULT_TOKEN to a token with the bitte-operator policy, or make a short-lived root token with `vault operator generate-root` and the recovery keys (README, security: Vault's recovery material), then retry.",
    );
  }
  if (missing.length > 0) {
    throw new TokensNotStored(
      `Not in SSM Parameter Store (${cluster.coreRegion}): ${missing.join(", ")}.`,
      "The core nodes store these at first boot, once Consul, Nomad and Vault have bootstrapped. If `bitte deploy` just created them, wait a few minutes; otherwise check the bootstrap on a core node: `bitte ssh core-1 -- journalctl -b --no-pager | tail -n 100`.",
    );
  }
  return wanted.map((t, i) => ({ ...t, parameter: names[i], value: byName.get(names[i]) as string }));
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
  let retired: RootTokenRetired | undefined;
  try {
    found = await readTokens(cluster, ctx.aws).catch((err: unknown) => {
      if (!(err instanceof RootTokenRetired)) throw err;
      retired = err;
      return readTokens(cluster, ctx.aws, ALL_SERVICES.filter((s) => s !== "vault"));
    });
  } catch (err) {
    ctx.progress.fail();
    throw err;
  }
  ctx.progress.succeed();
  if (retired) ctx.progress.info(`${retired.message} ${retired.hint ?? ""}`.trim());
  ctx.stdout.write(options.export ? exportLines(cluster, found) : tokenTable(found));
  return 0;
}

/** Tokens for a command's API calls, and which of them came from SSM. */
export interface ResolvedTokens {
  /** Env-var name → token, for every service asked for. */
  readonly env: Record<string, string>;
  /** Services whose token was read from SSM (not set in the environment). */
  readonly fromSsm: readonly TokenService[];
}

/** The tokens of `services` (default all): the environment's, else SSM's. */
export async function resolveTokens(ctx: Context, cluster: Cluster, services: readonly TokenService[] = ALL_SERVICES): Promise<ResolvedTokens> {
  const wanted = TOKEN_PARAMETERS.filter((t) => services.includes(t.service));
  const env = Object.fromEntries(wanted.map((t) => [t.env, ctx.env[t.env] ?? ""]));
  const missing = wanted.filter((t) => !env[t.env]);
  if (missing.length === 0) return { env, fromSsm: [] };
  ctx.progress.info(`${missing.map((t) => t.env).join(", ")} not set; reading the bootstrap tokens from SSM.`);
  for (const t of await readTokens(cluster, ctx.aws, missing.map((m) => m.service))) env[t.env] = t.value;
  return { env, fromSsm: missing.map((t) => t.service) };
}
