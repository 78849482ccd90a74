#!/usr/bin/env node
// Synth budget (DESIGN.md, Performance). Times exactly the `app` command of cdktf.json (what
// `npx cdktf synth` runs), through a shell in the project directory as the CLI runs it, beside
// the floor (scripts/bench-floor.js) in the same run, alternating the two so that the machine's
// load falls on both alike; prints medians, ratios and peak RSS, then the whole `npx cdktf synth`.
// Prints figures; asserts nothing. BENCH_RUNS (default 7) runs per row after one warm-up run.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 7));
const APP = JSON.parse(readFileSync(join(root, "cdktf.json"), "utf8")).app;
const work = mkdtempSync(join(tmpdir(), "bitte-bench-"));

// Each measured node process reports its own CPU time and peak RSS when it exits.
const probe = join(work, "probe.cjs");
writeFileSync(probe, `process.on("exit", () => { const u = process.resourceUsage(); require("node:fs").appendFileSync(process.env.BENCH_PROBE_OUT, JSON.stringify({ cpu: (u.userCPUTime + u.systemCPUTime) / 1000, rss: u.maxRSS / 1024 }) + "\\n"); });\n`);

// The generated clusters live in clusters/ only while the bench runs: the app loads clusters by name.
const generated = [1, 2, 4].map((n) => join(root, "clusters", `bench-large-${n}.ts`));
function cleanUp() {
  for (const f of generated) rmSync(f, { force: true });
  rmSync(work, { recursive: true, force: true });
}
process.on("exit", cleanUp);
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => process.exit(130));
[1, 2, 4].forEach((n, i) => writeFileSync(generated[i], `import { largeCluster } from "../scripts/large-cluster";\nexport default largeCluster(${n});\n`));

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

let seq = 0;
/** One run of a shell command: wall ms, and CPU ms and peak RSS MB of the node process it starts. */
function once(command, env) {
  const out = join(work, `out-${++seq}`);
  const report = join(work, `probe-${seq}`);
  const t0 = process.hrtime.bigint();
  const r = spawnSync("sh", ["-c", command], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH}`, CHECKPOINT_DISABLE: "1", CDKTF_OUTDIR: out, NODE_OPTIONS: `--require=${probe}`, BENCH_PROBE_OUT: report, ...env },
  });
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${command} failed (${r.status}):\n${r.stderr}`);
  const procs = readFileSync(report, "utf8").trim().split("\n").map((l) => JSON.parse(l));
  rmSync(out, { recursive: true, force: true });
  return { wall, cpu: procs.reduce((s, p) => s + p.cpu, 0), rss: Math.max(...procs.map((p) => p.rss)) };
}

const FLOOR = `node ${join("scripts", "bench-floor.js")}`;
/** The app and the floor, alternated; `before` runs ahead of each app run (the cold row empties caches). */
function row(cluster, before = () => {}) {
  const app = [];
  const floor = [];
  for (let i = -1; i < RUNS; i++) {
    const f = once(FLOOR, {});
    before();
    const a = once(APP, { BITTE_CLUSTER: cluster });
    // The first pair warms the file cache and the app's caches, and is not counted.
    if (i < 0) continue;
    floor.push(f);
    app.push(a);
  }
  const m = (xs, k) => median(xs.map((x) => x[k]));
  return { floor: { wall: m(floor, "wall"), cpu: m(floor, "cpu") }, app: { wall: m(app, "wall"), cpu: m(app, "cpu"), rss: m(app, "rss") } };
}

const caches = ["bitte-app", "bitte-user-data", "bitte-hcl"].map((d) => join(root, "node_modules", ".cache", d));
const rows = [
  ["example", "clusters/example.ts", "≤ 2× floor, ≤ 150 MB"],
  ["example", "  same, caches emptied first", "(first synth after npm ci)", () => caches.forEach((d) => rmSync(d, { recursive: true, force: true }))],
  ["bench-large-1", "16 regions × 1 group", ""],
  ["bench-large-2", "16 regions × 2 groups", ""],
  ["bench-large-4", "16 regions × 4 groups", "≤ 4× floor"],
];

const load = () => loadavg().map((l) => l.toFixed(1)).join(" ");
console.log(`app command: ${APP}   floor: ${FLOOR}`);
console.log(`median of ${RUNS} runs each, app and floor alternated; ${cpus().length} cores, load average ${load()}`);
console.log("cluster         what                           wall ms: floor    app  ratio   cpu ms: floor    app  ratio   app RSS MB   budget");
for (const [name, what, budget, before] of rows) {
  const r = row(name, before);
  const ratio = (k) => (r.app[k] / r.floor[k]).toFixed(2) + "×";
  const n = (x) => x.toFixed(0).padStart(6);
  console.log(`${name.padEnd(15)} ${what.padEnd(30)}        ${n(r.floor.wall)} ${n(r.app.wall)} ${ratio("wall").padStart(6)}         ${n(r.floor.cpu)} ${n(r.app.cpu)} ${ratio("cpu").padStart(6)}   ${n(r.app.rss)}       ${budget}`);
}
// Growth per client group. The rows above run one cluster after another, so a change in the
// machine's load between rows reads as a cost of groups: here the three sizes are interleaved in
// every round, and the slope is fitted over all runs (least squares, with its standard error).
// Linear: the slope between 16 and 32 groups and between 32 and 64 agree within the noise.
const sizes = [["bench-large-1", 16], ["bench-large-2", 32], ["bench-large-4", 64]];
const growth = [];
for (let i = -1; i < RUNS; i++) {
  for (const [cluster, groups] of sizes) {
    const r = once(APP, { BITTE_CLUSTER: cluster });
    if (i >= 0) growth.push({ groups, ...r });
  }
}
function fit(k) {
  const xs = growth.map((g) => g.groups);
  const ys = growth.map((g) => g[k]);
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  const sxx = xs.reduce((a, x) => a + (x - mx) ** 2, 0);
  const slope = xs.reduce((a, x, i) => a + (x - mx) * (ys[i] - my), 0) / sxx;
  const rss = xs.reduce((a, x, i) => a + (ys[i] - my - slope * (x - mx)) ** 2, 0);
  const se = Math.sqrt(rss / Math.max(1, xs.length - 2) / sxx);
  const med = (n) => median(growth.filter((g) => g.groups === n).map((g) => g[k]));
  const step = (a, b) => ((med(b) - med(a)) / (b - a)).toFixed(1);
  return `${slope.toFixed(1)} ± ${se.toFixed(1)} ms per group (16 groups: ${med(16).toFixed(0)} ms); steps 16→32 ${step(16, 32)}, 32→64 ${step(32, 64)}`;
}
console.log(`cost per client group, the three sizes interleaved (${RUNS} runs each): cpu ${fit("cpu")}; wall ${fit("wall")}`);

// The whole CLI: what the operator waits for. Fewer runs: it starts several node processes.
const cli = [];
const floorWall = [];
for (let i = -1; i < Math.min(RUNS, 3); i++) {
  const f = once(FLOOR, {});
  const out = join(work, `cli-${i}`);
  const c = once(`${join("node_modules", ".bin", "cdktf")} synth --output ${out}`, { BITTE_CLUSTER: "example" });
  rmSync(out, { recursive: true, force: true });
  if (i < 0) continue;
  cli.push(c.wall);
  floorWall.push(f.wall);
}
console.log(`whole \`npx cdktf synth\` (example): ${median(cli).toFixed(0)} ms wall, ${(median(cli) / median(floorWall)).toFixed(2)}× the floor's ${median(floorWall).toFixed(0)} ms (median of ${cli.length})`);
console.log(`load average at the end: ${load()}`);
