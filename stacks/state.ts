import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import type { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import type { Construct } from "constructs";
import { PrivateBucket } from "../constructs/cluster-bucket";
import { KmsKey, regionalKeyArn } from "../constructs/kms-key";
import { BitteStack, regionProviders, type BitteStackProps } from "./base";
import { output } from "./outputs";

/**
 * The `state` workspace, only for clusters on the S3 backend, deployed once before everything else
 * with local state (`terraform.<cluster>.state.tfstate`; keep it safe): the state bucket and, unless the
 * spec names an existing key, the cluster key the state is encrypted with. Later stacks find the
 * key by its alias.
 */
export class StateStack extends BitteStack {
  constructor(scope: Construct, id: "state", props: BitteStackProps) {
    super(scope, id, props);
    const { cluster } = props;
    if (cluster.backend.type !== "s3") throw new Error(`the state stack is only for the S3 backend; cluster ${cluster.name} keeps local state`);
    const regions = cluster.regions.map((r) => r.name);
    const providers = regionProviders(this, cluster, cluster.kms.create ? regions : [cluster.backend.region]);
    const provider = (region: string) => providers.get(region) as AwsProvider;
    let keyArn: string;
    if (cluster.kms.create) {
      const accountId = new DataAwsCallerIdentity(this, "account", { provider: provider(cluster.coreRegion) }).accountId;
      const key = KmsKey.forCluster(this, cluster, providers, accountId);
      keyArn = key.arns.get(cluster.backend.region) as string;
    } else {
      keyArn = regionalKeyArn(cluster, cluster.kms.keyArn, cluster.backend.region);
    }
    const bucket = new PrivateBucket(this, "bucket", { provider: provider(cluster.backend.region), name: { exact: cluster.backend.bucket }, kmsKeyArn: keyArn }).bucket;
    output(this, "state_bucket", bucket.bucket, "the Terraform state bucket of every other stack");
    output(this, "state_key_arn", keyArn, "the cluster key that encrypts the state");
  }
}
