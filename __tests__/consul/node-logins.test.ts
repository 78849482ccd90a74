/**
 * The per-node Consul logins of clients and routing nodes (issue 12, finding 3), as the consul
 * stack synthesizes them from NODE_CONSUL_LOGINS: Vault identity token roles naming the instance,
 * the key that signs them for those roles only, the Consul JWT auth method trusting Vault's keys,
 * and binding rules giving each row its role and, for agent tokens, a node identity.
 */
import { VAULT_OIDC_KEYS_PATH } from "../../constructs/policy/consul-node-logins";
import { CONSUL_NODE_AUTH_METHOD, VAULT } from "../../constructs/policy/names";
import { NODE_CONSUL_LOGINS, NODE_TOKEN_CLAIMS } from "../../constructs/policy/node-identity";
import { vaultNodePolicyDoc } from "../../constructs/policy/vault";
import { adminEndpoint } from "../../clusters/spec";
import { exampleCluster, resources, resourceWhere, synthConsul } from "./helpers";

const { parsed } = synthConsul();
const awsBackend = Object.entries(resources(parsed, "vault_auth_backend")).find(([, b]) => b.type === "aws")?.[0];

describe("per-node Consul logins in the consul stack", () => {
  const vault = adminEndpoint(exampleCluster, "vault");

  test("one Vault identity token role per row, templated on the AWS login's instance id, signed by the nodes' key for those roles only", () => {
    const roles = Object.entries(resources(parsed, "vault_identity_oidc_role"));
    expect(roles.map(([, r]) => r.name).sort()).toEqual(NODE_CONSUL_LOGINS.map((l) => l.vaultRole).sort());
    const key = resourceWhere(parsed, "vault_identity_oidc_key", "name", VAULT.nodeOidcKey);
    expect(key.algorithm).toBe("RS256");
    expect(key.allowed_client_ids).toBeUndefined();
    const allowed = Object.values(resources(parsed, "vault_identity_oidc_key_allowed_client_id")).map((a) => a.allowed_client_id).sort();
    expect(allowed).toEqual(roles.map(([id]) => `\${vault_identity_oidc_role.${id}.client_id}`).sort());
    for (const [, r] of roles) {
      const login = NODE_CONSUL_LOGINS.find((l) => l.vaultRole === r.name);
      const template = JSON.parse(String(r.template).replace(/\{\{.*?\}\}/g, '"x"')) as Record<string, string>;
      expect(template).toEqual({ [NODE_TOKEN_CLAIMS.node]: "x", [NODE_TOKEN_CLAIMS.role]: login?.role, [NODE_TOKEN_CLAIMS.use]: login?.use });
      expect(r.template).toContain(`{{identity.entity.aliases.\${vault_auth_backend.${awsBackend}.accessor}.metadata.inferred_entity_id}}`);
    }
    expect(resources(parsed, "vault_identity_oidc")).toEqual({ [Object.keys(resources(parsed, "vault_identity_oidc"))[0]]: expect.objectContaining({ issuer: vault }) });
  });

  test("Consul's bitte-nodes method trusts Vault's keys, its issuer and the rows' audiences only", () => {
    const method = resourceWhere(parsed, "consul_acl_auth_method", "name", CONSUL_NODE_AUTH_METHOD);
    expect(method.type).toBe("jwt");
    expect(method.max_token_ttl).toBeUndefined();
    const config = JSON.parse(String(method.config_json)) as Record<string, unknown>;
    expect(config.JWKSURL).toBe(`${vault}${VAULT_OIDC_KEYS_PATH}`);
    expect(config.BoundIssuer).toBe(`${vault}/v1/identity/oidc`);
    expect(config.JWTSupportedAlgs).toEqual(["RS256"]);
    expect((config.BoundAudiences as string[]).sort()).toEqual(Object.keys(resources(parsed, "vault_identity_oidc_role")).map((id) => `\${vault_identity_oidc_role.${id}.client_id}`).sort());
  });

  test("each row binds its role; agent rows also a node identity for the instance the token names", () => {
    const rules = Object.values(resources(parsed, "consul_acl_binding_rule")).filter((r) => String(r.auth_method).includes("node-logins"));
    for (const login of NODE_CONSUL_LOGINS) {
      const selector = `value.${NODE_TOKEN_CLAIMS.role} == "${login.role}" and value.${NODE_TOKEN_CLAIMS.use} == "${login.use}"`;
      const mine = rules.filter((r) => r.selector === selector);
      expect(mine.map((r) => [r.bind_type, r.bind_name]).sort()).toEqual(
        [["role", login.policy], ...(login.nodeIdentity ? [["node", `$\${value.${NODE_TOKEN_CLAIMS.node}}`]] : [])].sort(),
      );
    }
    expect(rules).toHaveLength(NODE_CONSUL_LOGINS.length + NODE_CONSUL_LOGINS.filter((l) => l.nodeIdentity).length);
  });

  test("a node role's Vault policy reads its own rows' identity tokens and no other role's; routing's AWS role infers the instance", () => {
    for (const role of ["core", "client", "monitoring", "routing"] as const) {
      const paths = vaultNodePolicyDoc(role).paths.filter((p) => p.path.startsWith("identity/")).map((p) => p.path);
      expect([role, paths]).toEqual([role, NODE_CONSUL_LOGINS.filter((l) => l.role === role).map((l) => `identity/oidc/token/${l.vaultRole}`)]);
    }
    const routing = resourceWhere(parsed, "vault_aws_auth_backend_role", "role", "routing");
    expect([routing.inferred_entity_type, routing.inferred_aws_region]).toEqual(["ec2_instance", exampleCluster.coreRegion]);
  });
});
