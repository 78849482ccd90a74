/**
 * Vault's root token lives for one deploy: the core node that initialises Vault stores it in SSM
 * (encrypted with the recovery key, readable by operators only) so that the operator's first
 * `bitte deploy` of the consul stack can configure Vault. Once that deploy has succeeded, nothing
 * in the cluster needs it: `bitte deploy` revokes it and deletes the parameter. A later deploy of
 * the consul stack takes VAULT_TOKEN from the operator: a bitte-operator token, or a short-lived
 * root token made with `vault operator generate-root` and the recovery keys (HashiCorp's
 * production hardening guide: "revoke root tokens … generate root tokens only when needed").
 */
import { DeleteParameterCommand } from "@aws-sdk/client-ssm";
import { adminEndpoint } from "../../clusters/spec/define";
import type { Cluster } from "../../clusters/spec/types";
import { SSM_PARAMETERS } from "../../constructs/node-config/ssm";
import type { Context } from "../context";
import { CliError, explainAwsError } from "../errors";

/** Full name of the parameter holding Vault's root token. */
export function rootTokenParameter(cluster: Cluster): string {
  return `${cluster.ssmPrefix}/${SSM_PARAMETERS.vaultRootToken}`;
}

/** What retiring did: whether Vault revoked the token now, or had already refused it. */
export type RetireOutcome = "revoked" | "already-invalid";

/**
 * Revokes `token` (Vault: `POST /v1/auth/token/revoke-self`, 204 on success; 403 "permission
 * denied" for a token Vault no longer knows), then deletes its parameter. Revoked first: a
 * parameter deleted while its token still worked would leave a live root token no one can find.
 * A failed revocation keeps the parameter and says how to finish by hand.
 */
export async function retireRootToken(ctx: Context, cluster: Cluster, token: string): Promise<RetireOutcome> {
  const url = `${adminEndpoint(cluster, "vault")}/v1/auth/token/revoke-self`;
  const parameter = rootTokenParameter(cluster);
  const byHand = `Revoke it yourself (\`VAULT_ADDR=${adminEndpoint(cluster, "vault")} VAULT_TOKEN=<root> vault token revoke -self\`), then \`aws ssm delete-parameter --region ${cluster.coreRegion} --name ${parameter}\`.`;
  let status: number;
  let body: unknown;
  try {
    const res = await ctx.http(url, { method: "POST", headers: { "X-Vault-Token": token } });
    status = res.status;
    body = status === 204 ? undefined : await res.json().catch(() => undefined);
  } catch (err) {
    throw new CliError(`Could not revoke Vault's root token at ${url}: ${(err as Error).message}. It stays in ${parameter}.`, byHand);
  }
  const errors = ((body ?? {}) as { errors?: unknown[] }).errors ?? [];
  let outcome: RetireOutcome;
  if (status === 204 || status === 200) outcome = "revoked";
  else if (status === 403) outcome = "already-invalid";
  else throw new CliError(`Vault refused to revoke its root token (HTTP ${status}${errors.length ? `: ${errors.join("; ")}` : ""}). It stays in ${parameter}.`, byHand);

  const action = `ssm:DeleteParameter ${parameter} in ${cluster.coreRegion}`;
  try {
    await ctx.aws.ssm(cluster.coreRegion).send(new DeleteParameterCommand({ Name: parameter }));
  } catch (err) {
    // Already deleted (a concurrent deploy, or by hand): the goal is reached.
    if ((err as { name?: string }).name !== "ParameterNotFound") {
      const e = explainAwsError(err, action);
      throw new CliError(`Vault's root token is revoked, but ${e.message}`, `Delete the parameter, which now holds a dead token: \`aws ssm delete-parameter --region ${cluster.coreRegion} --name ${parameter}\`.`);
    }
  }
  return outcome;
}
