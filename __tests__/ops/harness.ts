/**
 * Runs the on-node operations scripts (bitte-snapshot, bitte-alertmanager-config) exactly as
 * rendered, against the stand-ins in ./stubs: IMDSv2 and Consul's leader endpoint (curl), SSM,
 * EC2 tags and an S3 bucket directory (aws), and the consul/nomad/vault CLIs.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { defineCluster } from "../../clusters/spec";
import type { NodeFile } from "../../constructs/node-config";
import { testClusterSpec, testGroup } from "../harness/specs";

export const STUBS = join(__dirname, "stubs");

/** A cluster with every operations field set. */
export const OPS_CLUSTER = defineCluster(
  testClusterSpec("ops", {
    clientGroups: [
      testGroup({ min: 0, desired: 0, max: 6, autoscaling: { cpuTargetPercent: 60, cooldownMinutes: 3 } }),
      testGroup({ name: "batch", region: "us-east-2", max: 4, nodeClass: "workers", autoscaling: {} }),
      testGroup({ name: "fixed", min: 2, desired: 2, max: 2 }),
    ],
    snapshots: { intervalMinutes: 30, retentionDays: 14 },
    alerts: { email: ["oncall@example.com"], webhook: { url: "https://hooks.example.com/alertmanager" } },
  }),
);

export function tempRoot(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `bitte-ops-${prefix}-`));
}

/** Writes a rendered file's content under `root` (same relative path), returning where. */
export function place(root: string, file: NodeFile): string {
  const path = join(root, file.path);
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, file.content, { mode: parseInt(file.permissions, 8) });
  return path;
}

/** Overrides an env file's variables by appending (the scripts source it; later wins). */
export function envWith(path: string, content: string, overrides: Record<string, string>): void {
  writeFileSync(path, content + Object.entries(overrides).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join("\n") + "\n");
}

export interface RunResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a script with the stubs first on PATH; bounded by a timeout. */
export function runScript(script: string, env: Record<string, string>, timeoutMs = 60_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [script], { env: { ...process.env, ...env, PATH: `${STUBS}${delimiter}${process.env.PATH ?? ""}` }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ status: code ?? -1, stdout, stderr });
    });
  });
}
