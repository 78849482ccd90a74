/**
 * Runs the real `bitte-aws` (botocore) against the local SSM / Auto Scaling stand-in endpoint,
 * which speaks the real wire protocols and injects throttling.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";

export const AWS_CLIENT = join(__dirname, "../../constructs/node-config/aws/bitte-aws.py");
const ENDPOINT = join(__dirname, "standins/aws-endpoint.py");

export interface Endpoint {
  /** Where bitte-aws is pointed: the HTTPS port as `https://localhost:<port>` when started with `--tls`. */
  readonly url: string;
  /** Environment that points botocore at the stand-in with throwaway credentials. */
  readonly env: NodeJS.ProcessEnv;
  state(): Promise<{ parameters: Record<string, { Value: string; Type: string; KeyId?: string }>; calls: { op: string; name?: string }[] }>;
  stop(): void;
}

/** Starts the stand-in; faults as its flags take them (`--throttle GetParameter=3`; `--tls cert key` serves HTTPS too). */
export function startEndpoint(flags: readonly string[] = []): Promise<Endpoint> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn("python3", [ENDPOINT, ...flags], { stdio: ["ignore", "pipe", "inherit"] });
    const timer = setTimeout(() => (child.kill(), reject(new Error("the AWS stand-in did not start in 20 s"))), 20_000);
    child.on("error", reject);
    child.stdout?.once("data", (d: Buffer) => {
      clearTimeout(timer);
      const [plain, tls] = d.toString().trim().split(" ");
      const control = `http://127.0.0.1:${plain}`;
      const url = tls ? `https://localhost:${tls}` : control;
      resolve({
        url,
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          AWS_ACCESS_KEY_ID: "AKIDBITTETEST",
          AWS_SECRET_ACCESS_KEY: "bitte-test-secret",
          AWS_CONFIG_FILE: "/nonexistent",
          AWS_SHARED_CREDENTIALS_FILE: "/nonexistent",
          AWS_EC2_METADATA_DISABLED: "true",
          AWS_ENDPOINT_URL_SSM: url,
          AWS_ENDPOINT_URL_AUTO_SCALING: url,
        },
        state: async () => (await fetch(`${control}/_state`)).json(),
        stop: () => void child.kill(),
      });
    });
  });
}
