/**
 * A small renderer for the HCL subset ACL policy languages use (Consul, Nomad and Vault rules):
 * attributes with string, number, boolean or string-list values, and labelled blocks. Policy
 * documents are typed data; this is the one place that turns them into text, so quoting is
 * correct everywhere and tests can parse the output back with a real HCL parser.
 */

/** An attribute value. */
export type HclValue = string | number | boolean | readonly string[];

/** A block: `type "label" … { body }`. */
export interface HclBlock {
  readonly type: string;
  /** @default no labels */
  readonly labels?: readonly string[];
  readonly body: HclBody;
}

/** Attributes first (in insertion order), then blocks. */
export interface HclBody {
  /** @default none */
  readonly attributes?: Readonly<Record<string, HclValue | undefined>>;
  /** @default none */
  readonly blocks?: readonly HclBlock[];
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/**
 * A quoted HCL string. `${` and `%{` are left alone on purpose: the only ones that reach here are
 * Terraform references (e.g. an auth backend's accessor) that Terraform resolves before the
 * policy text is sent to the server; policy languages themselves never use them.
 */
function quote(s: string): string {
  return JSON.stringify(s);
}

function value(v: HclValue): string {
  if (typeof v === "string") return quote(v);
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return `[${v.map(quote).join(", ")}]`;
}

function identifier(name: string): string {
  if (!IDENT.test(name)) throw new Error(`HCL identifier ${JSON.stringify(name)} is not valid: use letters, digits, "_" and "-", starting with a letter`);
  return name;
}

function renderBody(body: HclBody, depth: number): string[] {
  const pad = "  ".repeat(depth);
  const lines: string[] = [];
  const attrs = Object.entries(body.attributes ?? {}).filter((e): e is [string, HclValue] => e[1] !== undefined);
  const width = Math.max(0, ...attrs.map(([k]) => k.length));
  for (const [k, v] of attrs) lines.push(`${pad}${identifier(k).padEnd(width)} = ${value(v)}`);
  for (const block of body.blocks ?? []) {
    if (lines.length > 0 && depth === 0) lines.push("");
    const head = [identifier(block.type), ...(block.labels ?? []).map(quote)].join(" ");
    lines.push(`${pad}${head} {`, ...renderBody(block.body, depth + 1), `${pad}}`);
  }
  return lines;
}

/** Renders a policy document; the result ends with a newline. */
export function renderHcl(body: HclBody): string {
  return renderBody(body, 0).join("\n") + "\n";
}
