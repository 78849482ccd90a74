/**
 * The machine tier's whole-node scenarios (issue 11): the whole container crashes (SIGKILL to
 * its init) at each step of the core bootstrap that leaves state on disk, then reboots with root
 * and data volume kept; then a core node is rebuilt (a new root volume) with its data volume kept.
 * Its own world, so it runs beside the cluster and lifecycle files; the race and its checks are
 * harness/races.ts, shared with the kill -9 race.
 */
import { describeIf } from "../harness/tools";
import { machineTierUnavailable } from "./harness/env";
import { ensureCore, events, expectCoreConverged, expectSecretsKept, initLockOwner, lastSeq, param, raceWithCrashes, type CrashStep } from "./harness/races";
import { CORES, logFailure, settled } from "./harness/scenario";
import { createWorld, type World } from "./harness/world";

const log = (m: string) => process.stderr.write(`[crash] ${m}\n`);

describeIf(machineTierUnavailable(), "machine tier: container crashes", () => {
  let world: World;
  const started = Date.now();

  beforeAll(async () => {
    world = await createWorld(log);
  }, 30 * 60_000);

  afterAll(async () => {
    log(`container crash scenario took ${Math.round((Date.now() - started) / 1000)} s`);
    await world?.teardown();
  }, 5 * 60_000);

  afterEach(() => logFailure(world, log));

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
    const { caught, unreached } = await raceWithCrashes(world, steps, (m) => m.stop("crash", 30_000), (m) => m.boot({ keepRoot: true }), log); // a reboot: same root, same data volume
    log(`container crash steps caught: ${JSON.stringify(caught)}`);
    world.faults({}); // every hold is spent or unreached: the rebuild that follows runs on this cluster without them
    expect(await settled(world, CORES)).toEqual([]);
    await expectCoreConverged(world);
    await expectSecretsKept(world);
    expect(unreached).toEqual([]);
  }, 60 * 60_000);

  test("a core node rebuilt with its data volume kept: Consul only ever runs with its agent and DNS tokens, the core converges (defect 5)", async () => {
    await ensureCore(world);
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
});
