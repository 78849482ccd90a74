import { Policy } from "@cdktf/provider-vault/lib/policy";
import { Construct } from "constructs";
import { renderVaultPolicy, vaultDeveloperPolicy, vaultOperatorPolicy } from "./vault";

export interface VaultHumanPoliciesProps {
  /** Nomad namespaces whose application secrets developers manage. */
  readonly developerNamespaces: readonly string[];
}

/**
 * Policies for people: `bitte-operator` (everything) and `bitte-developer` (their namespaces'
 * application secrets). Attach them to whatever human auth method the operator adds (OIDC, …);
 * until then operators use tokens created with `vault token create -policy=bitte-operator`.
 */
export class VaultHumanPolicies extends Construct {
  readonly operator: Policy;
  readonly developer: Policy;

  constructor(scope: Construct, id: string, props: VaultHumanPoliciesProps) {
    super(scope, id);
    const op = vaultOperatorPolicy();
    const dev = vaultDeveloperPolicy(props.developerNamespaces);
    this.operator = new Policy(this, "operator", { name: op.name, policy: renderVaultPolicy(op) });
    this.developer = new Policy(this, "developer", { name: dev.name, policy: renderVaultPolicy(dev) });
  }
}
