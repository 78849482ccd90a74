/**
 * What the lifecycle files share (lifecycle.machine.test.ts: kill -9 race and the init-lock
 * owner's rebuild; crash.machine.test.ts: container crashes and the rebuild with the data volume
 * kept): the checks that a core converged and kept its
 * secrets, and the race that crashes a node at each held step.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { bootstrapParameters } from "../../../constructs/hashistack-bootstrap/parameters";
import { protocolViolations, readEvents, type StandinEvent } from "./checks";
import { until } from "./exec";
import { bootstrapRun, heldNode, releaseHold, scanFiles, secretLeaks, storedSecrets, type Hold } from "./lifecycle";
import type { Machine } from "./machine";
import { CORE_UNITS, CORES, settled } from "./scenario";
import type { World } from "./world";

/** Where a core node keeps files with secrets: configs, TLS, environment files, the bootstrap's state. */
export const SECRET_DIRS = ["/etc/bitte", "/etc/consul.d", "/etc/nomad.d", "/etc/vault.d", "/var/lib/bitte", "/data/bitte"];

export const events = (world: World): StandinEvent[] => readEvents(join(world.stateDir, "events.jsonl"));
export const lastSeq = (world: World): number => events(world).reduce((s, e) => Math.max(s, e.seq), 0);
export const param = (world: World, name: string) => `${world.plan.cluster.ssmPrefix}/${name}`;

export function storedParameters(world: World): Record<string, { Value: string }> {
  return JSON.parse(readFileSync(join(world.stateDir, "ssm.json"), "utf8")) as Record<string, { Value: string }>;
}

/** The core node that holds vault/init-lock. */
export function initLockOwner(world: World): string {
  const v = storedParameters(world)[param(world, "vault/init-lock")]?.Value.trim();
  if (!v) throw new Error("vault/init-lock is not stored");
  return v;
}

/** The core converged: units active on every core, the protocol's checks over the whole log clean. */
export async function expectCoreConverged(world: World): Promise<void> {
  for (const n of CORES) expect({ [n]: await world.machine(n).unitStates(CORE_UNITS) }).toEqual({ [n]: { consul: "active", vault: "active", nomad: "active" } });
  expect(protocolViolations(events(world), world.plan.cluster.ssmPrefix)).toEqual([]);
}

/**
 * Run alone (`jest -t`), a scenario that starts from a converged core first boots the one the
 * file's race (a race that ends converged, checked) would have left.
 */
export async function ensureCore(world: World): Promise<void> {
  const down = CORES.filter((n) => !world.machine(n).running);
  if (down.length === 0) return;
  await Promise.all(down.map((n) => world.machine(n).boot()));
  expect(await settled(world, down)).toEqual([]);
  await expectCoreConverged(world);
}

/**
 * Nothing secret lost: every parameter the table has core nodes create exists, and Vault's root
 * token and recovery keys in SSM are those of the one Vault cluster. Nothing secret left: no
 * secret readable by others, no interrupted write, no init output on any core.
 */
export async function expectSecretsKept(world: World): Promise<void> {
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
export interface CrashStep extends Hold { readonly step: string }

/**
 * Boots the three cores at once with every step's hold armed; each time a hold catches a
 * request, crashes its node (`crash`), lets the request go, brings the node back (`recover`),
 * and goes on until every hold fired, or every core finished its bootstrap without reaching the
 * rest (`unreached`: a step the bootstrap skipped, as one that stops storing Vault's init would).
 * A node's recovery (a 30 s RestartSec, a reboot) runs while the other holds are watched: nodes
 * come back side by side, and a node is crashed again only once its last recovery finished.
 */
export async function raceWithCrashes<T>(world: World, steps: readonly CrashStep[], crash: (m: Machine) => Promise<T>, recover: (m: Machine, crashed: T) => Promise<void>, log: (m: string) => void): Promise<{ caught: Record<string, string>; unreached: string[] }> {
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
