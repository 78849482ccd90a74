/**
 * IAM policy documents as data: pure functions of the cluster and a few ARNs (which may be
 * Terraform references), serialized once by the construct that attaches them. Every statement
 * is scoped to this cluster; only read-only discovery calls that AWS cannot scope use `*`.
 */
import type { Cluster } from "../../clusters/spec";
import { bucketStatements, parameterStatements } from "../hashistack-bootstrap/policies";
import { sessionManagerStatements } from "./session-manager";
import type { NodeRole } from "../node-config/types";
import { operationsStatements } from "./operations";

export interface PolicyStatement {
  readonly Sid: string;
  readonly Effect: "Allow" | "Deny";
  readonly Action: readonly string[];
  readonly Resource?: string | readonly string[];
  readonly Principal?: Record<string, string | readonly string[]>;
  readonly Condition?: Record<string, Record<string, string | boolean | readonly string[]>>;
}

export interface PolicyDocument {
  readonly Version: "2012-10-17";
  readonly Statement: readonly PolicyStatement[];
}

export function policy(...statements: PolicyStatement[]): PolicyDocument {
  return { Version: "2012-10-17", Statement: statements };
}

/** The IAM role (and instance profile) name of a node role: `bitte-<cluster>-<role>`. */
export function roleName(cluster: Cluster, role: NodeRole): string {
  return `bitte-${cluster.name}-${role}`;
}

/** Trust policy letting EC2 instances assume a role. */
export function ec2AssumeRolePolicy(): PolicyDocument {
  return policy({ Sid: "Ec2Assumes", Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: ["sts:AssumeRole"] });
}

/** What the node policies refer to. */
export interface NodePolicyContext {
  readonly cluster: Cluster;
  /** The AWS account id (a reference to `aws_caller_identity`). */
  readonly accountId: string;
  /** The cluster key, in the core region (SSM parameters, Vault seal, Nomad keyring). */
  readonly coreKeyArn: string;
  /** The cluster bucket's ARN. */
  readonly bucketArn: string;
  /** The recovery key (Vault's recovery keys and root token), in the core region. */
  readonly recoveryKeyArn: string;
}

/** The inline policy of a node role: exactly what its first boot and its agents call. */
export function nodeRolePolicy(role: NodeRole, ctx: NodePolicyContext): PolicyDocument {
  const { cluster } = ctx;
  const statements: PolicyStatement[] = [
    // go-discover (Consul retry_join, Nomad server_join, Vault auto_join) lists instances by tag;
    // Vault's AWS auth also verifies an inferred client instance with it (the core role's, where
    // Vault runs; authorization.test.ts). EC2 cannot scope Describe calls to resources.
    { Sid: "AutoJoinDiscovery", Effect: "Allow", Action: ["ec2:DescribeInstances", "ec2:DescribeTags"], Resource: "*" },
    ...sessionManagerStatements(ctx.accountId),
    ...parameterStatements(role, ctx),
    ...bucketStatements(role, ctx),
  ];
  if (role === "core") {
    statements.push(
      // Vault's awskms seal and Nomad's awskms keyring wrap their root keys with the cluster key,
      // without an encryption context (hashicorp/go-kms-wrapping, wrappers/awskms): requiring none
      // keeps this grant from decrypting SSM parameters or S3 objects, which always carry one.
      { Sid: "SealAndKeyring", Effect: "Allow", Action: ["kms:Encrypt", "kms:Decrypt"], Resource: ctx.coreKeyArn, Condition: { Null: { "kms:EncryptionContextKeys": "true" } } },
      { Sid: "DescribeClusterKey", Effect: "Allow", Action: ["kms:DescribeKey"], Resource: ctx.coreKeyArn },
      // Vault's AWS auth method resolves the bound cluster roles.
      {
        Sid: "VaultAwsAuthLookups",
        Effect: "Allow",
        Action: ["iam:GetRole", "iam:GetInstanceProfile"],
        Resource: [`arn:aws:iam::${ctx.accountId}:role/bitte-${cluster.name}-*`, `arn:aws:iam::${ctx.accountId}:instance-profile/bitte-${cluster.name}-*`],
      },
    );
  }
  if (role === "client") {
    // The drain script completes the termination lifecycle action of its own group.
    statements.push({
      Sid: "CompleteOwnLifecycleAction",
      Effect: "Allow",
      Action: ["autoscaling:CompleteLifecycleAction", "autoscaling:RecordLifecycleActionHeartbeat"],
      Resource: `arn:aws:autoscaling:*:${ctx.accountId}:autoScalingGroup:*:autoScalingGroupName/bitte-${cluster.name}-*`,
    });
  }
  statements.push(...operationsStatements(role, ctx));
  return policy(...statements);
}

/** Actions that modify something; `*` resources are refused for these (tested). */
export function isReadOnlyAction(action: string): boolean {
  return /^[a-z0-9-]+:(Describe|Get|List)[A-Za-z]*$/.test(action);
}
