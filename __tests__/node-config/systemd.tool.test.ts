/**
 * Rendered units through systemd's own checker. Defect 8 (issue 11): the bootstrap oneshot must
 * rerun on failure, bounded in count and time.
 */
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PATHS } from "../../constructs/node-config";
import { describeWithTools, run } from "../harness/tools";
import { cluster, fileOf } from "./render-helpers";

describeWithTools(["systemd-analyze"], "systemd-analyze verify", () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), "bitte-units-"))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("the bootstrap unit is valid and reruns a failed bootstrap, bounded", () => {
    const unit = fileOf({ cluster, role: "core", nodeName: "core-1" }, "/etc/systemd/system/bitte-bootstrap.service");
    // The script lives at its node path only on a node: point ExecStart at a copy of it.
    const script = join(dir, "bitte-bootstrap");
    copyFileSync(join(__dirname, "../../constructs/node-config/scripts/bitte-bootstrap.sh"), script);
    run("chmod", ["0755", script]);
    const path = join(dir, "bitte-bootstrap.service");
    writeFileSync(path, unit.replace(`ExecStart=${PATHS.bootstrapScript}`, `ExecStart=${script}`));
    const r = run("systemd-analyze", ["verify", "--man=no", path]);
    expect(r.stdout + r.stderr.split("\n").filter((l) => l.includes("bitte-bootstrap")).join("\n")).toBe("");
    expect(r.status).toBe(0);
    const show = (key: string) => new RegExp(`^${key}=(.*)$`, "m").exec(unit)?.[1];
    expect(show("Restart")).toBe("on-failure");
    expect(Number(show("RestartSec"))).toBeGreaterThan(0);
    expect(Number(show("StartLimitBurst"))).toBeGreaterThan(1);
    expect(Number(show("StartLimitIntervalSec"))).toBeGreaterThan(Number(show("RestartSec")) * Number(show("StartLimitBurst")));
    // A killed run's work directory goes with its private /tmp (lifecycle.machine.test.ts).
    expect(show("PrivateTmp")).toBe("yes");
  });
});
