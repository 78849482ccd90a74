import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import { KmsKey as Key } from "@cdktf/provider-aws/lib/kms-key";
import { KmsReplicaKey } from "@cdktf/provider-aws/lib/kms-replica-key";
import type { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import type { Cluster } from "../clusters/spec";
import { keyPolicyParameterGuards } from "./hashistack-bootstrap/policies";
import { policy, type PolicyDocument } from "./iam/documents";
import { AutoScalingServiceRole, autoScalingRoleArn } from "./iam/service-linked-role";

/** A given key's ARN in another region: a multi-Region key keeps its id in every region. */
export function regionalKeyArn(cluster: Cluster, keyArn: string, region: string): string {
  return keyArn.replace(`:kms:${cluster.coreRegion}:`, `:kms:${region}:`);
}

/** Administrative actions only: using the key is granted separately, per purpose. */
export const ADMIN_ACTIONS = [
  "kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*", "kms:Revoke*",
  "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource", "kms:UntagResource", "kms:ScheduleKeyDeletion",
  "kms:CancelKeyDeletion", "kms:ReplicateKey",
];
const DATA_KEY_ACTIONS = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:DescribeKey"];

/**
 * The cluster key's policy: the account administers it; principals of the account use it only
 * through EC2 (EBS), SSM (SecureStrings) and S3 (the bucket) in the cluster's regions, and each
 * node role through SSM only for its parameters of the bootstrap table; the core role uses it
 * directly, without encryption context, for Vault's seal and Nomad's keyring; the cluster's own
 * Auto Scaling service-linked role uses it to launch instances with encrypted volumes.
 */
export function clusterKeyPolicy(cluster: Cluster, accountId: string): PolicyDocument {
  const root = { AWS: `arn:aws:iam::${accountId}:root` };
  const asg = { AWS: autoScalingRoleArn(cluster, accountId) };
  const regions = cluster.regions.map((r) => r.name);
  return policy(
    { Sid: "AccountAdministersKey", Effect: "Allow", Principal: root, Action: ADMIN_ACTIONS, Resource: "*" },
    {
      Sid: "UseThroughClusterServices",
      Effect: "Allow",
      Principal: root,
      Action: [...DATA_KEY_ACTIONS, "kms:CreateGrant"],
      Resource: "*",
      Condition: {
        StringEquals: { "kms:CallerAccount": accountId, "kms:ViaService": regions.flatMap((r) => ["ec2", "ssm", "s3"].map((s) => `${s}.${r}.amazonaws.com`)) },
      },
    },
    {
      Sid: "CoreSealAndKeyring",
      Effect: "Allow",
      Principal: root,
      Action: ["kms:Encrypt", "kms:Decrypt"],
      Resource: "*",
      Condition: { ArnEquals: { "aws:PrincipalArn": `arn:aws:iam::${accountId}:role/bitte-${cluster.name}-core` }, Null: { "kms:EncryptionContextKeys": "true" } },
    },
    ...keyPolicyParameterGuards({ cluster, accountId }, "cluster"),
    { Sid: "AutoScalingUsesKey", Effect: "Allow", Principal: asg, Action: DATA_KEY_ACTIONS, Resource: "*" },
    { Sid: "AutoScalingGrants", Effect: "Allow", Principal: asg, Action: ["kms:CreateGrant"], Resource: "*", Condition: { Bool: { "kms:GrantIsForAWSResource": "true" } } },
  );
}

export interface KmsKeyProps {
  /** The cluster: the alias is `alias/bitte-<cluster>`; the policy covers its regions and roles. */
  readonly cluster: Cluster;
  /** The account id (a reference to `aws_caller_identity`). */
  readonly accountId: string;
  /** The primary key's region (the core region). */
  readonly region: string;
  /** Provider of that region. */
  readonly provider: AwsProvider;
  /**
   * Other regions of the cluster: each gets a replica (EBS volumes need a key in their own region).
   * @default none: a single-region key
   */
  readonly replicaProviders?: ReadonlyMap<string, AwsProvider>;
  /**
   * Resources the key policy's principals come from (the Auto Scaling service-linked role): KMS
   * refuses a policy naming a principal that does not exist yet.
   */
  readonly dependsOn?: ITerraformDependable[];
}

/**
 * The cluster's customer-managed key, with rotation on, and replicas in every other region of the
 * cluster under the same alias. Created only when the spec asks for it.
 */
export class KmsKey extends Construct {
  /** Region → the key's ARN there (the primary in the core region, replicas elsewhere). */
  readonly arns: ReadonlyMap<string, string>;
  readonly key: Key;

  /** The key of a cluster: primary in the core region, a replica in every other region of `providers`. */
  static forCluster(scope: Construct, cluster: Cluster, providers: ReadonlyMap<string, AwsProvider>, accountId: string): KmsKey {
    const replicaProviders = new Map([...providers].filter(([r]) => r !== cluster.coreRegion));
    const provider = providers.get(cluster.coreRegion) as AwsProvider;
    // The service-linked role the key policy names is made first, with the key.
    const slr = new AutoScalingServiceRole(scope, "autoscaling-role", { provider, cluster });
    return new KmsKey(scope, "kms", { cluster, accountId, region: cluster.coreRegion, provider, replicaProviders, dependsOn: [slr.role] });
  }

  constructor(scope: Construct, id: string, props: KmsKeyProps) {
    super(scope, id);
    const clusterName = props.cluster.name;
    const alias = `alias/bitte-${clusterName}`;
    const replicas = props.replicaProviders ?? new Map<string, AwsProvider>();
    const keyPolicy = JSON.stringify(clusterKeyPolicy(props.cluster, props.accountId));
    this.key = new Key(this, "key", {
      provider: props.provider,
      description: `Bitte cluster ${clusterName}: EBS, SSM parameters, Vault seal, Nomad keyring, bucket`,
      enableKeyRotation: true,
      deletionWindowInDays: 30,
      multiRegion: replicas.size > 0,
      policy: keyPolicy,
      dependsOn: props.dependsOn,
    });
    new KmsAlias(this, "alias", { provider: props.provider, name: alias, targetKeyId: this.key.keyId });
    const arns = new Map<string, string>([[props.region, this.key.arn]]);
    for (const [region, provider] of replicas) {
      const replica = new KmsReplicaKey(this, `replica-${region}`, { provider, primaryKeyArn: this.key.arn, deletionWindowInDays: 30, policy: keyPolicy, description: `Bitte cluster ${clusterName} (replica)`, dependsOn: props.dependsOn });
      new KmsAlias(this, `alias-${region}`, { provider, name: alias, targetKeyId: replica.keyId });
      arns.set(region, replica.arn);
    }
    this.arns = arns;
  }
}
