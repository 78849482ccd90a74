import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { LocalBackend, S3Backend, TerraformStack } from "cdktf";
import { DataTerraformRemoteStateLocal } from "cdktf/lib/backends/local-backend";
import { DataTerraformRemoteStateS3 } from "cdktf/lib/backends/s3-backend";
import type { TerraformRemoteState } from "cdktf/lib/terraform-remote-state";
import type { Construct } from "constructs";
import type { Cluster } from "../clusters/spec";
import { localStateFile } from "./layout";

/** Stack ids are workspace names and output directories (`<synthDir>/stacks/<id>`): a contract. */
export type StackId = "state" | "network" | "core" | "consul" | "clients" | "jobs";

export interface BitteStackProps {
  /** The resolved cluster. */
  readonly cluster: Cluster;
}

/**
 * A stack of one cluster: its state lives where the spec says. Local state is addressed relative
 * to the stack's output directory, so synthesized JSON never holds a machine path.
 */
export class BitteStack extends TerraformStack {
  readonly cluster: Cluster;

  constructor(scope: Construct, readonly stackId: StackId, props: BitteStackProps) {
    super(scope, stackId);
    this.cluster = props.cluster;
    const backend = props.cluster.backend;
    if (backend.type === "s3" && stackId !== "state") {
      new S3Backend(this, {
        bucket: backend.bucket,
        key: stateKey(props.cluster, stackId),
        region: backend.region,
        encrypt: true,
        kmsKeyId: clusterKeyId(props.cluster),
      });
      // cdktf 0.21 predates S3-native locking; Terraform ≥ 1.10 takes it in the backend block.
      this.addOverride("terraform.backend.s3.use_lockfile", true);
    } else {
      new LocalBackend(this, { path: localStatePath(props.cluster, stackId) });
    }
  }

  /** The outputs of an upstream stack of this cluster, read from its state. */
  remoteState(from: StackId): TerraformRemoteState {
    const backend = this.cluster.backend;
    if (backend.type === "s3" && from !== "state") {
      return new DataTerraformRemoteStateS3(this, from, { bucket: backend.bucket, key: stateKey(this.cluster, from), region: backend.region });
    }
    return new DataTerraformRemoteStateLocal(this, from, { path: localStatePath(this.cluster, from) });
  }
}

/**
 * Relative to `<synthDir>/stacks/<id>`, where Terraform runs: a file of this cluster in the
 * project directory (`stacks/layout.ts`), never shared with another cluster.
 */
function localStatePath(cluster: Cluster, stackId: StackId): string {
  return `../../../${localStateFile(cluster.name, stackId)}`;
}

function stateKey(cluster: Cluster, stackId: StackId): string {
  return cluster.backend.type === "s3" ? `${cluster.backend.keyPrefix}/${stackId}.tfstate` : "";
}

/** The cluster key's alias, the same name in every region that holds a replica. */
export function clusterKeyAlias(cluster: Cluster): string {
  return `alias/bitte-${cluster.name}`;
}

/**
 * How configuration names the cluster key where a static value is needed (backend blocks, node
 * configuration): the given ARN, or the alias of the key Bitte creates.
 */
export function clusterKeyId(cluster: Cluster): string {
  return cluster.kms.create ? clusterKeyAlias(cluster) : cluster.kms.keyArn;
}

/** Default tags on every AWS resource. */
export function defaultTags(cluster: Cluster): Record<string, string> {
  return { ...cluster.tags, Cluster: cluster.name, ManagedBy: "bitte" };
}

/**
 * One AWS provider per region, aliased by the region's name, with the cluster's default tags.
 * Every AWS resource names its region's provider explicitly.
 */
export function regionProviders(stack: TerraformStack, cluster: Cluster, regions: readonly string[] = cluster.regions.map((r) => r.name)): ReadonlyMap<string, AwsProvider> {
  return new Map(
    regions.map((region) => [
      region,
      new AwsProvider(stack, `aws-${region}`, { alias: region, region, defaultTags: [{ tags: defaultTags(cluster) }] }),
    ]),
  );
}
