/**
 * IAM statements and KMS key policy statements derived from the bootstrap table and the bucket
 * table: the only place that turns "who reads what" into policy.
 *
 * KMS: SSM encrypts a SecureString with the encryption context `PARAMETER_ARN` = the parameter's
 * ARN (SSM User Guide, "How AWS Systems Manager Parameter Store uses AWS KMS"), so every use of a
 * key through SSM is bound to the parameters of the table, in the role's policy and again as an
 * explicit Deny in the key policy (which holds even if someone attaches a broad policy later).
 * S3 with Bucket Keys uses the bucket's ARN as `aws:s3:arn` context (S3 User Guide, "Reducing the
 * cost of SSE-KMS with Amazon S3 Bucket Keys"); prefixes are scoped on the S3 actions.
 */
import type { Cluster } from "../../clusters/spec";
import type { PolicyStatement } from "../iam/documents";
import { NODE_ROLES, type NodeRole } from "../node-config/types";
import { BUCKET_PREFIXES } from "./bucket";
import { bootstrapParameters, type BootstrapParameter, type ParameterKey } from "./parameters";

/** ARNs the statements refer to (Terraform references allowed). */
export interface BootstrapPolicyContext {
  readonly cluster: Cluster;
  readonly accountId: string;
  /** The cluster key in the core region. */
  readonly coreKeyArn: string;
  /** The recovery key (Vault's recovery keys and root token). */
  readonly recoveryKeyArn: string;
  readonly bucketArn: string;
}

export function bootstrapParameterArn(ctx: Pick<BootstrapPolicyContext, "cluster" | "accountId">, name: string): string {
  return `arn:aws:ssm:${ctx.cluster.coreRegion}:${ctx.accountId}:parameter${ctx.cluster.ssmPrefix}/${name}`;
}

export function nodeRoleArn(ctx: Pick<BootstrapPolicyContext, "cluster" | "accountId">, role: NodeRole): string {
  return `arn:aws:iam::${ctx.accountId}:role/bitte-${ctx.cluster.name}-${role}`;
}

const viaSsm = (cluster: Cluster) => `ssm.${cluster.coreRegion}.amazonaws.com`;
const keyArnOf = (ctx: BootstrapPolicyContext, key: ParameterKey) => (key === "recovery" ? ctx.recoveryKeyArn : ctx.coreKeyArn);
const sid = (s: string) => s.replace(/(^|[-/_])([a-z])/g, (_, __, c: string) => c.toUpperCase()).replace(/[^A-Za-z0-9]/g, "");

/** A role's statements for the bootstrap parameters: read + decrypt, create + encrypt, never overwrite. */
export function parameterStatements(role: NodeRole, ctx: BootstrapPolicyContext): PolicyStatement[] {
  const params = bootstrapParameters();
  const arns = (ps: readonly BootstrapParameter[]) => ps.map((p) => bootstrapParameterArn(ctx, p.name));
  const read = params.filter((p) => p.readers.includes(role));
  const write = params.filter((p) => p.writer === role);
  const out: PolicyStatement[] = [];
  if (read.length > 0) {
    out.push({ Sid: "ReadBootstrapParameters", Effect: "Allow", Action: ["ssm:GetParameter"], Resource: arns(read) });
    for (const key of ["cluster", "recovery"] as const) {
      const mine = read.filter((p) => p.key === key);
      if (mine.length === 0) continue;
      out.push({
        Sid: `DecryptBootstrapParameters${sid(key)}`,
        Effect: "Allow",
        Action: ["kms:Decrypt"],
        Resource: keyArnOf(ctx, key),
        Condition: { StringEquals: { "kms:ViaService": viaSsm(ctx.cluster), "kms:EncryptionContext:PARAMETER_ARN": arns(mine) } },
      });
    }
  }
  if (write.length > 0) {
    out.push({ Sid: "CreateBootstrapParameters", Effect: "Allow", Action: ["ssm:PutParameter"], Resource: arns(write) });
    for (const key of ["cluster", "recovery"] as const) {
      const mine = write.filter((p) => p.key === key);
      if (mine.length === 0) continue;
      // Standard-tier SecureStrings are encrypted with kms:Encrypt.
      out.push({
        Sid: `EncryptBootstrapParameters${sid(key)}`,
        Effect: "Allow",
        Action: ["kms:Encrypt"],
        Resource: keyArnOf(ctx, key),
        Condition: { StringEquals: { "kms:ViaService": viaSsm(ctx.cluster), "kms:EncryptionContext:PARAMETER_ARN": arns(mine) } },
      });
    }
    const createOnly = write.filter((p) => p.kind !== "rotated");
    if (createOnly.length > 0) {
      // Even a compromised node cannot replace the CA, a gossip key or a token once written.
      // ssm:Overwrite is a String key (Service Authorization Reference), hence StringEquals.
      out.push({ Sid: "NeverOverwriteBootstrapParameters", Effect: "Deny", Action: ["ssm:PutParameter"], Resource: arns(createOnly), Condition: { StringEquals: { "ssm:Overwrite": "true" } } });
    }
  }
  return out;
}

/** A role's statements for the cluster bucket, from the prefix table. */
export function bucketStatements(role: NodeRole, ctx: BootstrapPolicyContext): PolicyStatement[] {
  const reads = BUCKET_PREFIXES.filter((b) => b.readers.includes(role));
  const writes = BUCKET_PREFIXES.filter((b) => b.writers.includes(role));
  const out: PolicyStatement[] = [];
  const objects = (bs: typeof BUCKET_PREFIXES) => bs.map((b) => `${ctx.bucketArn}/${b.prefix}*`);
  if (reads.length > 0) {
    out.push({ Sid: "ReadBucketObjects", Effect: "Allow", Action: ["s3:GetObject"], Resource: objects(reads) });
    out.push({ Sid: "ListBucketPrefixes", Effect: "Allow", Action: ["s3:ListBucket"], Resource: ctx.bucketArn, Condition: { StringLike: { "s3:prefix": reads.map((b) => `${b.prefix}*`) } } });
  }
  if (writes.length > 0) out.push({ Sid: "WriteBucketObjects", Effect: "Allow", Action: ["s3:PutObject"], Resource: objects(writes) });
  if (reads.length + writes.length > 0) {
    out.push({
      Sid: "BucketKeyViaS3",
      Effect: "Allow",
      // Reads decrypt; writes need a data key (and Decrypt for multipart uploads).
      Action: writes.length > 0 ? ["kms:Decrypt", "kms:GenerateDataKey"] : ["kms:Decrypt"],
      Resource: ctx.coreKeyArn,
      Condition: { StringEquals: { "kms:ViaService": `s3.${ctx.cluster.coreRegion}.amazonaws.com`, "kms:EncryptionContext:aws:s3:arn": ctx.bucketArn } },
    });
  }
  return out;
}

/**
 * Key policy statements that bind each node role's use of a key through SSM to its parameters in
 * the table: a Deny for any other parameter, whatever the role's IAM policies say.
 */
export function keyPolicyParameterGuards(ctx: Pick<BootstrapPolicyContext, "cluster" | "accountId">, key: ParameterKey): PolicyStatement[] {
  const params = bootstrapParameters().filter((p) => p.key === key);
  return NODE_ROLES.map((role) => {
    const mine = params.filter((p) => p.readers.includes(role) || p.writer === role).map((p) => bootstrapParameterArn(ctx, p.name));
    return {
      Sid: `${sid(role)}UsesOnlyItsParameters`,
      Effect: "Deny" as const,
      Principal: { AWS: "*" },
      Action: ["kms:Decrypt", "kms:Encrypt"],
      Resource: "*",
      Condition: {
        ArnEquals: { "aws:PrincipalArn": nodeRoleArn(ctx, role) },
        StringEquals: { "kms:ViaService": viaSsm(ctx.cluster) },
        // A single-valued key: StringNotEquals holds when the context equals none of the list.
        StringNotEquals: { "kms:EncryptionContext:PARAMETER_ARN": mine.length > 0 ? mine : ["none"] },
      },
    };
  });
}
