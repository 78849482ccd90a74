/**
 * A small declarative description of plain JSON-like data, and the three things done with it:
 * checking a value (types, unknown keys, bounds — one pass, no dependencies), filling literal
 * defaults, and rendering the README field table. The cluster spec's own description is in
 * `fields.ts`; nothing here knows about clusters.
 */

/** One thing wrong with a value, before the path is attached. */
export interface Issue {
  readonly problem: string;
  readonly fix: string;
}

/** A check beyond the type (a format, a bound no field option covers). Returns undefined if fine. */
export type Refine<T> = (value: T) => Issue | undefined;

interface Common<T> {
  /** Shown in the README's bounds column, e.g. `≤ 16 characters`. */
  readonly bounds?: string;
  readonly refine?: Refine<T>;
}

export interface StringSchema extends Common<string> {
  readonly kind: "string";
  /** The only values allowed (an enumeration). */
  readonly values?: readonly string[];
  /** A format; `problem`/`fix` say what a mismatch means. */
  readonly pattern?: RegExp;
  readonly problem?: string;
  readonly fix?: string;
}

export interface IntSchema extends Common<number> {
  readonly kind: "int";
  readonly min: number;
  readonly max?: number;
  /** Unit shown in messages and the README, e.g. `GiB`. */
  readonly unit?: string;
}

export interface BoolSchema extends Common<boolean> {
  readonly kind: "bool";
  /** The only value allowed, for a union's tag such as `create: true`. */
  readonly only?: boolean;
}

export interface ListSchema extends Common<readonly unknown[]> {
  readonly kind: "list";
  readonly of: Schema;
  readonly minItems?: number;
  readonly maxItems?: number;
}

/** A string, or a non-empty list of them (`instanceType: "m6i.large"` or `["m6i.large", …]`). */
export interface OneOrListSchema extends Common<unknown> {
  readonly kind: "oneOrList";
  readonly of: StringSchema;
}

/** An object with free keys: `{ "us-east-2": "10.102.0.0/16" }`. */
export interface MapSchema extends Common<Readonly<Record<string, unknown>>> {
  readonly kind: "map";
  /** What a key is, for the README (`region`, `tag key`). */
  readonly keyName: string;
  readonly key: StringSchema;
  readonly of: Schema;
  readonly maxEntries?: number;
}

export interface Field {
  readonly schema: Schema;
  readonly doc: string;
  readonly required?: boolean;
  /** Literal default, filled by `applyDefaults`. */
  readonly default?: unknown;
  /** How the README shows a default that depends on other fields. */
  readonly defaultDoc?: string;
}

export interface ObjectSchema extends Common<Readonly<Record<string, unknown>>> {
  readonly kind: "object";
  readonly fields: Readonly<Record<string, Field>>;
}

/** Objects told apart by one tag field (`type: "s3"`, `create: false`). */
export interface UnionSchema extends Common<Readonly<Record<string, unknown>>> {
  readonly kind: "union";
  readonly tag: string;
  /** By the tag's value as a string; each variant lists the tag among its fields. */
  readonly variants: Readonly<Record<string, ObjectSchema>>;
}

export type Schema = StringSchema | IntSchema | BoolSchema | ListSchema | OneOrListSchema | MapSchema | ObjectSchema | UnionSchema;

/** Where a problem is reported. */
export type Report = (field: string, value: unknown, issue: Issue) => void;

/** The JSON type of a value, as a user would name it. */
function jsonType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "an object";
  if (typeof value === "number") return Number.isInteger(value) ? "a number" : "a fractional number";
  return `a ${typeof value}`;
}

function isPlainObject(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** What the schema takes, in words, for type errors and the README. */
export function typeName(s: Schema): string {
  switch (s.kind) {
    case "string":
      return s.values ? s.values.map((v) => JSON.stringify(v)).join(" | ") : "string";
    case "int":
      return s.unit ? `whole number (${s.unit})` : "whole number";
    case "bool":
      return s.only === undefined ? "boolean" : String(s.only);
    case "list":
      return `list of ${plural(typeName(s.of))}`;
    case "oneOrList":
      return `${typeName(s.of)} or list of ${plural(typeName(s.of))}`;
    case "map":
      return `object: ${s.keyName} → ${typeName(s.of)}`;
    case "object":
      return "object";
    case "union":
      return Object.keys(s.variants).map((v) => `{ ${s.tag}: ${s.variants[v].fields[s.tag].schema.kind === "bool" ? v : JSON.stringify(v)}, … }`).join(" | ");
  }
}

function plural(words: string): string {
  return /^(string|object|whole number|boolean)$/.test(words) ? `${words}s` : words;
}

/** Levenshtein distance, bounded: keys are short, so this stays cheap. */
function distance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const row = [i];
    for (let j = 1; j <= y.length; j++) row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (x[i - 1] === y[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[y.length];
}

/** The known key closest to a misspelt one, if it is close enough to be what was meant. */
export function closest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = distance(key, k);
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(best.length / 3)) ? best : undefined;
}

function unknownKey(key: string, known: readonly string[], where: string): Issue {
  const near = closest(key, known);
  return {
    problem: `unknown key${where}`,
    fix: near ? `did you mean "${near}"?` : `remove it; the known keys are ${known.join(", ")}`,
  };
}

function join(path: string, key: string): string {
  return path === "" ? key : /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

/**
 * Checks a value against a schema, reporting every problem with its path. Returns whether the
 * value has the schema's shape, so callers only run cross-field checks on well-typed data.
 */
export function check(s: Schema, value: unknown, path: string, report: Report): boolean {
  const wrongType = (): false => {
    report(path, value, { problem: `must be ${article(typeName(s))}, not ${jsonType(value)}`, fix: `write ${article(typeName(s))} here` });
    return false;
  };
  const refined = <T>(refine: Refine<T> | undefined, v: T): boolean => {
    const issue = refine?.(v);
    if (issue) report(path, value, issue);
    return !issue;
  };
  switch (s.kind) {
    case "string": {
      if (typeof value !== "string") return wrongType();
      if (s.values && !s.values.includes(value)) {
        report(path, value, { problem: s.problem ?? "not an allowed value", fix: s.fix ?? `use one of ${s.values.map((v) => JSON.stringify(v)).join(", ")}` });
        return false;
      }
      if (s.pattern && !s.pattern.test(value)) {
        report(path, value, { problem: s.problem ?? `does not match ${s.pattern}`, fix: s.fix ?? "correct the format" });
        return false;
      }
      return refined(s.refine, value);
    }
    case "int": {
      if (typeof value !== "number") return wrongType();
      if (!Number.isInteger(value) || value < s.min || (s.max !== undefined && value > s.max)) {
        const unit = s.unit ? ` ${s.unit}` : "";
        report(path, value, {
          problem: s.max === undefined ? `must be a whole number of at least ${s.min}` : `must be a whole number from ${s.min} to ${s.max}`,
          fix: s.max === undefined ? `give a whole number${unit} ≥ ${s.min}` : `give a whole number${unit} in ${s.min}–${s.max}`,
        });
        return false;
      }
      return refined(s.refine, value);
    }
    case "bool":
      if (typeof value !== "boolean") return wrongType();
      if (s.only !== undefined && value !== s.only) {
        report(path, value, { problem: `must be ${s.only}`, fix: `write ${s.only}` });
        return false;
      }
      return refined(s.refine, value);
    case "list": {
      if (!Array.isArray(value)) return wrongType();
      let ok = true;
      for (let i = 0; i < value.length; i++) ok = check(s.of, value[i], `${path}[${i}]`, report) && ok;
      if (!ok) return false;
      if ((s.minItems !== undefined && value.length < s.minItems) || (s.maxItems !== undefined && value.length > s.maxItems)) {
        const want = s.maxItems === undefined ? `at least ${s.minItems}` : s.minItems === s.maxItems ? `exactly ${s.minItems}` : `${s.minItems ?? 0}–${s.maxItems}`;
        if (!s.refine) report(path, value, { problem: `has ${value.length} entries, needs ${want}`, fix: `list ${want}` });
        else refined(s.refine, value);
        return false;
      }
      return refined(s.refine, value);
    }
    case "oneOrList": {
      if (typeof value === "string") return check(s.of, value, path, report) && refined(s.refine, value);
      if (!Array.isArray(value)) return wrongType();
      if (value.length === 0) {
        report(path, value, { problem: "an empty list", fix: `give at least one ${typeName(s.of)}` });
        return false;
      }
      let ok = true;
      for (let i = 0; i < value.length; i++) ok = check(s.of, value[i], `${path}[${i}]`, report) && ok;
      return ok && refined(s.refine, value);
    }
    case "map": {
      if (!isPlainObject(value)) return wrongType();
      const keys = Object.keys(value);
      let ok = true;
      if (s.maxEntries !== undefined && keys.length > s.maxEntries) {
        report(path, value, { problem: `has ${keys.length} entries, more than ${s.maxEntries}`, fix: `keep at most ${s.maxEntries}` });
        ok = false;
      }
      for (const k of keys) {
        ok = check(s.key, k, join(path, k), (f, _v, issue) => report(f, k, { problem: `${s.keyName} ${JSON.stringify(k)}: ${issue.problem}`, fix: issue.fix })) && ok;
        ok = check(s.of, value[k], join(path, k), report) && ok;
      }
      return ok && refined(s.refine, value);
    }
    case "object":
      return checkObject(s, value, path, report, "");
    case "union": {
      if (!isPlainObject(value)) return wrongType();
      const tag = value[s.tag];
      const variant = s.variants[String(tag)];
      if (variant === undefined || typeof tag === "object") {
        const tags = Object.keys(s.variants).map((t) => (s.variants[t].fields[s.tag].schema.kind === "bool" ? t : JSON.stringify(t)));
        report(join(path, s.tag), tag, { problem: tag === undefined ? "required" : `not one of ${tags.join(", ")}`, fix: `set ${s.tag} to ${tags.join(" or ")}` });
        return false;
      }
      return checkObject(variant, value, path, report, ` for ${s.tag}: ${JSON.stringify(tag)}`);
    }
  }
}

function article(words: string): string {
  return /^(list|object|string|whole|boolean|fractional)/.test(words) ? (/^[aeiou]/i.test(words) ? `an ${words}` : `a ${words}`) : words;
}

function checkObject(s: ObjectSchema, value: unknown, path: string, report: Report, where: string): boolean {
  if (!isPlainObject(value)) {
    report(path, value, { problem: `must be an object, not ${jsonType(value)}`, fix: "write an object { … } here" });
    return false;
  }
  const known = Object.keys(s.fields);
  let ok = true;
  for (const key of Object.keys(value)) {
    if (!(key in s.fields)) {
      report(join(path, key), value[key], unknownKey(key, known, where));
      ok = false;
    }
  }
  for (const key of known) {
    const field = s.fields[key];
    const v = value[key];
    if (v === undefined) {
      if (field.required) {
        report(join(path, key), undefined, { problem: "required", fix: `add ${key} (${field.doc.replace(/\.$/, "")})` });
        ok = false;
      }
      continue;
    }
    ok = check(field.schema, v, join(path, key), report) && ok;
  }
  const issue = ok ? s.refine?.(value) : undefined;
  if (issue) report(path, value, issue);
  return ok && !issue;
}

/** A copy of a (checked) value with every literal default filled in, recursively. */
export function applyDefaults(s: Schema, value: unknown): unknown {
  if (value === undefined) return value;
  switch (s.kind) {
    case "object":
      return fillObject(s, value as Record<string, unknown>);
    case "union": {
      const v = value as Record<string, unknown>;
      return fillObject(s.variants[String(v[s.tag])], v);
    }
    case "list":
      return (value as unknown[]).map((x) => applyDefaults(s.of, x));
    case "map":
      return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, x]) => [k, applyDefaults(s.of, x)]));
    default:
      return value;
  }
}

function fillObject(s: ObjectSchema, value: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...value };
  for (const [key, field] of Object.entries(s.fields)) {
    const v = value[key] === undefined ? field.default : value[key];
    if (v !== undefined) out[key] = applyDefaults(field.schema, v);
  }
  return out;
}

/** One README row per field, depth first: path, type, default, bounds, description. */
export function fieldRows(s: Schema, path = ""): string[][] {
  const rows: string[][] = [];
  const visit = (schema: Schema, p: string, field: Field | undefined): void => {
    if (field) {
      const def = field.required ? "required" : field.defaultDoc ?? (field.default === undefined ? "—" : `\`${JSON.stringify(field.default)}\``);
      rows.push([`\`${p}\``, typeName(schema).replace(/\|/g, "\\|"), def, bounds(schema), field.doc]);
    }
    if (schema.kind === "object") for (const [k, f] of Object.entries(schema.fields)) visit(f.schema, join(p, k), f);
    else if (schema.kind === "union") {
      for (const [tag, variant] of Object.entries(schema.variants)) {
        for (const [k, f] of Object.entries(variant.fields)) if (k !== schema.tag) visit(f.schema, `${join(p, k)} (${schema.tag}: ${tag})`, f);
      }
    } else if (schema.kind === "list" && (schema.of.kind === "object" || schema.of.kind === "union")) visit(schema.of, `${p}[]`, undefined);
    else if (schema.kind === "map" && (schema.of.kind === "object" || schema.of.kind === "union")) visit(schema.of, `${p}.<${schema.keyName}>`, undefined);
  };
  visit(s, path, undefined);
  return rows;
}

function bounds(s: Schema): string {
  const parts: string[] = [];
  if (s.kind === "int") parts.push(s.max === undefined ? `≥ ${s.min}` : `${s.min}–${s.max}`);
  if (s.kind === "list" && (s.minItems !== undefined || s.maxItems !== undefined)) parts.push(s.minItems === s.maxItems ? `exactly ${s.minItems} entries` : s.maxItems === undefined ? `≥ ${s.minItems} entries` : `${s.minItems ?? 0}–${s.maxItems} entries`);
  if (s.kind === "map" && s.maxEntries !== undefined) parts.push(`≤ ${s.maxEntries} entries`);
  if (s.bounds) parts.push(s.bounds);
  if ((s.kind === "list" || s.kind === "oneOrList" || s.kind === "map") && s.of.bounds) parts.push(`each: ${s.of.bounds}`);
  return parts.join("; ").replace(/\|/g, "\\|") || "—";
}
