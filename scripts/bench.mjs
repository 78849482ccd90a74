#!/usr/bin/env node
// Synth budget (DESIGN.md, Performance): the app's own synth on compiled JS, no CLI.
// Compiles the app with swc into dist/, then synthesizes each cluster several times in a fresh
// node process and prints the median wall time and peak RSS. Prints figures; asserts nothing.
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { transformFileSync } from "@swc/core";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

function compile(dir) {
  for (const entry of readdirSync(join(root, dir))) {
    const rel = join(dir, entry);
    if (statSync(join(root, rel)).isDirectory()) {
      compile(rel);
    } else if (rel.endsWith(".ts") && !rel.endsWith(".d.ts")) {
      const { code } = transformFileSync(join(root, rel), { jsc: { target: "es2022", parser: { syntax: "typescript" } }, module: { type: "commonjs" } });
      mkdirSync(dirname(join(dist, rel)), { recursive: true });
      writeFileSync(join(dist, rel.replace(/\.ts$/, ".js")), code);
    } else {
      // Assets the renderers read (scripts, dashboards) travel with the code.
      mkdirSync(dirname(join(dist, rel)), { recursive: true });
      cpSync(join(root, rel), join(dist, rel));
    }
  }
}

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist);
writeFileSync(join(dist, "main.js"), transformFileSync(join(root, "main.ts"), { jsc: { target: "es2022", parser: { syntax: "typescript" } }, module: { type: "commonjs" } }).code);
for (const dir of ["clusters", "stacks", "constructs", "scripts"]) compile(dir);
cpSync(join(root, "jobs"), join(dist, "jobs"), { recursive: true });
// Generated clusters: 16 regions with 1, 2 and 4 client groups per region.
for (const n of [1, 2, 4]) {
  writeFileSync(join(dist, "clusters", `large-${n}.js`), `exports.default = require("../scripts/large-cluster.js").largeCluster(${n});\n`);
}
// Reports the child's own peak RSS when it exits.
const probe = join(dist, "scripts", "rss-probe.cjs");
writeFileSync(probe, `process.on("exit", () => process.stderr.write("\\nBENCH_MAXRSS_KB=" + process.resourceUsage().maxRSS + "\\n"));\n`);

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const parseCache = join(dist, "node_modules", ".cache", "bitte-hcl");

/** Median wall time and peak RSS of synthesizing `cluster`; `cold` empties the job-parse cache first. */
function bench(cluster, cold = false) {
  const walls = [];
  const rss = [];
  // The first run of each cluster warms the file cache and is not counted.
  for (let i = -1; i < RUNS; i++) {
    const out = mkdtempSync(join(tmpdir(), "bitte-bench-"));
    if (cold) rmSync(parseCache, { recursive: true, force: true });
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, ["-r", probe, join(dist, "main.js")], { cwd: root, env: { ...process.env, BITTE_CLUSTER: cluster, CDKTF_OUTDIR: out }, encoding: "utf8" });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    rmSync(out, { recursive: true, force: true });
    if (r.status !== 0) throw new Error(`synth of ${cluster} failed:\n${r.stderr}`);
    if (i < 0) continue;
    walls.push(ms);
    rss.push(Number(/BENCH_MAXRSS_KB=(\d+)/.exec(r.stderr)?.[1] ?? NaN) / 1024);
  }
  return { wall: median(walls), rss: median(rss) };
}

const rows = [
  ["example", "clusters/example.ts", "< 1000 ms, < 150 MB"],
  ["example", "  same, job files not yet parsed", "", true],
  ["large-1", "16 regions × 1 group", ""],
  ["large-2", "16 regions × 2 groups", ""],
  ["large-4", "16 regions × 4 groups", "< 3000 ms"],
];
console.log(`synth (node on compiled JS, median of ${RUNS} runs)`);
console.log("cluster   what                      wall ms   peak RSS MB   budget");
const results = {};
for (const [name, what, budget, cold] of rows) {
  const r = bench(name, cold);
  if (!cold) results[name] = r;
  console.log(`${name.padEnd(9)} ${what.padEnd(25)} ${r.wall.toFixed(0).padStart(7)}   ${r.rss.toFixed(0).padStart(11)}   ${budget}`);
}
const perGroup = (results["large-4"].wall - results["large-2"].wall) / 32;
const perGroupLow = (results["large-2"].wall - results["large-1"].wall) / 16;
console.log(`marginal cost per client group: ${perGroupLow.toFixed(1)} ms (16→32 groups), ${perGroup.toFixed(1)} ms (32→64 groups)`);
console.log(`(compiled app in ${relative(process.cwd(), dist) || "."})`);
