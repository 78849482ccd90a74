/**
 * What every command's logic is given instead of reaching for globals: AWS clients per region,
 * a process runner, an HTTP function, the output streams and a clock. `cli/main.ts` wires the
 * real ones; tests pass stubs.
 */
import type { AutoScalingClient } from "@aws-sdk/client-auto-scaling";
import type { EC2Client } from "@aws-sdk/client-ec2";
import type { SSMClient } from "@aws-sdk/client-ssm";
import type { STSClient } from "@aws-sdk/client-sts";
import type { Progress } from "./progress";

/** AWS SDK v3 clients, one per service and region. */
export interface AwsClients {
  ec2(region: string): EC2Client;
  ssm(region: string): SSMClient;
  autoScaling(region: string): AutoScalingClient;
  sts(region: string): STSClient;
}

export interface RunOptions {
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * `inherit`: the child talks to the terminal; `stderr`: its output goes to our stderr (stdout
   * stays for results), no input; `pipe`: output is captured and returned.
   */
  readonly stdio: "inherit" | "stderr" | "pipe";
}

export interface RunResult {
  /** Exit code; a signal counts as 128 + its number, like a shell. */
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Starts a program and waits for it. Rejects only when it cannot be started (e.g. ENOENT). */
export type Runner = (command: string, args: readonly string[], options: RunOptions) => Promise<RunResult>;

/** The part of `fetch` the commands use (health checks, Vault's token API). */
export type Http = (
  url: string,
  init: {
    readonly headers: Record<string, string>;
    /** @default "GET" */
    readonly method?: "GET" | "POST";
    readonly body?: string;
  },
) => Promise<{ readonly status: number; json(): Promise<unknown> }>;

/** Where a command writes; stdout is for results only, stderr for progress and errors. */
export interface Output {
  write(text: string): void;
}

export interface Context {
  readonly aws: AwsClients;
  readonly run: Runner;
  readonly http: Http;
  readonly stdout: Output;
  readonly progress: Progress;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Project directory (where `cdktf.json` is). */
  readonly projectDir: string;
  readonly sleep: (ms: number) => Promise<void>;
  readonly now: () => number;
}
