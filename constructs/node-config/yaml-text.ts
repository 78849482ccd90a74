/**
 * YAML text for the documents the node configuration renders (cloud-config, Promtail, Loki,
 * scrape, Grafana and alerting files): exactly what `yaml` 2.x's `stringify(value, { lineWidth: 0 })`
 * writes, without loading the package (a seventh of the example synth) or building its document
 * tree (a tenth of the 16-region synth).
 *
 * It covers the shapes those renderers produce: plain objects and arrays, strings, finite numbers,
 * booleans and null, in block style. Each rule below is `yaml`'s (dist/stringify/stringifyString.js,
 * stringifyPair.js, stringifyCollection.js, stringifyNumber.js and the core schema's tag tests);
 * where `yaml` would take a path not ported here (an object used twice, which it writes as an
 * anchor and alias; control characters; a block scalar ending in spaces; a value it would fold or
 * escape across lines; a non-plain object), the whole document goes to `yaml` itself, so the
 * output is `yaml`'s either way. `__tests__/node-config/yaml-text.test.ts` compares the two on
 * generated documents and on every role's real user data, and checks that the latter never
 * needs `yaml`.
 */

/** Thrown inside the emitter when the document needs a path only `yaml` has. */
class NotPorted extends Error {}

// stringifyString.js plainString: what a plain scalar may not contain or start or end with.
const PLAIN_INDICATOR = /^[\n\t ,[\]{}#&*!|>'"%@`]|^[?-]$|^[?-][ \t]|[\n:][ \t]|[ \t]\n|[\n\t ]#|[\n\t :]$/;
// stringifyString.js stringifyString: forces double quotes (with escapes; not ported).
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u{D800}-\u{DFFF}]/u;
const DOCUMENT_MARKER = /^(%|---|\.\.\.)/m;
// The core schema's default tags other than str (schema/common/null.js, schema/core/bool.js,
// int.js, float.js): a plain scalar they match would be read back as something else.
const OTHER_TYPES = [
  /^(?:~|[Nn]ull|NULL)?$/,
  /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/,
  /^0o[0-7]+$/,
  /^[-+]?[0-9]+$/,
  /^0x[0-9a-fA-F]+$/,
  /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/,
  /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/,
  /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/,
];
// stringifyString.js blockString: runs of newlines inside the trailing whitespace.
const BLOCK_END_NEWLINES = /(^|(?<!\n))\n+(?!\n|$)/g;

/** quotedString for one line without control characters (singleQuote unset, no folding at lineWidth 0). */
function quoted(value: string): string {
  const hasDouble = value.includes('"');
  const hasSingle = value.includes("'");
  if (hasDouble && !hasSingle) return "'" + value.replace(/'/g, "''") + "'";
  // doubleQuotedString: JSON's escapes are YAML's for `\"` and `\\`, the only ones left here.
  return JSON.stringify(value);
}

/** A single-line string as a key (implicit) or a value. */
function lineScalar(value: string, implicitKey: boolean): string {
  if (implicitKey && DOCUMENT_MARKER.test(value)) throw new NotPorted();
  const text = PLAIN_INDICATOR.test(value) || OTHER_TYPES.some((t) => t.test(value)) ? quoted(value) : value;
  // stringifyPair: a key longer than 1024 characters becomes an explicit `? key`.
  if (implicitKey && text.length > 1024) throw new NotPorted();
  return text;
}

/** blockString, literal style (lineWidth 0 never folds), at `indent` (never the root's ''). */
function blockLiteral(input: string, indent: string): string {
  if (/\n[\t ]+$/.test(input)) throw new NotPorted();
  let value = input;
  let endStart: number;
  for (endStart = value.length; endStart > 0; --endStart) {
    const ch = value[endStart - 1];
    if (ch !== "\n" && ch !== "\t" && ch !== " ") break;
  }
  let end = value.substring(endStart);
  const endNlPos = end.indexOf("\n");
  const chomp = endNlPos === -1 ? "-" : value === end || endNlPos !== end.length - 1 ? "+" : "";
  if (end) {
    value = value.slice(0, -end.length);
    if (end[end.length - 1] === "\n") end = end.slice(0, -1);
    end = end.replace(BLOCK_END_NEWLINES, `$&${indent}`);
  }
  let startWithSpace = false;
  let startEnd: number;
  let startNlPos = -1;
  for (startEnd = 0; startEnd < value.length; ++startEnd) {
    const ch = value[startEnd];
    if (ch === " ") startWithSpace = true;
    else if (ch === "\n") startNlPos = startEnd;
    else break;
  }
  let start = value.substring(0, startNlPos < startEnd ? startNlPos + 1 : startEnd);
  if (start) {
    value = value.substring(start.length);
    start = start.replace(/\n+/g, `$&${indent}`);
  }
  const header = (startWithSpace ? "2" : "") + chomp;
  return `|${header}\n${indent}${start}${value.replace(/\n+/g, `$&${indent}`)}${end}`;
}

const BLOCKS = new Map<string, Map<string, string>>();

/** A scalar value at `indent` (the indent its block lines would take). */
function scalar(value: unknown, indent: string): string {
  switch (typeof value) {
    case "string": {
      if (!value.includes("\n")) {
        if (CONTROL.test(value)) throw new NotPorted();
        return lineScalar(value, false);
      }
      // The same file (a script, the AWS client) is in every client group's user data, at the
      // same indent: its block is made once per synth.
      let blocks = BLOCKS.get(indent);
      if (!blocks) BLOCKS.set(indent, (blocks = new Map()));
      let block = blocks.get(value);
      if (block === undefined) {
        if (CONTROL.test(value)) throw new NotPorted();
        blocks.set(value, (block = blockLiteral(value, indent)));
      }
      return block;
    }
    case "number":
      // stringifyNumber with minFractionDigits 0.
      if (!Number.isFinite(value)) throw new NotPorted();
      return Object.is(value, -0) ? "-0" : JSON.stringify(value);
    case "boolean":
      return value ? "true" : "false";
    case "object":
      if (value === null) return "null";
  }
  throw new NotPorted();
}

type Collection = readonly unknown[] | Readonly<Record<string, unknown>>;

function isCollection(value: unknown): value is Collection {
  if (typeof value !== "object" || value === null) return false;
  if (Array.isArray(value)) return true;
  if (Object.getPrototypeOf(value) === Object.prototype) return true;
  throw new NotPorted();
}

/**
 * stringifyBlockCollection: the lines of a non-empty collection, the first without indent;
 * `indent` is the collection's (ctx.indent), the pairs' and items' one step deeper.
 */
function collection(value: Collection, indent: string, seen: Set<object>): string {
  // createNode's aliasDuplicateObjects: a second reference would become an alias.
  if (seen.has(value)) throw new NotPorted();
  seen.add(value);
  const step = indent + "  ";
  const lines: string[] = [];
  if (Array.isArray(value)) {
    for (const item of value as readonly unknown[]) {
      if (item === undefined) throw new NotPorted();
      lines.push("- " + node(item, step, seen));
    }
  } else {
    for (const [key, item] of Object.entries(value)) {
      // YAMLMap.from leaves out undefined values.
      if (item === undefined) continue;
      if (key.includes("\n") || CONTROL.test(key)) throw new NotPorted();
      const keyText = lineScalar(key, true) + ":";
      if (isCollection(item) && !isEmpty(item)) lines.push(keyText + "\n" + step + collection(item, step, seen));
      else lines.push(keyText + " " + node(item, step, seen));
    }
  }
  if (lines.length === 0) return Array.isArray(value) ? "[]" : "{}";
  return lines.join(`\n${indent}`);
}

function isEmpty(value: Collection): boolean {
  return Array.isArray(value) ? value.length === 0 : Object.values(value).every((v) => v === undefined);
}

/** Any value as a seq item or pair value whose block lines sit at `indent`. */
function node(value: unknown, indent: string, seen: Set<object>): string {
  if (isCollection(value)) return collection(value, indent, seen);
  return scalar(value, indent);
}

/** `yaml`'s `stringify(value, { lineWidth: 0 })` of a document whose root is a map or a list. */
export function yamlText(value: unknown): string {
  return emitYaml(value) ?? yamlPackage(value);
}

/** The ported emitter alone: the text, or undefined where the document needs `yaml` itself. */
export function emitYaml(value: unknown): string | undefined {
  try {
    if (isCollection(value)) return collection(value, "", new Set()) + "\n";
  } catch (e) {
    if (!(e instanceof NotPorted)) throw e;
  }
  return undefined;
}

/** The package, loaded only for a document outside the ported shapes. */
export function yamlPackage(value: unknown): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require("yaml") as typeof import("yaml")).stringify(value, { lineWidth: 0 });
}
