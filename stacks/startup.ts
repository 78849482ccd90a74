/**
 * Three start-up costs of cdktf 0.21 (archived upstream, pinned) that Bitte's synth does not need,
 * removed before cdktf is loaded. Imported first by `main.ts` only; tests build stacks without it
 * and `__tests__/app/startup.test.ts` proves the JSON is the same either way.
 *
 * - cdktf loads `archiver` and its stream libraries at start-up for asset zips; Bitte has no
 *   assets. A stand-in in the module cache loads the real one on first use.
 * - cdktf and the provider bindings ship inline source maps: two thirds of the 12 MB of JavaScript
 *   a synth loads, and half of its compile time. Node applies them only with
 *   `--enable-source-maps`; they are cut off before compiling, so the code V8 sees is unchanged.
 * - Every token and nested-block reference records a full stack trace (only ever printed in an
 *   error about that token), which `App({ stackTraces: false })` does not turn off: a third of
 *   the 16-region synth. Errors then name the token without where it was made.
 */
import { readFileSync } from "node:fs";
import Module from "node:module";
import { sep } from "node:path";

// Inline source maps cut off before compiling (first, so everything below loads trimmed too).
type Loader = (module: Module & { _compile(code: string, filename: string): void }, filename: string) => void;
const extensions = (Module as unknown as { _extensions: Record<string, Loader> })._extensions;
const loadJs = extensions[".js"];
const CDKTF_PACKAGES = [`${sep}node_modules${sep}cdktf${sep}`, `${sep}node_modules${sep}@cdktf${sep}provider-`];
extensions[".js"] = (module, filename) => {
  if (!CDKTF_PACKAGES.some((p) => filename.includes(p))) return loadJs(module, filename);
  const source = readFileSync(filename, "utf8");
  const map = source.lastIndexOf("\n//# sourceMappingURL=data:");
  module._compile(map >= 0 ? source.slice(0, map + 1) : source, filename);
};

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

// eslint-disable-next-line @typescript-eslint/no-require-imports
const stackTrace = require(require.resolve("cdktf/lib/tokens/private/stack-trace", fromCdktf)) as { captureStackTrace: () => string[] };
stackTrace.captureStackTrace = () => [];
