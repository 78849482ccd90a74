/**
 * Reading the JSON that `@cdktf/hcl2json` makes of a Nomad job file, and the few HCL2
 * expressions Bitte evaluates itself (`var.<name>` references and `${var.<name>}` templates).
 *
 * hcl2json keeps expressions unevaluated: `datacenters = var.datacenters` becomes
 * `"${var.datacenters}"`. Blocks become arrays of bodies; labelled blocks become objects from
 * label to an array of bodies.
 */

/** A value in hcl2json's output. */
export type HclValue = string | number | boolean | null | readonly HclValue[] | HclBody;

/** The body of a block (or of the file). */
export interface HclBody {
  readonly [key: string]: HclValue;
}

/** A value Bitte supplies or a variable default holds: a string or a list of strings. */
export type VarValue = string | readonly string[];

/** Variable values by name, as the job sees them after defaults and supplied values. */
export type VarValues = Readonly<Record<string, VarValue>>;

export function isBody(v: HclValue | undefined): v is HclBody {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The bodies of the unlabelled blocks `key` in `body` (`group { ... }` → one body each). */
export function blocks(body: HclBody, key: string): HclBody[] {
  const v = body[key];
  if (Array.isArray(v)) return v.filter(isBody);
  return isBody(v) ? [v] : [];
}

/** The labelled blocks `key "<label>" { ... }` in `body`, in file order, as [label, body]. */
export function labeledBlocks(body: HclBody, key: string): Array<readonly [string, HclBody]> {
  const v = body[key];
  if (!isBody(v)) return [];
  const out: Array<readonly [string, HclBody]> = [];
  for (const [label, bodies] of Object.entries(v)) {
    const list = Array.isArray(bodies) ? bodies : [bodies];
    for (const b of list) if (isBody(b)) out.push([label, b]);
  }
  return out;
}

const VAR_REF = /^\$\{var\.([A-Za-z_][A-Za-z0-9_-]*)\}$/;
const VAR_IN_TEMPLATE = /\$\{var\.([A-Za-z_][A-Za-z0-9_-]*)\}/g;

/** The variable name when `value` is exactly `${var.<name>}`. */
export function varReference(value: HclValue | undefined): string | undefined {
  return typeof value === "string" ? VAR_REF.exec(value)?.[1] : undefined;
}

/** Result of evaluating an expression: the value, or why Bitte cannot evaluate it. */
export type Evaluated<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

/**
 * A string with every `${var.<name>}` replaced by the variable's string value. Other
 * interpolations (`${node.class}`, `${NOMAD_JOB_NAME}`) stay as written: Nomad resolves them at
 * run time.
 */
export function interpolate(value: string, vars: VarValues): Evaluated<string> {
  let reason: string | undefined;
  const out = value.replace(VAR_IN_TEMPLATE, (whole, name: string) => {
    const v = vars[name];
    if (typeof v === "string") return v;
    reason ??= v === undefined ? `var.${name} is not declared` : `var.${name} is a list, not a string`;
    return whole;
  });
  return reason === undefined ? { ok: true, value: out } : { ok: false, reason };
}

/**
 * A list of strings from a literal list (`["a", var.b]`) or a list variable (`var.datacenters`).
 * Anything else (functions, locals, conditionals) is refused with the reason.
 */
export function evaluateStringList(value: HclValue | undefined, vars: VarValues): Evaluated<readonly string[]> {
  if (value === undefined) return { ok: true, value: [] };
  const ref = varReference(value);
  if (ref !== undefined) {
    const v = vars[ref];
    if (v === undefined) return { ok: false, reason: `var.${ref} is not declared or has no value` };
    if (typeof v === "string") return { ok: false, reason: `var.${ref} is a string, not a list` };
    return { ok: true, value: v };
  }
  if (!Array.isArray(value)) return { ok: false, reason: `${JSON.stringify(value)} is not a list literal or var.<name>` };
  const items: string[] = [];
  for (const item of value as readonly HclValue[]) {
    if (typeof item !== "string") return { ok: false, reason: `list item ${JSON.stringify(item)} is not a string` };
    const r = interpolate(item, vars);
    if (!r.ok) return r;
    items.push(r.value);
  }
  return { ok: true, value: items };
}

/** A string attribute with `${var.<name>}` applied; undefined when absent or not a string. */
export function evaluateString(value: HclValue | undefined, vars: VarValues): string | undefined {
  if (typeof value !== "string") return undefined;
  const r = interpolate(value, vars);
  return r.ok ? r.value : undefined;
}

/** The type constraint of a `variable` block as written (`list(string)`), without `${}`. */
export function typeExpression(value: HclValue | undefined): string | undefined {
  if (typeof value !== "string") return undefined;
  const m = /^\$\{(.*)\}$/s.exec(value);
  return (m ? m[1] : value).replace(/\s+/g, "");
}

/** A variable default as a VarValue, or undefined when it is neither a string nor a string list. */
export function toVarValue(value: HclValue | undefined): VarValue | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value as readonly string[];
  return undefined;
}
