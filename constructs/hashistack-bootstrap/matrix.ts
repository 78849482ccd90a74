/**
 * The authorization matrix: role × bootstrap parameter → {create, overwrite, read, decrypt}, and
 * role × bucket prefix → {read, write}, once as the table intends it and once as the synthesized
 * IAM and KMS policies grant it (evaluated with ../iam/evaluate). The test asserts they are equal.
 */
import type { Cluster } from "../../clusters/spec";
import { evaluateIdentity, evaluateKms, type ContextValue, type RawDocument } from "../iam/evaluate";
import { keyFor, MOCK_ACCOUNT, type PolicySet } from "../iam/policy-set";
import { NODE_ROLES, type NodeRole } from "../node-config/types";
import { BUCKET_PREFIXES } from "./bucket";
import { bootstrapParameters, type BootstrapParameter } from "./parameters";
import { parameterKeyId } from "./keys";

export interface ParameterAccess {
  readonly create: boolean;
  readonly overwrite: boolean;
  readonly read: boolean;
  readonly decrypt: boolean;
}

export interface BucketAccess {
  readonly read: boolean;
  readonly write: boolean;
}

/** `role name → parameter name → access`; only cells with some access are listed. */
export type Matrix<T> = Record<string, Record<string, T>>;

const nodeRoleName = (cluster: Cluster, role: NodeRole) => `bitte-${cluster.name}-${role}`;

/** What the table says, per IAM role name (`bitte-<cluster>-<role>`). */
export function intendedParameterMatrix(cluster: Cluster): Matrix<ParameterAccess> {
  const out: Matrix<ParameterAccess> = {};
  for (const role of NODE_ROLES) {
    for (const p of bootstrapParameters()) {
      const cell = { create: p.writer === role, overwrite: p.writer === role && p.kind === "rotated", read: p.readers.includes(role), decrypt: p.readers.includes(role) };
      if (Object.values(cell).some(Boolean)) (out[nodeRoleName(cluster, role)] ??= {})[p.name] = cell;
    }
  }
  return out;
}

export function parameterArn(cluster: Cluster, name: string, account = MOCK_ACCOUNT): string {
  return `arn:aws:ssm:${cluster.coreRegion}:${account}:parameter${cluster.ssmPrefix}/${name}`;
}

/** Actions that return a parameter's value. `GetParametersByPath` is asked on the parent path. */
const READ_ACTIONS = ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParameterHistory"];

/** The request context SSM's calls to KMS carry for a SecureString (SSM User Guide, "How Parameter Store uses AWS KMS"). */
function viaSsm(cluster: Cluster, arn: string): Record<string, ContextValue> {
  return { "kms:ViaService": `ssm.${cluster.coreRegion}.amazonaws.com`, "kms:EncryptionContext:PARAMETER_ARN": arn, "kms:EncryptionContextKeys": ["PARAMETER_ARN"] };
}

function parameterCell(cluster: Cluster, set: PolicySet, docs: readonly RawDocument[], who: { arn: string; accountId: string }, p: BootstrapParameter): ParameterAccess {
  const arn = parameterArn(cluster, p.name);
  const key = keyFor(set, parameterKeyId(cluster, p), cluster.coreRegion);
  const iam = (action: string, resource: string, context: Record<string, ContextValue> = {}) => evaluateIdentity(docs, { action, resource, context }) === "allow";
  const kms = (action: string) => evaluateKms(key.document, docs, who, { action, resource: key.arn, context: viaSsm(cluster, arn) }) === "allow";
  const parent = arn.slice(0, arn.lastIndexOf("/"));
  const read = READ_ACTIONS.some((a) => iam(a, arn)) || iam("ssm:GetParametersByPath", parent);
  const encrypt = kms("kms:Encrypt");
  return {
    create: iam("ssm:PutParameter", arn, { "ssm:Overwrite": "false" }) && encrypt,
    overwrite: iam("ssm:PutParameter", arn, { "ssm:Overwrite": "true" }) && encrypt,
    read,
    decrypt: kms("kms:Decrypt"),
  };
}

/** What the policies grant, for every role of the set. */
export function grantedParameterMatrix(cluster: Cluster, set: PolicySet): Matrix<ParameterAccess> {
  const out: Matrix<ParameterAccess> = {};
  for (const role of set.roles.values()) {
    const docs = role.documents.map((d) => d.document);
    for (const p of bootstrapParameters()) {
      const cell = parameterCell(cluster, set, docs, { arn: role.arn, accountId: MOCK_ACCOUNT }, p);
      if (Object.values(cell).some(Boolean)) (out[role.name] ??= {})[p.name] = cell;
    }
  }
  return out;
}

/** What the bucket table says. */
export function intendedBucketMatrix(cluster: Cluster): Matrix<BucketAccess> {
  const out: Matrix<BucketAccess> = {};
  for (const role of NODE_ROLES) {
    for (const b of BUCKET_PREFIXES) {
      const cell = { read: b.readers.includes(role), write: b.writers.includes(role) };
      if (cell.read || cell.write) (out[nodeRoleName(cluster, role)] ??= {})[b.prefix] = cell;
    }
  }
  return out;
}

/**
 * What the policies grant on the cluster bucket: the object action, the bucket policy and, since
 * the bucket encrypts with the cluster key and S3 Bucket Keys, the key used via S3 with the
 * bucket's ARN as encryption context (S3 User Guide, "Reducing the cost of SSE-KMS with S3 Bucket Keys").
 */
export function grantedBucketMatrix(cluster: Cluster, set: PolicySet, bucketArn: string, bucketKeyArn: string): Matrix<BucketAccess> {
  const out: Matrix<BucketAccess> = {};
  const key = keyFor(set, bucketKeyArn, cluster.coreRegion);
  const bucketPolicy = set.buckets.get(bucketArn);
  const context = { "aws:SecureTransport": "true", "kms:ViaService": `s3.${cluster.coreRegion}.amazonaws.com`, "kms:EncryptionContext:aws:s3:arn": bucketArn, "kms:EncryptionContextKeys": ["aws:s3:arn"] };
  for (const role of set.roles.values()) {
    const docs = role.documents.map((d) => d.document);
    const who = { arn: role.arn, accountId: MOCK_ACCOUNT };
    for (const b of BUCKET_PREFIXES) {
      const object = `${bucketArn}/${b.prefix}example`;
      const s3 = (action: string) =>
        evaluateIdentity(docs, { action, resource: object, context }) === "allow" && (!bucketPolicy || evaluateIdentity([bucketPolicy], { action, resource: object, context }) !== "deny");
      const kms = (action: string) => evaluateKms(key.document, docs, who, { action, resource: key.arn, context }) === "allow";
      const cell = { read: s3("s3:GetObject") && kms("kms:Decrypt"), write: s3("s3:PutObject") && kms("kms:GenerateDataKey") };
      if (cell.read || cell.write) (out[role.name] ??= {})[b.prefix] = cell;
    }
  }
  return out;
}
