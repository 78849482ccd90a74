/** Running programs for the machine tier: bounded in time, never through a shell string. */
import { spawn, spawnSync } from "node:child_process";

export interface Result { readonly status: number; readonly stdout: string; readonly stderr: string }

/** Runs argv synchronously; `check` throws with the program's stderr on a non-zero exit. */
export function sh(argv: readonly string[], opts: { input?: string; timeoutMs?: number; check?: boolean; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Result {
  const r = spawnSync(argv[0], argv.slice(1), { cwd: opts.cwd, input: opts.input, encoding: "utf8", timeout: opts.timeoutMs ?? 120_000, maxBuffer: 64 << 20, env: opts.env ?? process.env });
  if (r.error) throw new Error(`${argv.join(" ")}: ${r.error.message}`);
  const res = { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  if ((opts.check ?? true) && res.status !== 0) throw new Error(`${argv.join(" ")} exited ${res.status}:\n${res.stderr}${res.stdout}`.slice(0, 8000));
  return res;
}

/** The same, asynchronously, so several containers can be worked on at once. */
export function shAsync(argv: readonly string[], opts: { timeoutMs?: number; check?: boolean; input?: string } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    // No input: stdin is /dev/null (EOF at once, as `s_client` needs). With input, a program
    // that exits without reading it closes the pipe: that EPIPE is not the program's result.
    const child = spawn(argv[0], argv.slice(1), { stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 120_000);
    child.on("error", (e) => { clearTimeout(timer); reject(e); });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const res = { status: code ?? -1, stdout, stderr: signal ? `${stderr}\n(killed by ${signal}: timeout ${opts.timeoutMs ?? 120_000} ms)` : stderr };
      if ((opts.check ?? true) && res.status !== 0) reject(new Error(`${argv.join(" ")} exited ${res.status}:\n${res.stderr}${res.stdout}`.slice(0, 8000)));
      else resolve(res);
    });
    if (child.stdin) {
      child.stdin.on("error", (e: NodeJS.ErrnoException) => { if (e.code !== "EPIPE") reject(e); });
      child.stdin.end(opts.input);
    }
  });
}

/** Polls `probe` until it returns a value, at most `attempts` times `intervalMs` apart. */
export async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, attempts: number, intervalMs: number): Promise<T> {
  let last: unknown;
  for (let i = 0; i < attempts; i++) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out after ${attempts} × ${intervalMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`);
}
