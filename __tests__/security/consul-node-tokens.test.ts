/**
 * Issue 12, finding 3 (the Consul half): a compromised client, monitoring or routing node must
 * not hold a Consul token that can mint tokens or draw another role's traffic. Read from the
 * bootstrap table (who reads which token parameter) and from the policies those tokens carry, as
 * Consul evaluates them: the most specific rule wins (an exact rule over a prefix rule, a longer
 * prefix over a shorter one), and `acl = "write"` lets a token create any other token.
 *
 * Still open (README, security): the agent tokens are one per role, not per node, so an agent can
 * rewrite another node of its role's catalog entry.
 */
import example from "../../clusters/example";
import { bootstrapParameters } from "../../constructs/hashistack-bootstrap/parameters";
import { CONSUL_SERVICES, consulServiceInputs, SERVER_SERVICES } from "../../constructs/node-config/consul";
import { FIRST_BOOT_TOKENS, MEMBER_AGENT_TOKENS } from "../../constructs/node-config/consul-acl";
import { consulPolicies, type ConsulPolicyDoc, type ConsulRuleKind } from "../../constructs/policy/consul";
import { CONSUL_POLICIES, NODE_ROLES, type NodeRole } from "../../constructs/policy/names";

const POLICIES = consulPolicies({ namespaces: ["default", ...example.namespaces], routedServices: example.routes.map((r) => r.service), ...consulServiceInputs() });
const policy = (name: string): ConsulPolicyDoc => {
  const p = POLICIES.find((d) => d.name === name);
  if (!p) throw new Error(`no Consul policy ${name}`);
  return p;
};

/** Consul's decision for one resource: the exact rule, else the longest matching prefix. */
function access(doc: ConsulPolicyDoc, kind: ConsulRuleKind, name: string): string {
  const exact = doc.rules.find((r) => r.kind === kind && r.match === "exact" && r.name === name);
  if (exact) return exact.policy;
  const prefixes = doc.rules.filter((r) => r.kind === kind && r.match === "prefix" && name.startsWith(r.name)).sort((a, b) => b.name.length - a.name.length);
  return prefixes[0]?.policy ?? "deny";
}

/** Every service a role may not register: the servers' and every other role's config-file services. */
function foreignServices(role: NodeRole): string[] {
  const own = CONSUL_SERVICES[role].map((s) => s.name);
  return [...new Set([...NODE_ROLES.flatMap((r) => CONSUL_SERVICES[r].map((s) => s.name)), ...SERVER_SERVICES])].filter((s) => !own.includes(s));
}

/** Each token parameter a non-core role reads, with the policy of its token. */
const memberTokens = bootstrapParameters()
  .filter((p) => FIRST_BOOT_TOKENS[p.name] !== undefined)
  .flatMap((p) => p.readers.filter((r) => r !== "core").map((role) => ({ role, parameter: p.name, doc: policy(FIRST_BOOT_TOKENS[p.name]) })));

describe("Consul tokens a non-core node holds", () => {
  it("none can write ACLs (and so mint any token)", () => {
    expect(memberTokens.filter((t) => t.doc.global?.acl === "write").map((t) => `${t.role} reads ${t.parameter} (${t.doc.name}: acl = "write")`)).toEqual([]);
  });

  it("none may register a server's or another role's service", () => {
    const problems = memberTokens.flatMap((t) => foreignServices(t.role).filter((s) => access(t.doc, "service", s) === "write").map((s) => `${t.role} reads ${t.parameter} (${t.doc.name}), which may register ${s}`));
    expect(problems).toEqual([]);
  });

  it("each role's agent token is its own parameter, read by that role alone, and registers that role's services", () => {
    for (const [role, parameter] of Object.entries(MEMBER_AGENT_TOKENS) as [Exclude<NodeRole, "core">, string][]) {
      expect(bootstrapParameters().find((p) => p.name === parameter)?.readers).toEqual([role]);
      const doc = policy(FIRST_BOOT_TOKENS[parameter]);
      for (const s of CONSUL_SERVICES[role]) expect([s.name, access(doc, "service", s.name)]).toEqual([s.name, "write"]);
    }
  });

  it("the Nomad clients' token registers workloads and nomad-client, and reads every infrastructure service", () => {
    const doc = policy(CONSUL_POLICIES.nomadClient);
    expect(access(doc, "service", "count-api")).toBe("write");
    expect(access(doc, "service", "nomad-client")).toBe("write");
    for (const s of consulServiceInputs().infrastructureServices) expect([s, access(doc, "service", s)]).toEqual([s, "read"]);
  });
});
