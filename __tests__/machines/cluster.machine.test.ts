/**
 * The machine tier: every role's user data, exactly as synthesized, booted under real systemd and
 * cloud-init in systemd-nspawn containers on a test-only network (see README, "How the machine
 * tier works"). The scenarios share one world and run in order.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describeIf } from "../harness/tools";
import { machineTierUnavailable } from "./harness/env";
import { tail } from "./harness/machine";
import { createWorld, type World } from "./harness/world";

const log = (m: string) => process.stderr.write(`[machines] ${m}\n`);

describeIf(machineTierUnavailable(), "machine tier", () => {
  let world: World;

  beforeAll(async () => {
    world = await createWorld(log);
  }, 30 * 60_000);

  afterAll(async () => {
    await world?.teardown();
  }, 5 * 60_000);

  test("a core node boots systemd and runs cloud-init on its synthesized user data, unchanged", async () => {
    const core1 = world.machine("core-1");
    await core1.boot();
    const status = await core1.cloudInitDone(10 * 60_000);
    const plan = world.plan.machines.find((m) => m.name === "core-1");
    const seed = (await core1.exec(["cat", "/var/lib/cloud/seed/nocloud/user-data"])).stdout;
    expect(seed).toBe(plan?.userData);
    // cloud-init consumed exactly that document.
    const consumed = (await core1.exec(["cat", "/var/lib/cloud/instance/user-data.txt"])).stdout;
    expect(consumed).toBe(plan?.userData);
    expect(status).toMatch(/status: (done|error)/);
    const pid1 = (await core1.exec(["cat", "/proc/1/comm"])).stdout.trim();
    expect(pid1).toBe("systemd");
    log(`core-1 cloud-init: ${status}\n${tail(core1.consoleLog, 5)}`);
    void readFileSync;
    void join;
  }, 20 * 60_000);
});
