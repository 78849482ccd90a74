import { AuthBackend } from "@cdktf/provider-vault/lib/auth-backend";
import { AwsAuthBackendClient } from "@cdktf/provider-vault/lib/aws-auth-backend-client";
import { AwsAuthBackendRole } from "@cdktf/provider-vault/lib/aws-auth-backend-role";
import { JwtAuthBackend } from "@cdktf/provider-vault/lib/jwt-auth-backend";
import { JwtAuthBackendRole } from "@cdktf/provider-vault/lib/jwt-auth-backend-role";
import { Policy } from "@cdktf/provider-vault/lib/policy";
import { Construct } from "constructs";
import { NODE_ROLES, VAULT, vaultNodePolicy, type NodeRole } from "./names";
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
}

/**
 * AWS (IAM) auth for the nodes: one role per node role, bound to its IAM role, with that role's
 * node policy. Vault uses its own instance credentials (no keys here) and needs `iam:GetRole` on
 * the bound roles to resolve their unique ids.
 */
export class VaultAwsAuth extends Construct {
  readonly backend: AuthBackend;
  readonly roles: ReadonlyMap<NodeRole, AwsAuthBackendRole>;

  constructor(scope: Construct, id: string, props: VaultAwsAuthProps) {
    super(scope, id);
    this.backend = new AuthBackend(this, "backend", { type: "aws", path: VAULT.awsPath, description: "Cluster nodes, by their instance IAM role" });
    const client = new AwsAuthBackendClient(this, "client", { backend: this.backend.path, iamServerIdHeaderValue: props.serverIdHeader });
    const policies = new Map(vaultNodePolicies().map((doc) => [doc.name, new Policy(this, `policy-${doc.name}`, { name: doc.name, policy: renderVaultPolicy(doc) })]));
    this.roles = new Map(
      NODE_ROLES.map((role) => [
        role,
        new AwsAuthBackendRole(this, `role-${role}`, {
          backend: this.backend.path,
          role,
          authType: "iam",
          boundIamPrincipalArns: [props.roleArns[role]],
          tokenPolicies: [(policies.get(vaultNodePolicy(role)) as Policy).name],
          tokenTtl: props.tokenTtlSeconds ?? 3600,
          tokenMaxTtl: props.tokenMaxTtlSeconds ?? 86400,
          dependsOn: [client],
        }),
      ]),
    );
  }
}
