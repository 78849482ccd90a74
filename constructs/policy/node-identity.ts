/**
 * Per-node Consul tokens (issue 12, finding 3): THE table of the Consul tokens client and routing
 * nodes get by logging in, one row per token. From it come the Vault identity-token roles that name the
 * node, the Vault node policies that may read them, the Consul binding rules, and what
 * bitte-consul-token does on the node. No token is shared between nodes, and each can be deleted
 * (`consul acl token delete`) without touching the others.
 *
 * The flow on a node: Vault AWS auth (the role infers the EC2 instance, so the login's entity
 * alias carries the instance id) → `identity/oidc/token/<vaultRole>`, a JWT whose `node` claim
 * Vault fills from that alias → `consul login -method bitte-nodes` → a token with the row's
 * Consul role, and for agent tokens a node identity for `<instance id>`, the node's Consul name.
 * Core servers keep their first-boot agent token: they hold the management tokens already. The one
 * monitoring node has a fixed name, so the cores make its agent token at first boot with a node
 * identity for that name (FIRST_BOOT_NODE_IDENTITIES); no login is needed there.
 */
import { CONSUL_POLICIES, consulAgentPolicy, type NodeRole } from "./names";

export type ConsulLoginRole = Exclude<NodeRole, "core" | "monitoring">;

export interface NodeConsulLogin {
  readonly role: ConsulLoginRole;
  /** `agent`: the Consul agent's agent and config-file-service token; `nomad`: Nomad's `consul.token`. */
  readonly use: "agent" | "nomad";
  /** Vault identity token role (`identity/oidc/token/<name>`) the node reads its JWT from. */
  readonly vaultRole: string;
  /** Consul role (of the same name as its policy) the binding rule gives the token. */
  readonly policy: string;
  /** Whether the token gets a node identity for the node's own name (`node "<id>" write`). */
  readonly nodeIdentity: boolean;
}

const row = (role: ConsulLoginRole, use: NodeConsulLogin["use"], policy: string, nodeIdentity: boolean): NodeConsulLogin => ({
  role,
  use,
  vaultRole: `consul-${use}-${role}`,
  policy,
  nodeIdentity,
});

export const NODE_CONSUL_LOGINS: readonly NodeConsulLogin[] = Object.freeze([
  row("client", "agent", consulAgentPolicy("client"), true),
  // Nomad registers workloads and itself on the node's agent; the policy lists no node write.
  row("client", "nomad", CONSUL_POLICIES.nomadClient, false),
  row("routing", "agent", consulAgentPolicy("routing"), true),
]);

/** The logins of one role. */
export function consulLoginsOf(role: NodeRole): readonly NodeConsulLogin[] {
  return NODE_CONSUL_LOGINS.filter((l) => l.role === role);
}

/** Claims of the identity token (the Consul auth method's claim mappings use the same names). */
export const NODE_TOKEN_CLAIMS = Object.freeze({ node: "node", role: "bitte_role", use: "bitte_use" });

/**
 * The identity token template of a row: the instance id from the login's AWS auth alias
 * (`inferred_entity_id`, put there by the role's EC2 inference), the role and the use. Vault
 * renders each `{{…}}` as a JSON string.
 */
export function nodeTokenTemplate(login: NodeConsulLogin, awsAuthAccessor: string): string {
  return `{"${NODE_TOKEN_CLAIMS.node}": {{identity.entity.aliases.${awsAuthAccessor}.metadata.inferred_entity_id}}, "${NODE_TOKEN_CLAIMS.role}": "${login.role}", "${NODE_TOKEN_CLAIMS.use}": "${login.use}"}`;
}
