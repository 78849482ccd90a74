/**
 * The machine tier's lifecycle scenarios (issue 11): crashes by kill -9 of the bootstrap at
 * chosen steps of the core bootstrap, rerun by systemd, then the Vault init-lock owner rebuilt
 * with a new data volume. Its own world (every name per jest pid), so it runs beside the cluster
 * file and crash.machine.test.ts (crashes of the whole container, and the rebuild with the data
 * volume kept: the files' work is split so that none waits long for the others' CPU). The
 * scenarios run in order: the kill -9 race first, which ends in the converged core the rebuild
 * starts from (the plain three-core race is the cluster file's; a second one here would only cost
 * a race).
 *
 * Crashes land at a step boundary deterministically: a hold (standins/py/bitte_standins/holds.py)
 * stops the chosen request at the stand-in BEFORE it is applied and marks it; the test sees the
 * mark, crashes the caller, then lets the request go: dropped (it never happened) or applied (it
 * happened, the crashed caller never saw the answer).
 */
import { BOOTSTRAP_RESTART } from "../../constructs/node-config/systemd";
import { describeIf } from "../harness/tools";
import { vaultInitialisedOnce } from "./harness/checks";
import { machineTierUnavailable } from "./harness/env";
import { until } from "./harness/exec";
import { killBootstrap, restartedBootstrap } from "./harness/lifecycle";
import { ensureCore, events, expectCoreConverged, expectSecretsKept, initLockOwner, lastSeq, param, raceWithCrashes, type CrashStep } from "./harness/races";
import { CORES, logFailure, settled } from "./harness/scenario";
import { createWorld, type World } from "./harness/world";

const log = (m: string) => process.stderr.write(`[lifecycle] ${m}\n`);
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
    const { caught, unreached } = await raceWithCrashes(world, steps, killBootstrap, (m, before) => restartedBootstrap(m, before, (BOOTSTRAP_RESTART.restartSec + 120) * 1000), log);
    log(`kill -9 steps caught: ${JSON.stringify(caught)}`);
    world.faults({}); // every hold is spent or unreached: the rebuilds that follow run on this cluster without them
    expect(await settled(world, CORES)).toEqual([]);
    await expectCoreConverged(world);
    await expectSecretsKept(world);
    expect(unreached).toEqual([]);
  }, 60 * 60_000);

  test("the Vault init-lock owner rebuilt with a new data volume joins the one Vault cluster instead of initialising a second (defect 6)", async () => {
    await ensureCore(world);
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
});
