/**
 * The machine tier: every role's user data, exactly as synthesized, booted under real systemd and
 * cloud-init in systemd-nspawn containers on a test-only network, against the stand-in vendor
 * packages and AWS endpoints (see README, "How the machine tier works"). The scenarios share one
 * world and run in order: each builds on the cluster the previous one left.
 */
import { join } from "node:path";
import { describeIf } from "../harness/tools";
import { protocolViolations, readEvents } from "./harness/checks";
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

  /** The core converged: units active on every core, the protocol's checks clean. */
  async function expectCoreConverged(): Promise<void> {
    for (const n of CORES) expect({ [n]: await world.machine(n).unitStates(CORE_UNITS) }).toEqual({ [n]: { consul: "active", vault: "active", nomad: "active" } });
    expect(protocolViolations(readEvents(join(world.stateDir, "events.jsonl")), world.plan.cluster.ssmPrefix)).toEqual([]);
  }

  test("throttled SSM during the race (ThrottlingException, TooManyUpdates): every core node still converges", async () => {
    await world.reset();
    world.faults({ ssm: { everyNth: { PutParameter: 3, GetParameter: 4 }, tooManyUpdates: { PutParameter: 2 } } });
    expect(await bootAll(world, CORES)).toEqual([]);
    const throttled = readEvents(join(world.stateDir, "events.jsonl")).filter((e) => e.source === "ssm" && (e.outcome === "ThrottlingException" || e.outcome === "TooManyUpdates"));
    expect(throttled.length).toBeGreaterThan(0);
    await expectCoreConverged();
  }, 40 * 60_000);
});
