import { AuthBackend } from "@cdktf/provider-vault/lib/auth-backend";
import { AwsAuthBackendClient } from "@cdktf/provider-vault/lib/aws-auth-backend-client";
import { AwsAuthBackendConfigIdentity } from "@cdktf/provider-vault/lib/aws-auth-backend-config-identity";
import { AwsAuthBackendRole } from "@cdktf/provider-vault/lib/aws-auth-backend-role";
import { JwtAuthBackend } from "@cdktf/provider-vault/lib/jwt-auth-backend";
import { JwtAuthBackendRole } from "@cdktf/provider-vault/lib/jwt-auth-backend-role";
import { Policy } from "@cdktf/provider-vault/lib/policy";
import { Construct } from "constructs";
import { NODE_ROLES, VAULT, vaultClientAuthRole, vaultNodePolicy, type NodeRole } from "./names";
import { renderVaultPolicy, vaultNodePolicies, workloadPolicy } from "./vault";

export interface VaultWorkloadIdentityProps {
  /** Nomad's JWKS URL, which Vault servers fetch to verify workload identities. */
  readonly jwksUrl: string;
  /**
   * Period of workload tokens, in seconds: Nomad renews them while the task runs.
   * @default 1800 (30 minutes, Nomad's recommendation)
   */
  readonly tokenPeriodSeconds?: number;
}

/**
 * Nomad workload identity for Vault: the `jwt-nomad` auth backend trusting Nomad's JWKS, and the
 * `nomad-workloads` role (its default role) whose templated policy lets each job read its own
 * secrets at `secret/data/<namespace>/<job>`.
 */
export class VaultWorkloadIdentity extends Construct {
  readonly backend: JwtAuthBackend;
  readonly role: JwtAuthBackendRole;
  readonly policy: Policy;

  constructor(scope: Construct, id: string, props: VaultWorkloadIdentityProps) {
    super(scope, id);
    this.backend = new JwtAuthBackend(this, "backend", {
      path: VAULT.jwtPath,
      type: "jwt",
      description: "Nomad workload identities",
      jwksUrl: props.jwksUrl,
      jwtSupportedAlgs: ["RS256", "EdDSA"],
      defaultRole: VAULT.workloadRole,
    });
    // The policy's template names the alias metadata by the backend's accessor, which only
    // exists once the backend does: Terraform resolves the reference before Vault sees it.
    this.policy = new Policy(this, "policy", { name: VAULT.workloadPolicy, policy: renderVaultPolicy(workloadPolicy(this.backend.accessor)) });
    this.role = new JwtAuthBackendRole(this, "role", {
      backend: this.backend.path,
      roleName: VAULT.workloadRole,
      roleType: "jwt",
      boundAudiences: ["vault.io"],
      userClaim: "/nomad_job_id",
      userClaimJsonPointer: true,
      claimMappings: { nomad_namespace: "nomad_namespace", nomad_job_id: "nomad_job_id", nomad_task: "nomad_task" },
      tokenType: "service",
      tokenPolicies: [this.policy.name],
      tokenPeriod: props.tokenPeriodSeconds ?? 1800,
      // Nomad renews periodic tokens for as long as the task runs; a max TTL would cut it off.
      tokenExplicitMaxTtl: 0,
    });
  }
}

export interface VaultAwsAuthProps {
  /** IAM role ARN of each node role (from the core stack's state). */
  readonly roleArns: Readonly<Record<NodeRole, string>>;
  /**
   * Value nodes must send in the `X-Vault-AWS-IAM-Server-ID` header, so a signed login request
   * cannot be replayed against another Vault.
   */
  readonly serverIdHeader: string;
  /**
   * Token TTL and max TTL in seconds.
   * @default 3600 and 86400
   */
  readonly tokenTtlSeconds?: number;
  /** @default 86400 */
  readonly tokenMaxTtlSeconds?: number;
  /**
   * Regions with Nomad clients: each gets a role `client-<region>` that infers the EC2 instance
   * there (Vault looks an inferred instance up in one region per role).
   */
  readonly clientRegions: readonly string[];
  /**
   * The core region, where the routing nodes run: their role infers the EC2 instance there, so
   * their logins carry the instance id their Consul login tokens name.
   */
  readonly coreRegion: string;
}

/**
 * Auth metadata Vault puts on the tokens and on the entity alias of an IAM login: its defaults
 * (account_id, auth_type; Vault 1.3.5 upgrade notes) plus the inferred instance, which the node
 * PKI role's allowed-name template reads (`identity.entity.aliases.<accessor>.metadata.…`).
 */
export const AWS_AUTH_IAM_METADATA = Object.freeze(["account_id", "auth_type", "inferred_entity_id", "inferred_aws_region"]);

/**
 * AWS (IAM) auth for the nodes: one role per node role, bound to its IAM role, with that role's
 * node policy; the clients' role is one per client region and infers the EC2 instance from the
 * session name (the instance id), so each client's entity carries its own instance id; the
 * routing role infers it in the core region (its Consul logins name it). Vault uses
 * its own instance credentials (no keys here) and needs `iam:GetRole` on the bound roles to
 * resolve their unique ids and `ec2:DescribeInstances` to verify an inferred instance runs.
 */
export class VaultAwsAuth extends Construct {
  readonly backend: AuthBackend;
  /** By Vault role name: `core`, `monitoring`, `routing`, `client-<region>`. */
  readonly roles: ReadonlyMap<string, AwsAuthBackendRole>;

  constructor(scope: Construct, id: string, props: VaultAwsAuthProps) {
    super(scope, id);
    this.backend = new AuthBackend(this, "backend", { type: "aws", path: VAULT.awsPath, description: "Cluster nodes, by their instance IAM role" });
    const client = new AwsAuthBackendClient(this, "client", { backend: this.backend.path, iamServerIdHeaderValue: props.serverIdHeader });
    // One entity alias per session (full ARN = role + instance id), not per role: with Vault's
    // default (role_id) every client would share one alias whose metadata the latest login
    // overwrites, and a client could be issued another's name.
    const identity = new AwsAuthBackendConfigIdentity(this, "identity", { backend: this.backend.path, iamAlias: "full_arn", iamMetadata: [...AWS_AUTH_IAM_METADATA] });
    const policies = new Map(vaultNodePolicies().map((doc) => [doc.name, new Policy(this, `policy-${doc.name}`, { name: doc.name, policy: renderVaultPolicy(doc) })]));
    if (props.clientRegions.length === 0) throw new Error("VaultAwsAuth: clientRegions is empty; pass the regions of the cluster's clientGroups");
    const common = (role: NodeRole) => ({
      backend: this.backend.path,
      authType: "iam",
      boundIamPrincipalArns: [props.roleArns[role]],
      tokenPolicies: [(policies.get(vaultNodePolicy(role)) as Policy).name],
      tokenTtl: props.tokenTtlSeconds ?? 3600,
      tokenMaxTtl: props.tokenMaxTtlSeconds ?? 86400,
      dependsOn: [client, identity],
    });
    const roles = new Map<string, AwsAuthBackendRole>();
    for (const role of NODE_ROLES) {
      if (role !== "client") {
        const infer = role === "routing" ? { inferredEntityType: "ec2_instance", inferredAwsRegion: props.coreRegion } : {};
        roles.set(role, new AwsAuthBackendRole(this, `role-${role}`, { ...common(role), role, ...infer }));
        continue;
      }
      for (const region of [...new Set(props.clientRegions)].sort()) {
        const name = vaultClientAuthRole(region);
        roles.set(name, new AwsAuthBackendRole(this, `role-${name}`, { ...common(role), role: name, inferredEntityType: "ec2_instance", inferredAwsRegion: region }));
      }
    }
    this.roles = roles;
  }
}
