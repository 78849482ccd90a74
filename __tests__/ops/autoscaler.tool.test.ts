/**
 * The autoscaler's checks, as rendered, queried from a real VictoriaMetrics on loopback holding
 * recorded Nomad series, and turned into a decision the way the pinned strategies do
 * (hashicorp/nomad-autoscaler v0.5.0 plugins/builtin/strategy/target-value: from a count of 0 the
 * new count is ceil(metric / target), otherwise ceil(count * metric / target) outside 1 ± 0.01;
 * across checks "up" outranks "none", which outranks "down" (sdk/strategy.go PreemptScalingAction)).
 * Scale from zero, no flapping at rest, scale out under load, and scale in (which the aws-asg
 * plugin performs by draining first: the one drain path).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { checkQueries } from "../../constructs/operations/autoscaler";
import { describeWithTools } from "../harness/tools";
import { OPS_CLUSTER, tempRoot } from "./harness";

const group = OPS_CLUSTER.clientGroups.find((g) => g.name === "workers")!;
const policy = OPS_CLUSTER.operations.autoscaling.workers;
const queries = checkQueries(group);

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeWithTools(["victoria-metrics"], "autoscaler checks against VictoriaMetrics (Prometheus API)", () => {
  let vm: ChildProcess | undefined;
  let base = "";

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    vm = spawn("victoria-metrics", [`-httpListenAddr=127.0.0.1:${port}`, `-storageDataPath=${tempRoot("vm")}`, "-retentionPeriod=1d", "-search.disableCache", "-search.latencyOffset=0s"], { stdio: "ignore" });
    for (let i = 0; i < 100; i++) {
      try {
        if ((await fetch(`${base}/health`)).ok) return;
      } catch {
        // not up yet
      }
      await sleep(100);
    }
    throw new Error("victoria-metrics did not start within 10 s");
  });

  afterAll(() => {
    vm?.kill("SIGTERM");
  });

  /** Imports one sample per series, `job` distinguishes scenarios so they never mix. */
  async function load(job: string, lines: readonly string[], at: number) {
    const body = lines.map((l) => l.replace("{", `{job="${job}",`) + ` ${at}`).join("\n") + "\n";
    const r = await fetch(`${base}/api/v1/import/prometheus`, { method: "POST", body });
    expect(r.status).toBe(204);
    await fetch(`${base}/internal/force_flush`);
  }

  /** The check's query, restricted to one scenario's series, at `at` (ms). */
  async function value(job: string, query: string, at: number): Promise<number> {
    const scoped = query.replace(/\{([^}]*)\}/g, (_m, inner: string) => `{job="${job}"${inner ? "," + inner : ""}}`);
    for (let i = 0; i < 50; i++) {
      const r = (await (await fetch(`${base}/api/v1/query?${new URLSearchParams({ query: scoped, time: String(at / 1000) })}`)).json()) as { status: string; data: { result: { value: [number, string] }[] } };
      expect(r.status).toBe("success");
      // The autoscaler's Prometheus APM fails a check that returns no sample; these must always return one.
      expect(r.data.result).toHaveLength(1);
      const v = Number(r.data.result[0].value[1]);
      if (i > 0 || v !== 0 || job === "idle-zero") return v;
      await sleep(100);
    }
    throw new Error("unreachable");
  }

  type Action = { dir: -1 | 0 | 1; count: number };
  const targetValue = (count: number, metric: number, target: number): Action => {
    const factor = target === 0 ? metric : metric / target;
    if (count === 0) return factor > 0 ? { dir: 1, count: Math.ceil(factor) } : { dir: 0, count };
    if (factor >= 0.99 && factor <= 1.01) return { dir: 0, count };
    const next = Math.ceil(count * factor);
    return next === count ? { dir: 0, count } : { dir: next > count ? 1 : -1, count: next };
  };
  /** sdk/strategy.go PreemptScalingAction: up > none > down; within a direction the higher count. */
  const preempt = (a: Action, b: Action): Action => (b.dir > a.dir || (b.dir === a.dir && b.dir !== 0 && b.count > a.count) ? b : a);

  async function decide(job: string, count: number, at: number): Promise<number> {
    const [cpu, memory, demand] = await Promise.all([value(job, queries.cpu, at), value(job, queries.memory, at), value(job, queries.demand, at)]);
    const winner = [targetValue(count, memory, policy.memoryTargetPercent), targetValue(count, demand, 1)].reduce(preempt, targetValue(count, cpu, policy.cpuTargetPercent));
    return winner.dir === 0 ? count : Math.min(group.max, Math.max(group.min, winner.count));
  }

  const node = (n: number, r: "cpu" | "memory", allocated: number, unallocated: number) => [
    `nomad_client_allocated_${r}{datacenter="${group.region}",node_class="${group.nodeClass}",node_id="n${n}"} ${allocated}`,
    `nomad_client_unallocated_${r}{datacenter="${group.region}",node_class="${group.nodeClass}",node_id="n${n}"} ${unallocated}`,
  ];

  test("an empty group with nothing waiting stays at zero (every check answers 0, none fails)", async () => {
    const at = Date.now() - 30_000;
    await load("idle-zero", ["nomad_nomad_blocked_evals_total_blocked{} 0"], at);
    expect(await decide("idle-zero", 0, at)).toBe(0);
  });

  test("scale from zero: an evaluation blocked while the group has no nodes adds one", async () => {
    const at = Date.now() - 30_000;
    await load("from-zero", ["nomad_nomad_blocked_evals_total_blocked{} 2"], at);
    expect(await decide("from-zero", 0, at)).toBe(1);
  });

  test("blocked evaluations for the group's datacenter and class add a node to a running group", async () => {
    const at = Date.now() - 30_000;
    await load("blocked", [...node(1, "cpu", 1000, 3000), ...node(1, "memory", 1000, 3000), `nomad_nomad_blocked_evals_cpu{datacenter="${group.region}",node_class="${group.nodeClass}"} 500`], at);
    expect(await decide("blocked", 1, at)).toBe(2);
  });

  test("under load the CPU target scales out; at the target nothing moves", async () => {
    const at = Date.now() - 30_000;
    await load("hot", [...node(1, "cpu", 3600, 400), ...node(2, "cpu", 3600, 400), ...node(1, "memory", 100, 900), ...node(2, "memory", 100, 900)], at);
    // 90 % allocated, target 60 %: ceil(2 × 90 / 60) = 3.
    expect(await decide("hot", 2, at)).toBe(3);
    await load("steady", [...node(1, "cpu", 2400, 1600), ...node(1, "memory", 100, 900)], at);
    expect(await decide("steady", 1, at)).toBe(1);
  });

  test("scale in, bounded by the group's min", async () => {
    const at = Date.now() - 30_000;
    await load("cold", [...node(1, "cpu", 100, 3900), ...node(2, "cpu", 0, 4000), ...node(3, "cpu", 0, 4000), ...node(1, "memory", 10, 990), ...node(2, "memory", 0, 1000), ...node(3, "memory", 0, 1000)], at);
    expect(await decide("cold", 3, at)).toBe(1);
  });
});
