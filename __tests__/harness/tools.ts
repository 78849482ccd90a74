/**
 * Finding the real programs the tool tier runs. A missing program makes its tests report as
 * skipped with the reason; under CI=true it fails instead, so CI never passes by skipping.
 */
import { spawnSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

/** Absolute path of `name` on PATH, or undefined. */
export function which(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Debian package that provides each tool, for the skip message. */
const PACKAGES: Readonly<Record<string, string>> = {
  "cloud-init": "cloud-init",
  shellcheck: "shellcheck",
  haproxy: "haproxy",
  "victoria-metrics": "victoria-metrics",
  openssl: "openssl",
  nft: "nftables",
  ip: "iproute2",
  vmalert: "victoria-metrics",
  amtool: "prometheus-alertmanager",
  promtool: "prometheus",
  terraform: "terraform (HashiCorp's release, not a Debian package)",
};

/** Why the tools are unusable, or undefined when all are present. */
export function missingTools(names: readonly string[]): string | undefined {
  const missing = names.filter((n) => which(n) === undefined);
  if (missing.length === 0) return undefined;
  return `not on PATH: ${missing.map((m) => `${m} (install: ${PACKAGES[m] ?? m})`).join(", ")}`;
}

/**
 * `describe` when `reason` is undefined; otherwise a skipped block that says why, or a thrown
 * error under CI=true.
 */
export function describeIf(reason: string | undefined, title: string, fn: () => void): void {
  if (reason === undefined) {
    describe(title, fn);
    return;
  }
  if (process.env.CI === "true") {
    throw new Error(`${title}: ${reason}. CI installs these in .ci/run; a missing tool fails CI instead of skipping.`);
  }
  describe(`${title} [skipped: ${reason}]`, () => {
    test.skip(`skipped: ${reason}`, () => undefined);
  });
}

/** `describe` over tests that need the named programs on PATH. */
export function describeWithTools(tools: readonly string[], title: string, fn: () => void): void {
  describeIf(missingTools(tools), title, fn);
}

/** Runs a program and returns its status and output; never throws for a non-zero exit. */
export function run(cmd: string, args: readonly string[], opts: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { cwd: opts.cwd, input: opts.input, env: opts.env ?? process.env, encoding: "utf8", timeout: opts.timeoutMs ?? 600_000, maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
