/**
 * Issue 12, finding 3 (the Consul half): a compromised client, monitoring or routing node must
 * not hold a Consul token that can mint tokens or draw another role's traffic. Read from the
 * bootstrap table (who reads which token parameter) and from the policies those tokens carry, as
 * Consul evaluates them: the most specific rule wins (an exact rule over a prefix rule, a longer
 * prefix over a shorter one), and `acl = "write"` lets a token create any other token.
 *
 * And no agent token may write another node: clients and routing nodes log in for their own
 * (NODE_CONSUL_LOGINS: a node identity for the instance), the one monitoring node gets one made for
 * its fixed name; only the three cores share theirs.
 */
import example from "../../clusters/example";
import { bootstrapParameters } from "../../constructs/hashistack-bootstrap/parameters";
import { CONSUL_SERVICES, consulServiceInputs, SERVER_SERVICES } from "../../constructs/node-config/consul";
import { FIRST_BOOT_TOKENS, firstBootConsulAcl } from "../../constructs/node-config/consul-acl";
import { resolveNode } from "../../constructs/node-config/context";
import { NODE_CONSUL_LOGINS } from "../../constructs/policy/node-identity";
import { consulPolicies, type ConsulPolicyDoc, type ConsulRuleKind } from "../../constructs/policy/consul";
import { CONSUL_POLICIES, consulAgentPolicy, NODE_ROLES, type NodeRole } from "../../constructs/policy/names";

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

/** Each Consul token a non-core node holds: the parameters its role reads, and its logins. */
const ACL = firstBootConsulAcl(resolveNode({ cluster: example, role: "core", nodeName: example.coreNodes[0].name }));
const memberTokens = [
  ...bootstrapParameters()
    .filter((p) => FIRST_BOOT_TOKENS[p.name] !== undefined)
    .flatMap((p) => p.readers.filter((r) => r !== "core").map((role) => ({ role, source: p.name, doc: policy(FIRST_BOOT_TOKENS[p.name]), nodeIdentity: ACL.nodeIdentities[p.name] }))),
  ...NODE_CONSUL_LOGINS.map((l) => ({ role: l.role as NodeRole, source: `login ${l.vaultRole}`, doc: policy(l.policy), nodeIdentity: l.nodeIdentity ? "<instance id>" : undefined })),
];

describe("Consul tokens a non-core node holds", () => {
  it("none can write ACLs (and so mint any token)", () => {
    expect(memberTokens.filter((t) => t.doc.global?.acl === "write").map((t) => `${t.role}: ${t.source} (${t.doc.name}: acl = "write")`)).toEqual([]);
  });

  it("none may register a server's or another role's service", () => {
    const problems = memberTokens.flatMap((t) => foreignServices(t.role).filter((s) => access(t.doc, "service", s) === "write").map((s) => `${t.role}: ${t.source} (${t.doc.name}) may register ${s}`));
    expect(problems).toEqual([]);
  });

  it("none writes a node but its own (through its node identity)", () => {
    expect(memberTokens.filter((t) => access(t.doc, "node", "another-node") === "write").map((t) => `${t.role}: ${t.source} (${t.doc.name}) writes every node`)).toEqual([]);
  });

  it("every non-core node has an agent token of its own, with its role's services", () => {
    for (const role of ["client", "monitoring", "routing"] as const) {
      const agent = memberTokens.filter((t) => t.doc.name === consulAgentPolicy(role) && t.role === role);
      expect([role, agent.length, agent[0]?.nodeIdentity !== undefined]).toEqual([role, 1, true]);
      for (const s of CONSUL_SERVICES[role]) expect([s.name, access(agent[0].doc, "service", s.name)]).toEqual([s.name, "write"]);
    }
    expect(ACL.nodeIdentities[bootstrapParameters().find((p) => p.readers.includes("monitoring") && FIRST_BOOT_TOKENS[p.name] === consulAgentPolicy("monitoring"))?.name ?? ""]).toBe(`${example.monitoringNode.name}:${example.coreRegion}`);
  });

  it("each Nomad client logs in for its own Consul token: workloads and nomad-client, every infrastructure service read-only", () => {
    expect(NODE_CONSUL_LOGINS.filter((l) => l.use === "nomad").map((l) => [l.role, l.policy, l.nodeIdentity])).toEqual([["client", CONSUL_POLICIES.nomadClient, false]]);
    const doc = policy(CONSUL_POLICIES.nomadClient);
    expect(access(doc, "service", "count-api")).toBe("write");
    expect(access(doc, "service", "nomad-client")).toBe("write");
    for (const s of consulServiceInputs().infrastructureServices) expect([s, access(doc, "service", s)]).toEqual([s, "read"]);
  });
});
