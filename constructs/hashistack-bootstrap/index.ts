/**
 * HashiStackBootstrap: the cluster's bootstrap secrets. It owns the one table of bootstrap
 * parameters (./parameters), the bucket prefix table (./bucket), the statements and key policy
 * guards derived from them (./policies), the on-node environment naming their keys (./keys), and
 * the recovery key, a KMS key of its own for Vault's recovery keys and root token that no node
 * role may decrypt with and that Vault's seal never uses.
 */
import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import type { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Construct } from "constructs";
import type { Cluster } from "../../clusters/spec";
import { policy, type PolicyDocument } from "../iam/documents";
import { ADMIN_ACTIONS } from "../kms-key";
import { recoveryKeyAlias } from "./keys";
import { bootstrapParameters } from "./parameters";
import { bootstrapParameterArn, keyPolicyParameterGuards, nodeRoleArn } from "./policies";

export * from "./bucket";
export * from "./keys";
export * from "./parameters";
export * from "./policies";

/**
 * The recovery key's policy: the account administers it; the core role only encrypts the
 * recovery parameters through SSM (it creates them once); principals of the account decrypt them
 * through SSM as their IAM allows (operators); no role of the cluster ever decrypts with it.
 */
export function recoveryKeyPolicy(cluster: Cluster, accountId: string): PolicyDocument {
  const root = { AWS: `arn:aws:iam::${accountId}:root` };
  const ctx = { cluster, accountId };
  const arns = bootstrapParameters().filter((p) => p.key === "recovery").map((p) => bootstrapParameterArn(ctx, p.name));
  const viaSsm = `ssm.${cluster.coreRegion}.amazonaws.com`;
  return policy(
    { Sid: "AccountAdministersKey", Effect: "Allow", Principal: root, Action: ADMIN_ACTIONS, Resource: "*" },
    {
      Sid: "CoreCreatesRecoveryParameters",
      Effect: "Allow",
      Principal: root,
      Action: ["kms:Encrypt"],
      Resource: "*",
      Condition: { ArnEquals: { "aws:PrincipalArn": nodeRoleArn(ctx, "core") }, StringEquals: { "kms:ViaService": viaSsm, "kms:EncryptionContext:PARAMETER_ARN": arns } },
    },
    {
      Sid: "OperatorsReadRecoveryParameters",
      Effect: "Allow",
      Principal: root,
      Action: ["kms:Decrypt"],
      Resource: "*",
      Condition: { StringEquals: { "kms:CallerAccount": accountId, "kms:ViaService": viaSsm, "kms:EncryptionContext:PARAMETER_ARN": arns } },
    },
    {
      Sid: "NoClusterRoleDecrypts",
      Effect: "Deny",
      Principal: { AWS: "*" },
      Action: ["kms:Decrypt", "kms:ReEncryptFrom", "kms:CreateGrant"],
      Resource: "*",
      Condition: { ArnLike: { "aws:PrincipalArn": `arn:aws:iam::${accountId}:role/bitte-${cluster.name}-*` } },
    },
    ...keyPolicyParameterGuards(ctx, "recovery"),
  );
}

export interface HashiStackBootstrapProps {
  /** The core region's provider: the parameters and their keys live there. */
  readonly provider: AwsProvider;
  readonly cluster: Cluster;
  /** The account id (a reference to `aws_caller_identity`). */
  readonly accountId: string;
}

export class HashiStackBootstrap extends Construct {
  /** The recovery key's ARN. */
  readonly recoveryKeyArn: string;

  constructor(scope: Construct, id: string, props: HashiStackBootstrapProps) {
    super(scope, id);
    const { provider, cluster } = props;
    const key = new KmsKey(this, "recovery-key", {
      provider,
      description: `Bitte cluster ${cluster.name}: Vault recovery keys and root token (operators only)`,
      enableKeyRotation: true,
      deletionWindowInDays: 30,
      policy: JSON.stringify(recoveryKeyPolicy(cluster, props.accountId)),
    });
    new KmsAlias(this, "recovery-alias", { provider, name: recoveryKeyAlias(cluster), targetKeyId: key.keyId });
    this.recoveryKeyArn = key.arn;
  }
}
