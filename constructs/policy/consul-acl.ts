import { AclAuthMethod } from "@cdktf/provider-consul/lib/acl-auth-method";
import { AclBindingRule } from "@cdktf/provider-consul/lib/acl-binding-rule";
import { AclPolicy } from "@cdktf/provider-consul/lib/acl-policy";
import { AclRole } from "@cdktf/provider-consul/lib/acl-role";
import { Construct } from "constructs";
import { consulServiceInputs } from "../node-config/consul";
import { consulPolicies, FIRST_BOOT_CONSUL_POLICIES, renderConsulRules } from "./consul";
import { CONSUL_WORKLOAD_AUTH_METHOD, consulTaskRole } from "./names";

export interface ConsulAclProps {
  /** Nomad namespaces, `default` included: one task role each. */
  readonly namespaces: readonly string[];
  /** Consul services that public routes point at; the routing policy may read only these. */
  readonly routedServices: readonly string[];
  /** Nomad's JWKS URL, which Consul servers fetch to verify workload identities. */
  readonly jwksUrl: string;
}

/**
 * Terraform interpolates `${…}` in every string; Consul's bind names use the same syntax for
 * claim values, so they are escaped to reach Consul verbatim.
 */
export function consulTemplate(s: string): string {
  return s.replace(/\$\{/g, () => "$${");
}

/**
 * Consul ACL policies, a role per policy, and workload identity: the `nomad-workloads` JWT auth
 * method trusting Nomad's JWKS, with binding rules that give Nomad services a service identity
 * and Nomad tasks their namespace's role. No token is created here: agent tokens are made on the
 * nodes at first boot, workload tokens by Consul on login.
 */
export class ConsulAcl extends Construct {
  /** Policies by name. */
  readonly policies: ReadonlyMap<string, AclPolicy>;
  readonly roles: ReadonlyMap<string, AclRole>;
  readonly authMethod: AclAuthMethod;

  constructor(scope: Construct, id: string, props: ConsulAclProps) {
    super(scope, id);
    // The first boot owns the policies its tokens need (FIRST_BOOT_CONSUL_POLICIES): creating them
    // here too would fail with "already exists".
    const docs = consulPolicies({ namespaces: props.namespaces, routedServices: props.routedServices, ...consulServiceInputs() }).filter((d) => !FIRST_BOOT_CONSUL_POLICIES.includes(d.name));
    const policies = new Map<string, AclPolicy>();
    const roles = new Map<string, AclRole>();
    for (const doc of docs) {
      const policy = new AclPolicy(this, `policy-${doc.name}`, { name: doc.name, description: doc.description, rules: renderConsulRules(doc) });
      policies.set(doc.name, policy);
      roles.set(doc.name, new AclRole(this, `role-${doc.name}`, { name: doc.name, description: doc.description, policies: [policy.id] }));
    }
    this.policies = policies;
    this.roles = roles;

    // Nomad's recommended configuration: RS256 keys, one audience, the claims binding rules use.
    // No MaxTokenTTL: Nomad cannot re-create a Consul token that expires under a running task.
    // Tokens stay local to the datacenter (the default), so logins do not need the primary.
    this.authMethod = new AclAuthMethod(this, "nomad-workloads", {
      name: CONSUL_WORKLOAD_AUTH_METHOD,
      type: "jwt",
      displayName: "Nomad workload identity",
      description: "Nomad workload identities (JWTs signed by the Nomad servers' keyring)",
      configJson: JSON.stringify({
        JWKSURL: props.jwksUrl,
        JWTSupportedAlgs: ["RS256"],
        BoundAudiences: ["consul.io"],
        ClaimMappings: {
          nomad_namespace: "nomad_namespace",
          nomad_job_id: "nomad_job_id",
          nomad_task: "nomad_task",
          nomad_service: "nomad_service",
        },
      }),
    });

    // Service identities: only service identities carry a nomad_service claim, and the token
    // may manage only the service of that name (and its sidecar).
    new AclBindingRule(this, "binding-services", {
      authMethod: this.authMethod.name,
      description: "Nomad services: a service identity for the service named in the identity",
      selector: '"nomad_service" in value',
      bindType: "service",
      bindName: consulTemplate("${value.nomad_service}"),
    });
    // Tasks (template blocks): the role of the task's Nomad namespace. A namespace without a
    // role (not in the spec) gets no token, so unknown namespaces fail closed.
    new AclBindingRule(this, "binding-tasks", {
      authMethod: this.authMethod.name,
      description: "Nomad tasks: the task role of the job's Nomad namespace",
      selector: '"nomad_service" not in value',
      bindType: "role",
      bindName: consulTemplate(consulTaskRole("${value.nomad_namespace}")),
      // The roles must exist before a login can bind to them.
      dependsOn: props.namespaces.map((ns) => roles.get(consulTaskRole(ns)) as AclRole),
    });
  }
}
