/**
 * The instance roles' identity policies as the stand-in AWS endpoints evaluate them: every
 * `aws_iam_role_policy` of the synthesized stacks, with the few Terraform references they hold
 * (account id, the cluster key's ARN, the bucket's ARN) replaced by the test account's values, and
 * which role each machine's instance profile carries.
 */
import type { StackJson } from "../../harness/synth";
import { resources } from "../../harness/synth";

export interface TestAccount {
  readonly accountId: string;
  readonly region: string;
  /** ARN of the cluster key in the test account. */
  readonly kmsKeyArn: string;
  readonly bucketName: string;
}

/** `${aws_iam_role.x.id}` → `aws_iam_role.x` */
const refOf = (v: unknown) => /^\$\{([a-z0-9_]+\.[^.}]+)\.[a-z_]+\}$/.exec(String(v))?.[1];

function resolve(text: string, account: TestAccount): string {
  const out = text
    .replace(/\$\{data\.aws_caller_identity\.[^.}]+\.account_id\}/g, account.accountId)
    .replace(/\$\{data\.aws_region\.[^.}]+\.(name|region)\}/g, account.region)
    .replace(/\$\{aws_kms_key\.[^.}]+\.arn\}/g, account.kmsKeyArn)
    .replace(/\$\{aws_s3_bucket\.[^.}]+\.arn\}/g, `arn:aws:s3:::${account.bucketName}`);
  const left = /\$\{[^}]+\}/.exec(out);
  if (left) throw new Error(`iam: cannot resolve ${left[0]} in a role policy: add it to __tests__/machines/harness/iam.ts`);
  return out;
}

/** Role name → its policy documents (parsed), for the named roles, from every stack given. */
export function rolePolicies(stacks: readonly StackJson[], account: TestAccount, only: ReadonlySet<string>): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const json of stacks) {
    const roles = new Map(resources(json, "aws_iam_role").map((r) => [r.address, String(r.config.name)]));
    for (const p of resources(json, "aws_iam_role_policy")) {
      const role = roles.get(refOf(p.config.role) ?? "");
      if (!role) throw new Error(`iam: ${p.address} names no role of its stack (${String(p.config.role)})`);
      if (!only.has(role)) continue;
      (out[role] ??= []).push(JSON.parse(resolve(String(p.config.policy), account)));
    }
  }
  return out;
}

/** The role behind an instance profile reference (`${aws_iam_instance_profile.x.name|arn}`) in the core stack. */
export function roleOfProfile(core: StackJson, profileRef: unknown): string {
  let ref = refOf(profileRef);
  // A launch template of the clients stack names the core stack's output.
  const out = /^\$\{data\.terraform_remote_state\.core\.outputs\.([a-z0-9_]+)\}$/.exec(String(profileRef))?.[1];
  if (out) ref = refOf(core.output?.[out]?.value);
  const profile = resources(core, "aws_iam_instance_profile").find((p) => p.address === ref);
  if (!profile) throw new Error(`iam: no instance profile for ${String(profileRef)}`);
  const role = resources(core, "aws_iam_role").find((r) => r.address === refOf(profile.config.role));
  if (!role) throw new Error(`iam: ${profile.address} names no role`);
  return String(role.config.name);
}

/** A role's ARN from a reference to the core stack's output (`${data.terraform_remote_state.core.outputs.iam_role_arn_core}`). */
function roleArnOf(core: StackJson, ref: unknown, account: TestAccount): string {
  const out = /^\$\{data\.terraform_remote_state\.core\.outputs\.([a-z0-9_]+)\}$/.exec(String(ref))?.[1];
  const role = resources(core, "aws_iam_role").find((r) => `\${${r.address}.arn}` === String(out ? core.output?.[out]?.value : ref));
  if (!role) throw new Error(`iam: ${String(ref)} names no role of the core stack`);
  return `arn:aws:iam::${account.accountId}:role/${String(role.config.name)}`;
}

/** What the stand-in Vault's AWS auth holds once `cdktf deploy consul` has run: read from that stack's JSON. */
export interface VaultAwsAuthRoleSeed {
  readonly boundIamPrincipalArns: readonly string[];
  readonly policies: readonly string[];
  /** `ec2_instance` when Vault infers the instance from the session name, in `inferredAwsRegion`. */
  readonly inferredEntityType?: string;
  readonly inferredAwsRegion?: string;
}

export interface VaultAwsAuthSeed {
  readonly mount: string;
  /** The backend's accessor (Vault makes one when the backend is enabled; the world picks it). */
  readonly accessor: string;
  readonly serverIdHeader: string;
  readonly roles: Readonly<Record<string, VaultAwsAuthRoleSeed>>;
  /** `auth/<mount>/config/identity`: how logins name their entity alias and what metadata it carries. */
  readonly identity?: { readonly iamAlias: string; readonly iamMetadata: readonly string[] };
  readonly policyTexts: Readonly<Record<string, string>>;
  /** PKI roles by `<mount>/<role>`, their attributes as the provider sends them (snake_case), references resolved. */
  readonly pkiRoles: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

/** What `cdktf deploy consul` writes into Vault's AWS auth and node PKI, read from that stack's JSON. */
export function vaultAwsAuthOf(consul: StackJson, core: StackJson, account: TestAccount, accessor = "auth_aws_5f1c0de2"): VaultAwsAuthSeed {
  const backends = resources(consul, "vault_auth_backend").filter((b) => b.config.type === "aws");
  const clients = resources(consul, "vault_aws_auth_backend_client");
  if (backends.length !== 1 || clients.length !== 1) throw new Error(`iam: the consul stack should configure one AWS auth backend and client, found ${backends.length} and ${clients.length}`);
  const accessorRef = `\${${backends[0].address}.accessor}`;
  const policies = new Map(resources(consul, "vault_policy").map((p) => [`\${${p.address}.name}`, p.config]));
  const roles: Record<string, VaultAwsAuthRoleSeed> = {};
  for (const r of resources(consul, "vault_aws_auth_backend_role")) {
    if (r.config.auth_type !== "iam") throw new Error(`iam: ${r.address} has auth_type ${String(r.config.auth_type)}; the stand-in Vault knows iam`);
    roles[String(r.config.role)] = {
      boundIamPrincipalArns: (r.config.bound_iam_principal_arns as unknown[]).map((a) => roleArnOf(core, a, account)),
      policies: (r.config.token_policies as unknown[]).map((p) => String(policies.get(String(p))?.name ?? p)),
      ...(r.config.inferred_entity_type ? { inferredEntityType: String(r.config.inferred_entity_type), inferredAwsRegion: String(r.config.inferred_aws_region) } : {}),
    };
  }
  const [identity] = resources(consul, "vault_aws_auth_backend_config_identity");
  const pkiRoles: Record<string, Record<string, unknown>> = {};
  for (const r of resources(consul, "vault_pki_secret_backend_role")) {
    const text = JSON.stringify(r.config).split(accessorRef).join(accessor);
    const config = JSON.parse(text) as Record<string, unknown>;
    if (/\$\{/.test(String(config.backend)) || JSON.stringify(config.allowed_domains ?? []).includes("${")) continue; // Terraform-made mounts (pki_int): not served by the stand-in
    pkiRoles[`${String(config.backend)}/${String(config.name)}`] = config;
  }
  const policyTexts = Object.fromEntries([...policies.values()].map((p) => [String(p.name), String(p.policy)]));
  return {
    mount: String(backends[0].config.path),
    accessor,
    serverIdHeader: String(clients[0].config.iam_server_id_header_value),
    roles,
    ...(identity ? { identity: { iamAlias: String(identity.config.iam_alias), iamMetadata: (identity.config.iam_metadata as unknown[]).map(String) } } : {}),
    policyTexts,
    pkiRoles,
  };
}

/** Instance tags with the core stack's references resolved in the test account (the bucket's name). */
export function resolveTags(tags: Readonly<Record<string, string>>, account: TestAccount): Record<string, string> {
  return Object.fromEntries(Object.entries(tags).map(([k, v]) => {
    const out = v.replace(/\$\{aws_s3_bucket\.[^.}]+\.bucket\}/g, account.bucketName);
    if (/\$\{/.test(out)) throw new Error(`iam: cannot resolve tag ${k} = ${v}: add it to __tests__/machines/harness/iam.ts`);
    return [k, out];
  }));
}
