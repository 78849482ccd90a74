/**
 * The real implementations behind `Context`: AWS SDK clients (created once per region and
 * service), child processes, global fetch, the process streams.
 */
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import type { AwsClients, Context, Http, Runner } from "./context";
import { awsCall } from "./errors";
import { streamProgress } from "./progress";

/** Loads a module on first use (CommonJS require, relative to this file): keeps `--help` fast. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const load = <T>(id: string): T => require(id) as T;

function memo<T>(make: (region: string) => T): (region: string) => T {
  const cache = new Map<string, T>();
  return (region) => cache.get(region) ?? cache.set(region, make(region)).get(region)!;
}

/** SDK clients, loaded on first use so `--help` never pays for them. */
export function realAwsClients(): AwsClients {
  quietNodeVersionNotice();
  /* eslint-disable @typescript-eslint/no-require-imports */
  return {
    ec2: memo((region) => new (require("@aws-sdk/client-ec2") as typeof import("@aws-sdk/client-ec2")).EC2Client({ region })),
    ssm: memo((region) => new (require("@aws-sdk/client-ssm") as typeof import("@aws-sdk/client-ssm")).SSMClient({ region })),
    autoScaling: memo((region) => new (require("@aws-sdk/client-auto-scaling") as typeof import("@aws-sdk/client-auto-scaling")).AutoScalingClient({ region })),
    sts: memo((region) => new (require("@aws-sdk/client-sts") as typeof import("@aws-sdk/client-sts")).STSClient({ region })),
  };
  /* eslint-enable @typescript-eslint/no-require-imports */
}

/**
 * The SDK prints a notice on every run under Node 20 about its releases from 2027 on; the
 * project supports Node ≥ 20.6 (package.json engines), so an operator's output skips it.
 */
function quietNodeVersionNotice(): void {
  try {
    load<{ state: { warningEmitted: boolean } }>("@aws-sdk/core/client").state.warningEmitted = true;
  } catch {
    // An SDK without this switch just prints its notice.
  }
}

export const realRunner: Runner = (command, args, options) =>
  new Promise((done, fail) => {
    const stdio = options.stdio === "inherit" ? "inherit" : options.stdio === "stderr" ? (["ignore", process.stderr, process.stderr] as const) : "pipe";
    const child = spawn(command, args, { cwd: options.cwd, env: (options.env ?? process.env) as NodeJS.ProcessEnv, stdio: stdio as never });
    let stdout = "";
    let stderr = "";
    child.stdout?.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr?.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    // While the child owns the terminal, Ctrl-C is its business (like a shell).
    const ignore = () => undefined;
    if (options.stdio === "inherit") process.on("SIGINT", ignore);
    const cleanup = () => process.off("SIGINT", ignore);
    child.on("error", (err) => {
      cleanup();
      fail(err);
    });
    child.on("close", (code, signal) => {
      cleanup();
      const signals: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
      done({ code: code ?? 128 + (signal ? (signals[signal] ?? 0) : 0), stdout, stderr });
    });
  });

export const realHttp: Http = (url, init) => fetch(url, { method: init.method ?? "GET", headers: init.headers, body: init.body, signal: AbortSignal.timeout(15_000) });

export function realContext(): Context {
  return {
    aws: realAwsClients(),
    run: realRunner,
    http: realHttp,
    stdout: { write: (t) => void process.stdout.write(t) },
    progress: streamProgress(process.stderr),
    env: process.env,
    projectDir: resolve(__dirname, ".."),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    now: () => Date.now(),
  };
}

/** Fails early, with what to do, when there are no usable AWS credentials. */
export async function verifyCredentials(ctx: Context, region: string): Promise<void> {
  const { GetCallerIdentityCommand } = load<typeof import("@aws-sdk/client-sts")>("@aws-sdk/client-sts");
  await awsCall(`sts:GetCallerIdentity in ${region}`, () => ctx.aws.sts(region).send(new GetCallerIdentityCommand({})));
}
