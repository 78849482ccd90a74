/**
 * The clients stack through real programs: Terraform (init, validate and a mocked apply with the
 * network and core outputs overridden), cloud-init's schema on every group's user data as it lands
 * in the JSON, shellcheck on the drain script and the document's wrapper, and the drain script run
 * end to end against stand-in `aws`, `curl`, `timeout` and `systemctl` (and a `nomad` it must not call).
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Cluster } from "../../clusters/spec";
import example from "../../clusters/example";
import { DRAIN_PARAMETERS } from "../../constructs/client-group";
import { DRAIN_GRACE_SECONDS } from "../../constructs/client-group/drain";
import { CLIENT_DRAIN_DEADLINE_SECONDS, rolePrograms } from "../../constructs/node-config";
import large from "../../scripts/large-cluster";
import { coreOutputs, networkOutputs } from "../../stacks/outputs";
import { resources, type StackJson } from "../harness/synth";
import { terraformTest, terraformUnavailable, type TfAssert } from "../harness/terraform";
import { describeIf, describeWithTools, run, which } from "../harness/tools";
import { clientsStack, documentContent, drainResources, groupResources, upstreamOutputs, userDataOf } from "./helpers";

const CLUSTERS: ReadonlyArray<readonly [string, Cluster]> = [
  ["example", example],
  ["16-region", large],
];
const hcl = (v: unknown) => JSON.stringify(v);
const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

/**
 * What Terraform must see after the mocked apply. Mocked ids are random and the upstream outputs
 * are stand-ins, so equalities prove the wiring: subnets and keys come from the right outputs,
 * hooks sit on their group, each region's rule, target, document and role reference each other,
 * and the document's content reaches AWS byte for byte as intended (no `${` evaluated).
 */
function clientsAsserts(cluster: Cluster, json: StackJson, up: ReturnType<typeof upstreamOutputs>): TfAssert[] {
  const asserts: TfAssert[] = [];
  const [role] = resources(json, "aws_iam_role");
  const [policy] = resources(json, "aws_iam_role_policy");
  for (const g of cluster.clientGroups) {
    const { lt, asg, hook } = groupResources(json, cluster, g.name);
    const subnets = g.zones.map((z) => up.network[networkOutputs.privateSubnetId(z)]);
    const key = up.core[coreOutputs.kmsKeyArn(g.region)];
    asserts.push(
      { condition: `toset(${asg.address}.vpc_zone_identifier) == toset(${hcl(subnets)})`, message: `${g.name} spans the private subnets of ${g.zones.join(", ")}` },
      {
        condition: `${lt.address}.metadata_options[0].http_tokens == "required" && ${lt.address}.metadata_options[0].http_put_response_hop_limit == 2 && alltrue([for d in ${lt.address}.block_device_mappings : d.ebs[0].encrypted == "true" && d.ebs[0].kms_key_id == ${hcl(key)}])`,
        message: `${g.name}'s launch template requires IMDSv2 and encrypts every volume with the key of ${g.region}`,
      },
      { condition: `${hook.address}.autoscaling_group_name == ${asg.address}.name && ${hook.address}.lifecycle_transition == "autoscaling:EC2_INSTANCE_TERMINATING"`, message: `${g.name}'s termination hook is on its group` },
    );
  }
  const regions = [...new Set(cluster.clientGroups.map((g) => g.region))];
  for (const region of regions) {
    const { document, rule, target } = drainResources(json, region);
    const groups = cluster.clientGroups.filter((g) => g.region === region).map((g) => `${groupResources(json, cluster, g.name).asg.address}.name`);
    asserts.push(
      { condition: `${target.address}.arn == ${document.address}.arn && ${target.address}.rule == ${rule.address}.name && ${target.address}.role_arn == ${role.address}.arn`, message: `the drain target of ${region} sends its document through its rule with the drain role` },
      { condition: `toset(jsondecode(${rule.address}.event_pattern).detail.AutoScalingGroupName) == toset([${groups.join(", ")}])`, message: `the drain rule of ${region} matches exactly its groups` },
      { condition: `sha256(${document.address}.content) == "${sha256(documentContent(document))}"`, message: `the drain document of ${region} reaches AWS as written (Terraform evaluates nothing in it)` },
      { condition: `contains(jsondecode(${policy.address}.policy).Statement[0].Resource, ${document.address}.arn)`, message: `the drain role may send the document of ${region}` },
    );
  }
  return asserts;
}

describeIf(terraformUnavailable(), "clients stack under terraform (validate + mocked apply)", () => {
  test.each(CLUSTERS)("%s cluster", (_name, cluster) => {
    const { text, json } = clientsStack(cluster);
    const up = upstreamOutputs(cluster);
    const result = terraformTest({ stackJson: text, remoteStates: up, asserts: clientsAsserts(cluster, json, up) });
    expect(result.validate).toMatch(/The configuration is valid/);
    expect(result.test).toMatch(/1 passed, 0 failed/);
  });
});

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "bitte-clients-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeWithTools(["cloud-init"], "cloud-init schema on the user data in the launch templates", () => {
  test.each(CLUSTERS)("every group of the %s cluster", async (name, cluster) => {
    const { json } = clientsStack(cluster);
    const files = cluster.clientGroups.map((g) => {
      const path = join(dir, `${name}-${g.name}.yaml`);
      writeFileSync(path, userDataOf(groupResources(json, cluster, g.name).lt));
      return path;
    });
    // cloud-init takes one file per run and half a second each: four at a time.
    const exec = promisify(execFile);
    const failures: string[] = [];
    for (let i = 0; i < files.length; i += 4) {
      const batch = files.slice(i, i + 4).map((f) =>
        exec("cloud-init", ["schema", "--config-file", f]).then(
          (r) => (r.stdout.includes("Valid cloud-config") ? undefined : `${f}: ${r.stdout}${r.stderr}`),
          (e: { stdout?: string; stderr?: string }) => `${f}: ${e.stdout ?? ""}${e.stderr ?? ""}`,
        ),
      );
      for (const f of await Promise.all(batch)) if (f) failures.push(f);
    }
    expect(failures).toEqual([]);
  });
});

/** The document's commands with the event's values substituted, as SSM runs them. */
function documentCommands(parameters: Record<string, string>): string {
  const { document } = drainResources(clientsStack(example).json, "eu-central-1");
  const content = JSON.parse(documentContent(document)) as { mainSteps: Array<{ inputs: { runCommand: string[] } }> };
  return content.mainSteps[0].inputs.runCommand.join("\n").replace(/\{\{ (\w+) \}\}/g, (_m, p: string) => parameters[p]);
}

describeWithTools(["shellcheck"], "shellcheck", () => {
  test("passes the drain script", () => {
    const r = run("shellcheck", ["--severity=style", join(__dirname, "../../constructs/client-group/scripts/bitte-drain.sh")]);
    expect(r.stdout + r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  test("passes the document's commands as sh runs them (the script is a quoted here-document)", () => {
    const path = join(dir, "document.sh");
    writeFileSync(path, `#!/bin/sh\n${documentCommands({ InstanceId: "i-0123456789abcdef0", AutoScalingGroupName: "bitte-example-workers", LifecycleHookName: "nomad-drain" })}\n`);
    const r = run("shellcheck", ["--severity=style", "--shell=sh", path]);
    expect(r.stdout + r.stderr).toBe("");
  });
});

/**
 * A PATH with exactly the programs a client node has (`rolePrograms`): stand-ins that log their
 * arguments to `calls` for the ones the test watches (`timeout` logs and runs its command), the
 * host's program for the rest. A program the client does not install is not there.
 */
function stubs(root: string, opts: { selfId: string; stopFails?: boolean }): { bin: string; calls: string } {
  const bin = join(root, "bin");
  const calls = join(root, "calls");
  const programs = rolePrograms(example, "client");
  mkdirSync(bin);
  writeFileSync(calls, "");
  const stub = (name: string, body: string) => {
    if (!programs.includes(name)) return;
    writeFileSync(join(bin, name), `#!/bin/sh\necho "${name} $*" >>"${calls}"\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  stub("curl", `case "$*" in *api/token*) echo imds-token ;; *instance-id*) echo ${opts.selfId} ;; esac`);
  stub("bitte-aws", "");
  stub("nomad", "");
  stub("timeout", 'shift; exec "$@"');
  stub("systemctl", opts.stopFails ? "exit 1" : "");
  for (const p of programs) {
    const host = which(p);
    if (host && !existsSync(join(bin, p))) symlinkSync(host, join(bin, p));
  }
  return { bin, calls };
}

describeWithTools(["bash"], "the drain document run end to end against stand-ins", () => {
  const params = { InstanceId: "i-0123456789abcdef0", AutoScalingGroupName: "bitte-example-workers", LifecycleHookName: "nomad-drain" };
  const complete = `bitte-aws --region eu-central-1 complete-lifecycle-action --hook nomad-drain --group bitte-example-workers --instance-id ${params.InstanceId} --result CONTINUE`;
  const stop = [`timeout ${CLIENT_DRAIN_DEADLINE_SECONDS + DRAIN_GRACE_SECONDS} systemctl stop nomad`, "systemctl stop nomad"];

  function runDocument(name: string, opts: Parameters<typeof stubs>[1]): { status: number; calls: string[]; stderr: string } {
    const root = join(dir, name);
    mkdirSync(root);
    const s = stubs(root, opts);
    const r = run("sh", ["-c", documentCommands(params)], { env: { PATH: s.bin, TMPDIR: root } });
    return { status: r.status, calls: readFileSync(s.calls, "utf8").trim().split("\n"), stderr: r.stderr };
  }

  test("another instance of the group does nothing", () => {
    const r = runDocument("other", { selfId: "i-0fedcba9876543210" });
    expect(r.status).toBe(0);
    expect(r.calls.filter((c) => !c.startsWith("curl"))).toEqual([]);
    expect(r.stderr).toMatch(/not the terminating instance/);
  });

  test("the terminating instance stops the agent (which drains) under the deadline and grace, then completes the action", () => {
    const r = runDocument("terminating", { selfId: params.InstanceId });
    expect(r.status).toBe(0);
    // No Nomad CLI, no SSM: the agent drains itself with its own identity.
    expect(r.calls.filter((c) => !c.startsWith("curl"))).toEqual([...stop, complete]);
  });

  test("a failed stop still completes the action", () => {
    const r = runDocument("stop-fails", { selfId: params.InstanceId, stopFails: true });
    expect(r.status).toBe(0);
    expect(r.calls.filter((c) => !c.startsWith("curl"))).toEqual([...stop, complete]);
    expect(r.stderr).toMatch(/stopping the Nomad agent failed/);
  });

  test("parameters the document's patterns refuse cannot reach the script", () => {
    const { document } = drainResources(clientsStack(example).json, "eu-central-1");
    const p = (JSON.parse(documentContent(document)) as { parameters: Record<string, { allowedPattern: string }> }).parameters;
    expect("i-0123'; rm -rf /").not.toMatch(new RegExp(p[DRAIN_PARAMETERS.instanceId].allowedPattern));
    expect("bitte-other-workers").not.toMatch(new RegExp(p[DRAIN_PARAMETERS.groupName].allowedPattern));
    expect("hook'$(id)").not.toMatch(new RegExp(p[DRAIN_PARAMETERS.hookName].allowedPattern));
  });
});
