"use strict";
/**
 * How `npx cdktf synth` loads the app (cdktf.json: `node -r ./scripts/app-loader.js main.ts`):
 * Node runs the TypeScript sources as they are on disk, with no build step and no run-time
 * TypeScript loader.
 *
 * - A `.ts` file is transpiled by swc (types stripped, CommonJS; the same transform jest uses, see
 *   jest.config.js) once per content: the output is cached under node_modules/.cache, keyed by the
 *   SHA-256 of the source and the transform, so an edited cluster file is transpiled on its next
 *   synth and nothing else is. swc itself is loaded only on a cache miss. `tsx` (a loader thread
 *   and esbuild on every start) cost a third of the synth.
 * - cdktf and the provider bindings ship inline source maps, 7 of the 10 MB of JavaScript a synth
 *   loads; Node applies them only with `--enable-source-maps`, so they are cut off before V8 sees
 *   the code (the code itself is unchanged), and the cut copy is cached too.
 *
 * Measured and left out: V8's code cache (`vm.Script` `cachedData`) for these packages made the
 * synth no faster, produced at compile time, and slower and 18 MB larger, produced after the run.
 *
 * - V8's optimizing compiler is turned off (`--no-opt`, which V8 reads whenever it considers a
 *   function, so setting it here, after start-up, is safe; the heap flags are not). A synth runs
 *   each function over a few thousand objects, once: the optimized code it would get is compiled
 *   on another thread and rarely runs long enough to repay it. Measured on the 16-region
 *   cluster: 10–15% less CPU; Ignition and Sparkplug still run everything.
 *
 * Type errors are not checked here (as with tsx): `npm test` runs `tsc --noEmit`, and the spec
 * validates its own input at run time.
 */
const { createHash } = require("node:crypto");
const fs = require("node:fs");
const Module = require("node:module");
const path = require("node:path");
const zlib = require("node:zlib");

require("node:v8").setFlagsFromString("--no-opt");

const ROOT = path.join(__dirname, "..");
/** Where transpiled and trimmed files are kept; tests point it elsewhere. */
const CACHE = process.env.BITTE_APP_CACHE || path.join(ROOT, "node_modules", ".cache", "bitte-app");

/** The transform, identical to jest's (jest.config.js), so tests and synth run the same code. */
const SWC_OPTIONS = { jsc: { target: "es2022", parser: { syntax: "typescript" } }, module: { type: "commonjs" } };

let swcVersionMemo;
function swcVersion() {
  swcVersionMemo ??= JSON.parse(fs.readFileSync(require.resolve("@swc/core/package.json", { paths: [ROOT] }), "utf8")).version;
  return swcVersionMemo;
}

/** A cache entry: `kind/` and the SHA-256 of everything its content depends on. */
function entry(kind, ...parts) {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part).update("\0");
  return path.join(CACHE, kind, `${hash.digest("hex")}.js`);
}

/** Node ≥ 20.15 has a native CRC-32; older ones transpile on every synth. */
const crc32 = typeof zlib.crc32 === "function" ? zlib.crc32 : undefined;

/**
 * An entry is its payload after the payload's CRC-32, so a damaged file (a full disk, a copy cut
 * short, a flipped bit) is a miss rather than code that runs.
 */
function readEntry(file) {
  if (!crc32) return undefined;
  let data;
  try {
    data = fs.readFileSync(file);
  } catch {
    return undefined;
  }
  const payload = data.subarray(4);
  return data.length > 4 && crc32(payload) === data.readUInt32BE(0) ? payload : undefined;
}

/** Written under a temporary name and renamed, so a concurrent synth never reads half an entry. */
function writeEntry(file, payload) {
  if (!crc32) return;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    const head = Buffer.alloc(4);
    head.writeUInt32BE(crc32(payload));
    fs.writeFileSync(tmp, Buffer.concat([head, payload]));
    fs.renameSync(tmp, file);
  } catch {
    // A cache that cannot be written only costs the next synth its speed.
  }
}

let swc;
function transpile(source, filename) {
  const file = entry("ts", `swc@${swcVersion()} ${JSON.stringify(SWC_OPTIONS)}`, source);
  const cached = readEntry(file);
  if (cached !== undefined) return cached.toString("utf8");
  if (!swc) {
    try {
      swc = require(require.resolve("@swc/core", { paths: [ROOT] }));
    } catch (e) {
      throw new Error(`cannot transpile ${path.relative(ROOT, filename)}: @swc/core does not load (${e && e.message}); run \`npm ci\` in ${ROOT}`);
    }
  }
  const { code } = swc.transformSync(source, { ...SWC_OPTIONS, filename });
  writeEntry(file, Buffer.from(code, "utf8"));
  return code;
}

/** The packages that ship inline source maps; everything else loads as Node loads it. */
const SOURCE_MAPPED = ["cdktf", "@cdktf"].map((name) => path.join(ROOT, "node_modules", name) + path.sep);
const loadJs = Module._extensions[".js"];

/** A file changed this recently may change again within one timestamp tick: not cached (git's "racy" rule). */
const RACY_MS = 3000;

/**
 * A package file without its inline source map. The trimmed copy is named by the file's path and
 * `stat` (size, mtime, ctime, inode, device: what git's index compares), so a synth reads 3 MB
 * instead of 10 MB and hashes none of it; any write to the file changes its ctime.
 */
function withoutSourceMap(filename) {
  const st = fs.statSync(filename, { bigint: true });
  const cacheable = Date.now() - Number(st.ctimeMs) > RACY_MS && Date.now() - Number(st.mtimeMs) > RACY_MS;
  const file = cacheable && entry("js", filename, `${st.size} ${st.mtimeNs} ${st.ctimeNs} ${st.ino} ${st.dev}`);
  const cached = file && readEntry(file);
  if (cached) return cached.toString("utf8");
  const source = fs.readFileSync(filename, "utf8");
  const map = source.lastIndexOf("\n//# sourceMappingURL=data:");
  const code = map >= 0 ? source.slice(0, map + 1) : source;
  if (file) writeEntry(file, Buffer.from(code, "utf8"));
  return code;
}

Module._extensions[".js"] = function (mod, filename) {
  if (!SOURCE_MAPPED.some((dir) => filename.startsWith(dir))) return loadJs(mod, filename);
  mod._compile(withoutSourceMap(filename), filename);
};

Module._extensions[".ts"] = function (mod, filename) {
  mod._compile(transpile(fs.readFileSync(filename, "utf8"), filename), filename);
};
