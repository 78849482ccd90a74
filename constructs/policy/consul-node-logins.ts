import { AclAuthMethod } from "@cdktf/provider-consul/lib/acl-auth-method";
import { AclBindingRule } from "@cdktf/provider-consul/lib/acl-binding-rule";
import type { AclRole } from "@cdktf/provider-consul/lib/acl-role";
import { IdentityOidc } from "@cdktf/provider-vault/lib/identity-oidc";
import { IdentityOidcKey } from "@cdktf/provider-vault/lib/identity-oidc-key";
import { IdentityOidcKeyAllowedClientId } from "@cdktf/provider-vault/lib/identity-oidc-key-allowed-client-id";
import { IdentityOidcRole } from "@cdktf/provider-vault/lib/identity-oidc-role";
import { Construct } from "constructs";
import { consulTemplate } from "./consul-acl";
import { CONSUL_NODE_AUTH_METHOD, VAULT } from "./names";
import { NODE_CONSUL_LOGINS, NODE_TOKEN_CLAIMS, nodeTokenTemplate, type NodeConsulLogin } from "./node-identity";

/** Path of Vault's identity token keys (JWKS), under its API address. */
export const VAULT_OIDC_KEYS_PATH = "/v1/identity/oidc/.well-known/keys";

export interface ConsulNodeLoginsProps {
  /** Accessor of Vault's AWS auth backend: the template reads the instance id from its alias metadata. */
  readonly awsAuthAccessor: string;
  /**
   * Vault's address as the Consul servers reach it: the issuer of the identity tokens, and where
   * the servers fetch the keys that verify them (`<address>/v1/identity/oidc/.well-known/keys`).
   */
  readonly vaultAddress: string;
  /** Consul roles by name (ConsulAcl): each row's binding rule binds to one. */
  readonly consulRoles: ReadonlyMap<string, AclRole>;
  /**
   * Lifetime of an identity token, in seconds: it is only presented once, to `consul login`.
   * @default 300
   */
  readonly tokenTtlSeconds?: number;
}

/**
 * Per-node Consul tokens by login (NODE_CONSUL_LOGINS): Vault signs each node an identity token
 * naming its instance, and Consul's `bitte-nodes` JWT auth method turns it into a token with the
 * row's role and, for agent tokens, a node identity for that instance only.
 *
 * No MaxTokenTTL: Nomad cannot replace a Consul token that expires under it, and the agent keeps
 * its token for its life. A lost node's tokens are deleted by an operator, one accessor at a time
 * (each token's description names its instance); no other node's token changes.
 */
export class ConsulNodeLogins extends Construct {
  readonly authMethod: AclAuthMethod;
  readonly vaultRoles: ReadonlyMap<string, IdentityOidcRole>;

  constructor(scope: Construct, id: string, props: ConsulNodeLoginsProps) {
    super(scope, id);
    // Vault puts `<issuer>/v1/identity/oidc` in every token's `iss`.
    const issuer = new IdentityOidc(this, "issuer", { issuer: props.vaultAddress });
    const key = new IdentityOidcKey(this, "key", { name: VAULT.nodeOidcKey, algorithm: "RS256", rotationPeriod: 86400, verificationTtl: 86400 });
    const roles = new Map<string, IdentityOidcRole>();
    for (const login of NODE_CONSUL_LOGINS) {
      const role = new IdentityOidcRole(this, `role-${login.vaultRole}`, {
        name: login.vaultRole,
        key: key.name,
        template: nodeTokenTemplate(login, props.awsAuthAccessor),
        ttl: props.tokenTtlSeconds ?? 300,
        dependsOn: [issuer],
      });
      // The key signs only for the roles listed on it (a separate resource: the role needs the key first).
      new IdentityOidcKeyAllowedClientId(this, `allowed-${login.vaultRole}`, { keyName: key.name, allowedClientId: role.clientId });
      roles.set(login.vaultRole, role);
    }
    this.vaultRoles = roles;

    this.authMethod = new AclAuthMethod(this, "auth-method", {
      name: CONSUL_NODE_AUTH_METHOD,
      type: "jwt",
      displayName: "Bitte nodes",
      description: "Client, monitoring and routing nodes: Vault identity tokens naming the EC2 instance",
      configJson: JSON.stringify({
        JWKSURL: `${props.vaultAddress}${VAULT_OIDC_KEYS_PATH}`,
        JWTSupportedAlgs: ["RS256"],
        BoundIssuer: `${props.vaultAddress}/v1/identity/oidc`,
        BoundAudiences: NODE_CONSUL_LOGINS.map((l) => (roles.get(l.vaultRole) as IdentityOidcRole).clientId),
        ClaimMappings: Object.fromEntries(Object.values(NODE_TOKEN_CLAIMS).map((c) => [c, c])),
      }),
    });

    for (const login of NODE_CONSUL_LOGINS) {
      const consulRole = props.consulRoles.get(login.policy);
      if (!consulRole) throw new Error(`ConsulNodeLogins: no Consul role ${login.policy} for ${login.vaultRole}; ConsulAcl makes one per policy of constructs/policy/consul.ts`);
      const selector = selectorOf(login);
      new AclBindingRule(this, `binding-${login.vaultRole}`, {
        authMethod: this.authMethod.name,
        description: `${login.role} nodes' ${login.use} token: role ${login.policy}`,
        selector,
        bindType: "role",
        bindName: login.policy,
        dependsOn: [consulRole],
      });
      if (login.nodeIdentity) {
        new AclBindingRule(this, `binding-${login.vaultRole}-node`, {
          authMethod: this.authMethod.name,
          description: `${login.role} nodes' ${login.use} token: write on its own node only`,
          selector,
          bindType: "node",
          bindName: consulTemplate(`\${value.${NODE_TOKEN_CLAIMS.node}}`),
        });
      }
    }
  }
}

/** The go-bexpr selector that matches one row's identity tokens. */
export function selectorOf(login: NodeConsulLogin): string {
  return `value.${NODE_TOKEN_CLAIMS.role} == "${login.role}" and value.${NODE_TOKEN_CLAIMS.use} == "${login.use}"`;
}
