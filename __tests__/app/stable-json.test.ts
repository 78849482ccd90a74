/**
 * stacks/stable-json.ts stands in for cdktf's `json-stable-stringify` at synth: it must give the
 * package's text for every value cdktf could hand it, and for every stack we synthesize.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "cdktf";
import example from "../../clusters/example";
import large from "../../scripts/large-cluster";
import { addStacks } from "../../stacks";
import { stableStringify } from "../../stacks/stable-json";
import { rng } from "../harness/rng";

// The package itself, from where cdktf's synthesizer takes it.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const original = require(require.resolve("json-stable-stringify", { paths: [require.resolve("cdktf/lib/synthesize/synthesizer")] })) as (v: unknown, o?: { space?: number | string }) => string | undefined;


const KEYS = ["a", "B", "b", "10", "9", "", "é", "\u0000", "z\n", '"q"', "__proto_", "resource", "${x}", "aa"];
const STRINGS = ["", "x", "line\nbreak", "\u2028", "tab\t", "\ud800", "quote\"", "\\", "${aws_vpc.x.id}", "ü", "😀"];
function value(r: () => number, depth: number): unknown {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const kind = Math.floor(r() * (depth > 4 ? 8 : 12));
  switch (kind) {
    case 0: return pick(STRINGS);
    case 1: return pick([0, -0, 1.5, -7, 1e21, 1e-7, NaN, Infinity, 2 ** 53]);
    case 2: return pick([true, false, null]);
    case 3: return undefined;
    case 4: return pick([() => 1, Symbol("s")]);
    case 5: return new Date(Math.floor(r() * 1e12));
    case 6: {
      const json = pick(["j", 1, undefined, { k: "v", u: undefined }, [1, undefined]]);
      return { toJSON: () => json, hidden: 1 };
    }
    case 7: return pick([[], {}]);
    case 8:
    case 9: return Array.from({ length: Math.floor(r() * 5) }, () => value(r, depth + 1));
    default: return Object.fromEntries(Array.from({ length: Math.floor(r() * 6) }, () => [pick(KEYS), value(r, depth + 1)]));
  }
}

describe("stableStringify gives json-stable-stringify's text", () => {
  test("for generated values, with each indent cdktf or a caller could pass", () => {
    const r = rng(14);
    for (let i = 0; i < 2000; i++) {
      const v = value(r, 0);
      for (const space of [2, undefined, 0, "\t", 3]) {
        const opts = space === undefined ? undefined : { space };
        expect({ i, space, text: stableStringify(v, opts) }).toEqual({ i, space, text: original(v, opts) });
      }
    }
  });

  test("for a cycle: the same TypeError", () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = { back: cyclic };
    expect(() => original(cyclic)).toThrow(TypeError);
    expect(() => stableStringify(cyclic)).toThrow("Converting circular structure to JSON");
    // The same object twice, side by side, is no cycle.
    const shared = { x: [1] };
    expect(stableStringify({ a: shared, b: [shared, shared] }, { space: 2 })).toBe(original({ a: shared, b: [shared, shared] }, { space: 2 }));
  });

  test.each([
    ["example", example],
    ["16 regions × 4 groups", large],
  ])("for every stack of the %s cluster", (_, cluster) => {
    const out = mkdtempSync(join(tmpdir(), "bitte-stable-json-"));
    try {
      const app = new App({ outdir: out, stackTraces: false });
      addStacks(app, cluster, { jobs: [] });
      app.synth();
      const stacks = readdirSync(join(out, "stacks"));
      expect(stacks.sort()).toEqual(["clients", "consul", "core", "jobs", "network"]);
      for (const id of stacks) {
        const text = readFileSync(join(out, "stacks", id, "cdk.tf.json"), "utf8");
        const parsed: unknown = JSON.parse(text);
        expect({ id, same: stableStringify(parsed, { space: 2 }) === text }).toEqual({ id, same: true });
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
