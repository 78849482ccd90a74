/**
 * The `consul` stack: a snapshot of its JSON and property assertions on every resource kind
 * (cdktf matchers take Terraform's snake_case keys).
 */
import { Testing } from "cdktf";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { consulPolicies, FIRST_BOOT_CONSUL_POLICIES, renderConsulRules } from "../../constructs/policy/consul";
import { CONSUL_POLICIES, consulAgentPolicy, consulTaskRole, NODE_ROLES, NOMAD_POLICIES, VAULT } from "../../constructs/policy/names";
import { ConsulStack } from "../../stacks/consul";
import { clusterWith, exampleCluster, resources, resourceWhere, synthConsul } from "./helpers";

const JWKS = "https://nomad.example.bitte.dev/.well-known/jwks.json";

describe("consul stack, example cluster", () => {
  const { json, parsed, stack } = synthConsul();
  const has = (type: string, props: Record<string, unknown>): boolean => Testing.toHaveResourceWithProperties(json, type, props);

  test("snapshot", () => {
    expect(parsed).toMatchSnapshot();
  });

  test("full synthesis writes cdktf.out-style stacks/consul/cdk.tf.json", () => {
    const outdir = Testing.fullSynth(stack);
    const file = join(outdir, "stacks", "consul", "cdk.tf.json");
    expect(existsSync(file)).toBe(true);
    expect(Object.keys(JSON.parse(readFileSync(file, "utf8")).resource)).toContain("consul_acl_policy");
  });

  test("providers point at the admin endpoints, in the core region's datacenter", () => {
    expect(Testing.toHaveProviderWithProperties(json, "consul", { address: "consul.example.bitte.dev:443", scheme: "https", datacenter: "eu-central-1" })).toBe(true);
    expect(Testing.toHaveProviderWithProperties(json, "vault", { address: "https://vault.example.bitte.dev" })).toBe(true);
    expect(Testing.toHaveProviderWithProperties(json, "nomad", { address: "https://nomad.example.bitte.dev" })).toBe(true);
  });

  describe("Consul", () => {
    /** A policy's rules: from the stack, or for the first boot's own policies, from their one definition. */
    const policyRules = (name: string): string => {
      if (!FIRST_BOOT_CONSUL_POLICIES.includes(name)) return String(resourceWhere(parsed, "consul_acl_policy", "name", name).rules);
      const doc = consulPolicies({ namespaces: ["default", "apps"], routedServices: ["web"] }).find((d) => d.name === name);
      return doc ? renderConsulRules(doc) : "";
    };
    test("a policy and a role of the same name for every token kind", () => {
      // The first boot creates its own policies (FIRST_BOOT_CONSUL_POLICIES); the stack all others.
      const expected = [...Object.values(CONSUL_POLICIES), consulAgentPolicy("client"), consulAgentPolicy("routing")].filter((n) => !FIRST_BOOT_CONSUL_POLICIES.includes(n)).concat(consulTaskRole("default"), consulTaskRole("apps")).sort();
      const policyNames = Object.values(resources(parsed, "consul_acl_policy")).map((p) => p.name).sort();
      const roleNames = Object.values(resources(parsed, "consul_acl_role")).map((r) => r.name).sort();
      expect(policyNames).toEqual(expected);
      expect(roleNames).toEqual(expected);
      for (const role of Object.values(resources(parsed, "consul_acl_role"))) {
        expect(role.policies).toEqual([expect.stringMatching(/^\$\{consul_acl_policy\.[^.]+\.id\}$/)]);
      }
    });

    test("no policy the stack makes writes a node but the operators': only the first boot's agent tokens do", () => {
      for (const policy of Object.values(resources(parsed, "consul_acl_policy")).filter((p) => p.name !== CONSUL_POLICIES.operator)) {
        expect([policy.name, String(policy.rules)]).not.toEqual([policy.name, expect.stringMatching(/node(_prefix)? "[^"]*" \{\s+policy = "write"/)]);
      }
    });

    test("routing may resolve only the routed services", () => {
      const rules = String(resourceWhere(parsed, "consul_acl_policy", "name", CONSUL_POLICIES.routing).rules);
      expect([...rules.matchAll(/service(_prefix)? "([^"]*)"/g)].map((m) => m[2])).toEqual(["web"]);
    });

    test("Vault may write only its own service", () => {
      const rules = policyRules(CONSUL_POLICIES.vault);
      expect(rules).toContain('service "vault" {\n  policy = "write"');
      expect(rules).not.toContain('service_prefix "" {\n  policy = "write"');
    });

    test("the JWT auth method trusts Nomad's JWKS with one audience and no token expiry", () => {
      const method = resourceWhere(parsed, "consul_acl_auth_method", "name", "nomad-workloads");
      expect(method.type).toBe("jwt");
      expect(method).not.toHaveProperty("max_token_ttl");
      expect(JSON.parse(String(method.config_json))).toEqual({
        JWKSURL: JWKS,
        JWTSupportedAlgs: ["RS256"],
        BoundAudiences: ["consul.io"],
        ClaimMappings: { nomad_namespace: "nomad_namespace", nomad_job_id: "nomad_job_id", nomad_task: "nomad_task", nomad_service: "nomad_service" },
      });
    });

    test("binding rules: services get a service identity, tasks their namespace's role; claims reach Consul unresolved", () => {
      // `$${` is Terraform's escape: Consul receives `${value.nomad_service}`.
      expect(has("consul_acl_binding_rule", { bind_type: "service", bind_name: "$${value.nomad_service}", selector: '"nomad_service" in value' })).toBe(true);
      expect(has("consul_acl_binding_rule", { bind_type: "role", bind_name: "bitte-nomad-tasks-$${value.nomad_namespace}", selector: '"nomad_service" not in value' })).toBe(true);
      for (const rule of Object.values(resources(parsed, "consul_acl_binding_rule"))) {
        expect(String(rule.bind_name)).not.toMatch(/(?<!\$)\$\{value/);
        expect(rule.auth_method).toMatch(/^\$\{consul_acl_auth_method\.[^.]+\.name\}$/);
      }
    });

    test("mesh: proxy defaults, `*` → `*` deny, dashboard → api allowed", () => {
      const proxy = resourceWhere(parsed, "consul_config_entry", "kind", "proxy-defaults");
      expect(proxy.name).toBe("global");
      expect(JSON.parse(String(proxy.config_json))).toEqual({ Config: { protocol: "tcp", envoy_prometheus_bind_addr: "0.0.0.0:9102" } });
      expect(has("consul_config_entry_service_intentions", { name: "*", sources: [{ name: "*", action: "deny" }] })).toBe(true);
      expect(has("consul_config_entry_service_intentions", { name: "count-api", sources: [{ name: "count-dashboard", action: "allow" }] })).toBe(true);
      const allows = Object.values(resources(parsed, "consul_config_entry_service_intentions")).flatMap((e) => (e.sources as { action: string; name: string }[]).filter((s) => s.action === "allow").map((s) => `${s.name}->${String(e.name)}`));
      expect(allows).toEqual(["count-dashboard->count-api"]);
    });
  });

  describe("Vault", () => {
    test("KV v2 mounts for applications and nodes", () => {
      for (const path of [VAULT.kvMount, VAULT.infraMount]) {
        expect(has("vault_mount", { path, type: "kv", options: { version: "2" } })).toBe(true);
      }
      expect(Object.keys(resources(parsed, "vault_kv_secret_backend_v2"))).toHaveLength(2);
    });

    test("JWT auth backend trusts Nomad's JWKS; its role is Nomad's recommended one", () => {
      expect(has("vault_jwt_auth_backend", { path: "jwt-nomad", type: "jwt", jwks_url: JWKS, jwt_supported_algs: ["RS256", "EdDSA"], default_role: "nomad-workloads" })).toBe(true);
      expect(
        has("vault_jwt_auth_backend_role", {
          role_name: "nomad-workloads",
          role_type: "jwt",
          bound_audiences: ["vault.io"],
          user_claim: "/nomad_job_id",
          user_claim_json_pointer: true,
          claim_mappings: { nomad_namespace: "nomad_namespace", nomad_job_id: "nomad_job_id", nomad_task: "nomad_task" },
          token_type: "service",
          token_period: 1800,
          token_explicit_max_ttl: 0,
        }),
      ).toBe(true);
    });

    test("the workload policy is templated on the JWT backend's accessor", () => {
      const policy = String(resourceWhere(parsed, "vault_policy", "name", VAULT.workloadPolicy).policy);
      const backendId = Object.keys(resources(parsed, "vault_jwt_auth_backend"))[0];
      const alias = `identity.entity.aliases.\${vault_jwt_auth_backend.${backendId}.accessor}.metadata`;
      expect(policy).toContain(`path "secret/data/{{${alias}.nomad_namespace}}/{{${alias}.nomad_job_id}}/*"`);
      const role = Object.values(resources(parsed, "vault_jwt_auth_backend_role"))[0];
      expect(role.token_policies).toEqual([expect.stringMatching(/^\$\{vault_policy\.[^.]+\.name\}$/)]);
    });

    test("operator and developer policies", () => {
      expect(String(resourceWhere(parsed, "vault_policy", "name", VAULT.operatorPolicy).policy)).toContain('path "*"');
      const dev = String(resourceWhere(parsed, "vault_policy", "name", VAULT.developerPolicy).policy);
      expect(dev).toContain('path "secret/data/default/*"');
      expect(dev).toContain('path "secret/data/apps/*"');
      expect(dev).not.toContain("infra/");
      expect(dev).not.toContain("sudo");
    });

    test("AWS auth: one IAM role per node role, from the core stack's outputs; replay-protected logins", () => {
      expect(has("vault_auth_backend", { type: "aws", path: "aws" })).toBe(true);
      expect(has("vault_aws_auth_backend_client", { iam_server_id_header_value: "vault.example.bitte.dev" })).toBe(true);
      for (const role of NODE_ROLES) {
        const bound = [`\${data.terraform_remote_state.core.outputs.iam_role_arn_${role}}`];
        if (role === "client") {
          // One role per client region, inferring the EC2 instance there (its id names the client's certificate).
          for (const region of ["eu-central-1", "us-east-2"]) {
            expect(has("vault_aws_auth_backend_role", { role: `client-${region}`, auth_type: "iam", bound_iam_principal_arns: bound, inferred_entity_type: "ec2_instance", inferred_aws_region: region })).toBe(true);
          }
          expect(has("vault_aws_auth_backend_role", { role: "client" })).toBe(false);
        } else {
          expect(has("vault_aws_auth_backend_role", { role, auth_type: "iam", bound_iam_principal_arns: bound })).toBe(true);
        }
        expect(String(resourceWhere(parsed, "vault_policy", "name", `bitte-node-${role}`).policy)).toContain(`path "infra/data/${role}/*"`);
      }
      // One alias per session (role + instance id), carrying the inferred instance id.
      const [identity] = Object.values(resources(parsed, "vault_aws_auth_backend_config_identity"));
      expect(identity).toMatchObject({ iam_alias: "full_arn", iam_metadata: expect.arrayContaining(["inferred_entity_id"]) });
      expect(Testing.toHaveDataSourceWithProperties(json, "terraform_remote_state", { backend: "local" })).toBe(true);
    });

    test("node PKI: each Nomad client may issue client.global.nomad and its own instance's name only, short-lived and revocable", () => {
      const role = resourceWhere(parsed, "vault_pki_secret_backend_role", "name", "nomad-client");
      expect(role).toMatchObject({
        backend: "pki_nodes", allowed_domains_template: true, allow_bare_domains: true, allow_subdomains: false, allow_glob_domains: false,
        allow_wildcard_certificates: false, allow_any_name: false, allow_localhost: true, allow_ip_sans: true, ttl: "24h", max_ttl: "72h", no_store: false,
      });
      expect(role.allowed_domains).toEqual(["client.global.nomad", expect.stringMatching(/^\{\{identity\.entity\.aliases\.\$\{vault_auth_backend\.vault-aws-auth_backend_[^.]+\.accessor\}\.metadata\.inferred_entity_id\}\}\.client\.global\.nomad$/)]);
      // The clients' node policy may issue there, and nothing else on the mount.
      const client = String(resourceWhere(parsed, "vault_policy", "name", "bitte-node-client").policy);
      expect(client).toContain('path "pki_nodes/issue/nomad-client"');
      expect(client.match(/pki_nodes/g)).toHaveLength(1);
      for (const other of ["core", "monitoring", "routing"]) expect(String(resourceWhere(parsed, "vault_policy", "name", `bitte-node-${other}`).policy)).not.toContain("pki_nodes");
      // The mount and its CA come from the first boot (the Bitte CA signs it there), not from Terraform.
      expect(has("vault_mount", { path: "pki_nodes" })).toBe(false);
    });

    test("PKI: root signs an intermediate; the role issues only for the caller's job", () => {
      expect(has("vault_mount", { path: "pki", type: "pki" })).toBe(true);
      expect(has("vault_mount", { path: "pki_int", type: "pki" })).toBe(true);
      const [signed] = Object.values(resources(parsed, "vault_pki_secret_backend_root_sign_intermediate"));
      expect(signed.csr).toMatch(/^\$\{vault_pki_secret_backend_intermediate_cert_request\.[^.]+\.csr\}$/);
      expect(signed.backend).toMatch(/^\$\{vault_mount\.vault-pki_root_[^.]+\.path\}$/);
      const [setSigned] = Object.values(resources(parsed, "vault_pki_secret_backend_intermediate_set_signed"));
      expect(setSigned.certificate).toMatch(/^\$\{vault_pki_secret_backend_root_sign_intermediate\.[^.]+\.certificate\}$/);
      expect(setSigned.backend).toMatch(/^\$\{vault_mount\.vault-pki_intermediate_[^.]+\.path\}$/);
      const role = resourceWhere(parsed, "vault_pki_secret_backend_role", "name", "workloads");
      expect(role).toMatchObject({ allowed_domains_template: true, allow_any_name: false, allow_glob_domains: false, max_ttl: "72h" });
      expect(role.allowed_domains).toEqual([expect.stringMatching(/^\{\{identity\.entity\.aliases\.\$\{vault_jwt_auth_backend\.[^.]+\.accessor\}\.metadata\.nomad_job_id\}\}\.service\.consul$/)]);
    });

    test("a file audit device", () => {
      expect(has("vault_audit", { type: "file", options: { file_path: "/var/log/vault/audit.log" } })).toBe(true);
    });
  });

  describe("Nomad", () => {
    test("namespaces from the spec; default is Nomad's own", () => {
      expect(Object.values(resources(parsed, "nomad_namespace")).map((n) => n.name)).toEqual(["apps"]);
    });

    test("policies anonymous, operator, developer, read-only; roles for people", () => {
      expect(Object.values(resources(parsed, "nomad_acl_policy")).map((p) => p.name).sort()).toEqual(Object.values(NOMAD_POLICIES).sort());
      expect(Object.values(resources(parsed, "nomad_acl_role")).map((r) => r.name).sort()).toEqual(["developer", "operator", "read-only"]);
      const dev = String(resourceWhere(parsed, "nomad_acl_policy", "name", "developer").rules_hcl);
      expect(dev).toContain('namespace "apps"');
      expect(dev).not.toContain('namespace "*"');
      expect(String(resourceWhere(parsed, "nomad_acl_policy", "name", "read-only").rules_hcl)).not.toContain("read-logs");
    });

    test("no Nomad auth method: Nomad trusts its own workload identities", () => {
      expect(resources(parsed, "nomad_acl_auth_method")).toEqual({});
    });
  });
});

describe("consul stack, other specs", () => {
  test("one task role per Nomad namespace, and the tasks binding waits for all of them", () => {
    const { parsed } = synthConsul(clusterWith({ namespaces: ["apps", "batch"] }));
    const roles = Object.values(resources(parsed, "consul_acl_role")).map((r) => String(r.name)).filter((n) => n.startsWith("bitte-nomad-tasks-"));
    expect(roles.sort()).toEqual(["bitte-nomad-tasks-apps", "bitte-nomad-tasks-batch", "bitte-nomad-tasks-default"]);
    const [binding, ...more] = Object.values(resources(parsed, "consul_acl_binding_rule")).filter((r) => r.bind_type === "role" && String(r.auth_method).includes("nomad-workloads"));
    expect(more).toEqual([]);
    expect(binding.depends_on).toHaveLength(3);
    expect(Object.values(resources(parsed, "nomad_namespace")).map((n) => n.name)).toEqual(["apps", "batch"]);
  });

  test("routing reads exactly the routed services, deduplicated", () => {
    const { parsed } = synthConsul(clusterWith({ routes: [{ host: "www", service: "web" }, { host: "api", service: "public-api" }, { host: "www2", service: "web" }] }));
    const rules = String(resourceWhere(parsed, "consul_acl_policy", "name", CONSUL_POLICIES.routing).rules);
    expect([...rules.matchAll(/service "([^"]*)"/g)].map((m) => m[1])).toEqual(["public-api", "web"]);
  });

  test("developers can be limited to some namespaces", () => {
    const { parsed } = synthConsul(clusterWith({ namespaces: ["apps", "ops"] }), { developerNamespaces: ["apps"] });
    const dev = String(resourceWhere(parsed, "nomad_acl_policy", "name", "developer").rules_hcl);
    expect(dev).toContain('namespace "apps"');
    expect(dev).not.toMatch(/namespace "(ops|default)"/);
    expect(String(resourceWhere(parsed, "vault_policy", "name", VAULT.developerPolicy).policy)).not.toContain("secret/data/ops/");
  });

  test("a JWKS URL can be given (e.g. a path opened on the load balancer)", () => {
    const url = "https://jwks.example.bitte.dev/.well-known/jwks.json";
    const { json } = synthConsul(exampleCluster, { jwksUrl: url });
    expect(Testing.toHaveResourceWithProperties(json, "vault_jwt_auth_backend", { jwks_url: url })).toBe(true);
  });

  test("errors say what is wrong and how to fix it", () => {
    const app = Testing.app();
    expect(() => new ConsulStack(app, "consul", { cluster: exampleCluster, developerNamespaces: ["nope"] })).toThrow(/"nope".*add them to the spec's namespaces/);
    expect(() => new ConsulStack(Testing.app(), "consul", { cluster: exampleCluster, intentions: [{ destination: "*", allowFrom: ["a"] }] })).toThrow(/allow named services only/);
    expect(() => new ConsulStack(Testing.app(), "consul", { cluster: exampleCluster, intentions: [{ destination: "a", allowFrom: [] }] })).toThrow(/allows no source/);
  });
});
