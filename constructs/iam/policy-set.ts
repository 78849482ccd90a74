/**
 * The IAM and KMS policies of synthesized stacks, read back from their Terraform JSON, with
 * Terraform references replaced by stand-in values of one account: what the authorization matrix
 * and the machine tier's SSM stand-in evaluate.
 */
import { MANAGED_POLICIES } from "./managed";
import type { RawDocument } from "./evaluate";

/** The account every stand-in ARN is in. */
export const MOCK_ACCOUNT = "123456789012";

interface StackJsonLike {
  readonly resource?: Record<string, Record<string, Record<string, unknown>>>;
  readonly data?: Record<string, Record<string, Record<string, unknown>>>;
  readonly output?: Record<string, { value: unknown }>;
}

export interface RolePolicies {
  readonly name: string;
  readonly arn: string;
  /** Inline policies and the documents of attached managed policies. */
  readonly documents: readonly { readonly where: string; readonly document: RawDocument }[];
}

export interface KeyPolicy {
  readonly where: string;
  readonly arn: string;
  /** Alias names (`alias/...`) that point at the key. */
  readonly aliases: readonly string[];
  readonly document: RawDocument;
}

export interface PolicySet {
  readonly roles: ReadonlyMap<string, RolePolicies>;
  readonly keys: readonly KeyPolicy[];
  /** Bucket policies by bucket ARN. */
  readonly buckets: ReadonlyMap<string, RawDocument>;
  /** ARNs of the service-linked roles the stacks create. */
  readonly serviceLinkedRoles: readonly string[];
  /** Every other document (trust policies aside), for the reference checks. */
  readonly all: readonly { readonly where: string; readonly document: RawDocument }[];
}

/** Named stacks: `core`, `clients`, ...; `terraform_remote_state.<id>` resolves against them. */
export type Stacks = Readonly<Record<string, StackJsonLike>>;

const block = (j: StackJsonLike, kind: "resource" | "data", type: string) => (kind === "resource" ? j.resource : j.data)?.[type] ?? {};

function regionOf(config: Record<string, unknown> | undefined, fallback: string): string {
  const p = config?.provider;
  return typeof p === "string" && p.startsWith("aws.") ? p.slice(4) : fallback;
}

/** Resolves `${...}` references of one stack to stand-in values; throws on one it does not know. */
function resolver(stacks: Stacks, id: string, defaultRegion: string): (text: string) => string {
  const stack = stacks[id];
  const one = (ref: string): string => {
    if (/^data\.aws_caller_identity\.[^.]+\.account_id$/.test(ref)) return MOCK_ACCOUNT;
    const remote = /^data\.terraform_remote_state\.([a-z]+)\.outputs\.([A-Za-z0-9_-]+)$/.exec(ref);
    if (remote) {
      const value = stacks[remote[1]]?.output?.[remote[2]]?.value;
      if (typeof value !== "string") throw new Error(`${id}: remote output ${remote[1]}.${remote[2]} is unknown to the policy set`);
      return resolver(stacks, remote[1], defaultRegion)(value);
    }
    const m = /^(data\.)?(aws_[a-z0-9_]+)\.([^.]+)\.([a-z_]+)$/.exec(ref);
    if (!m) throw new Error(`${id}: cannot stand in for \${${ref}}`);
    const [, data, type, name, attr] = m;
    const config = block(stack, data ? "data" : "resource", type)[name];
    const region = regionOf(config, defaultRegion);
    switch (`${type}.${attr}`) {
      case "aws_kms_key.arn":
      case "aws_kms_replica_key.arn":
        return `arn:aws:kms:${region}:${MOCK_ACCOUNT}:key/${name}`;
      case "aws_kms_key.key_id":
      case "aws_kms_replica_key.key_id":
        return name;
      case "aws_s3_bucket.arn":
        return `arn:aws:s3:::${name}`;
      case "aws_s3_bucket.id":
      case "aws_s3_bucket.bucket":
        return name;
      case "aws_iam_role.arn":
        return `arn:aws:iam::${MOCK_ACCOUNT}:role/${String(config?.name ?? name)}`;
      case "aws_iam_role.id":
      case "aws_iam_role.name":
        return String(config?.name ?? name);
      case "aws_ssm_document.arn":
        return `arn:aws:ssm:${region}:${MOCK_ACCOUNT}:document/${String(config?.name ?? name)}`;
      case "aws_sns_topic.arn":
      case "aws_sqs_queue.arn":
        return `arn:aws:${type.slice(4, 7)}:${region}:${MOCK_ACCOUNT}:${String(config?.name ?? name)}`;
      case "aws_iam_service_linked_role.arn":
        return `arn:aws:iam::${MOCK_ACCOUNT}:role/aws-service-role/${String(config?.aws_service_name)}/${serviceLinkedRoleName(config)}`;
      default:
        throw new Error(`${id}: cannot stand in for \${${ref}}`);
    }
  };
  return (text) => text.replace(/\$\{([^}]+)\}/g, (_, ref: string) => one(ref));
}

/** AWS's name of a service-linked role: `AWSServiceRoleForAutoScaling[_<suffix>]`. */
function serviceLinkedRoleName(config: Record<string, unknown> | undefined): string {
  const base = config?.aws_service_name === "autoscaling.amazonaws.com" ? "AWSServiceRoleForAutoScaling" : `AWSServiceRoleFor${String(config?.aws_service_name)}`;
  return config?.custom_suffix ? `${base}_${String(config.custom_suffix)}` : base;
}

/**
 * The policy set of a cluster's synthesized stacks. `defaultRegion` is where resources without a
 * regional provider alias live (the core region).
 */
export function policySetFromStacks(stacks: Stacks, defaultRegion: string): PolicySet {
  const roles = new Map<string, { name: string; arn: string; documents: { where: string; document: RawDocument }[] }>();
  const keys: KeyPolicy[] = [];
  const buckets = new Map<string, RawDocument>();
  const all: { where: string; document: RawDocument }[] = [];
  const serviceLinkedRoles: string[] = [];
  const parse = (id: string, text: unknown) => JSON.parse(resolver(stacks, id, defaultRegion)(String(text))) as RawDocument;

  for (const [id, json] of Object.entries(stacks)) {
    const resolve = resolver(stacks, id, defaultRegion);
    const roleByRef = new Map<string, string>();
    for (const [name, config] of Object.entries(block(json, "resource", "aws_iam_role"))) {
      const roleName = String(config.name);
      roles.set(roleName, roles.get(roleName) ?? { name: roleName, arn: `arn:aws:iam::${MOCK_ACCOUNT}:role/${roleName}`, documents: [] });
      for (const attr of ["id", "name", "arn"]) roleByRef.set(`\${aws_iam_role.${name}.${attr}}`, roleName);
    }
    const roleOf = (ref: unknown, where: string) => {
      const r = roleByRef.get(String(ref)) ?? (roles.has(String(ref)) ? String(ref) : undefined);
      if (!r) throw new Error(`${where}: role ${String(ref)} is not a role of the stacks`);
      return roles.get(r) as { documents: { where: string; document: RawDocument }[] };
    };
    for (const [name, config] of Object.entries(block(json, "resource", "aws_iam_role_policy"))) {
      const where = `${id}: aws_iam_role_policy.${name}`;
      const document = parse(id, config.policy);
      roleOf(config.role, where).documents.push({ where, document });
      all.push({ where, document });
    }
    for (const [name, config] of Object.entries(block(json, "resource", "aws_iam_role_policy_attachment"))) {
      const where = `${id}: aws_iam_role_policy_attachment.${name}`;
      const managed = MANAGED_POLICIES.find((p) => p.arn === config.policy_arn);
      if (!managed) throw new Error(`${where}: ${String(config.policy_arn)} is not vendored in constructs/iam/managed/; vendor its document with its version to attach it`);
      roleOf(config.role, where).documents.push({ where: `${where} (${managed.name} ${managed.version})`, document: managed.document });
      all.push({ where: `${where} (${managed.name})`, document: managed.document });
    }
    for (const name of Object.keys(block(json, "resource", "aws_iam_service_linked_role"))) serviceLinkedRoles.push(resolve(`\${aws_iam_service_linked_role.${name}.arn}`));
    const aliases = new Map<string, string[]>();
    for (const config of Object.values(block(json, "resource", "aws_kms_alias"))) {
      const target = resolve(String(config.target_key_id));
      aliases.set(target, [...(aliases.get(target) ?? []), String(config.name)]);
    }
    for (const type of ["aws_kms_key", "aws_kms_replica_key"]) {
      for (const [name, config] of Object.entries(block(json, "resource", type))) {
        const where = `${id}: ${type}.${name}`;
        const document = parse(id, config.policy);
        keys.push({ where, arn: resolve(`\${${type}.${name}.arn}`), aliases: aliases.get(name) ?? [], document });
        all.push({ where, document });
      }
    }
    for (const [name, config] of Object.entries(block(json, "resource", "aws_s3_bucket_policy"))) {
      const where = `${id}: aws_s3_bucket_policy.${name}`;
      const document = parse(id, config.policy);
      buckets.set(`arn:aws:s3:::${resolve(String(config.bucket))}`, document);
      all.push({ where, document });
    }
  }
  return { roles, keys, buckets, serviceLinkedRoles, all };
}

/** The key an id names: a key ARN, or an alias of one of the set's keys, in a region. */
export function keyFor(set: PolicySet, keyId: string, region: string): KeyPolicy {
  const key = set.keys.find((k) => k.arn === keyId || (k.aliases.includes(keyId) && k.arn.includes(`:kms:${region}:`)));
  if (!key) throw new Error(`no key of the stacks is ${keyId} in ${region}`);
  return key;
}
