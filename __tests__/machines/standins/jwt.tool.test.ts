/**
 * Per-node Consul tokens (issue 12): a node logs in to Vault with its instance role, reads a Vault
 * identity token, logs in to Consul's jwt auth method with it and runs its agent with the token.
 * Checked host-side with the stand-in CLIs against the stand-in Vault and Consul, seeded by
 * harness/iam.ts from a consul-stack JSON of the shape the providers write.
 *
 * Behaviours and texts (see py/bitte_standins/login.py and jwt.py for the details):
 * - vault/identity_store_oidc.go (pathOIDCGenerateToken, pathOIDCReadPublicKeys): the claims,
 *   "the key … does not list the client ID of the role … as an allowed client ID", "no entity
 *   associated with the request's token", and the ACL check on identity/oidc/token/<role>.
 * - hashicorp/cap jwt/jwt.go (Consul's ssoauth): "error verifying token signature", "invalid issuer
 *   (iss) claim", "invalid audience (aud) claim: …", "invalid expiration time (exp) claim: token is expired".
 * - agent/consul/acl_endpoint.go Login/Logout and agent/consul/auth/binder.go: "Permission denied"
 *   when no rule binds or a non-login token logs out; "token created via login: {…}".
 * - acl/errors.go PermissionDeniedError + acl/policy_authorizer.go: "Permission denied: token with
 *   AccessorID '<id>' lacks permission 'node:write' on "<name>"", exact rule over prefix, longest prefix.
 */
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { StackJson } from "../../harness/synth";
import { describeWithTools, run } from "../../harness/tools";
import { synthConsul } from "../../consul/helpers";
import { consulAclOf, oidcClientId, vaultAwsAuthOf, type TestAccount } from "../harness/iam";
import { type Daemon, type Service, cli, daemon, freePort, makeCa, service, tempDir, waitFor } from "./harness";

const ME = "i-0123456789abcdef0";
const OTHER = "i-0fffffffffffffff1";
const ACCESSOR = "auth_aws_0c1d2e3f";

function writeJson(path: string, obj: unknown): void {
  writeFileSync(path, JSON.stringify(obj, null, 1));
  chmodSync(path, 0o644);
}

function claimsOf(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString()) as Record<string, unknown>;
}

/** A consul stack of the shape `cdktf synth` writes for per-node tokens (hand-written until the constructs land). */
function fixtureStack(): StackJson {
  const method = (name: string, extra: Record<string, unknown>) => ({
    name,
    type: "jwt",
    max_token_ttl: "1h0m0s",
    token_locality: "local",
    config_json: JSON.stringify({
      JWKSURL: "https://vault.example.test/v1/identity/oidc/.well-known/keys",
      JWTSupportedAlgs: ["RS256"],
      BoundIssuer: "${vault_identity_oidc.oidc.issuer}/v1/identity/oidc",
      BoundAudiences: ["${vault_identity_oidc_role.node.client_id}"],
      ClaimMappings: { instance_id: "instance_id", node_role: "node_role" },
      ...extra,
    }),
  });
  const nodeRules = (m: string) => ({
    [`${m}-node`]: { auth_method: `\${consul_acl_auth_method.${m}.name}`, selector: 'value.node_role == "client" and "instance_id" in value', bind_type: "node", bind_name: "$${value.instance_id}" },
    [`${m}-role`]: { auth_method: `\${consul_acl_auth_method.${m}.name}`, selector: 'value.node_role == "client"', bind_type: "role", bind_name: "bitte-consul-client-agent" },
  });
  return {
    resource: {
      vault_auth_backend: { aws: { type: "aws", path: "aws" } },
      vault_aws_auth_backend_client: { aws: { backend: "${vault_auth_backend.aws.path}", iam_server_id_header_value: "vault.example.test" } },
      vault_aws_auth_backend_config_identity: { aws: { backend: "${vault_auth_backend.aws.path}", iam_alias: "role_id", iam_metadata: ["account_id", "auth_type", "inferred_entity_id"] } },
      vault_policy: {
        client: { name: "bitte-node-client", policy: 'path "identity/oidc/token/*" {\n  capabilities = ["read"]\n}\n' },
        core: { name: "bitte-node-core", policy: 'path "sys/storage/raft/snapshot" {\n  capabilities = ["read"]\n}\n' },
      },
      vault_aws_auth_backend_role: {
        client: { backend: "aws", role: "client-eu-central-1", auth_type: "iam", bound_iam_principal_arns: ["${aws_iam_role.core.arn}"], token_policies: ["${vault_policy.client.name}"], inferred_entity_type: "ec2_instance", inferred_aws_region: "eu-central-1" },
        core: { backend: "aws", role: "core", auth_type: "iam", bound_iam_principal_arns: ["${aws_iam_role.core.arn}"], token_policies: ["${vault_policy.core.name}"] },
      },
      vault_identity_oidc: { oidc: { issuer: "https://vault.example.test" } },
      vault_identity_oidc_key: { nodes: { name: "bitte-nodes", algorithm: "RS256", allowed_client_ids: ["${vault_identity_oidc_role.short.client_id}"] } },
      vault_identity_oidc_key_allowed_client_id: { node: { key_name: "${vault_identity_oidc_key.nodes.name}", allowed_client_id: "${vault_identity_oidc_role.node.client_id}" } },
      vault_identity_oidc_role: {
        node: { name: "consul-node", key: "${vault_identity_oidc_key.nodes.name}", ttl: 600, template: `{"instance_id": {{identity.entity.aliases.\${vault_auth_backend.aws.accessor}.metadata.inferred_entity_id}}, "node_role": "client"}` },
        short: { name: "consul-node-short", key: "${vault_identity_oidc_key.nodes.name}", ttl: 1, template: `{"instance_id": {{identity.entity.aliases.\${vault_auth_backend.aws.accessor}.metadata.inferred_entity_id}}, "node_role": "client"}` },
        unlisted: { name: "unlisted", key: "${vault_identity_oidc_key.nodes.name}", ttl: 600 },
      },
      consul_acl_policy: { agent: { name: "bitte-consul-client-agent", rules: 'node_prefix "" {\n  policy = "read"\n}\n' } },
      consul_acl_role: { agent: { name: "bitte-consul-client-agent", policies: ["${consul_acl_policy.agent.id}"] } },
      consul_acl_auth_method: {
        nodes: method("vault-nodes", {}),
        "no-skew": method("vault-nodes-no-skew", { BoundAudiences: ["${vault_identity_oidc_role.short.client_id}"], ClockSkewLeeway: "-1s", ExpirationLeeway: "-1s", NotBeforeLeeway: "-1s" }),
        short: method("vault-nodes-short", { BoundAudiences: ["${vault_identity_oidc_role.short.client_id}"] }),
        "wrong-aud": method("wrong-audience", { BoundAudiences: ["someone-else"] }),
        "other-iss": method("other-issuer", { BoundIssuer: "https://elsewhere.example.test/v1/identity/oidc" }),
        "no-rules": method("no-rules", {}),
        "bad-name": method("bad-node-name", {}),
        nomad: { name: "nomad-workloads", type: "jwt", config_json: JSON.stringify({ JWKSURL: "https://nomad.example.test/.well-known/jwks.json", BoundAudiences: ["consul.io"] }) },
      },
      consul_acl_binding_rule: {
        "bad-name": { auth_method: "${consul_acl_auth_method.bad-name.name}", selector: "", bind_type: "node", bind_name: "Node_$${value.instance_id}" },
        ...nodeRules("nodes"), ...nodeRules("no-skew"), ...nodeRules("short"), ...nodeRules("wrong-aud"), ...nodeRules("other-iss") },
    },
  } as unknown as StackJson;
}

const CORE: StackJson = { resource: { aws_iam_role: { core: { name: "bitte-core" } } } } as unknown as StackJson;
const ACCOUNT: TestAccount = { accountId: "123456789012", region: "eu-central-1", kmsKeyArn: "arn:aws:kms:eu-central-1:123456789012:key/k", bucketName: "b" };

describe("seeding from the consul stack (harness/iam.ts)", () => {
  test("OIDC keys, roles and client ids; auth methods, rules, policies and roles, with references resolved", () => {
    const vault = vaultAwsAuthOf(fixtureStack(), CORE, ACCOUNT, ACCESSOR);
    const node = oidcClientId("vault_identity_oidc_role.node");
    expect(vault.oidc?.issuer).toBe("https://vault.example.test");
    expect(vault.oidc?.keys["bitte-nodes"].allowedClientIds).toEqual([oidcClientId("vault_identity_oidc_role.short"), node]);
    expect(vault.oidc?.roles["consul-node"]).toEqual({ key: "bitte-nodes", clientId: node, ttl: 600, template: `{"instance_id": {{identity.entity.aliases.${ACCESSOR}.metadata.inferred_entity_id}}, "node_role": "client"}` });
    expect(node).toMatch(/^[0-9A-Za-z]{26}$/);
    const acl = consulAclOf(fixtureStack(), ACCESSOR);
    expect(acl.authMethods["vault-nodes"]).toMatchObject({ type: "jwt", maxTokenTTL: "1h0m0s", tokenLocality: "local", config: { BoundAudiences: [node], BoundIssuer: "https://vault.example.test/v1/identity/oidc" } });
    expect(acl.bindingRules).toContainEqual({ authMethod: "vault-nodes", selector: 'value.node_role == "client" and "instance_id" in value', bindType: "node", bindName: "${value.instance_id}" });
    expect(acl.roles["bitte-consul-client-agent"].policies).toEqual(["bitte-consul-client-agent"]);
  });

  test("an unresolvable reference fails naming the file to fix; the synthesized consul stack seeds", () => {
    const bad = fixtureStack() as unknown as { resource: Record<string, Record<string, Record<string, unknown>>> };
    bad.resource.consul_acl_role.agent.policies = ["${consul_acl_policy.missing.id}"];
    expect(() => consulAclOf(bad as unknown as StackJson)).toThrow("iam: cannot resolve ${consul_acl_policy.missing.id} in consul_acl_role.agent: add it to __tests__/machines/harness/iam.ts");
    const real = consulAclOf(synthConsul().parsed as unknown as StackJson);
    expect(Object.keys(real.authMethods).length).toBeGreaterThan(0);
    for (const r of real.bindingRules) expect(r.bindName).not.toContain("$${");
  });
});

describeWithTools(["python3", "openssl", "setpriv", "curl"], "per-node Consul tokens: Vault identity token → consul login → agent ACLs", () => {
  let dir: string;
  let svc: Service;
  const running: Daemon[] = [];
  let vault: Record<string, string>;
  let root: string;
  let aws: Record<string, string>;
  let consul: Record<string, string>;
  let mgmt: string;
  const env = () => ({ BITTE_STANDINS_CONF: svc.standinsConf });
  const events = (event: string) => svc.events().filter((e) => e.event === event);

  beforeAll(async () => {
    dir = tempDir("standins-jwt-");
    const ca = makeCa(dir);
    const vaultAwsAuth = vaultAwsAuthOf(fixtureStack(), CORE, ACCOUNT, ACCESSOR);
    const consulAcl = consulAclOf(fixtureStack(), ACCESSOR);
    svc = await service(dir, ca, { "bitte-vault": [{ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: ["ec2:DescribeInstances"], Resource: "*" }] }] }, { vaultAwsAuth, consulAcl });
    const instances = [...(svc.conf.instances as unknown[]), { ip: "127.0.0.2", instanceId: "i-0aaaaaaaaaaaaaaa1", name: "vault-1", role: "core", zone: "eu-central-1a", iamRole: "bitte-vault" }];
    writeJson(svc.confFile, { ...svc.conf, instances });
    await svc.start();

    // Vault, initialised.
    const vbase = join(dir, "vault-1");
    mkdirSync(join(vbase, "data"), { recursive: true });
    const t = ca.issue("vault-1", "DNS:vault.service.consul,IP:127.0.0.1");
    const vport = await freePort();
    writeJson(join(vbase, "vault.json"), {
      cluster_addr: `https://127.0.0.1:${await freePort()}`,
      api_addr: `https://127.0.0.1:${vport}`,
      disable_mlock: true,
      storage: { raft: { path: join(vbase, "data"), node_id: "vault-1" } },
      listener: [{ tcp: { address: `127.0.0.1:${vport}`, tls_cert_file: t.cert, tls_key_file: t.key } }],
      seal: { awskms: { region: "eu-central-1", kms_key_id: "k" } },
    });
    const v = daemon("vault", ["server", `-config=${join(vbase, "vault.json")}`], env());
    running.push(v);
    await waitFor("vault start", () => events("start").some((e) => e.node === "vault-1") || v.proc.exitCode !== null, 120_000);
    vault = { ...env(), VAULT_ADDR: `https://127.0.0.1:${vport}`, VAULT_CACERT: ca.cert };
    root = (JSON.parse(cli("vault", ["operator", "init", "-format=json"], vault).stdout) as { root_token: string }).root_token;

    // The instance's role credentials from the stand-in IMDS.
    const imds = `http://127.0.0.1:${svc.ports.imds}/latest`;
    const tok = run("curl", ["-fsS", "-X", "PUT", "-H", "X-aws-ec2-metadata-token-ttl-seconds: 60", `${imds}/api/token`]).stdout;
    const creds = JSON.parse(run("curl", ["-fsS", "-H", `X-aws-ec2-metadata-token: ${tok}`, `${imds}/meta-data/iam/security-credentials/bitte-core`]).stdout) as Record<string, string>;
    aws = { ...vault, AWS_ACCESS_KEY_ID: creds.AccessKeyId, AWS_SECRET_ACCESS_KEY: creds.SecretAccessKey, AWS_SESSION_TOKEN: creds.Token };

    // A Consul server named after this instance, ACLs on (default deny), bootstrapped.
    const cbase = join(dir, "consul-1");
    mkdirSync(join(cbase, "etc"), { recursive: true });
    mkdirSync(join(cbase, "data"), { recursive: true });
    const http = await freePort();
    writeJson(join(cbase, "etc", "consul.json"), {
      datacenter: "dc1", node_name: ME, data_dir: join(cbase, "data"), bind_addr: "127.0.0.1", advertise_addr: "127.0.0.1", client_addr: "127.0.0.1",
      ports: { http, https: -1, grpc: -1, grpc_tls: -1, dns: -1 }, acl: { enabled: true, default_policy: "deny", enable_token_persistence: true }, server: true, bootstrap_expect: 1,
    });
    const c = daemon("consul", ["agent", `-config-dir=${join(cbase, "etc")}`], env());
    running.push(c);
    await waitFor("consul node-register", () => events("node-register").some((e) => e.node === ME) || c.proc.exitCode !== null, 120_000);
    consul = { ...env(), CONSUL_HTTP_ADDR: `http://127.0.0.1:${http}` };
    const boot = cli("consul", ["acl", "bootstrap", "-format=json"], consul);
    expect(boot.stderr).toBe("");
    mgmt = (JSON.parse(boot.stdout) as { SecretID: string }).SecretID;
  }, 300_000);

  afterAll(async () => {
    for (const d of running) await d.stop();
    await svc?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const vaultLogin = (role: string) => {
    const r = cli("vault", ["login", "-method=aws", "-token-only", "-no-store", `role=${role}`, "header_value=vault.example.test"], aws);
    expect(r.stderr).toBe("");
    return r.stdout.trim();
  };
  const identityToken = (role = "consul-node", token = vaultLogin("client-eu-central-1")) => cli("vault", ["read", "-field=token", `identity/oidc/token/${role}`], { ...vault, VAULT_TOKEN: token });
  const consulLogin = (jwt: string, method = "vault-nodes", ...meta: string[]) => {
    const bearer = join(dir, `bearer-${Math.random().toString(36).slice(2)}`);
    const sink = `${bearer}.token`;
    writeFileSync(bearer, jwt);
    const r = cli("consul", ["login", `-method=${method}`, `-bearer-token-file=${bearer}`, `-token-sink-file=${sink}`, ...meta.flatMap((m) => ["-meta", m])], consul);
    return { ...r, secret: r.status === 0 ? readFileSync(sink, "utf8") : "" };
  };

  let loginSecret: string;

  test("full path: aws login → identity token → consul login → a token with this instance's node identity", () => {
    const read = identityToken();
    expect(read.stderr).toBe("");
    const jwt = read.stdout.trim();
    const claims = claimsOf(jwt);
    const entity = (events("oidc-token").at(-1) as { sub: string }).sub;
    expect(claims).toMatchObject({ iss: "https://vault.example.test/v1/identity/oidc", aud: oidcClientId("vault_identity_oidc_role.node"), sub: entity, namespace: "root", instance_id: ME, node_role: "client" });
    expect(Number(claims.exp) - Number(claims.iat)).toBe(600);
    // The JWKS Vault serves (unauthenticated) holds the key that signed it.
    const jwks = JSON.parse(run("curl", ["-fsS", "--cacert", vault.VAULT_CACERT, `${vault.VAULT_ADDR}/v1/identity/oidc/.well-known/keys`]).stdout) as { keys: Array<Record<string, string>> };
    const kid = (JSON.parse(Buffer.from(jwt.split(".")[0], "base64url").toString()) as { kid: string; alg: string }).kid;
    expect(jwks.keys).toContainEqual(expect.objectContaining({ kty: "RSA", alg: "RS256", use: "sig", kid, e: "AQAB" }));

    const login = consulLogin(jwt, "vault-nodes", `node=${ME}`);
    expect(login.stderr).toBe("");
    loginSecret = login.secret;
    const self = JSON.parse(cli("consul", ["acl", "token", "read", "-self", "-format", "json"], { ...consul, CONSUL_HTTP_TOKEN: loginSecret }).stdout) as Record<string, unknown>;
    expect(self).toMatchObject({ AuthMethod: "vault-nodes", Local: true, NodeIdentities: [{ NodeName: ME, Datacenter: "dc1" }], Roles: [{ Name: "bitte-consul-client-agent" }], Description: `token created via login: {"node":"${ME}"}` });
    const ttl = Date.parse(String(self.ExpirationTime)) - Date.now();
    expect(ttl).toBeGreaterThan(3500_000);
    expect(ttl).toBeLessThanOrEqual(3600_000);
  });

  test("Vault refuses: a policy without read on the path (403), a key not listing the role's client id, a token without entity", () => {
    const denied = identityToken("consul-node", vaultLogin("core"));
    expect(denied.status).toBe(2);
    expect(denied.stderr).toContain("Code: 403");
    expect(denied.stderr).toContain("permission denied");
    expect(identityToken("unlisted").stderr).toContain('the key "bitte-nodes" does not list the client ID of the role "unlisted" as an allowed client ID');
    expect(identityToken("consul-node", root).stderr).toContain("no entity associated with the request's token");
    expect(identityToken("nope").stderr).toContain('role "nope" not found');
  });

  test("Consul refuses: wrong audience, expired, tampered payload, unbound issuer, no matching rule, a JWKS that is not Vault's", async () => {
    const jwt = identityToken().stdout.trim();
    expect(consulLogin(jwt, "wrong-audience").stderr).toContain("invalid audience (aud) claim: audience claim does not match any expected audience");
    expect(consulLogin(jwt, "other-issuer").stderr).toContain("invalid issuer (iss) claim");
    const none = consulLogin(jwt, "no-rules");
    expect(none.status).toBe(1);
    expect(none.stderr).toContain("Error logging in: Unexpected response code: 403 (Permission denied)");
    const [h, , s] = jwt.split(".");
    const forged = Buffer.from(JSON.stringify({ ...claimsOf(jwt), instance_id: OTHER })).toString("base64url");
    expect(consulLogin(`${h}.${forged}.${s}`).stderr).toContain("error verifying token signature");
    expect(consulLogin(jwt, "nomad-workloads").stderr).toContain("is not Vault's https://…/v1/identity/oidc/.well-known/keys");
    expect(consulLogin(jwt, "absent").stderr).toContain("403 (ACL not found)");
    // A node name Consul would not accept (agent/structs/acl.go: lowercase alphanumerics, '-', '_').
    expect(consulLogin(jwt, "bad-node-name").stderr).toContain(`computed "node" bind name for bind target is invalid: "Node_${ME}"`);
    // A 1 s token, checked without leeway once it has passed.
    const short = identityToken("consul-node-short").stdout.trim();
    await new Promise((r) => setTimeout(r, 2500));
    expect(consulLogin(short, "vault-nodes-no-skew").stderr).toContain("invalid expiration time (exp) claim: token is expired");
    // Within Consul's default clock skew leeway (60 s) the same token still logs in.
    expect(consulLogin(short, "vault-nodes-short").stderr).toBe("");
  });

  test("logout: a non-login token is refused; the login token is deleted", () => {
    const mine = cli("consul", ["logout"], { ...consul, CONSUL_HTTP_TOKEN: mgmt });
    expect(mine.status).toBe(1);
    expect(mine.stderr).toContain("Error destroying token: Unexpected response code: 403 (Permission denied)");
    const extra = consulLogin(identityToken().stdout.trim()).secret;
    expect(cli("consul", ["logout"], { ...consul, CONSUL_HTTP_TOKEN: extra }).status).toBe(0);
    expect(cli("consul", ["acl", "token", "read", "-self"], { ...consul, CONSUL_HTTP_TOKEN: extra }).stderr).toContain("403 (ACL not found)");
  });

  test("agent ACLs: anonymous is denied node:write; the login token registers its own node; another node's identity is denied", async () => {
    // The server started with no agent token: anonymous lacks node:write on its name.
    const first = events("node-register").find((e) => e.node === ME) as Record<string, unknown>;
    expect(first).toMatchObject({ outcome: "denied", accessor: "00000000-0000-0000-0000-000000000002", error: `Permission denied: token with AccessorID '00000000-0000-0000-0000-000000000002' lacks permission 'node:write' on "${ME}"` });
    // set-agent-token needs agent:write: the login token has none.
    expect(cli("consul", ["acl", "set-agent-token", "agent", loginSecret], { ...consul, CONSUL_HTTP_TOKEN: loginSecret }).stderr).toContain("lacks permission 'agent:write'");
    const set = cli("consul", ["acl", "set-agent-token", "agent", loginSecret], { ...consul, CONSUL_HTTP_TOKEN: mgmt });
    expect(set.stdout).toContain('ACL token "agent" set successfully');
    const accessor = (JSON.parse(cli("consul", ["acl", "token", "read", "-self", "-format", "json"], { ...consul, CONSUL_HTTP_TOKEN: loginSecret }).stdout) as { AccessorID: string }).AccessorID;
    await waitFor("node-register ok", () => events("node-register").some((e) => e.node === ME && e.outcome === "ok" && e.accessor === accessor));

    // A client agent on another node with this node's token (tokens.json in its config dir), and a config-file service.
    const base = join(dir, "consul-2");
    mkdirSync(join(base, "etc"), { recursive: true });
    mkdirSync(join(base, "data"), { recursive: true });
    const http = await freePort();
    writeJson(join(base, "etc", "consul.json"), { datacenter: "dc1", node_name: OTHER, data_dir: join(base, "data"), bind_addr: "127.0.0.1", advertise_addr: "127.0.0.1", client_addr: "127.0.0.1", ports: { http, https: -1, grpc: -1, grpc_tls: -1, dns: -1 }, acl: { enabled: true, default_policy: "deny" } });
    writeJson(join(base, "etc", "tokens.json"), { acl: { tokens: { agent: loginSecret, config_file_service_registration: loginSecret } } });
    writeJson(join(base, "etc", "web.json"), { services: [{ name: "web", port: 80 }] });
    const other = daemon("consul", ["agent", `-config-dir=${join(base, "etc")}`], env());
    running.push(other);
    await waitFor("the other node's register", () => events("service-register").some((e) => e.node === OTHER) || other.proc.exitCode !== null, 120_000);
    expect(events("node-register").filter((e) => e.node === OTHER).at(-1)).toMatchObject({ outcome: "denied", accessor, error: `Permission denied: token with AccessorID '${accessor}' lacks permission 'node:write' on "${OTHER}"` });
    expect(events("service-register").filter((e) => e.node === OTHER).at(-1)).toMatchObject({ service: "web", outcome: "denied", error: `Permission denied: token with AccessorID '${accessor}' lacks permission 'service:write' on "web"` });
    expect(other.output()).toContain(`lacks permission 'node:write' on "${OTHER}"`);
    expect(other.proc.exitCode).toBeNull(); // the agent keeps running
    const otherConsul = { ...env(), CONSUL_HTTP_ADDR: `http://127.0.0.1:${http}` };

    // Exact rule over prefix rule; the longest prefix wins.
    const token = (name: string, rules: string) => {
      writeFileSync(join(dir, `${name}.hcl`), rules);
      expect(cli("consul", ["acl", "policy", "create", "-name", name, "-rules", `@${join(dir, `${name}.hcl`)}`], { ...consul, CONSUL_HTTP_TOKEN: mgmt }).status).toBe(0);
      return JSON.parse(cli("consul", ["acl", "token", "create", "-policy-name", name, "-format", "json"], { ...consul, CONSUL_HTTP_TOKEN: mgmt }).stdout) as { SecretID: string; AccessorID: string };
    };
    const exact = token("exact-over-prefix", `node_prefix "" {\n  policy = "write"\n}\nnode "${OTHER}" {\n  policy = "read"\n}\n`);
    const longest = token("longest-prefix", `node_prefix "" {\n  policy = "read"\n}\nnode_prefix "i-0f" {\n  policy = "write"\n}\n`);
    const outcome = async (agent: Record<string, string>, node: string, t: { SecretID: string; AccessorID: string }) => {
      expect(cli("consul", ["acl", "set-agent-token", "agent", t.SecretID], { ...agent, CONSUL_HTTP_TOKEN: mgmt }).status).toBe(0);
      await waitFor(`${node} register with ${t.AccessorID}`, () => events("node-register").some((e) => e.node === node && e.accessor === t.AccessorID));
      return events("node-register").filter((e) => e.node === node && e.accessor === t.AccessorID).at(-1)?.outcome;
    };
    expect(await outcome(otherConsul, OTHER, exact)).toBe("denied");
    expect(await outcome(consul, ME, exact)).toBe("ok");
    expect(await outcome(otherConsul, OTHER, longest)).toBe("ok");
    expect(await outcome(consul, ME, longest)).toBe("denied");
    // A node identity holds in its own datacenter only (structs.ACLNodeIdentity.SyntheticPolicy).
    const identity = (arg: string) => JSON.parse(cli("consul", ["acl", "token", "create", "-node-identity", arg, "-format", "json"], { ...consul, CONSUL_HTTP_TOKEN: mgmt }).stdout) as { SecretID: string; AccessorID: string; NodeIdentities: unknown };
    const here = identity(`${OTHER}:dc1`);
    expect(here.NodeIdentities).toEqual([{ NodeName: OTHER, Datacenter: "dc1" }]);
    expect(await outcome(otherConsul, OTHER, here)).toBe("ok");
    expect(await outcome(otherConsul, OTHER, identity(`${OTHER}:dc2`))).toBe("denied");
    // SIGHUP: the config's tokens again (this agent persists none), here tokens.json with the dc1 identity.
    const reloaded = identity(`${OTHER}:dc1`);
    writeJson(join(base, "etc", "tokens.json"), { acl: { tokens: { agent: reloaded.SecretID } } });
    other.proc.kill("SIGHUP");
    await waitFor("the reload's register", () => events("node-register").some((e) => e.node === OTHER && e.accessor === reloaded.AccessorID && e.outcome === "ok"));
    expect(other.proc.exitCode).toBeNull();
    expect(cli("consul", ["acl", "token", "create", "-node-identity", "Bad_Name:dc1"], { ...consul, CONSUL_HTTP_TOKEN: mgmt }).stderr).toContain("Node identity has an invalid name");
    expect(cli("consul", ["acl", "policy", "create", "-name", "bad", "-rules", 'nodes "" {\n policy = "write"\n}\n'], { ...consul, CONSUL_HTTP_TOKEN: mgmt }).stderr).toContain("Invalid Policy");
    // enable_token_persistence: the token set last is what the server agent starts with next time.
    expect(JSON.parse(readFileSync(join(dir, "consul-1", "data", "acl-tokens.json"), "utf8"))).toEqual({ agent: longest.SecretID });
  });
});
