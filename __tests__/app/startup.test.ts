/**
 * What `npx cdktf synth` runs: the `app` command of cdktf.json, which loads main.ts through
 * scripts/app-loader.js (a content-keyed transpile cache, source maps cut) and trims cdktf's
 * start-up (stacks/startup.ts). The app must synthesize exactly what the stacks synthesize without
 * either, from a cold cache and a warm one, and the loader must survive the faults a cache sees.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { App } from "cdktf";
import example from "../../clusters/example";
import large from "../../scripts/large-cluster";
import { loadJobs } from "../../constructs/jobs";
import { addStacks } from "../../stacks";
import { run } from "../harness/tools";

const ROOT = join(__dirname, "../..");
const LOADER = join(ROOT, "scripts", "app-loader.js");

/** cdktf.json's app command, run as the CLI runs it: through a shell, in the project directory. */
function runApp(env: NodeJS.ProcessEnv): { status: number; stdout: string; stderr: string } {
  const { app } = JSON.parse(readFileSync(join(ROOT, "cdktf.json"), "utf8")) as { app: string };
  return run("sh", ["-c", app], { cwd: ROOT, env: { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ""}`, ...env } });
}

function readStacks(outdir: string): Record<string, string> {
  const ids = readdirSync(join(outdir, "stacks")).sort();
  return Object.fromEntries(ids.map((id) => [id, readFileSync(join(outdir, "stacks", id, "cdk.tf.json"), "utf8")]));
}

describe("the app command of cdktf.json", () => {
  const work = mkdtempSync(join(tmpdir(), "bitte-app-"));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  test("runs the TypeScript sources with neither tsx nor a build step", () => {
    const { app } = JSON.parse(readFileSync(join(ROOT, "cdktf.json"), "utf8")) as { app: string };
    expect(app).toBe("node -r ./scripts/app-loader.js main.ts");
  });

  test("writes the same JSON as the stacks built without the loader and the trims, cold and warm", async () => {
    const expected = join(work, "expected");
    const app = new App({ outdir: expected, stackTraces: false });
    addStacks(app, example, { jobs: await loadJobs({ dir: join(ROOT, "jobs"), cluster: example }) });
    app.synth();
    const want = readStacks(expected);
    expect(Object.keys(want)).toEqual(["clients", "consul", "core", "jobs", "network"]);

    const cache = join(work, "cache");
    for (const run of ["cold", "warm"]) {
      const out = join(work, run);
      const r = runApp({ BITTE_CLUSTER: "example", BITTE_JOBS: "", CDKTF_OUTDIR: out, BITTE_APP_CACHE: cache });
      expect({ run, status: r.status, stderr: r.stderr }).toEqual({ run, status: 0, stderr: "" });
      expect(readStacks(out)).toEqual(want);
    }
    // An entry per TypeScript file and per source-mapped package file loaded, none half-written.
    expect(readdirSync(cache).sort()).toEqual(["js", "ts"]);
    for (const kind of ["js", "ts"]) {
      const entries = readdirSync(join(cache, kind));
      expect(entries.length).toBeGreaterThan(50);
      expect(entries.filter((f) => !/^[0-9a-f]{64}\.js$/.test(f))).toEqual([]);
    }
  });
});

test("the trims (the resolver's plain-value path among them) write the same JSON for the 16-region, 64-group cluster", () => {
  const work = mkdtempSync(join(tmpdir(), "bitte-large-"));
  try {
    const script = `
      require("./stacks/startup");
      const { App } = require("cdktf");
      const app = new App({ outdir: process.env.OUT, stackTraces: false });
      require("./stacks").addStacks(app, require("./scripts/large-cluster").default, { jobs: [] });
      app.synth();`;
    const r = run(process.execPath, ["-r", LOADER, "-e", script], { cwd: ROOT, env: { ...process.env, OUT: join(work, "trimmed"), BITTE_APP_CACHE: join(work, "cache") } });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: "" });
    const app = new App({ outdir: join(work, "plain"), stackTraces: false });
    addStacks(app, large, { jobs: [] });
    app.synth();
    const want = readStacks(join(work, "plain"));
    expect(Object.keys(want)).toEqual(["clients", "consul", "core", "jobs", "network"]);
    expect(readStacks(join(work, "trimmed"))).toEqual(want);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test("the preparing run, which the trims walk without copying, still registers cross-stack references", () => {
  // Stack "b" uses stack "a"'s VPC: prepareStack's resolve must add a's output and b's remote state.
  const build = `
    const { App, TerraformStack } = require("cdktf");
    const { AwsProvider } = require("@cdktf/provider-aws/lib/provider");
    const { Vpc } = require("@cdktf/provider-aws/lib/vpc");
    const { Subnet } = require("@cdktf/provider-aws/lib/subnet");
    const app = new App({ outdir: process.env.OUT, stackTraces: false });
    const a = new TerraformStack(app, "a");
    new AwsProvider(a, "aws", { region: "eu-central-1" });
    const vpc = new Vpc(a, "vpc", { cidrBlock: "10.0.0.0/16", tags: { Name: "a", nested: "x" } });
    const b = new TerraformStack(app, "b");
    new AwsProvider(b, "aws", { region: "eu-central-1" });
    new Subnet(b, "subnet", { vpcId: vpc.id, cidrBlock: "10.0.1.0/24", tags: { Vpc: vpc.id, plain: "y" } });
    app.synth();`;
  const work = mkdtempSync(join(tmpdir(), "bitte-xstack-"));
  try {
    const out = (name: string): string => join(work, name);
    const plain = run(process.execPath, ["-e", build], { cwd: ROOT, env: { ...process.env, OUT: out("plain") } });
    const trimmed = run(process.execPath, ["-r", LOADER, "-e", `require("./stacks/startup");${build}`], { cwd: ROOT, env: { ...process.env, OUT: out("trimmed"), BITTE_APP_CACHE: join(work, "cache") } });
    expect([plain, trimmed].map((r) => ({ status: r.status, stderr: r.stderr }))).toEqual([{ status: 0, stderr: "" }, { status: 0, stderr: "" }]);
    const want = readStacks(out("plain"));
    expect(want.a).toContain("cross-stack-output-aws_vpcvpc");
    expect(want.b).toContain("terraform_remote_state");
    expect(readStacks(out("trimmed"))).toEqual(want);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test("the resolver's plain-value path resolves tokens, and refuses bad values, as cdktf's resolver does", () => {
  // Each case resolved by cdktf's own resolver and by the trimmed one, in one process.
  const script = `
    const resolveModule = require("cdktf/lib/tokens/private/resolve");
    const original = resolveModule.resolve;
    require("./stacks/startup");
    const trimmed = resolveModule.resolve;
    const { App, TerraformStack, Token, Fn, Lazy } = require("cdktf");
    const stack = new TerraformStack(new App({ stackTraces: false }), "s");
    const list = Token.asList(Lazy.anyValue({ produce: () => ["a", "b"] }));
    const cases = {
      plain: { a: "x", b: [1, true, null, undefined, { c: "1.5e3" }], d: new Date(0) },
      tokens: { s: "pre-" + Lazy.stringValue({ produce: () => "v" }) + "-post", n: Token.asNumber(Lazy.numberValue({ produce: () => 7 })), l: list, f: Fn.lower(Lazy.stringValue({ produce: () => "ABC" })) },
      tokenKey: { [Lazy.stringValue({ produce: () => "k" })]: 1 },
      escaped: { e: "$" + "{var.x} and $$" + "{literal}" },
      function: { a: [{ b: () => 1 }] },
      construct: { a: { b: stack } },
      listInString: { a: { b: "x" + list } },
      mapToken: { a: { m: Token.asStringMap(Lazy.anyValue({ produce: () => ({ k: "v" }) })) }, b: [Token.asStringMap(Lazy.anyValue({ produce: () => ({ x: "y" }) }))] },
      mapTokenMerged: { b: [{ ...Token.asStringMap(Lazy.anyValue({ produce: () => ({ x: "y" }) })), plain: "z" }] },
      bogusNumberToken: { a: [1, -8.2e298] },
      resolvable: { a: [{ r: { resolve: () => "resolved" } }], n: [-1e279, 8500, Token.asNumber(Lazy.numberValue({ produce: () => 3 }))] },
    };
    const run = (resolve, value) => { try { return { ok: JSON.stringify(resolve(value, { scope: stack, preparing: false, resolver: new (require("cdktf/lib/tokens/resolvable").DefaultTokenResolver)(new (require("cdktf/lib/tokens/resolvable").StringConcat)()) })) }; } catch (e) { return { error: e.message }; } };
    const out = {};
    for (const [name, value] of Object.entries(cases)) out[name] = { cdktf: run(original, value), trimmed: run(trimmed, value) };
    console.log(JSON.stringify({ patched: original !== trimmed, out }));`;
  const r = run(process.execPath, ["-r", LOADER, "-e", script], { cwd: ROOT });
  expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: "" });
  const { patched, out } = JSON.parse(r.stdout) as { patched: boolean; out: Record<string, { cdktf: { ok?: string; error?: string }; trimmed: unknown }> };
  expect(patched).toBe(true);
  for (const [name, { cdktf, trimmed }] of Object.entries(out)) expect({ name, trimmed }).toEqual({ name, trimmed: cdktf });
  // The cases exercise both outcomes.
  expect(Object.entries(out).filter(([, v]) => v.cdktf.error !== undefined).map(([k]) => k).sort()).toEqual(["bogusNumberToken", "construct", "function", "listInString", "mapTokenMerged"]);
  expect(out.tokens.cdktf.ok).toContain("pre-v-post");
});

/** A node process with the loader preloaded, evaluating `script`; resolves with its output. */
function node(cache: string, script: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["-r", LOADER, "-e", script], { env: { ...process.env, BITTE_APP_CACHE: cache } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

describe("the loader's transpile cache", () => {
  const work = mkdtempSync(join(tmpdir(), "bitte-loader-"));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const source = (n: number): string => `const n: number = ${n};\nexport const value: string = \`v\${n}\`;\n`;
  // Prints the module's value and whether swc had to be loaded for it.
  const probe = (file: string): string =>
    `const v = require(${JSON.stringify(file)}).value; console.log(JSON.stringify({ v, swc: Object.keys(require.cache).some((f) => f.includes("@swc")) }))`;

  test("an edited file is transpiled again; an unchanged one comes from the cache without loading swc", async () => {
    const cache = join(work, "edit-cache");
    const file = join(work, "edit.ts");
    writeFileSync(file, source(1));
    expect(JSON.parse((await node(cache, probe(file))).stdout)).toEqual({ v: "v1", swc: true });
    expect(JSON.parse((await node(cache, probe(file))).stdout)).toEqual({ v: "v1", swc: false });
    // Same length, same name: only the content tells the versions apart.
    writeFileSync(file, source(2));
    expect(JSON.parse((await node(cache, probe(file))).stdout)).toEqual({ v: "v2", swc: true });
    expect(readdirSync(join(cache, "ts"))).toHaveLength(2);
  });

  test("a damaged entry is a miss, not code that runs", async () => {
    const cache = join(work, "damaged-cache");
    const file = join(work, "damaged.ts");
    writeFileSync(file, source(3));
    expect((await node(cache, probe(file))).status).toBe(0);
    const dir = join(cache, "ts");
    const [name] = readdirSync(dir);
    const entry = readFileSync(join(dir, name));
    const faults: Record<string, Buffer> = {
      truncated: entry.subarray(0, entry.length - 7),
      "flipped bit": Buffer.from(entry.map((b, i) => (i === entry.length - 3 ? b ^ 0x20 : b))),
      empty: Buffer.alloc(0),
      "other code with the old checksum": Buffer.concat([entry.subarray(0, 4), Buffer.from('throw new Error("from the cache")')]),
    };
    for (const [fault, data] of Object.entries(faults)) {
      writeFileSync(join(dir, name), data);
      const r = await node(cache, probe(file));
      expect({ fault, status: r.status, out: JSON.parse(r.stdout || "null") as unknown }).toEqual({ fault, status: 0, out: { v: "v3", swc: true } });
      // The miss rewrote the entry.
      expect(readFileSync(join(dir, name)).equals(entry)).toBe(true);
    }
  });

  test("concurrent first runs on an empty cache all load the right code", async () => {
    const cache = join(work, "concurrent-cache");
    const files = [4, 5, 6].map((n) => {
      const file = join(work, `concurrent-${n}.ts`);
      writeFileSync(file, source(n));
      return file;
    });
    const script = `console.log(${JSON.stringify(files)}.map((f) => require(f).value).join(","))`;
    const runs = await Promise.all(Array.from({ length: 4 }, () => node(cache, script)));
    expect(runs.map((r) => ({ status: r.status, out: r.stdout.trim() }))).toEqual(Array(4).fill({ status: 0, out: "v4,v5,v6" }));
    expect(readdirSync(join(cache, "ts"))).toHaveLength(3);
  });

  test("a cache that cannot be written costs speed, not the synth", async () => {
    const blocker = join(work, "not-a-directory");
    writeFileSync(blocker, "");
    const file = join(work, "unwritable.ts");
    writeFileSync(file, source(7));
    // A path under a regular file: ENOTDIR for every user, root included.
    const r = await node(join(blocker, "cache"), probe(file));
    expect({ status: r.status, stderr: r.stderr, out: JSON.parse(r.stdout) as unknown }).toEqual({ status: 0, stderr: "", out: { v: "v7", swc: true } });
  });

  test("a syntax error names the file, from swc", async () => {
    const file = join(work, "broken.ts");
    writeFileSync(file, "export const x: number = ;\n");
    const r = await node(join(work, "broken-cache"), `require(${JSON.stringify(file)})`);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("broken.ts");
    mkdirSync(join(work, "broken-cache", "ts"), { recursive: true });
    expect(readdirSync(join(work, "broken-cache", "ts"))).toEqual([]);
  });
});

test("a package file's trimmed copy follows the file: rewritten, it is read again; just written, it is not cached", async () => {
  // A project of its own, so the test writes no file under the real node_modules.
  const project = mkdtempSync(join(tmpdir(), "bitte-project-"));
  try {
    mkdirSync(join(project, "scripts"));
    writeFileSync(join(project, "scripts", "app-loader.js"), readFileSync(LOADER));
    mkdirSync(join(project, "node_modules", "cdktf"), { recursive: true });
    const pkg = join(project, "node_modules", "cdktf", "index.js");
    const map = "//# sourceMappingURL=data:application/json;base64,eyJ2ZXJzaW9uIjozfQ==\n";
    const version = (n: number): string => `module.exports = { n: ${n} };\n${map}`;
    const cache = join(project, "cache");
    const load = async (): Promise<unknown> => {
      const r = await new Promise<{ out: string; err: string }>((resolve, reject) => {
        const child = spawn(process.execPath, ["-r", join(project, "scripts", "app-loader.js"), "-e", `
          const Module = require("node:module");
          const compile = Module.prototype._compile;
          let maps = 0;
          Module.prototype._compile = function (code, f) { if (code.includes("sourceMappingURL")) maps++; return compile.call(this, code, f); };
          console.log(JSON.stringify({ n: require(${JSON.stringify(pkg)}).n, maps }));`], { env: { ...process.env, BITTE_APP_CACHE: cache } });
        let out = "";
        let err = "";
        child.stdout.on("data", (d: Buffer) => (out += d.toString()));
        child.stderr.on("data", (d: Buffer) => (err += d.toString()));
        child.on("error", reject);
        child.on("close", () => resolve({ out, err }));
      });
      expect(r.err).toBe("");
      return JSON.parse(r.out);
    };
    const entries = (): string[] => {
      try {
        return readdirSync(join(cache, "js"));
      } catch {
        return [];
      }
    };
    writeFileSync(pkg, version(1));
    // Just written: within git's racy window the file could change again unseen, so no copy.
    expect(await load()).toEqual({ n: 1, maps: 0 });
    expect(entries()).toEqual([]);
    // Waits out the loader's racy window (3 s) by the file's own clock, then caches.
    const settled = async (): Promise<void> => {
      for (let i = 0; i < 100 && Date.now() - statSync(pkg).ctimeMs <= 3100; i++) await new Promise((r) => setTimeout(r, 100));
    };
    await settled();
    expect(await load()).toEqual({ n: 1, maps: 0 });
    expect(entries()).toHaveLength(1);
    expect(await load()).toEqual({ n: 1, maps: 0 });
    // Rewritten with the same size: the ctime tells.
    writeFileSync(pkg, version(2));
    await settled();
    expect(await load()).toEqual({ n: 2, maps: 0 });
    expect(entries()).toHaveLength(2);
  } finally {
    rmSync(project, { recursive: true, force: true });
  }
});

test("after the loader and the trims cdktf loads without archiver, without inline source maps, and records no stack traces", () => {
  const probe = `
    const Module = require("node:module");
    const compile = Module.prototype._compile;
    const withMaps = [];
    Module.prototype._compile = function (code, filename) {
      if (/node_modules[\\/](cdktf|@cdktf)[\\/]/.test(filename) && code.includes("sourceMappingURL=data:")) withMaps.push(filename);
      return compile.call(this, code, filename);
    };
    require("./stacks/startup");
    const cdktf = require("cdktf");
    require("@cdktf/provider-aws/lib/vpc");
    const loaded = Object.keys(require.cache);
    const archiverCode = loaded.filter((f) => /node_modules[\\\\/]archiver[\\\\/]lib/.test(f));
    const trace = require("cdktf/lib/tokens/private/stack-trace").captureStackTrace();
    const compiled = require("cdktf/lib/app").App.toString().length > 0;
    const fn = require.cache[require.resolve("cdktf/lib/app")];
    const loaders = loaded.filter((f) => /node_modules[\\\\/](tsx|esbuild|@swc)[\\\\/]/.test(f));
    console.log(JSON.stringify({ archiverCode, trace, compiled, app: typeof cdktf.App, hasModule: !!fn, withMaps: withMaps.length, loaded: loaded.length > 100, loaders }));
  `;
  // Warm the cache for stacks/startup.ts first, so the second run shows what a synth loads.
  expect(run(process.execPath, ["-r", LOADER, "-e", probe], { cwd: ROOT }).status).toBe(0);
  const r = run(process.execPath, ["-r", LOADER, "-e", probe], { cwd: ROOT });
  expect(r.status).toBe(0);
  expect(JSON.parse(r.stdout)).toEqual({ archiverCode: [], trace: [], compiled: true, app: "function", hasModule: true, withMaps: 0, loaded: true, loaders: [] });
});
