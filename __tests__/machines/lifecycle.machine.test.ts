/**
 * The machine tier's lifecycle scenarios (issue 11): core nodes rebuilt with their data volume
 * kept or replaced, and crashes at chosen steps of the core bootstrap, by kill -9 of the
 * bootstrap and by a crash of the whole container, then a restart or reboot. Its own world
 * (every name per jest pid), so it runs beside cluster.machine.test.ts. The scenarios run in order:
 * the kill -9 race first, which ends in the converged core the two rebuilds start from (the plain
 * three-core race is the cluster file's; a second one here would only cost a race), then the
 * container-crash race on a fresh cluster.
 *
 * Crashes land at a step boundary deterministically: a hold (standins/py/bitte_standins/holds.py)
 * stops the chosen request at the stand-in BEFORE it is applied and marks it; the test sees the
 * mark, crashes the caller, then lets the request go: dropped (it never happened) or applied (it
 * happened, the crashed caller never saw the answer).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { bootstrapParameters } from "../../constructs/hashistack-bootstrap/parameters";
import { BOOTSTRAP_RESTART } from "../../constructs/node-config/systemd";
import { describeIf } from "../harness/tools";
import { protocolViolations, readEvents, vaultInitialisedOnce, type StandinEvent } from "./harness/checks";
import { machineTierUnavailable } from "./harness/env";
import { until } from "./harness/exec";
import { bootstrapRun, heldNode, killBootstrap, releaseHold, restartedBootstrap, scanFiles, secretLeaks, storedSecrets, type Hold } from "./harness/lifecycle";
import type { Machine } from "./harness/machine";
import { CORE_UNITS, CORES, logFailure, settled } from "./harness/scenario";
import { createWorld, type World } from "./harness/world";

const log = (m: string) => process.stderr.write(`[lifecycle] ${m}\n`);
/** Where a core node keeps files with secrets: configs, TLS, environment files, the bootstrap's state. */
const SECRET_DIRS = ["/etc/bitte", "/etc/consul.d", "/etc/nomad.d", "/etc/vault.d", "/var/lib/bitte", "/data/bitte"];

const events = (world: World): StandinEvent[] => readEvents(join(world.stateDir, "events.jsonl"));
const lastSeq = (world: World): number => events(world).reduce((s, e) => Math.max(s, e.seq), 0);
const param = (world: World, name: string) => `${world.plan.cluster.ssmPrefix}/${name}`;

function storedParameters(world: World): Record<string, { Value: string }> {
  return JSON.parse(readFileSync(join(world.stateDir, "ssm.json"), "utf8")) as Record<string, { Value: string }>;
}

/** The core node that holds vault/init-lock. */
function initLockOwner(world: World): string {
  const v = storedParameters(world)[param(world, "vault/init-lock")]?.Value.trim();
  if (!v) throw new Error("vault/init-lock is not stored");
  return v;
}

/** The core converged: units active on every core, the protocol's checks over the whole log clean. */
async function expectCoreConverged(world: World): Promise<void> {
  for (const n of CORES) expect({ [n]: await world.machine(n).unitStates(CORE_UNITS) }).toEqual({ [n]: { consul: "active", vault: "active", nomad: "active" } });
  expect(protocolViolations(events(world), world.plan.cluster.ssmPrefix)).toEqual([]);
}

/**
 * Nothing secret lost: every parameter the table has core nodes create exists, and Vault's root
 * token and recovery keys in SSM are those of the one Vault cluster. Nothing secret left: no
 * secret readable by others, no interrupted write, no init output on any core.
 */
async function expectSecretsKept(world: World): Promise<void> {
  const stored = storedParameters(world);
  const want = bootstrapParameters().filter((p) => p.writer === "core" && p.kind === "create-only").map((p) => param(world, p.name));
  expect(want.filter((n) => !(n in stored))).toEqual([]);
  const cluster = JSON.parse(readFileSync(join(world.stateDir, "cluster.json"), "utf8")) as { vault: { clusters: { rootToken: string; recovery: string[]; mounts?: Record<string, { default: string | null; issuers: Record<string, { key_id: string }> }> }[] } };
  expect(cluster.vault.clusters).toHaveLength(1);
  const [vault] = cluster.vault.clusters;
  // The init window's last root-token step: the nodes' PKI issues from its keyed intermediate.
  const pki = vault.mounts?.pki_nodes;
  expect({ pkiNodesDefaultKeyed: Boolean(pki?.default && pki.issuers[pki.default]?.key_id) }).toEqual({ pkiNodesDefaultKeyed: true });
  expect(stored[param(world, "vault/root-token")].Value.trim()).toBe(vault.rootToken);
  const recovery = (JSON.parse(stored[param(world, "vault/recovery-keys")].Value) as string[]).map((k) => Buffer.from(k, "base64").toString("hex"));
  expect(recovery).toEqual(vault.recovery);
  const secrets = [...storedSecrets(world.stateDir), vault.rootToken, ...vault.recovery];
  for (const n of CORES) {
    const files = await scanFiles(world.machine(n), SECRET_DIRS);
    expect({ [n]: secretLeaks(files, secrets) }).toEqual({ [n]: [] });
    expect({ [n]: files.filter((f) => /vault-init\.json/.test(f.path)).map((f) => f.path) }).toEqual({ [n]: [] });
    // A killed run's EXIT trap never ran: its work directory (management tokens, keys, CA
    // candidates) must not outlive the run.
    const work = await world.machine(n).exec(["find", "/tmp", "/var/tmp", "-path", "*/bitte-bootstrap.*", "-type", "f"], { check: false });
    expect({ [n]: work.stdout.trim().split("\n").filter(Boolean) }).toEqual({ [n]: [] });
  }
}

/** A step of the bootstrap to crash at: the hold that stops it, and why that boundary matters. */
interface CrashStep extends Hold { readonly step: string }

/**
 * Boots the three cores at once with every step's hold armed; each time a hold catches a
 * request, crashes its node (`crash`), lets the request go, brings the node back (`recover`),
 * and goes on until every hold fired, or every core finished its bootstrap without reaching the
 * rest (`unreached`: a step the bootstrap skipped, as one that stops storing Vault's init would).
 * A node's recovery (a 30 s RestartSec, a reboot) runs while the other holds are watched: nodes
 * come back side by side, and a node is crashed again only once its last recovery finished.
 */
async function raceWithCrashes<T>(world: World, steps: readonly CrashStep[], crash: (m: Machine) => Promise<T>, recover: (m: Machine, crashed: T) => Promise<void>): Promise<{ caught: Record<string, string>; unreached: string[] }> {
  await world.reset();
  world.faults({ hold: steps.map(({ step: _step, ...h }) => h) });
  await Promise.all(CORES.map((n) => world.machine(n).boot()));
  const caught: Record<string, string> = {};
  const pending = new Set(steps.map((s) => s.id));
  const recovering = new Map<string, Promise<void>>();
  const failed: unknown[] = [];
  let polls = 0;
  // Bounded: each step must be reached within 15 minutes of the previous one.
  while (pending.size) {
    const next = await until(`one of the holds ${[...pending].join(", ")} to catch a request`, async () => {
      for (const s of steps) {
        const n = pending.has(s.id) ? heldNode(world.stateDir, s.id) : undefined;
        if (n) return { step: s, node: n };
      }
      // Every 5 s: have all cores finished without reaching the pending steps?
      if (++polls % 20 === 0) {
        const runs = await Promise.all(CORES.map((n) => bootstrapRun(world.machine(n))));
        if (runs.every((r) => r.activeState === "active" && r.result === "success")) return { finished: true as const };
      }
      return undefined;
    }, 15 * 60 * 4, 250);
    if ("finished" in next) break;
    log(`${next.step.id}: holding ${next.node} at ${next.step.step}; crashing it`);
    const m = world.machine(next.node);
    await recovering.get(next.node);
    if (failed.length) throw failed[0];
    const crashed = await crash(m);
    releaseHold(world.stateDir, next.step.id);
    recovering.set(next.node, recover(m, crashed).catch((e: unknown) => void failed.push(e)));
    pending.delete(next.step.id);
    caught[next.step.id] = next.node;
  }
  await Promise.all(recovering.values());
  if (failed.length) throw failed[0];
  return { caught, unreached: [...pending] };
}

describeIf(machineTierUnavailable(), "machine tier: lifecycle", () => {
  let world: World;
  const started = Date.now();

  beforeAll(async () => {
    world = await createWorld(log);
  }, 30 * 60_000);

  afterAll(async () => {
    log(`lifecycle scenarios took ${Math.round((Date.now() - started) / 1000)} s`);
    await world?.teardown();
  }, 5 * 60_000);

  afterEach(() => logFailure(world, log));

  /**
   * kill -9 of the bootstrap's main process (systemd kills the rest of its control group), then
   * systemd's own Restart= reruns it: what a reboot would rerun. At most startLimitBurst-1 kills
   * in all, so no node can exhaust the unit's start limit even if every hold catches it.
   */
  const KILL_STEPS: readonly CrashStep[] = [
    { id: "kill-ca", step: "core_tls: offering the CA candidate (tls/ca), nothing agreed or written yet", source: "ssm", event: "PutParameter", name: "tls/ca", then: "drop" },
    { id: "kill-consul-acl", step: "acl_bootstrap consul: bootstrapped with the stored management token, the answer never seen", source: "consul", event: "bootstrap", then: "apply" },
    { id: "kill-agent-token", step: "core_consul_acls: an agent token made in Consul, not yet stored (consul/agent-token)", source: "ssm", event: "PutParameter", name: "consul/agent-token", then: "drop" },
    { id: "kill-init-lock", step: "vault_init: the init lock (vault/init-lock) taken, the answer never seen", source: "ssm", event: "PutParameter", name: "vault/init-lock", then: "apply" },
  ];

  test(`kill -9 of the bootstrap at each step (${KILL_STEPS.map((s) => s.id).join(", ")}), rerun by systemd: the core converges, nothing secret lost or left`, async () => {
    expect(KILL_STEPS.length).toBeLessThan(BOOTSTRAP_RESTART.startLimitBurst);
    const steps = KILL_STEPS.map((s) => ({ ...s, name: s.name && param(world, s.name) }));
    const { caught, unreached } = await raceWithCrashes(world, steps, killBootstrap, (m, before) => restartedBootstrap(m, before, (BOOTSTRAP_RESTART.restartSec + 120) * 1000));
    log(`kill -9 steps caught: ${JSON.stringify(caught)}`);
    world.faults({}); // every hold is spent or unreached: the rebuilds that follow run on this cluster without them
    expect(await settled(world, CORES)).toEqual([]);
    await expectCoreConverged(world);
    await expectSecretsKept(world);
    expect(unreached).toEqual([]);
  }, 60 * 60_000);

  /**
   * Run alone (`jest -t`), a rebuild first boots the converged core that the kill -9 race (the
   * first scenario: a race that ends converged, checked) would have left.
   */
  async function ensureCore(): Promise<void> {
    const down = CORES.filter((n) => !world.machine(n).running);
    if (down.length === 0) return;
    await Promise.all(down.map((n) => world.machine(n).boot()));
    expect(await settled(world, down)).toEqual([]);
    await expectCoreConverged(world);
  }

  test("a core node rebuilt with its data volume kept: Consul only ever runs with its agent and DNS tokens, the core converges (defect 5)", async () => {
    await ensureCore();
    const owner = initLockOwner(world);
    const name = CORES.find((n) => n !== owner && n === "core-2") ?? (CORES.find((n) => n !== owner) as string);
    const m = world.machine(name);
    await m.stop();
    const since = lastSeq(world);
    await m.boot({ keepRoot: false }); // a new root volume; the data volume file is kept
    expect(await settled(world, [name])).toEqual([]);
    const starts = events(world).filter((e) => e.seq > since && e.node === name && e.source === "consul" && e.event === "start");
    expect(starts.length).toBeGreaterThan(0);
    // The agent serves DNS and anti-entropy from its first start on: tokens.json is there before Consul.
    for (const s of starts) expect({ seq: s.seq, tokens: s.tokens }).toEqual({ seq: s.seq, tokens: expect.arrayContaining(["agent", "dns"]) });
    await expectCoreConverged(world);
  }, 20 * 60_000);

  test("the Vault init-lock owner rebuilt with a new data volume joins the one Vault cluster instead of initialising a second (defect 6)", async () => {
    await ensureCore();
    const owner = initLockOwner(world);
    const m = world.machine(owner);
    await m.stop();
    m.replaceVolume();
    // A fresh raft peer says "not initialised" until its join completes (as Vault does): long
    // enough that an owner trusting its own answer would initialise.
    world.faults({ vault: { joinDelaySeconds: 30 } });
    const since = lastSeq(world);
    await m.boot({ keepRoot: false });
    expect(await settled(world, [owner])).toEqual([]);
    // Defect 6 shows here first: a second successful operator init, into a one-node cluster.
    expect(vaultInitialisedOnce(events(world))).toEqual([]);
    // Vault's retry_join runs on its own: the bootstrap may finish before the join does.
    const joined = () => events(world).filter((e) => e.seq > since && e.node === owner && e.source === "vault" && e.event === "raft-joined");
    await until(`${owner}: Vault's raft join`, () => (joined().length ? true : undefined), 180, 1000);
    expect(joined()).toHaveLength(1);
    const mine = events(world).filter((e) => e.seq > since && e.node === owner);
    expect(mine.filter((e) => e.source === "consul" && e.event === "start").at(-1)?.tokens).toEqual(expect.arrayContaining(["agent", "dns"]));
    const status = await m.exec(["env", "VAULT_ADDR=https://127.0.0.1:8200", "VAULT_CACERT=/etc/bitte/tls/ca.pem", "vault", "operator", "init", "-status"], { check: false });
    expect(status.stdout.trim()).toBe("Vault is initialized");
    await expectCoreConverged(world);
    await expectSecretsKept(world);
    world.faults({});
  }, 20 * 60_000);

  /** A crash of the whole container (SIGKILL to its init), then a reboot with root and data volume kept. */
  const CRASH_STEPS: readonly CrashStep[] = [
    { id: "crash-before-init", step: "vault_init: the lock is this node's, operator init not yet applied", source: "vault", event: "init", then: "drop" },
    { id: "crash-init-output", step: "store_vault_init_output: the init output on /data/bitte, nothing stored (vault/recovery-keys) (defect 7)", source: "ssm", event: "PutParameter", name: "vault/recovery-keys", then: "drop" },
    { id: "crash-root-token", step: "store_vault_init_output: recovery keys stored, the root token (vault/root-token) in flight", source: "ssm", event: "PutParameter", name: "vault/root-token", then: "apply" },
    { id: "crash-autopilot", step: "vault_autopilot: everything stored, autopilot not set, the init output still on disk", source: "vault", event: "autopilot", then: "drop" },
    { id: "crash-node-pki", step: "vault_node_pki: autopilot set, pki_nodes enabled (the answer never seen), no issuer yet, the init output still on disk", source: "vault", event: "mount_enable", then: "apply" },
    { id: "crash-nomad-acl", step: "acl_bootstrap nomad: bootstrapped, the answer never seen, the node not yet marked bootstrapped", source: "nomad", event: "bootstrap", then: "apply" },
  ];

  test(`a crash of the whole container at each step that leaves state on disk (${CRASH_STEPS.map((s) => s.id).join(", ")}), then a reboot: the core converges, nothing secret lost or left`, async () => {
    const steps = CRASH_STEPS.map((s) => ({ ...s, name: s.name && param(world, s.name) }));
    const { caught, unreached } = await raceWithCrashes(world, steps, (m) => m.stop("crash", 30_000), (m) => m.boot({ keepRoot: true })); // a reboot: same root, same data volume
    log(`container crash steps caught: ${JSON.stringify(caught)}`);
    expect(await settled(world, CORES)).toEqual([]);
    await expectCoreConverged(world);
    await expectSecretsKept(world);
    expect(unreached).toEqual([]);
  }, 60 * 60_000);
});
