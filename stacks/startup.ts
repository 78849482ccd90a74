/**
 * Costs of cdktf 0.21 (archived upstream, pinned) that Bitte's synth does not need, removed
 * before cdktf is loaded. Imported first by `main.ts` only; tests build stacks without it
 * and `__tests__/app/startup.test.ts` proves the JSON is the same either way. (How the code is
 * loaded — transpiling, source maps — is `scripts/app-loader.js`.)
 *
 * - cdktf loads `archiver` and its stream libraries at start-up for asset zips; Bitte has no
 *   assets. A stand-in in the module cache loads the real one on first use.
 * - Every token and nested-block reference records a full stack trace (only ever printed in an
 *   error about that token), which `App({ stackTraces: false })` does not turn off: a third of
 *   the 16-region synth. Errors then name the token without where it was made.
 * - The resolver's per-value contexts for values that hold no token (below), and its fragment
 *   machinery for strings whose tokens are all references (reference-strings.ts).
 * - `json-stable-stringify`, which writes each stack's JSON in time quadratic in its depth:
 *   replaced by a linear one with the same output (stable-json.ts).
 * - Each element's configuration built twice per synth and each stack's merged whole resolved
 *   again (stack-synth.ts).
 *
 * The trims that stand in for cdktf functions check first that cdktf is 0.21.0 and that those
 * functions are the ones they were written against (cdktf-internals.ts), and otherwise leave
 * cdktf's code in place; `__tests__/app/synth-trims.test.ts` compares them with plain cdktf.
 */
import Module from "node:module";
import { stableStringify } from "./stable-json";

const fromCdktf = { paths: [require.resolve("cdktf")] };

const archiverPath = require.resolve("archiver", fromCdktf);
if (!require.cache[archiverPath]) {
  const stub = new Module(archiverPath);
  stub.filename = archiverPath;
  stub.loaded = true;
  stub.exports = (...args: unknown[]): unknown => {
    delete require.cache[archiverPath];
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require(archiverPath) as (...a: unknown[]) => unknown)(...args);
  };
  require.cache[archiverPath] = stub;
}

/** A module in require's cache, so cdktf's `require(name)` gets `exports` without loading the file. */
function preload(path: string, exports: unknown): void {
  const mod = new Module(path);
  mod.filename = path;
  mod.loaded = true;
  mod.exports = exports;
  require.cache[path] = mod;
}

// The synthesizer and the manifest take the package from cdktf's own node_modules.
const stableStringifyPath = require.resolve("json-stable-stringify", { paths: [require.resolve("cdktf/lib/synthesize/synthesizer", fromCdktf)] });
if (!require.cache[stableStringifyPath]) preload(stableStringifyPath, stableStringify);

// eslint-disable-next-line @typescript-eslint/no-require-imports
const stackTrace = require(require.resolve("cdktf/lib/tokens/private/stack-trace", fromCdktf)) as { captureStackTrace: () => string[] };
stackTrace.captureStackTrace = () => [];

/**
 * cdktf resolves every resource's configuration three times per synth, and its resolver builds a
 * context, two closures and a path string for every key, string and number, tokens or not: with
 * the garbage it makes, a quarter of a large synth's profile. Plain values (strings without token markers,
 * numbers that are not encoded tokens, booleans, plain objects and arrays of them) are resolved
 * here as the resolver would resolve them, to themselves; anything else (every token, token-keyed
 * object, encoded list or map, function, construct, and whatever is 190 levels deep) goes to
 * cdktf's own resolver with the options and path it would have had (the context flags it reads
 * from `previousContext` are the same at every plain level). The startup test checks that the
 * JSON is byte for byte the same.
 */
interface ResolveOptions {
  readonly prefix?: readonly string[];
  readonly previousContext?: unknown;
  readonly [key: string]: unknown;
}
type Resolve = (obj: unknown, options: ResolveOptions) => unknown;
/* eslint-disable @typescript-eslint/no-require-imports */
// Required here, not imported: imports run before this module's body, and these load cdktf.
const { plainString, resolveReferenceString } = require("./reference-strings") as typeof import("./reference-strings");
const resolveModule = require(require.resolve("cdktf/lib/tokens/private/resolve", fromCdktf)) as { resolve: Resolve };
const encoding = require(require.resolve("cdktf/lib/tokens/private/encoding", fromCdktf)) as {
  containsStringListTokenElement(xs: unknown[]): boolean;
  containsNumberListTokenElement(xs: unknown[]): boolean;
};
const { TokenMap } = require(require.resolve("cdktf/lib/tokens/private/token-map", fromCdktf)) as { TokenMap: { instance(): { lookupNumberToken(x: number): unknown } } };
const { Token } = require(require.resolve("cdktf/lib/tokens/token", fromCdktf)) as { Token: Record<string, unknown> };
/* eslint-enable @typescript-eslint/no-require-imports */
const cdktfResolve = resolveModule.resolve;
const tokenMap = TokenMap.instance();

function isConstruct(x: object): boolean {
  return (x as { _children?: unknown })._children !== undefined && (x as { _metadata?: unknown })._metadata !== undefined;
}

/**
 * One top-level resolve: its options, the prefix it was given, and the keys below it down to the
 * value being visited (pushed and popped on the way, so nothing is allocated per value: cdktf's
 * path array is only built for a value that goes to cdktf's resolver).
 */
interface Walk {
  readonly options: ResolveOptions;
  readonly base: readonly string[];
  readonly keys: (string | number)[];
  readonly copy: boolean;
}

/**
 * The plain-value path. `copy` false is the preparing run's walk (prepareStack, the only caller
 * with `preparing`, throws its result away: it resolves for the side effects of tokens, such as
 * registering cross-stack references), so plain values are visited but not copied.
 */
function resolvePlain(obj: unknown, walk: Walk): unknown {
  const { options, copy } = walk;
  switch (typeof obj) {
    case "undefined":
    case "boolean":
      return obj;
    case "string": {
      if (plainString(obj)) return obj;
      // Strings whose tokens are all references (reference-strings.ts), at the top level only.
      const resolved = options.previousContext === undefined ? resolveReferenceString(obj, options.scope, options.preparing === true) : undefined;
      if (resolved !== undefined) return resolved;
      break;
    }
    case "number":
      if (obj === Token.NUMBER_MAP_TOKEN_VALUE) break;
      // A number token is a double whose top 16 bits are 0xfdff (encoding.js createTokenDouble):
      // negative and below -2^992 (about -1e298). Anything above -1e280 is plain without asking.
      if (obj > -1e280 || tokenMap.lookupNumberToken(obj) === undefined) return obj;
      break;
    case "object": {
      if (obj === null || obj instanceof Date) return obj;
      if (walk.base.length + walk.keys.length > 190) break;
      if (Array.isArray(obj)) {
        if (encoding.containsStringListTokenElement(obj) || encoding.containsNumberListTokenElement(obj)) break;
        const out: unknown[] = [];
        for (let i = 0; i < obj.length; i++) {
          walk.keys.push(i);
          const value = resolvePlain(obj[i], walk);
          walk.keys.pop();
          if (copy && value !== undefined) out.push(value);
        }
        return copy ? out : obj;
      }
      // cdktf asks containsMapToken(obj) and unresolved(obj) (for an object: containsMapToken or
      // a `resolve` function). A map token key holds "&{TfToken[", which plainString refuses, so
      // plain keys answer containsMapToken without its per-key regex.
      const keys = Object.keys(obj);
      if (!keys.every(plainString)) break;
      if (typeof (obj as { resolve?: unknown }).resolve === "function" || isConstruct(obj)) break;
      const out: Record<string, unknown> = {};
      for (const key of keys) {
        walk.keys.push(key);
        const value = resolvePlain((obj as Record<string, unknown>)[key], walk);
        walk.keys.pop();
        if (copy && value !== undefined) out[key] = value;
      }
      return copy ? out : obj;
    }
  }
  return cdktfResolve(obj, { ...options, prefix: [...walk.base, ...walk.keys.map(String)] });
}

resolveModule.resolve = (obj, options) => resolvePlain(obj, { options, base: options.prefix ?? [], keys: [], copy: options.preparing !== true });

// Each stack's configurations built once, and its merged whole not resolved again (see there).
// eslint-disable-next-line @typescript-eslint/no-require-imports
require("./stack-synth");
