/**
 * constructs/node-config/yaml-text.ts writes the nodes' YAML without the `yaml` package; it must
 * write `yaml`'s `stringify(value, { lineWidth: 0 })` byte for byte, on generated documents and on
 * every role's real user data and YAML files, and the real ones must not need the package.
 */
import { parse, stringify } from "yaml";
import large from "../../scripts/large-cluster";
import { emitYaml, yamlText } from "../../constructs/node-config/yaml-text";
import { NODES, renderNodeFiles, renderUserData } from "./render-helpers";
import { rng } from "../harness/rng";


// Pieces that each touch one of yaml's string rules: indicators, comments, quotes, document
// markers, numbers and booleans and null in every spelling, leading/trailing whitespace and
// newlines (block chomping and indent indicators), control characters and unpaired surrogates.
const PIECES = [
  "a", "word", "/etc/x.d", " ", "  ", ":", ": ", " #", "#", "-", "- ", "?", "'", '"', "\n", "\n\n", "\t", "%", "---", "...",
  "0", "1", "07", "0o7", "0x1F", ".", "5", "e3", "+", "true", "False", "NULL", "null", "~", ".inf", ".NaN", "&", "*", "!", "|", ">",
  "@", "`", ",", "[", "]", "{", "}", "\\", "\\n", "é", "\u2028", "\u0085", "\u00a0", "\r", "\u0001", "\ud800", "😀", "${x}",
];

function text(r: () => number, max: number): string {
  let s = "";
  const n = Math.floor(r() * max);
  for (let i = 0; i < n; i++) s += PIECES[Math.floor(r() * PIECES.length)];
  return s;
}

function value(r: () => number, depth: number, shared: object[]): unknown {
  const k = Math.floor(r() * (depth > 3 ? 6 : 10));
  switch (k) {
    case 0:
    case 1:
      return text(r, 6);
    case 2:
      return [0, -0, 1.5, -7, 1e21, 2 ** 53, NaN, Infinity, 0.1][Math.floor(r() * 9)];
    case 3:
      return [true, false, null, undefined][Math.floor(r() * 4)];
    case 4:
      // File-like content: lines, maybe indented, with any ending.
      return Array.from({ length: 1 + Math.floor(r() * 4) }, () => (r() < 0.3 ? "  " : "") + text(r, 3)).join("\n") + ["", "\n", "\n\n", " ", "\n "][Math.floor(r() * 5)];
    case 5:
      if (shared.length > 0 && r() < 0.3) return shared[Math.floor(r() * shared.length)];
      return r() < 0.5 ? [] : {};
    case 6:
    case 7: {
      const xs = Array.from({ length: Math.floor(r() * 4) }, () => value(r, depth + 1, shared));
      if (r() < 0.2) shared.push(xs);
      return xs;
    }
    default: {
      const o = Object.fromEntries(Array.from({ length: Math.floor(r() * 5) }, () => [r() < 0.6 ? ["name", "path", "content", "a-b", "x_y"][Math.floor(r() * 5)] + Math.floor(r() * 3) : text(r, 3), value(r, depth + 1, shared)]));
      if (r() < 0.2) shared.push(o);
      return o;
    }
  }
}

describe("yamlText writes what yaml's stringify writes", () => {
  test("for generated documents, most of them through the emitter, the rest through yaml", () => {
    const r = rng(2026);
    let emitted = 0;
    const RUNS = 3000;
    for (let i = 0; i < RUNS; i++) {
      const doc = r() < 0.5 ? { key: value(r, 0, []) } : value(r, 0, []);
      const want = stringify(doc, { lineWidth: 0 });
      expect({ i, text: yamlText(doc) }).toEqual({ i, text: want });
      const own = emitYaml(doc);
      if (own !== undefined) {
        emitted++;
        expect({ i, own }).toEqual({ i, own: want });
      }
    }
    // The comparison is of the emitter, not of yaml with itself.
    expect(emitted / RUNS).toBeGreaterThan(0.4);
  });

  // Each quoting rule at least once, as a key, a value and a list item.
  const EDGES = [`'a"b`, `"a'b`, `'a'`, `"a"`, `a'b"c`, `a: '"`, `# "'`, "", "~", "0644", "1.10", "1.9.3", "0o17", "0x1F", "1e3", ".inf", "True", "- a", "-", "a:", "a #b", "a#b", " lead", "trail ", "%x", "---", "x\n", "\n", "a\n\n", "  indented\nblock", "\nstarts", "ends\n \n", "tab\tin"];
  test.each(EDGES.map((s) => [JSON.stringify(s), s]))("for the string %s", (_, s) => {
    const doc = { [s]: s, list: [s, { [s]: [s] }] };
    const want = stringify(doc, { lineWidth: 0 });
    expect(yamlText(doc)).toBe(want);
    const own = emitYaml(doc);
    if (own !== undefined) expect(own).toBe(want);
  });

  test("an object used twice becomes yaml's anchor and alias (through the package)", () => {
    const port = { port: 8500 };
    const doc = { a: port, b: [port] };
    expect(emitYaml(doc)).toBeUndefined();
    expect(yamlText(doc)).toBe(stringify(doc, { lineWidth: 0 }));
    expect(yamlText(doc)).toContain("&a1");
  });

  const roles = [
    ...NODES,
    { label: "large: client ap-northeast-2", cluster: large, role: "client" as const, region: "ap-northeast-2", nodeClass: "batch" },
    { label: "large: core-2", cluster: large, role: "core" as const, nodeName: large.coreNodes[1].name },
  ];
  test.each(roles.map((p) => [p.label, p] as const))("for the real user data and YAML files of %s, without the package", (_, props) => {
    const userData = renderUserData(props);
    const body = userData.slice("#cloud-config\n".length);
    const doc: unknown = parse(body);
    expect(stringify(doc, { lineWidth: 0 })).toBe(body);
    expect(emitYaml(doc)).toBe(body);
    const yamlFiles = renderNodeFiles(props).filter((f) => /\.ya?ml$/.test(f.path));
    if (props.role === "monitoring") expect(yamlFiles.length).toBeGreaterThan(3);
    for (const f of yamlFiles) {
      const content: unknown = parse(f.content);
      expect({ path: f.path, text: emitYaml(content) }).toEqual({ path: f.path, text: f.content });
    }
  });
});
