/** What the machine tier's scenario files share: the core's names, waits for a boot, and diagnostics. */
import { join } from "node:path";
import { until } from "./exec";
import { bootstrapRun } from "./lifecycle";
import { tail, type Machine } from "./machine";
import type { World } from "./world";

export const CORES = ["core-1", "core-2", "core-3"] as const;
export const CORE_UNITS = ["consul", "vault", "nomad"] as const;

export async function journal(m: Machine, unit: string): Promise<string> {
  return (await m.exec(["journalctl", "--no-pager", "-o", "cat", "-u", unit], { check: false })).stdout;
}

/**
 * How often the harness asks systemd about a unit: each ask is an nsenter and a systemctl on a
 * CPU-bound runner, each second of interval is half a second of latency per wait on average.
 */
export const POLL_MS = 1_000;

/** Waits (bounded: `attempts` × POLL_MS) for the bootstrap unit to settle; returns systemd's Result (`success` or why not). */
export async function bootstrapResult(m: Machine, attempts = 900): Promise<string> {
  return until(`${m.props.name}: bitte-bootstrap to finish`, async () => {
    const r = await bootstrapRun(m);
    return r.activeState === "active" || r.activeState === "failed" ? r.result : undefined;
  }, attempts, POLL_MS);
}

/** Waits for cloud-init (when it runs) and the bootstrap on each machine; returns failures with their logs. */
export async function settled(world: World, names: readonly string[], attempts?: number): Promise<string[]> {
  const problems: string[] = [];
  await Promise.all(names.map(async (n) => {
    const m = world.machine(n);
    const status = await m.cloudInitDone(15 * 60_000);
    if (!/status: done/.test(status)) problems.push(`${n}: cloud-init ${status.trim()}`);
    const result = await bootstrapResult(m, attempts).catch((e: Error) => e.message);
    if (result !== "success") problems.push(`${n}: bitte-bootstrap ${result}\n${(await journal(m, "bitte-bootstrap")).slice(-3000)}`);
  }));
  return problems;
}

/** After a failed test: the machines' consoles and the stand-ins' log say why. */
export function logFailure(world: World | undefined, log: (m: string) => void): void {
  if (!world) return;
  const state = expect.getState();
  if (state.assertionCalls > 0 && state.numPassingAsserts === state.assertionCalls) return;
  for (const m of world.machines.values()) log(`--- ${m.props.name} console ---\n${tail(m.consoleLog, 15)}`);
  log(`--- stand-ins ---\n${tail(join(world.dir, "standins.log"), 30)}`);
}
