import { consulPolicies, FIRST_BOOT_CONSUL_POLICIES, renderConsulRules } from "../policy/consul";
import { CONSUL_POLICIES } from "../policy/names";
import { allConsulServiceNames } from "./consul";
import { SSM_PARAMETERS } from "./ssm";
import type { NodeContext } from "./types";

/** The policy of each token the first boot makes, by its parameter. */
export const FIRST_BOOT_TOKENS: Readonly<Record<string, string>> = Object.freeze({
  [SSM_PARAMETERS.consulAgentToken]: CONSUL_POLICIES.agent,
  [SSM_PARAMETERS.consulDnsToken]: CONSUL_POLICIES.dns,
  // One Nomad token for servers and clients (one parameter): the servers' policy.
  [SSM_PARAMETERS.consulNomadToken]: CONSUL_POLICIES.nomadServer,
  [SSM_PARAMETERS.consulVaultToken]: CONSUL_POLICIES.vault,
  [SSM_PARAMETERS.consulMonitoringToken]: CONSUL_POLICIES.monitoring,
});

/**
 * What the bootstrap creates in Consul on core nodes, read from a file instead of written in the
 * script: the first-boot policies exactly as `constructs/policy/consul.ts` defines them, and the
 * policy of each token.
 */
export function firstBootConsulAcl(ctx: NodeContext): { policies: { name: string; rules: string }[]; tokens: Record<string, string> } {
  const docs = consulPolicies({ namespaces: ["default", ...ctx.cluster.namespaces], routedServices: ctx.cluster.routes.map((r) => r.service), agentServices: allConsulServiceNames() });
  const policies = docs.filter((d) => FIRST_BOOT_CONSUL_POLICIES.includes(d.name)).map((d) => ({ name: d.name, rules: renderConsulRules(d) }));
  return { policies, tokens: { ...FIRST_BOOT_TOKENS } };
}
