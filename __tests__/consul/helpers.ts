/**
 * Shared helpers of the consul stack tests: synthesis of a cluster's `consul` stack, the policy
 * texts found in the JSON, and a scanner for secrets.
 */
import { Testing } from "cdktf";
import exampleCluster from "../../clusters/example";
import { defineCluster, type Cluster, type ClusterSpec } from "../../clusters/spec";
import type { PolicyLanguage } from "../../constructs/policy/wide-write";
import { ConsulStack, type ConsulStackProps } from "../../stacks/consul";
import { testClusterSpec, testGroup } from "../harness/specs";

export { exampleCluster };

/** A variation of the example cluster. */
export function clusterWith(overrides: Partial<ClusterSpec>): Cluster {
  return defineCluster(testClusterSpec("example", { domain: "example.bitte.dev", clientGroups: [testGroup({ max: 3 })], ...overrides }));
}

export interface Synthesized {
  readonly stack: ConsulStack;
  /** `Testing.synth` output, for the cdktf matchers and snapshots. */
  readonly json: string;
  readonly parsed: TfJson;
}

export interface TfJson {
  readonly provider: Record<string, Record<string, unknown>[]>;
  readonly resource: Record<string, Record<string, Record<string, unknown>>>;
  readonly data?: Record<string, Record<string, Record<string, unknown>>>;
  readonly [key: string]: unknown;
}

export function synthConsul(cluster: Cluster = exampleCluster, props: Omit<ConsulStackProps, "cluster"> = {}): Synthesized {
  const app = Testing.app();
  const stack = new ConsulStack(app, "consul", { ...props, cluster });
  const json = Testing.synth(stack);
  return { stack, json, parsed: JSON.parse(json) as TfJson };
}

/** Resources of one type, by logical id. */
export function resources(tf: TfJson, type: string): Record<string, Record<string, unknown>> {
  return tf.resource[type] ?? {};
}

/** One resource of a type whose attribute `key` is `value`. */
export function resourceWhere(tf: TfJson, type: string, key: string, value: unknown): Record<string, unknown> {
  const found = Object.values(resources(tf, type)).filter((r) => r[key] === value);
  if (found.length !== 1) throw new Error(`expected one ${type} with ${key} = ${JSON.stringify(value)}, found ${found.length}`);
  return found[0];
}

export interface PolicyText {
  readonly language: PolicyLanguage;
  readonly name: string;
  readonly text: string;
}

/** Every ACL policy's rules in the synthesized JSON. */
export function policyTexts(tf: TfJson): PolicyText[] {
  const pick = (language: PolicyLanguage, type: string, attr: string): PolicyText[] =>
    Object.values(resources(tf, type)).map((r) => ({ language, name: String(r.name), text: String(r[attr]) }));
  return [...pick("consul", "consul_acl_policy", "rules"), ...pick("vault", "vault_policy", "policy"), ...pick("nomad", "nomad_acl_policy", "rules_hcl")];
}

/** A stand-in for a Vault auth mount accessor, in Vault's format. */
export const SAMPLE_ACCESSOR = "auth_jwt_0a1b2c3d";

/**
 * The policy text as the server receives it: Terraform resolves its references (only auth
 * backend accessors are allowed in policies) and unescapes `$${`.
 */
export function asServerSees(text: string): string {
  const refs = text.match(/(?<!\$)\$\{[^}]*\}/g) ?? [];
  for (const ref of refs) {
    if (!/^\$\{vault_jwt_auth_backend\.[^.}]+\.accessor\}$/.test(ref)) throw new Error(`unexpected Terraform reference ${ref} in policy text`);
  }
  return text.replace(/(?<!\$)\$\{[^}]*\}/g, SAMPLE_ACCESSOR).replace(/\$\$\{/g, "${");
}

/** One suspicious place in synthesized JSON. */
export interface SecretFinding {
  readonly path: string;
  readonly reason: string;
}

/** Attribute names that hold credentials in the HashiCorp and AWS providers. */
const SECRET_KEY = /^(token|secret_id|secret_key|access_key|private_key|password|client_secret|oidc_client_secret|bootstrap_token|master_token|initial_management_token|service_account_jwt|encrypt|gossip_key|recovery_keys?|unseal_keys?|root_token)$/i;

/** Values that look like credentials, whatever attribute holds them. */
const SECRET_VALUES: readonly [RegExp, string][] = [
  [/\bhv[sbr]\.[A-Za-z0-9_-]{20,}/, "Vault token"],
  [/(^|[^A-Za-z0-9])s\.[A-Za-z0-9]{24}([^A-Za-z0-9]|$)/, "legacy Vault token"],
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/i, "UUID (Consul/Nomad secret ids are UUIDs)"],
  [/\b(AKIA|ASIA)[0-9A-Z]{16}\b/, "AWS access key id"],
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, "PEM private key"],
  [/^[A-Za-z0-9+/]{43}=$/, "32-byte base64 key (gossip encryption key format)"],
];

/** Walks JSON and reports every credential-named attribute with a value and every credential-looking value. */
export function findSecrets(value: unknown, path = "$"): SecretFinding[] {
  if (typeof value === "string") {
    return SECRET_VALUES.filter(([re]) => re.test(value)).map(([, reason]) => ({ path, reason }));
  }
  if (Array.isArray(value)) return value.flatMap((v, i) => findSecrets(v, `${path}[${i}]`));
  if (value !== null && typeof value === "object") {
    return Object.entries(value).flatMap(([k, v]) => [
      ...(SECRET_KEY.test(k) && v !== "" && v !== null && v !== undefined ? [{ path: `${path}.${k}`, reason: `credential attribute "${k}" is set` }] : []),
      ...findSecrets(v, `${path}.${k}`),
    ]);
  }
  return [];
}
