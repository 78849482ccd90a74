/**
 * The machine tier: every role's user data, exactly as synthesized, booted under real systemd and
 * cloud-init in systemd-nspawn containers on a test-only network, against the stand-in vendor
 * packages and AWS endpoints (see README, "How the machine tier works"). The scenarios share one
 * world and run in order: each builds on the cluster the previous one left.
 */
import { join } from "node:path";
import { describeIf } from "../harness/tools";
import { protocolViolations, readEvents, type StandinEvent } from "./harness/checks";
import { machineTierUnavailable } from "./harness/env";
import { until } from "./harness/exec";
import { tail, type Machine } from "./harness/machine";
import { createWorld, type World } from "./harness/world";

const log = (m: string) => process.stderr.write(`[machines] ${m}\n`);
const CORES = ["core-1", "core-2", "core-3"] as const;
const CORE_UNITS = ["consul", "vault", "nomad"] as const;

/** The oneshot's outcome once it has run: `success`, or the failure systemd recorded. */
async function bootstrapResult(m: Machine, attempts = 240): Promise<string> {
  return until(`${m.props.name}: bitte-bootstrap to finish`, async () => {
    const r = await m.exec(["systemctl", "show", "--property=ActiveState,Result", "bitte-bootstrap"], { check: false });
    // key=value lines, in systemd's order (not the order asked for).
    const props = Object.fromEntries(r.stdout.trim().split("\n").map((l) => l.split("=", 2)));
    if (props.ActiveState === "active" || props.ActiveState === "failed") return props.Result;
    return undefined;
  }, attempts, 2_500);
}

/** Boots machines at once and waits for cloud-init and the bootstrap on each; returns failures with their logs. */
async function bootAll(world: World, names: readonly string[], opts: { keepRoot?: boolean } = {}): Promise<string[]> {
  const ms = names.map((n) => world.machine(n));
  await Promise.all(ms.map((m) => m.boot(opts)));
  const problems: string[] = [];
  await Promise.all(ms.map(async (m) => {
    const status = await m.cloudInitDone(15 * 60_000);
    if (!/status: done/.test(status)) problems.push(`${m.props.name}: cloud-init ${status.trim()}`);
    const result = await bootstrapResult(m).catch((e: Error) => e.message);
    if (result !== "success") problems.push(`${m.props.name}: bitte-bootstrap ${result}\n${(await journal(m, "bitte-bootstrap")).slice(-3000)}`);
  }));
  return problems;
}

async function journal(m: Machine, unit: string): Promise<string> {
  return (await m.exec(["journalctl", "--no-pager", "-o", "cat", "-u", unit], { check: false })).stdout;
}

/** `openssl s_client` from one machine to host:port, verifying the chain against the machine's CA file. */
async function verifiedTls(from: Machine, hostPort: string, serverName: string, caFile = "/etc/bitte/tls/ca.pem"): Promise<string> {
  const r = await from.exec(["openssl", "s_client", "-connect", hostPort, "-servername", serverName, "-CAfile", caFile, "-verify_return_error", "-brief"], { check: false, input: "", timeoutMs: 30_000 });
  return r.status === 0 ? "verified" : `${hostPort}: ${(r.stderr + r.stdout).trim().split("\n").slice(-3).join(" | ")}`;
}

describeIf(machineTierUnavailable(), "machine tier", () => {
  let world: World;

  beforeAll(async () => {
    world = await createWorld(log);
  }, 30 * 60_000);

  afterAll(async () => {
    await world?.teardown();
  }, 5 * 60_000);

  afterEach(() => {
    // On a failure, the machines' consoles and the stand-ins' log say why.
    if (!world) return;
    const state = expect.getState();
    if (state.assertionCalls > 0 && state.numPassingAsserts === state.assertionCalls) return;
    for (const m of world.machines.values()) log(`--- ${m.props.name} console ---\n${tail(m.consoleLog, 15)}`);
    log(`--- stand-ins ---\n${tail(join(world.dir, "standins.log"), 30)}`);
  });

  test("each machine gets exactly its synthesized user data in the NoCloud seed", async () => {
    const core1 = world.machine("core-1");
    await core1.boot();
    const plan = world.plan.machines.find((m) => m.name === "core-1");
    expect((await core1.exec(["cat", "/var/lib/cloud/seed/nocloud/user-data"])).stdout).toBe(plan?.userData);
    expect((await core1.exec(["cat", "/proc/1/comm"])).stdout.trim()).toBe("systemd");
    await core1.stop();
  }, 10 * 60_000);

  test("three core nodes boot at once and converge: one CA, one gossip key each, one ACL bootstrap each, Vault initialised once, units active, TLS verified", async () => {
    const problems = await bootAll(world, CORES, { keepRoot: false });
    expect(problems).toEqual([]);
    const cores = CORES.map((n) => world.machine(n));
    for (const m of cores) expect(await m.unitStates(CORE_UNITS)).toEqual({ consul: "active", vault: "active", nomad: "active" });
    // One CA: every core holds the same certificate.
    const cas = await Promise.all(cores.map(async (m) => (await m.exec(["sha256sum", "/etc/bitte/tls/ca.pem"])).stdout.split(" ")[0]));
    expect(new Set(cas).size).toBe(1);
    expect(protocolViolations(readEvents(join(world.stateDir, "events.jsonl")), world.plan.cluster.ssmPrefix)).toEqual([]);
    // TLS between the stand-ins, verified against the Bitte CA, as the products' peers verify it.
    const [c1, c2, c3] = world.plan.machines.filter((m) => m.role === "core");
    const checks = await Promise.all([
      verifiedTls(cores[0], `${c2.ip}:8501`, "server.eu-central-1.consul"),
      verifiedTls(cores[1], `${c3.ip}:8200`, "vault.service.consul"),
      verifiedTls(cores[2], `${c1.ip}:4646`, "server.global.nomad"),
    ]);
    expect(checks).toEqual(["verified", "verified", "verified"]);
  }, 30 * 60_000);

  test("monitoring, routing and one client of each group boot and reach active units with verified TLS to their local agent", async () => {
    const others = world.plan.machines.filter((m) => m.role !== "core").map((m) => m.name);
    const problems = await bootAll(world, others);
    expect(problems).toEqual([]);
    const units: Record<string, readonly string[]> = {
      monitoring: ["consul", "victoria-metrics", "loki", "grafana-server", "promtail", "prometheus-node-exporter"],
      routing: ["consul", "haproxy", "promtail", "prometheus-node-exporter"],
      client: ["consul", "docker", "nomad", "promtail", "prometheus-node-exporter"],
    };
    for (const p of world.plan.machines.filter((m) => m.role !== "core")) {
      const m = world.machine(p.name);
      const states = await m.unitStates(units[p.role]);
      expect({ [p.name]: states }).toEqual({ [p.name]: Object.fromEntries(units[p.role].map((u) => [u, "active"])) });
      // The local agent's HTTPS, verified with the CA the node's own clients are configured with.
      expect({ [p.name]: await verifiedTls(m, "127.0.0.1:8501", "localhost") }).toEqual({ [p.name]: "verified" });
    }
  }, 30 * 60_000);

  test("rebuild core-2 with its data volume kept, and core-1 (the init-lock owner) with a new one", async () => {
    for (const [name, newVolume] of [["core-2", false], ["core-1", true]] as const) {
      const m = world.machine(name);
      await m.stop();
      if (newVolume) m.replaceVolume();
      const problems = await bootAll(world, [name]);
      expect(problems).toEqual([]);
      expect(await m.unitStates(CORE_UNITS)).toEqual({ consul: "active", vault: "active", nomad: "active" });
      // The server runs with its agent token (defect 5): Consul's start recorded its tokens.
      const starts = readEvents(join(world.stateDir, "events.jsonl")).filter((e) => e.node === name && e.source === "consul" && e.event === "start");
      expect(starts.at(-1)?.tokens).toEqual(expect.arrayContaining(["agent"]));
    }
    expect(protocolViolations(readEvents(join(world.stateDir, "events.jsonl")), world.plan.cluster.ssmPrefix)).toEqual([]);
  }, 30 * 60_000);

  /** The core converged: units active on every core, the protocol's checks clean. */
  async function expectCoreConverged(): Promise<void> {
    for (const n of CORES) expect({ [n]: await world.machine(n).unitStates(CORE_UNITS) }).toEqual({ [n]: { consul: "active", vault: "active", nomad: "active" } });
    expect(protocolViolations(readEvents(join(world.stateDir, "events.jsonl")), world.plan.cluster.ssmPrefix)).toEqual([]);
  }

  /** Secret files outside their owner's reach: world-readable files under the secret paths, Vault's init output left behind. */
  async function exposedSecrets(m: Machine): Promise<string[]> {
    const r = await m.exec(["find", "/etc/bitte", "/etc/consul.d", "/etc/nomad.d", "/etc/vault.d", "/data/bitte", "-type", "f", "(", "-perm", "-o=r", "-name", "*key*", "-o", "-perm", "-o=r", "-path", "*secrets*", "-o", "-name", "vault-init.json*", ")"], { check: false });
    return r.stdout.split("\n").filter(Boolean);
  }

  test("throttled SSM during the race (ThrottlingException, TooManyUpdates): every core node still converges", async () => {
    await world.reset();
    world.faults({ ssm: { everyNth: { PutParameter: 3, GetParameter: 4 }, tooManyUpdates: { PutParameter: 2 } } });
    expect(await bootAll(world, CORES)).toEqual([]);
    const throttled = readEvents(join(world.stateDir, "events.jsonl")).filter((e) => e.source === "ssm" && (e.outcome === "ThrottlingException" || e.outcome === "TooManyUpdates"));
    expect(throttled.length).toBeGreaterThan(0);
    await expectCoreConverged();
  }, 40 * 60_000);

  /**
   * A crash at a step of the bootstrap, then a reboot. Steps are the first event of the node that
   * marks them; `bootstrap` kills the script's unit with SIGKILL, `container` kills the whole machine.
   */
  const CRASHES: readonly { step: string; how: "bootstrap" | "container"; node: string; at: (e: StandinEvent) => boolean }[] = [
    { step: "after the CA is stored", how: "bootstrap", node: "core-1", at: (e) => e.event === "PutParameter" && String(e.name).endsWith("/tls/ca") && e.outcome === "ok" },
    { step: "after a management token is stored, before its ACL bootstrap", how: "container", node: "core-1", at: (e) => e.event === "PutParameter" && String(e.name).endsWith("/management-token") && e.outcome === "ok" },
    { step: "right after vault operator init, before its result is stored", how: "bootstrap", node: "core-1", at: (e) => e.source === "vault" && e.event === "operator-init" && e.outcome === "ok" },
  ];

  test.each(CRASHES)("a crash ($how) $step, then a reboot: the cluster converges, nothing secret is lost or left exposed", async ({ how, node, at }) => {
    await world.reset();
    const events = join(world.stateDir, "events.jsonl");
    const ms = CORES.map((n) => world.machine(n));
    await Promise.all(ms.map((m) => m.boot()));
    const victim = world.machine(node);
    // Whichever core reaches the step first is the victim when the named one is not it.
    const hit = await until(`a core to reach the step`, () => readEvents(events).find((e) => CORES.includes(e.node as (typeof CORES)[number]) && at(e)), 1200, 500);
    const target = hit.node === node ? victim : world.machine(hit.node);
    if (how === "bootstrap") await target.exec(["systemctl", "kill", "--signal=SIGKILL", "bitte-bootstrap"], { check: false });
    else await target.stop("crash");
    log(`crashed ${target.props.name} (${how}) at event #${hit.seq} ${hit.source} ${hit.event}`);
    if (how === "container") {
      await target.boot({ keepRoot: true });
    } else {
      await target.stop("poweroff");
      await target.boot({ keepRoot: true });
    }
    const problems: string[] = [];
    await Promise.all(ms.map(async (m) => {
      const result = await bootstrapResult(m).catch((e: Error) => e.message);
      if (result !== "success") problems.push(`${m.props.name}: bitte-bootstrap ${result}\n${(await journal(m, "bitte-bootstrap")).slice(-3000)}`);
    }));
    expect(problems).toEqual([]);
    await expectCoreConverged();
    // Nothing secret lost: Vault's root token and recovery keys reached SSM.
    const stored = new Set(readEvents(events).filter((e) => e.event === "PutParameter" && e.outcome === "ok").map((e) => String(e.name).replace(world.plan.cluster.ssmPrefix + "/", "")));
    expect([...stored]).toEqual(expect.arrayContaining(["vault/root-token", "vault/recovery-keys", "consul/management-token", "nomad/management-token"]));
    for (const m of ms) expect({ [m.props.name]: await exposedSecrets(m) }).toEqual({ [m.props.name]: [] });
  }, 40 * 60_000);
});
