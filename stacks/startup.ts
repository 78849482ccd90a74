/**
 * Two start-up costs of cdktf 0.21 (archived upstream, pinned) that Bitte's synth does not need,
 * removed before cdktf is loaded. Imported first by `main.ts` only; tests build stacks without it
 * and `__tests__/app/startup.test.ts` proves the JSON is the same either way. (How the code is
 * loaded — transpiling, source maps — is `scripts/app-loader.js`.)
 *
 * - cdktf loads `archiver` and its stream libraries at start-up for asset zips; Bitte has no
 *   assets. A stand-in in the module cache loads the real one on first use.
 * - Every token and nested-block reference records a full stack trace (only ever printed in an
 *   error about that token), which `App({ stackTraces: false })` does not turn off: a third of
 *   the 16-region synth. Errors then name the token without where it was made.
 */
import Module from "node:module";

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
