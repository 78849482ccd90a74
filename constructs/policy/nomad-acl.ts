import { AclPolicy } from "@cdktf/provider-nomad/lib/acl-policy";
import { AclRole } from "@cdktf/provider-nomad/lib/acl-role";
import { Namespace } from "@cdktf/provider-nomad/lib/namespace";
import { Construct } from "constructs";
import { NOMAD_POLICIES } from "./names";
import { nomadPolicies, renderNomadPolicy } from "./nomad";

export interface NomadAclProps {
  /** Nomad namespaces to create besides `default`, which always exists. */
  readonly namespaces: readonly string[];
  /** Namespaces developers may submit jobs to. */
  readonly developerNamespaces: readonly string[];
}

/**
 * Nomad namespaces, ACL policies and a role per human policy. Workload identities need no auth
 * method: Nomad verifies its own identities, and Consul and Vault trust them through their JWT
 * auth methods.
 */
export class NomadAcl extends Construct {
  readonly namespaces: readonly Namespace[];
  readonly policies: ReadonlyMap<string, AclPolicy>;

  constructor(scope: Construct, id: string, props: NomadAclProps) {
    super(scope, id);
    this.namespaces = props.namespaces.map((name) => new Namespace(this, `namespace-${name}`, { name, description: `Namespace ${name} (cluster spec)` }));
    const policies = new Map<string, AclPolicy>();
    for (const doc of nomadPolicies({ developerNamespaces: props.developerNamespaces })) {
      // Policies name namespaces; create those first so a policy never refers to a missing one.
      policies.set(doc.name, new AclPolicy(this, `policy-${doc.name}`, { name: doc.name, description: doc.description, rulesHcl: renderNomadPolicy(doc), dependsOn: [...this.namespaces] }));
    }
    this.policies = policies;
    // Roles for people: `nomad acl token create -role-name=<role>`. Anonymous is not a role.
    for (const name of [NOMAD_POLICIES.operator, NOMAD_POLICIES.developer, NOMAD_POLICIES.readOnly]) {
      new AclRole(this, `role-${name}`, { name, description: `People with the ${name} policy`, policy: [{ name: (policies.get(name) as AclPolicy).name }] });
    }
  }
}
