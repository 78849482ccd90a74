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
  /** Vault's identity tokens (`identity/oidc/*`), when the consul stack configures them. */
  readonly oidc?: VaultOidcSeed;
}

/** `vault_identity_oidc*` of the consul stack, references resolved (client ids made by the world). */
export interface VaultOidcSeed {
  /** `vault_identity_oidc.issuer`; absent: Vault's api_addr. */
  readonly issuer?: string;
  readonly keys: Readonly<Record<string, { readonly algorithm: string; readonly allowedClientIds: readonly string[]; readonly verificationTtl?: number }>>;
  readonly roles: Readonly<Record<string, { readonly key: string; readonly template?: string; readonly ttl?: number; readonly clientId: string }>>;
}

/** What `cdktf deploy consul` writes into Consul's ACL system: `consulAcl` of the stand-ins' config. */
export interface ConsulAclSeed {
  readonly authMethods: Readonly<Record<string, { readonly type: string; readonly config: Readonly<Record<string, unknown>>; readonly maxTokenTTL?: string; readonly tokenLocality?: string }>>;
  readonly bindingRules: ReadonlyArray<{ readonly authMethod: string; readonly selector: string; readonly bindType: string; readonly bindName: string }>;
  /** Policy name → rules (HCL as the stack renders it). */
  readonly policies: Readonly<Record<string, string>>;
  /** Role name → its policies by name and identities. */
  readonly roles: Readonly<Record<string, { readonly policies: readonly string[]; readonly nodeIdentities?: ReadonlyArray<{ NodeName: string; Datacenter: string }>; readonly serviceIdentities?: ReadonlyArray<{ ServiceName: string; Datacenters?: readonly string[] }> }>>;
}

/**
 * The client_id Vault makes for an OIDC role (base62, 26 characters, pathOIDCCreateUpdateRole):
 * the world picks one per role address, the same on every call.
 */
export function oidcClientId(address: string): string {
  const abc = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  let h = 2166136261;
  let out = "";
  for (let i = 0; out.length < 26; i++) {
    h = Math.imul(h ^ (address.charCodeAt(i % address.length) + i), 16777619) >>> 0;
    out += abc[h % 62];
  }
  return out;
}

/**
 * The references the consul stack's OIDC and ACL resources hold, resolved as Terraform would after
 * apply: names, the role client ids the world picks, the AWS backend's accessor, the issuer.
 * `$${` escapes become `${` after. An unresolvable reference throws, naming this file.
 */
function consulStackResolver(consul: StackJson, accessor: string): (v: unknown, where: string) => string {
  const refs = new Map<string, string>();
  const put = (type: string, attrs: Record<string, (r: { address: string; config: Record<string, unknown> }) => string>) => {
    for (const r of resources(consul, type)) for (const [attr, f] of Object.entries(attrs)) refs.set(`\${${r.address}.${attr}}`, f(r));
  };
  const nameOf = (r: { config: Record<string, unknown> }) => String(r.config.name);
  put("vault_auth_backend", { accessor: () => accessor, path: (r) => String(r.config.path) });
  put("vault_identity_oidc", { issuer: (r) => String(r.config.issuer ?? "") });
  put("vault_identity_oidc_key", { name: nameOf, id: nameOf });
  put("vault_identity_oidc_role", { name: nameOf, id: nameOf, client_id: (r) => oidcClientId(r.address) });
  put("consul_acl_auth_method", { name: nameOf, id: nameOf });
  put("consul_acl_policy", { name: nameOf, id: nameOf });
  put("consul_acl_role", { name: nameOf, id: nameOf });
  return (v, where) => {
    const text = String(v).replace(/(?<!\$)\$\{[^}]+\}/g, (ref) => {
      const got = refs.get(ref);
      if (got === undefined) throw new Error(`iam: cannot resolve ${ref} in ${where}: add it to __tests__/machines/harness/iam.ts`);
      return got;
    });
    return text.split("$${").join("${");
  };
}

function vaultOidcOf(consul: StackJson, accessor: string): VaultOidcSeed | undefined {
  const roles = resources(consul, "vault_identity_oidc_role");
  const keys = resources(consul, "vault_identity_oidc_key");
  if (roles.length === 0 && keys.length === 0) return undefined;
  const sub = consulStackResolver(consul, accessor);
  const [config] = resources(consul, "vault_identity_oidc");
  const outKeys: Record<string, { algorithm: string; allowedClientIds: string[]; verificationTtl?: number }> = {};
  for (const k of keys) {
    outKeys[String(k.config.name)] = {
      algorithm: String(k.config.algorithm ?? "RS256"),
      allowedClientIds: ((k.config.allowed_client_ids as unknown[] | undefined) ?? []).map((c) => sub(c, k.address)),
      ...(k.config.verification_ttl !== undefined ? { verificationTtl: Number(k.config.verification_ttl) } : {}),
    };
  }
  for (const a of resources(consul, "vault_identity_oidc_key_allowed_client_id")) {
    const key = outKeys[sub(a.config.key_name, a.address)];
    if (!key) throw new Error(`iam: ${a.address} names no vault_identity_oidc_key of the consul stack (${String(a.config.key_name)})`);
    key.allowedClientIds.push(sub(a.config.allowed_client_id, a.address));
  }
  const outRoles: Record<string, { key: string; template?: string; ttl?: number; clientId: string }> = {};
  for (const r of roles) {
    const key = sub(r.config.key, r.address);
    // Vault makes the "default" key on first use, allowing every client id (lazyGenerateDefaultKey).
    if (!outKeys[key] && key === "default") outKeys.default = { algorithm: "RS256", allowedClientIds: ["*"] };
    if (!outKeys[key]) throw new Error(`iam: ${r.address} uses key ${key}, not a vault_identity_oidc_key of the consul stack`);
    outRoles[String(r.config.name)] = {
      key,
      clientId: r.config.client_id !== undefined ? sub(r.config.client_id, r.address) : oidcClientId(r.address),
      ...(r.config.template !== undefined ? { template: sub(r.config.template, r.address) } : {}),
      ...(r.config.ttl !== undefined ? { ttl: Number(r.config.ttl) } : {}),
    };
  }
  const issuer = config?.config.issuer !== undefined ? sub(config.config.issuer, config.address) : undefined;
  return { ...(issuer ? { issuer } : {}), keys: outKeys, roles: outRoles };
}

/**
 * Consul's ACL objects as `cdktf deploy consul` leaves them (the stand-in's `consulAcl`): auth
 * methods with their parsed config_json, binding rules, policies (name → rules) and roles (their
 * policies by name), references resolved as vaultAwsAuthOf does (the same accessor and client ids).
 */
export function consulAclOf(consul: StackJson, accessor = "auth_aws_5f1c0de2"): ConsulAclSeed {
  const sub = consulStackResolver(consul, accessor);
  const authMethods: Record<string, ConsulAclSeed["authMethods"][string]> = {};
  for (const m of resources(consul, "consul_acl_auth_method")) {
    authMethods[String(m.config.name)] = {
      type: String(m.config.type),
      config: JSON.parse(sub(m.config.config_json ?? "{}", m.address)) as Record<string, unknown>,
      ...(m.config.max_token_ttl ? { maxTokenTTL: String(m.config.max_token_ttl) } : {}),
      ...(m.config.token_locality ? { tokenLocality: String(m.config.token_locality) } : {}),
    };
  }
  const bindingRules = resources(consul, "consul_acl_binding_rule").map((b) => ({
    authMethod: sub(b.config.auth_method, b.address),
    selector: sub(b.config.selector ?? "", b.address),
    bindType: String(b.config.bind_type),
    bindName: sub(b.config.bind_name, b.address),
  }));
  for (const b of bindingRules) if (!authMethods[b.authMethod]) throw new Error(`iam: a consul_acl_binding_rule names auth method ${b.authMethod}, not one of the consul stack`);
  const policies = Object.fromEntries(resources(consul, "consul_acl_policy").map((p) => [String(p.config.name), sub(p.config.rules, p.address)]));
  const roles: Record<string, ConsulAclSeed["roles"][string]> = {};
  for (const r of resources(consul, "consul_acl_role")) {
    const list = (v: unknown) => (Array.isArray(v) ? v : v === undefined ? [] : [v]) as Array<Record<string, unknown>>;
    roles[String(r.config.name)] = {
      policies: ((r.config.policies as unknown[] | undefined) ?? []).map((p) => sub(p, r.address)),
      nodeIdentities: list(r.config.node_identities).map((n) => ({ NodeName: sub(n.node_name, r.address), Datacenter: sub(n.datacenter, r.address) })),
      serviceIdentities: list(r.config.service_identities).map((x) => ({ ServiceName: sub(x.service_name, r.address), ...(x.datacenters ? { Datacenters: (x.datacenters as unknown[]).map(String) } : {}) })),
    };
  }
  return { authMethods, bindingRules, policies, roles };
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
    ...((oidc) => (oidc ? { oidc } : {}))(vaultOidcOf(consul, accessor)),
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
