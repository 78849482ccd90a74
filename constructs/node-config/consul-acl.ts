import { consulPolicies, FIRST_BOOT_CONSUL_POLICIES, renderConsulRules } from "../policy/consul";
import { CONSUL_POLICIES, consulAgentPolicy } from "../policy/names";
import { consulServiceInputs } from "./consul";
import { SSM_PARAMETERS } from "./ssm";
import type { NodeContext } from "./types";

/** The policy of each token the first boot makes, by its parameter. */
export const FIRST_BOOT_TOKENS: Readonly<Record<string, string>> = Object.freeze({
  [SSM_PARAMETERS.consulAgentToken]: CONSUL_POLICIES.agent,
  [SSM_PARAMETERS.consulMonitoringAgentToken]: consulAgentPolicy("monitoring"),
  [SSM_PARAMETERS.consulDnsToken]: CONSUL_POLICIES.dns,
  // The Nomad servers' token (acl write: it revokes service identity tokens); each client logs in for its own.
  [SSM_PARAMETERS.consulNomadToken]: CONSUL_POLICIES.nomadServer,
  [SSM_PARAMETERS.consulVaultToken]: CONSUL_POLICIES.vault,
  [SSM_PARAMETERS.consulMonitoringToken]: CONSUL_POLICIES.monitoring,
});

/**
 * The monitoring node's agent token: made by the cores with a node identity for the node's fixed
 * name, so it writes that node alone (`-node-identity <name>:<datacenter>`). Clients and routing
 * nodes have no fixed name: they log in for theirs (NODE_CONSUL_LOGINS).
 */
function firstBootNodeIdentities(ctx: NodeContext): Record<string, string> {
  return { [SSM_PARAMETERS.consulMonitoringAgentToken]: `${ctx.cluster.monitoringNode.name}:${ctx.consulDatacenter}` };
}

/**
 * What the bootstrap creates in Consul on core nodes, read from a file instead of written in the
 * script: the first-boot policies exactly as `constructs/policy/consul.ts` defines them, the
 * policy of each token, and the node identity (`<node>:<datacenter>`) of the tokens the cores make
 * for another node by its fixed name.
 */
export function firstBootConsulAcl(ctx: NodeContext): { policies: { name: string; rules: string }[]; tokens: Record<string, string>; nodeIdentities: Record<string, string> } {
  const docs = consulPolicies({ namespaces: ["default", ...ctx.cluster.namespaces], routedServices: ctx.cluster.routes.map((r) => r.service), ...consulServiceInputs() });
  const policies = docs.filter((d) => FIRST_BOOT_CONSUL_POLICIES.includes(d.name)).map((d) => ({ name: d.name, rules: renderConsulRules(d) }));
  return { policies, tokens: { ...FIRST_BOOT_TOKENS }, nodeIdentities: firstBootNodeIdentities(ctx) };
}
