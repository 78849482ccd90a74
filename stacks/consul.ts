import type { Construct } from "constructs";
import { adminEndpoint } from "../clusters/spec";
import { consulProvider, nomadProvider, vaultProvider } from "../constructs/hashicorp-providers";
import { NOMAD_JWKS_PATH } from "../constructs/node-config/haproxy";
import { ConsulAcl } from "../constructs/policy/consul-acl";
import { ConsulMeshDefaults } from "../constructs/policy/consul-mesh";
import { ConsulNodeLogins } from "../constructs/policy/consul-node-logins";
import { EXAMPLE_INTENTIONS, type MeshIntention } from "../constructs/policy/mesh";
import { NODE_ROLES, type NodeRole } from "../constructs/policy/names";
import { NomadAcl } from "../constructs/policy/nomad-acl";
import { VaultAwsAuth, VaultWorkloadIdentity } from "../constructs/policy/vault-identity";
import { VaultNodePki } from "../constructs/policy/vault-node-pki";
import { VaultHumanPolicies } from "../constructs/policy/vault-policies";
import { VaultFileAudit, VaultKv, VaultPki } from "../constructs/policy/vault-secrets";
import { BitteStack, type BitteStackProps } from "./base";

export interface ConsulStackProps extends BitteStackProps {
  /**
   * Allowed service-mesh calls; everything else is denied.
   * @default EXAMPLE_INTENTIONS (count-dashboard → count-api, for the example jobs)
   */
  readonly intentions?: readonly MeshIntention[];
  /**
   * Nomad namespaces developers may deploy to and keep secrets in.
   * @default every namespace of the cluster, `default` included
   */
  readonly developerNamespaces?: readonly string[];
  /**
   * Nomad's JWKS URL, fetched by the Consul and Vault servers to verify workload identities.
   * @default `https://nomad.<domain>/.well-known/jwks.json` (through the load balancer)
   */
  readonly jwksUrl?: string;
}

/** Outputs of the core stack this stack reads: the IAM role ARN of each node role. */
export function coreRoleArnOutput(role: NodeRole): string {
  return `iam_role_arn_${role}`;
}

/**
 * The `consul` workspace: who may do what inside the cluster, once the core servers have
 * bootstrapped. Consul ACL policies, roles and workload identity, mesh defaults; Vault mounts,
 * auth methods, policies, PKI and audit; Nomad namespaces and ACL policies. Provider tokens come
 * only from the environment (CONSUL_HTTP_TOKEN, VAULT_TOKEN, NOMAD_TOKEN).
 */
export class ConsulStack extends BitteStack {
  readonly consulAcl: ConsulAcl;
  readonly nomadAcl: NomadAcl;
  readonly vaultWorkloadIdentity: VaultWorkloadIdentity;

  constructor(scope: Construct, id: "consul", props: ConsulStackProps) {
    super(scope, id, props);
    const cluster = props.cluster;
    const namespaces = ["default", ...cluster.namespaces];
    const developerNamespaces = props.developerNamespaces ?? namespaces;
    const unknown = developerNamespaces.filter((ns) => !namespaces.includes(ns));
    if (unknown.length > 0) {
      throw new Error(`developerNamespaces ${JSON.stringify(unknown)} are not Nomad namespaces of cluster ${cluster.name}: add them to the spec's namespaces or remove them`);
    }
    const jwksUrl = props.jwksUrl ?? `${adminEndpoint(cluster, "nomad")}${NOMAD_JWKS_PATH}`;

    consulProvider(this, cluster);
    vaultProvider(this, cluster);
    nomadProvider(this, cluster);

    this.consulAcl = new ConsulAcl(this, "consul-acl", {
      namespaces,
      routedServices: cluster.routes.map((r) => r.service),
      jwksUrl,
    });
    new ConsulMeshDefaults(this, "consul-mesh", { intentions: props.intentions ?? EXAMPLE_INTENTIONS });

    new VaultFileAudit(this, "vault-audit");
    new VaultKv(this, "vault-kv");
    this.vaultWorkloadIdentity = new VaultWorkloadIdentity(this, "vault-workload-identity", { jwksUrl });
    new VaultPki(this, "vault-pki", {
      domain: cluster.domain,
      vaultAddress: adminEndpoint(cluster, "vault"),
      workloadAuthAccessor: this.vaultWorkloadIdentity.backend.accessor,
    });
    const core = this.remoteState("core");
    const roleArns = Object.fromEntries(NODE_ROLES.map((role) => [role, core.getString(coreRoleArnOutput(role))])) as Record<NodeRole, string>;
    const awsAuth = new VaultAwsAuth(this, "vault-aws-auth", { roleArns, serverIdHeader: `vault.${cluster.domain}`, clientRegions: cluster.clientGroups.map((g) => g.region), coreRegion: cluster.coreRegion });
    new VaultNodePki(this, "vault-node-pki", { awsAuthAccessor: awsAuth.backend.accessor });
    new ConsulNodeLogins(this, "consul-node-logins", { awsAuthAccessor: awsAuth.backend.accessor, vaultAddress: adminEndpoint(cluster, "vault"), consulRoles: this.consulAcl.roles });
    new VaultHumanPolicies(this, "vault-policies", { developerNamespaces });

    this.nomadAcl = new NomadAcl(this, "nomad-acl", { namespaces: cluster.namespaces, developerNamespaces });
  }
}
