/**
 * A `Context` for command tests: SDK clients one per region (so aws-sdk-client-mock can answer
 * per region), a scripted process runner, a stubbed HTTP function and a fake clock.
 */
import { AutoScalingClient } from "@aws-sdk/client-auto-scaling";
import { EC2Client } from "@aws-sdk/client-ec2";
import { SSMClient } from "@aws-sdk/client-ssm";
import { STSClient } from "@aws-sdk/client-sts";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import example from "../../clusters/example";
import type { Cluster } from "../../clusters/spec/types";
import type { AwsClients, Context, Http, RunOptions, RunResult } from "../../cli/context";
import { RecordingProgress } from "../../cli/progress";

export const cluster: Cluster = example;

/** Fake credentials so no client ever looks for real ones (every call is mocked anyway). */
const credentials = { accessKeyId: "AKIATEST", secretAccessKey: "test" };

export function regionalClients(): AwsClients & { readonly made: Map<string, unknown> } {
  const made = new Map<string, unknown>();
  const get = <T>(key: string, make: () => T): T => (made.get(key) as T) ?? (made.set(key, make()), made.get(key) as T);
  return {
    made,
    ec2: (region) => get(`ec2:${region}`, () => new EC2Client({ region, credentials })),
    ssm: (region) => get(`ssm:${region}`, () => new SSMClient({ region, credentials })),
    autoScaling: (region) => get(`asg:${region}`, () => new AutoScalingClient({ region, credentials })),
    sts: (region) => get(`sts:${region}`, () => new STSClient({ region, credentials })),
  };
}

export interface RunCall {
  readonly command: string;
  readonly args: readonly string[];
  readonly options: RunOptions;
}

export interface TestContext extends Context {
  readonly out: string[];
  readonly progress: RecordingProgress;
  readonly calls: RunCall[];
  /** Milliseconds the fake clock has advanced. */
  elapsed(): number;
}

export function testContext(overrides: { aws?: AwsClients; run?: (call: RunCall) => RunResult | Promise<RunResult>; http?: Http; env?: Record<string, string | undefined>; projectDir?: string } = {}): TestContext {
  let t = 0;
  const out: string[] = [];
  const calls: RunCall[] = [];
  return {
    aws: overrides.aws ?? regionalClients(),
    run: async (command, args, options) => {
      const call = { command, args, options };
      calls.push(call);
      return overrides.run ? overrides.run(call) : { code: 0, stdout: "", stderr: "" };
    },
    http:
      overrides.http ??
      (async () => {
        throw new Error("no HTTP in this test");
      }),
    stdout: { write: (s) => void out.push(s) },
    progress: new RecordingProgress(),
    env: overrides.env ?? {},
    projectDir: overrides.projectDir ?? "/project",
    sleep: async (ms) => {
      t += ms;
    },
    now: () => t,
    out,
    calls,
    elapsed: () => t,
  };
}

/** A synthesized output directory holding the given stacks' JSON. */
export function synthDir(stacks: Record<string, unknown>, options: { initialized?: boolean } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "bitte-cli-test-"));
  for (const [id, json] of Object.entries(stacks)) {
    mkdirSync(join(dir, "cdktf.out", "stacks", id), { recursive: true });
    writeFileSync(join(dir, "cdktf.out", "stacks", id, "cdk.tf.json"), JSON.stringify(json));
    if (options.initialized !== false) mkdirSync(join(dir, "cdktf.out", "stacks", id, ".terraform"));
  }
  return dir;
}

/** A core stack in the shape the contract promises: aws_instance per fixed node, tagged Name. */
export function fakeCoreStack(clusterName = cluster.name): Record<string, unknown> {
  const resource: Record<string, Record<string, unknown>> = { aws_instance: {}, aws_volume_attachment: {}, aws_ebs_volume: {}, aws_network_interface: {} };
  for (const name of ["core-1", "core-2", "core-3", "monitoring"]) {
    const id = `${name.replace("-", "_")}_instance_ABC123`;
    resource.aws_instance[id] = { tags: { Name: name, Role: name.startsWith("core") ? "core" : "monitoring" }, network_interface: [{ network_interface_id: `\${aws_network_interface.${name}_eni.id}` }] };
    resource.aws_network_interface[`${name}_eni`] = { private_ips: ["10.0.0.1"] };
    resource.aws_ebs_volume[`${name}_data`] = { size: 50 };
    resource.aws_volume_attachment[`${name}_data_attachment`] = { instance_id: `\${aws_instance.${id}.id}`, volume_id: `\${aws_ebs_volume.${name}_data.id}` };
  }
  return {
    provider: { aws: [{ alias: cluster.coreRegion, region: cluster.coreRegion, default_tags: [{ tags: { Cluster: clusterName, ManagedBy: "bitte" } }] }] },
    resource,
  };
}

export const coreAddress = (name: string) => `aws_instance.${name.replace("-", "_")}_instance_ABC123`;
