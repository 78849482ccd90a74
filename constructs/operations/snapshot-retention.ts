import type { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { S3BucketLifecycleConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { Construct } from "constructs";
import { SNAPSHOT_PREFIX } from "../node-config/snapshots";

export interface SnapshotRetentionProps {
  readonly provider: AwsProvider;
  /** The cluster bucket's name. */
  readonly bucket: string;
  /** Days a snapshot is kept (the spec's `snapshots.retentionDays`). */
  readonly retentionDays: number;
}

/**
 * Expires snapshots under `snapshots/` after the retention: the current version after
 * `retentionDays`, and (the bucket is versioned) the noncurrent one a day later, so nothing
 * lingers as an invisible older version.
 */
export class SnapshotRetention extends Construct {
  constructor(scope: Construct, id: string, props: SnapshotRetentionProps) {
    super(scope, id);
    new S3BucketLifecycleConfiguration(this, "lifecycle", {
      provider: props.provider,
      bucket: props.bucket,
      rule: [
        {
          id: "snapshot-retention",
          status: "Enabled",
          filter: [{ prefix: `${SNAPSHOT_PREFIX}/` }],
          expiration: [{ days: props.retentionDays }],
          noncurrentVersionExpiration: [{ noncurrentDays: 1 }],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: 1 }],
        },
      ],
    });
  }
}
