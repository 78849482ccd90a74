import { consulPolicies, FIRST_BOOT_CONSUL_POLICIES, renderConsulRules } from "../policy/consul";
import { CONSUL_POLICIES, consulAgentPolicy } from "../policy/names";
import { consulServiceInputs } from "./consul";
import { bootstrapParameter } from "../hashistack-bootstrap/parameters";
import { SSM_PARAMETERS } from "./ssm";
import type { NodeContext } from "./types";

/** The policy of each token the first boot makes, by its parameter. */
export const FIRST_BOOT_TOKENS: Readonly<Record<string, string>> = Object.freeze({
  [SSM_PARAMETERS.consulAgentToken]: CONSUL_POLICIES.agent,
  [SSM_PARAMETERS.consulClientAgentToken]: consulAgentPolicy("client"),
  [SSM_PARAMETERS.consulMonitoringAgentToken]: consulAgentPolicy("monitoring"),
  [SSM_PARAMETERS.consulRoutingAgentToken]: consulAgentPolicy("routing"),
  [SSM_PARAMETERS.consulNomadClientToken]: CONSUL_POLICIES.nomadClient,
  [SSM_PARAMETERS.consulDnsToken]: CONSUL_POLICIES.dns,
  // The Nomad servers' token (acl write: it revokes service identity tokens); clients have their own.
  [SSM_PARAMETERS.consulNomadToken]: CONSUL_POLICIES.nomadServer,
  [SSM_PARAMETERS.consulVaultToken]: CONSUL_POLICIES.vault,
  [SSM_PARAMETERS.consulMonitoringToken]: CONSUL_POLICIES.monitoring,
});

/** The agent token parameter of each role but core (which reads `consul/agent-token`). */
export const MEMBER_AGENT_TOKENS: Readonly<Record<Exclude<NodeContext["role"], "core">, string>> = Object.freeze({
  client: SSM_PARAMETERS.consulClientAgentToken,
  monitoring: SSM_PARAMETERS.consulMonitoringAgentToken,
  routing: SSM_PARAMETERS.consulRoutingAgentToken,
});

/**
 * What the bootstrap creates in Consul on core nodes, read from a file instead of written in the
 * script: the first-boot policies exactly as `constructs/policy/consul.ts` defines them, and the
 * policy of each token.
 */
export function firstBootConsulAcl(ctx: NodeContext): { policies: { name: string; rules: string }[]; tokens: Record<string, string>; memberTokens: string[] } {
  const docs = consulPolicies({ namespaces: ["default", ...ctx.cluster.namespaces], routedServices: ctx.cluster.routes.map((r) => r.service), ...consulServiceInputs() });
  const policies = docs.filter((d) => FIRST_BOOT_CONSUL_POLICIES.includes(d.name)).map((d) => ({ name: d.name, rules: renderConsulRules(d) }));
  // Tokens no core reads: made by the cores for the other roles (bitte-bootstrap core_consul_acls).
  const memberTokens = Object.keys(FIRST_BOOT_TOKENS).filter((name) => !bootstrapParameter(name).readers.includes("core"));
  return { policies, tokens: { ...FIRST_BOOT_TOKENS }, memberTokens };
}
