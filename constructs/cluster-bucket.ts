import type { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketOwnershipControls } from "@cdktf/provider-aws/lib/s3-bucket-ownership-controls";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { Construct } from "constructs";
import { policy } from "./iam/documents";

export interface PrivateBucketProps {
  readonly provider: AwsProvider;
  /** Exact bucket name (global), or a prefix Terraform completes. */
  readonly name: { readonly exact: string } | { readonly prefix: string };
  /** Key for default encryption. */
  readonly kmsKeyArn: string;
  /**
   * Keep the bucket when the stack is destroyed with objects in it.
   * @default true
   */
  readonly protect?: boolean;
}

/** A bucket only the account can use: public access blocked, versioned, KMS-encrypted, TLS only. */
export class PrivateBucket extends Construct {
  readonly bucket: S3Bucket;

  constructor(scope: Construct, id: string, props: PrivateBucketProps) {
    super(scope, id);
    const { provider } = props;
    this.bucket = new S3Bucket(this, "bucket", {
      provider,
      ...("exact" in props.name ? { bucket: props.name.exact } : { bucketPrefix: props.name.prefix }),
      forceDestroy: !(props.protect ?? true),
    });
    new S3BucketPublicAccessBlock(this, "public-access-block", { provider, bucket: this.bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
    new S3BucketOwnershipControls(this, "ownership", { provider, bucket: this.bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } });
    new S3BucketVersioningA(this, "versioning", { provider, bucket: this.bucket.id, versioningConfiguration: { status: "Enabled" } });
    new S3BucketServerSideEncryptionConfigurationA(this, "encryption", {
      provider,
      bucket: this.bucket.id,
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: props.kmsKeyArn }, bucketKeyEnabled: true }],
    });
    new S3BucketPolicy(this, "policy", {
      provider,
      bucket: this.bucket.id,
      policy: JSON.stringify(
        policy({
          Sid: "DenyInsecureTransport",
          Effect: "Deny",
          Principal: { AWS: "*" },
          Action: ["s3:*"],
          Resource: [this.bucket.arn, `${this.bucket.arn}/*`],
          Condition: { Bool: { "aws:SecureTransport": false } },
        }),
      ),
    });
  }
}
