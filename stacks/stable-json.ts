/**
 * `json-stable-stringify` (1.3.0, what cdktf 0.21 writes every `cdk.tf.json` and the manifest
 * with) as cdktf calls it, `stringify(value, { space })`, producing the same text in linear time.
 * The package builds each level's text by joining its children's (every byte is copied once per
 * level above it) and repeats the indent string per value: a tenth of the 16-region synth.
 *
 * Behaviour taken from the package's index.js: `toJSON()` is called (without a key) before
 * anything else; keys in `Array.prototype.sort` order; a property whose value stringifies to
 * `undefined` (undefined, a function, a symbol) is left out, an array element becomes `null`;
 * primitives go through `JSON.stringify`; an empty object or array still gets its newline and
 * indent (`{\n  }`); a cycle is a TypeError. `__tests__/app/stable-json.test.ts` compares the
 * two on generated values and on every synthesized stack.
 */

interface Options {
  readonly space?: number | string;
}

/** The value as the package sees it after `toJSON`, or undefined where it writes nothing. */
function prepared(node: unknown): unknown {
  if (node && typeof (node as { toJSON?: unknown }).toJSON === "function") node = (node as { toJSON: () => unknown }).toJSON();
  if (typeof node === "function" || typeof node === "symbol") return undefined;
  return node;
}

/** The package's strRepeat: a count below 1 is empty, a fraction rounds up. */
function repeat(n: number, s: string): string {
  let out = "";
  for (let i = 0; i < n; i++) out += s;
  return out;
}

export function stableStringify(value: unknown, opts?: Options): string | undefined {
  const given = opts?.space || "";
  const space = typeof given === "number" ? repeat(given, " ") : given;
  const colon = space ? ": " : ":";
  const indents: string[] = [];
  const indent = (level: number): string => (indents[level] ??= space ? "\n" + repeat(level, space) : "");
  const seen: object[] = [];
  // Appended to one string: V8 keeps the pieces as a rope and flattens it once (measured twice
  // as fast as pushing the pieces to an array and joining it).
  let out = "";

  // `node` is already prepared and not undefined.
  function write(node: unknown, level: number): void {
    if (typeof node !== "object" || node === null) {
      out += JSON.stringify(node) as string;
      return;
    }
    const close = indent(level);
    const open = close + space;
    if (Array.isArray(node)) {
      out += "[";
      for (let i = 0; i < node.length; i++) {
        if (i > 0) out += ",";
        out += open;
        const item = prepared(node[i]);
        if (item === undefined) out += "null";
        else write(item, level + 1);
      }
      out += close + "]";
      return;
    }
    if (seen.includes(node)) throw new TypeError("Converting circular structure to JSON");
    seen.push(node);
    const keys = Object.keys(node).sort();
    out += "{";
    let first = true;
    for (const key of keys) {
      const item = prepared((node as Record<string, unknown>)[key]);
      if (item === undefined) continue;
      if (!first) out += ",";
      first = false;
      out += open + JSON.stringify(key) + colon;
      write(item, level + 1);
    }
    out += close + "}";
    seen.pop();
  }

  const root = prepared(value);
  if (root === undefined) return undefined;
  write(root, 0);
  return out;
}
