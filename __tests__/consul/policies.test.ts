/**
 * Every policy the stack synthesizes parses with a real HCL parser, and none writes to
 * everything of a kind unless it is an operator policy or a listed, justified exception.
 */
import type { Cluster } from "../../clusters/spec";
import { resolveNode } from "../../constructs/node-config/context";
import { firstBootConsulAcl } from "../../constructs/node-config/consul-acl";
import { parse } from "@cdktf/hcl2json";
import { renderConsulRules, consulPolicies } from "../../constructs/policy/consul";
import { renderHcl } from "../../constructs/policy/hcl";
import { CONSUL_POLICIES, NOMAD_POLICIES, VAULT } from "../../constructs/policy/names";
import { nomadPolicies, renderNomadPolicy } from "../../constructs/policy/nomad";
import { renderVaultPolicy, vaultOperatorPolicy, workloadPolicy } from "../../constructs/policy/vault";
import { isWideVaultPath, OPERATOR_POLICIES, WIDE_WRITE_EXCEPTIONS, wideWrites, type WideWrite } from "../../constructs/policy/wide-write";
import { asServerSees, clusterWith, policyTexts, SAMPLE_ACCESSOR, synthConsul, type PolicyText } from "./helpers";

type Parsed = Record<string, unknown>;

async function parseHcl(p: PolicyText): Promise<Parsed> {
  return (await parse(`${p.language}-${p.name}.hcl`, asServerSees(p.text))) as Parsed;
}

const key = (w: WideWrite): string => `${w.language}:${w.policy}:${w.grant}`;

describe("policy rules as the servers receive them", () => {
  const clusters = {
    example: clusterWith({ namespaces: ["apps"], routes: [{ host: "www", service: "web" }] }),
    bare: clusterWith({}),
    many: clusterWith({ namespaces: ["apps", "batch", "team-a"], routes: [{ host: "www", service: "web" }, { host: "api", service: "public-api" }] }),
  };

  /** The first-boot Consul policies of a cluster, as its core nodes render them. */
  const firstBootTexts = (cluster: Cluster) =>
    firstBootConsulAcl(resolveNode({ cluster, role: "core", nodeName: "core-1" })).policies.map((p) => ({ language: "consul" as const, name: p.name, text: p.rules }));

  for (const [label, cluster] of Object.entries(clusters)) {
    describe(`cluster "${label}"`, () => {
      // The cluster's policies: the stack's, and the ones the first boot creates from the same definitions.
      const texts = [...policyTexts(synthConsul(cluster).parsed), ...firstBootTexts(cluster)];

      test("there are Consul, Vault and Nomad policies", () => {
        expect(new Set(texts.map((t) => t.language))).toEqual(new Set(["consul", "vault", "nomad"]));
      });

      test("every policy parses as HCL", async () => {
        for (const p of texts) {
          await expect(parseHcl(p)).resolves.toBeInstanceOf(Object);
        }
      });

      test("no policy writes to everything of a kind except operators and the listed exceptions", async () => {
        const found: WideWrite[] = [];
        for (const p of texts) found.push(...wideWrites(p.language, p.name, await parseHcl(p)));
        const isOperator = (w: WideWrite): boolean => OPERATOR_POLICIES.some((o) => o.language === w.language && o.policy === w.policy);
        const outside = found.filter((w) => !isOperator(w)).map(key).sort();
        expect(outside).toEqual(WIDE_WRITE_EXCEPTIONS.map(key).sort());
        // The operators really do hold the wide grants (the check is not vacuous).
        for (const o of OPERATOR_POLICIES) expect(found.some((w) => w.language === o.language && w.policy === o.policy)).toBe(true);
      });
    });
  }

  test("every exception says why", () => {
    for (const e of WIDE_WRITE_EXCEPTIONS) expect(e.why.length).toBeGreaterThan(20);
  });
});

describe("the wide-write check", () => {
  test("finds wide grants in each language", async () => {
    const consul = (await parse("c.hcl", 'acl = "write"\nkey_prefix "" {\n  policy = "write"\n}\nservice "web" {\n  policy = "write"\n}\n')) as Parsed;
    expect(wideWrites("consul", "x", consul).map((w) => w.grant).sort()).toEqual(["acl", 'key_prefix ""']);
    const nomad = (await parse("n.hcl", 'namespace "*" {\n  capabilities = ["read-job", "submit-job"]\n}\nnamespace "apps" {\n  policy = "write"\n}\nnode {\n  policy = "write"\n}\n')) as Parsed;
    expect(wideWrites("nomad", "x", nomad).map((w) => w.grant).sort()).toEqual(['namespace "*"', "node"]);
    const vault = (await parse("v.hcl", 'path "secret/data/*" {\n  capabilities = ["update"]\n}\npath "secret/data/apps/*" {\n  capabilities = ["update"]\n}\npath "*" {\n  capabilities = ["read"]\n}\n')) as Parsed;
    expect(wideWrites("vault", "x", vault).map((w) => w.grant)).toEqual(['path "secret/data/*"']);
  });

  test.each([
    ["*", true],
    ["sys/*", true],
    ["secret/*", true],
    ["secret/data/*", true],
    ["+/data/apps", true],
    ["secret/data/apps/*", false],
    ["sys/metrics", false],
    ["pki_int/issue/workloads", false],
  ])("Vault path %s is wide: %s", (path, wide) => {
    expect(isWideVaultPath(path)).toBe(wide);
  });
});

describe("renderers", () => {
  test("HCL strings are quoted and identifiers checked", async () => {
    const text = renderHcl({ attributes: { a: 'say "hi"\\', b: ["x", "y"], c: 3, d: true }, blocks: [{ type: "blk", labels: ['l"1'], body: { attributes: { e: "f" } } }] });
    expect(await parse("r.hcl", text)).toEqual({ a: 'say "hi"\\', b: ["x", "y"], c: 3, d: true, blk: { 'l"1': [{ e: "f" }] } });
    expect(() => renderHcl({ attributes: { "bad key": "x" } })).toThrow(/not valid/);
  });

  test("Consul rules round-trip through the parser", async () => {
    const doc = consulPolicies({ namespaces: ["default"], routedServices: [] }).find((d) => d.name === CONSUL_POLICIES.nomadServer);
    expect(await parse("c.hcl", renderConsulRules(doc!))).toEqual({
      acl: "write",
      mesh: "write",
      agent_prefix: { "": [{ policy: "read" }] },
      node_prefix: { "": [{ policy: "read" }] },
      service_prefix: { "": [{ policy: "write" }] },
    });
  });

  test("the workload policy is templated on the JWT accessor's nomad_namespace and nomad_job_id", async () => {
    const parsed = (await parse("w.hcl", renderVaultPolicy(workloadPolicy(SAMPLE_ACCESSOR)))) as { path: Record<string, unknown> };
    const meta = (claim: string): string => `{{identity.entity.aliases.${SAMPLE_ACCESSOR}.metadata.${claim}}}`;
    expect(Object.keys(parsed.path)).toContain(`${VAULT.kvMount}/data/${meta("nomad_namespace")}/${meta("nomad_job_id")}/*`);
    // Workloads only read.
    expect(renderVaultPolicy(workloadPolicy(SAMPLE_ACCESSOR))).not.toMatch(/"(create|delete|sudo)"/);
  });

  test("the Vault operator policy is the only one with sudo", () => {
    expect(renderVaultPolicy(vaultOperatorPolicy())).toContain('"sudo"');
  });

  test("developers' Nomad policy names only their namespaces and cannot exec into allocations", async () => {
    const dev = nomadPolicies({ developerNamespaces: ["default", "apps"] }).find((d) => d.name === NOMAD_POLICIES.developer)!;
    const parsed = (await parse("d.hcl", renderNomadPolicy(dev))) as { namespace: Record<string, { capabilities: string[] }[]> };
    expect(Object.keys(parsed.namespace).sort()).toEqual(["apps", "default"]);
    for (const [body] of Object.values(parsed.namespace)) {
      expect(body.capabilities).toEqual(expect.arrayContaining(["submit-job", "read-logs"]));
      expect(body.capabilities).not.toContain("alloc-exec");
      expect(body.capabilities).not.toContain("alloc-node-exec");
    }
  });

  test("the anonymous Nomad policy grants nothing", async () => {
    const anon = nomadPolicies({ developerNamespaces: [] }).find((d) => d.name === NOMAD_POLICIES.anonymous)!;
    const text = renderNomadPolicy(anon);
    const policies = [...text.matchAll(/policy\s*=\s*"([a-z-]+)"/g)].map((m) => m[1]);
    expect(policies.length).toBeGreaterThan(0);
    expect(new Set(policies)).toEqual(new Set(["deny"]));
    expect(text).not.toContain("capabilities");
  });
});
