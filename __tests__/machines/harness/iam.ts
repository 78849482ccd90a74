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
