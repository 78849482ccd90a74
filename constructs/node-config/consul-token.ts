/**
 * Per-node Consul tokens (issue 12, finding 3): bitte-consul-token logs a client or routing node
 * in to Consul for its own tokens (NODE_CONSUL_LOGINS), through Vault identity tokens that name the
 * instance (its id from node.env). bitte-vault-login, shared with bitte-nomad-cert, makes the Vault login.
 */
import { CONSUL_NODE_AUTH_METHOD, vaultClientAuthRole } from "../policy/names";
import { consulLoginsOf } from "../policy/node-identity";
import { asset, shippedScript } from "./assets";
import { PATHS } from "./paths";
import { envFileText } from "./timed-script";
import type { NodeContext, NodeFile } from "./types";

export const CONSUL_TOKEN_PATHS = Object.freeze({
  script: "/usr/local/sbin/bitte-consul-token",
  env: "/etc/bitte/consul-token.env",
  vaultLogin: "/usr/local/sbin/bitte-vault-login",
});

/** The Vault AWS auth role a node logs in with: per region for clients, the role's own otherwise. */
export function vaultAuthRoleOf(ctx: NodeContext): string {
  return ctx.role === "client" ? vaultClientAuthRole(ctx.region) : ctx.role;
}

/** What both Vault-login scripts need: every core node's Vault, the AWS auth role and its server-id header. */
export function vaultLoginEnv(ctx: NodeContext): Record<string, string> {
  return {
    BITTE_NODE_ENV: PATHS.nodeEnv,
    BITTE_TLS_DIR: PATHS.tlsDir,
    BITTE_VAULT_LOGIN: CONSUL_TOKEN_PATHS.vaultLogin,
    // Every core node's Vault (fixed addresses; the server certificate names each IP).
    BITTE_VAULT_ADDRS: ctx.cluster.coreNodes.map((n) => n.privateIp).join(" "),
    // Vault's AWS auth checks this header (stacks/consul.ts, VaultAwsAuth serverIdHeader).
    BITTE_VAULT_SERVER_ID: `vault.${ctx.cluster.domain}`,
    BITTE_VAULT_AUTH_ROLE: vaultAuthRoleOf(ctx),
  };
}

/** The scripts and environment of a non-core role; none on core nodes (they keep the first-boot token). */
export function consulTokenFiles(ctx: NodeContext): NodeFile[] {
  const logins = consulLoginsOf(ctx.role);
  if (logins.length === 0) return [];
  const root = (path: string, content: string, permissions = "0644"): NodeFile => ({ path, content, permissions, owner: "root:root" });
  const env = {
    ...vaultLoginEnv(ctx),
    BITTE_CONSUL_DIR: PATHS.consulDir,
    BITTE_SECRETS_DIR: PATHS.secretsDir,
    BITTE_CONSUL_USER: "consul",
    BITTE_CONSUL_AUTH_METHOD: CONSUL_NODE_AUTH_METHOD,
    BITTE_CONSUL_LOGINS: logins.map((l) => `${l.use}:${l.vaultRole}`).join(" "),
  };
  return [
    root(CONSUL_TOKEN_PATHS.script, shippedScript(asset("scripts/bitte-consul-token.sh")), "0755"),
    root(CONSUL_TOKEN_PATHS.vaultLogin, shippedScript(asset("scripts/bitte-vault-login.sh")), "0755"),
    root(CONSUL_TOKEN_PATHS.env, envFileText(env)),
  ];
}
