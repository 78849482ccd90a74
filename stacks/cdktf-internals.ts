/**
 * cdktf's internal modules, for the trims that `stacks/startup.ts` installs, and the guard each of
 * those trims passes first: the pinned cdktf (0.21.0, archived upstream) and the exact text of
 * every cdktf function the trim stands in for or relies on. Another cdktf, or a function whose
 * text differs: the trim is not installed and cdktf runs its own code (slower, same output).
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";

const fromCdktf = { paths: [require.resolve("cdktf")] };

/** A module of cdktf's `lib/`, as cdktf itself loads it (the same instance). */
export function cdktfModule<T>(path: string): T {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(require.resolve(`cdktf/lib/${path}`, fromCdktf)) as T;
}

/** The cdktf version the fingerprints below were taken from. */
const PINNED = "0.21.0";
const version = (JSON.parse(readFileSync(require.resolve("cdktf/package.json", fromCdktf), "utf8")) as { version: string }).version;

/** The first 16 hex digits of the SHA-256 of a function's source text. */
export function fingerprint(fn: unknown): string {
  return typeof fn === "function" ? createHash("sha256").update(Function.prototype.toString.call(fn)).digest("hex").slice(0, 16) : "(not a function)";
}

/**
 * Whether cdktf is the pinned version and each function has exactly the text it had there:
 * `expected` maps a name to its fingerprint in 0.21.0, `actual` the name to the function now.
 */
export function unchanged(expected: Readonly<Record<string, string>>, actual: Readonly<Record<string, unknown>>): boolean {
  return version === PINNED && Object.entries(expected).every(([name, print]) => fingerprint(actual[name]) === print);
}
