/**
 * main.ts trims cdktf's start-up (stacks/startup.ts). The app it runs must synthesize exactly
 * what the stacks synthesize without it, and the trims must actually be in effect.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "cdktf";
import example from "../../clusters/example";
import { loadJobs } from "../../constructs/jobs";
import { addStacks } from "../../stacks";
import { run } from "../harness/tools";

const ROOT = join(__dirname, "../..");

test("the app with its start-up trims writes the same JSON as the stacks without them", async () => {
  const withTrims = mkdtempSync(join(tmpdir(), "bitte-app-"));
  const without = mkdtempSync(join(tmpdir(), "bitte-stacks-"));
  try {
    const r = run(process.execPath, ["--import", "tsx", "main.ts"], { cwd: ROOT, env: { ...process.env, BITTE_CLUSTER: "example", BITTE_JOBS: "", CDKTF_OUTDIR: withTrims } });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: "" });

    const app = new App({ outdir: without, stackTraces: false });
    addStacks(app, example, { jobs: await loadJobs({ dir: join(ROOT, "jobs"), cluster: example }) });
    app.synth();

    const stacks = readdirSync(join(without, "stacks")).sort();
    expect(readdirSync(join(withTrims, "stacks")).sort()).toEqual(stacks);
    expect(stacks).toEqual(["clients", "consul", "core", "jobs", "network"]);
    for (const id of stacks) {
      const file = join("stacks", id, "cdk.tf.json");
      expect({ id, json: readFileSync(join(withTrims, file), "utf8") }).toEqual({ id, json: readFileSync(join(without, file), "utf8") });
    }
  } finally {
    rmSync(withTrims, { recursive: true, force: true });
    rmSync(without, { recursive: true, force: true });
  }
});

test("after the trims cdktf loads without archiver, without inline source maps, and records no stack traces", () => {
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
    console.log(JSON.stringify({ archiverCode, trace, compiled, app: typeof cdktf.App, hasModule: !!fn, withMaps: withMaps.length, loaded: loaded.length > 100 }));
  `;
  const r = run(process.execPath, ["--import", "tsx", "-e", probe], { cwd: ROOT });
  expect(r.status).toBe(0);
  expect(JSON.parse(r.stdout)).toEqual({ archiverCode: [], trace: [], compiled: true, app: "function", hasModule: true, withMaps: 0, loaded: true });
});
