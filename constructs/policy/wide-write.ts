/**
 * Which grants in a parsed policy document write to everything of a kind. Works on the JSON a
 * real HCL parser (`@cdktf/hcl2json`) makes of the rendered rules, so the check sees what the
 * server will see, not the data the rules were rendered from.
 */

/** Policy languages whose rules the check understands. */
export type PolicyLanguage = "consul" | "nomad" | "vault";

/** One cluster-wide write grant, e.g. `service_prefix ""` write or `acl = "write"`. */
export interface WideWrite {
  readonly language: PolicyLanguage;
  readonly policy: string;
  /** The grant, written like the rule: `service_prefix ""`, `acl`, `namespace "*"`, `path "*"`. */
  readonly grant: string;
}

/**
 * Wide writes allowed outside the operator policies, each with the reason it cannot be narrowed.
 * A test asserts the synthesized policies grant exactly these and the operators' ones, so a new
 * wide grant is a reviewed change to this list.
 */
export const WIDE_WRITE_EXCEPTIONS: readonly (WideWrite & { readonly why: string })[] = Object.freeze([
  { language: "consul", policy: "bitte-nomad-server", grant: 'service_prefix ""', why: "Nomad servers write Connect config entries for any service (HashiCorp's documented minimum)" },
  { language: "consul", policy: "bitte-nomad-server", grant: "acl", why: "Nomad servers revoke service identity tokens (hashicorp/nomad#19721)" },
  { language: "consul", policy: "bitte-nomad-server", grant: "mesh", why: "Nomad servers write mesh config entries for gateways" },
  { language: "consul", policy: "bitte-agent", grant: 'node_prefix ""', why: "the three core servers share one first-boot agent token (each holds the management token anyway)" },
  { language: "consul", policy: "bitte-nomad-client", grant: 'service_prefix ""', why: "Nomad clients deregister any workload's services with their own token (hashicorp/nomad#24166)" },
]);

/** Policies that may write everywhere: the human operators'. */
export const OPERATOR_POLICIES: readonly { readonly language: PolicyLanguage; readonly policy: string }[] = Object.freeze([
  { language: "consul", policy: "bitte-operator" },
  { language: "vault", policy: "bitte-operator" },
  { language: "nomad", policy: "operator" },
]);

type Parsed = Record<string, unknown>;
type Blocks = Record<string, Parsed[]>;

const CONSUL_GLOBALS = ["acl", "operator", "mesh", "peering", "keyring"];
const VAULT_WRITES = ["create", "update", "patch", "delete", "sudo"];
/** Nomad namespace capabilities that only read. */
const NOMAD_READS = new Set(["list-jobs", "parse-job", "read-job", "read-logs", "read-fs", "read-job-scaling", "list-scaling-policies", "read-scaling-policy", "csi-list-volume", "csi-read-volume", "deny"]);

function labelled(doc: Parsed, type: string): [string, Parsed][] {
  const blocks = doc[type] as Blocks | undefined;
  return Object.entries(blocks ?? {}).flatMap(([label, bodies]) => bodies.map((b): [string, Parsed] => [label, b]));
}

function unlabelled(doc: Parsed, type: string): Parsed[] {
  return (doc[type] as Parsed[] | undefined) ?? [];
}

function consul(doc: Parsed): string[] {
  const found: string[] = [];
  for (const key of Object.keys(doc)) {
    if (CONSUL_GLOBALS.includes(key) && doc[key] === "write") found.push(key);
    if (key.endsWith("_prefix")) {
      for (const [label, body] of labelled(doc, key)) {
        if (label === "" && (body.policy === "write" || body.intentions === "write")) found.push(`${key} ""`);
      }
    }
  }
  return found;
}

function nomad(doc: Parsed): string[] {
  const found: string[] = [];
  for (const [label, body] of labelled(doc, "namespace")) {
    if (!label.includes("*")) continue;
    const caps = (body.capabilities as string[] | undefined) ?? [];
    const vars = unlabelled(body, "variables").flatMap((v) => labelled(v, "path")).flatMap(([, p]) => (p.capabilities as string[] | undefined) ?? []);
    if (body.policy === "write" || body.policy === "scale" || caps.some((c) => !NOMAD_READS.has(c)) || vars.some((c) => c === "write" || c === "destroy")) found.push(`namespace "${label}"`);
  }
  for (const type of ["node", "agent", "operator", "quota"]) {
    if (unlabelled(doc, type).some((b) => b.policy === "write")) found.push(type);
  }
  for (const type of ["host_volume", "node_pool"]) {
    for (const [label, body] of labelled(doc, type)) if (label.includes("*") && body.policy === "write") found.push(`${type} "${label}"`);
  }
  return found;
}

/**
 * A Vault path is wide when the literal part before its first glob names no more than a mount
 * (`*`, `secret/*`, `sys/+/…`), or a KV v2 mount's whole data or metadata tree (`secret/data/*`).
 */
export function isWideVaultPath(path: string): boolean {
  const glob = path.search(/[*+]/);
  if (glob < 0) return false;
  const segments = path.slice(0, glob).split("/");
  segments.pop(); // the partial segment the glob completes
  if (segments.length === 2 && ["data", "metadata", "delete", "undelete", "destroy"].includes(segments[1])) return true;
  return segments.length <= 1;
}

function vault(doc: Parsed): string[] {
  return labelled(doc, "path")
    .filter(([label, body]) => isWideVaultPath(label) && ((body.capabilities as string[] | undefined) ?? []).some((c) => VAULT_WRITES.includes(c)))
    .map(([label]) => `path "${label}"`);
}

/** The wide writes of one parsed policy document. */
export function wideWrites(language: PolicyLanguage, policy: string, parsed: Parsed): WideWrite[] {
  const grants = language === "consul" ? consul(parsed) : language === "nomad" ? nomad(parsed) : vault(parsed);
  return grants.map((grant) => ({ language, policy, grant }));
}
