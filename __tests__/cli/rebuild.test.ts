import { AutoScalingClient, DescribeAutoScalingGroupsCommand, DescribeInstanceRefreshesCommand, StartInstanceRefreshCommand } from "@aws-sdk/client-auto-scaling";
import { mockClient } from "aws-sdk-client-mock";
import { join } from "node:path";
import { checkReplacePlan, describePlan, planRebuild, rebuild, type InstanceStep, type RebuildOptions } from "../../cli/commands/rebuild";
import type { Http } from "../../cli/context";
import { CliError } from "../../cli/errors";
import { judge } from "../../cli/health";
import { readSynthesized } from "../../cli/synth";
import { cluster, coreAddress, fakeCoreStack, regionalClients, synthDir, testContext, type RunCall } from "./helpers";

const TOKENS = { CONSUL_HTTP_TOKEN: "c", NOMAD_TOKEN: "n", VAULT_TOKEN: "v" };
const CORE_IPS = cluster.coreNodes.map((n) => n.privateIp);
const options = (o: Partial<RebuildOptions> = {}): RebuildOptions => ({ only: [], clients: false, classes: [], dryRun: false, timeoutMinutes: 5, minHealthyPercentage: 90, ...o });

/**
 * A stand-in for the three services: every core IP is a healthy voter unless it is down. A node
 * goes down when Terraform replaces it and comes back after `rejoinPolls` health polls (never, if
 * it is in `neverBack`).
 */
function fakeServices(opts: { rejoinPolls?: number; neverBack?: string[]; unhealthyFromStart?: boolean; status?: number } = {}) {
  const down = new Map<string, number>();
  const seen: string[] = [];
  const http: Http = async (url, init) => {
    seen.push(`${url} ${JSON.stringify(init.headers)}`);
    for (const [ip, left] of down) {
      if (left <= 0 && !opts.neverBack?.includes(ip)) down.delete(ip);
    }
    const up = CORE_IPS.filter((ip) => !down.has(ip));
    const healthy = up.length === 3 && !opts.unhealthyFromStart;
    if (url.includes("consul") || url.includes("nomad")) down.forEach((v, k) => down.set(k, v - 1));
    const port = url.includes("consul") ? 8300 : url.includes("nomad") ? 4647 : 8201;
    const body = url.includes("vault")
      ? { data: { healthy, servers: Object.fromEntries(up.map((ip, i) => [`vault_${i}`, { address: `${ip}:${port}`, healthy: true, status: i === 0 ? "leader" : "voter" }])) } }
      : { Healthy: healthy, Servers: up.map((ip) => ({ Address: `${ip}:${port}`, Healthy: true, Voter: true })) };
    return { status: opts.status ?? (healthy ? 200 : 429), json: async () => body };
  };
  const replaced = (ip: string) => down.set(ip, opts.rejoinPolls ?? 6);
  return { http, replaced, seen };
}

/** Terraform that plans exactly the replacement (plus the volume attachment), or what `extra` adds. */
function fakeTerraform(services: { replaced(ip: string): void }, extra: Array<{ address: string; type: string; actions: string[] }> = []) {
  const log: string[] = [];
  let target = "";
  const run = (call: RunCall) => {
    const [sub, ...rest] = call.args;
    if (call.command !== "terraform") throw new Error(`unexpected ${call.command}`);
    if (sub === "plan") {
      target = rest.find((a) => a.startsWith("-replace="))!.slice("-replace=".length);
      log.push(`plan ${target}`);
      return { code: 0, stdout: "", stderr: "" };
    }
    if (sub === "show") {
      const name = target.replace(/^aws_instance\.(\w+?)_instance_ABC123$/, "$1").replace("_", "-");
      const plan = {
        resource_changes: [
          { address: target, type: "aws_instance", change: { actions: ["delete", "create"] } },
          { address: `aws_volume_attachment.${name}_data_attachment`, type: "aws_volume_attachment", change: { actions: ["delete", "create"] } },
          { address: `aws_ebs_volume.${name}_data`, type: "aws_ebs_volume", change: { actions: ["no-op"] } },
          ...extra.map((e) => ({ address: e.address, type: e.type, change: { actions: e.actions } })),
        ],
      };
      return { code: 0, stdout: JSON.stringify(plan), stderr: "" };
    }
    if (sub === "apply") {
      log.push(`apply ${target}`);
      const node = cluster.coreNodes.find((n) => coreAddress(n.name) === target);
      if (node) services.replaced(node.privateIp);
      return { code: 0, stdout: "", stderr: "" };
    }
    log.push(`${sub}`);
    return { code: 0, stdout: "", stderr: "" };
  };
  return { run, log };
}

describe("planRebuild", () => {
  const stacks = readSynthesized(join(synthDir({ core: fakeCoreStack() }), "cdktf.out"));

  test("everything, in order: core one at a time, monitoring, routing, client groups", () => {
    const steps = planRebuild(cluster, options(), stacks);
    expect(steps.map((s) => s.name)).toEqual(["core-1", "core-2", "core-3", "monitoring", "routing", "workers", "workers-us"]);
    expect(steps[1]).toMatchObject({ kind: "instance", address: coreAddress("core-2"), quorumIp: "10.20.32.10" });
    expect(steps[3]).toMatchObject({ kind: "instance", address: "aws_instance.monitoring_instance_ABC123", quorumIp: undefined });
    expect(steps[4]).toMatchObject({ kind: "refresh", asgName: "bitte-example-routing", region: "eu-central-1", minHealthyPercentage: 50 });
    expect(steps[6]).toMatchObject({ kind: "refresh", asgName: "bitte-example-workers-us", region: "us-east-2" });
  });

  test("--only keeps the canonical order whatever the argument order", () => {
    expect(planRebuild(cluster, options({ only: ["core-3", "workers", "core-1"] }), stacks).map((s) => s.name)).toEqual(["core-1", "core-3", "workers"]);
  });

  test("--clients and --class choose client groups", () => {
    expect(planRebuild(cluster, options({ clients: true }), stacks).map((s) => s.name)).toEqual(["workers", "workers-us"]);
    expect(planRebuild(cluster, options({ clients: true, classes: ["workers"] }), stacks).map((s) => s.name)).toEqual(["workers", "workers-us"]);
    expect(() => planRebuild(cluster, options({ clients: true, classes: ["gpu"] }), stacks)).toThrow(/No client group of cluster example has node class gpu/);
  });

  test("an unknown name lists what --only takes", () => {
    expect(() => planRebuild(cluster, options({ only: ["core-4"] }), stacks)).toThrow(CliError);
    try {
      planRebuild(cluster, options({ only: ["core-4"] }), stacks);
    } catch (e) {
      expect((e as CliError).hint).toBe("--only takes: core-1, core-2, core-3, monitoring, routing, workers, workers-us.");
    }
  });

  test("a core node missing from the synthesized stacks says to synthesize", () => {
    expect(() => planRebuild(cluster, options({ only: ["core-1"] }), new Map())).toThrow(/No aws_instance tagged Name=core-1/);
  });

  test("--dry-run prints the plan and touches nothing", async () => {
    const dir = synthDir({ core: fakeCoreStack() });
    const ctx = testContext({ projectDir: dir });
    expect(await rebuild(ctx, cluster, options({ dryRun: true, only: ["core-2", "workers"] }))).toBe(0);
    expect(ctx.out.join("")).toBe(
      [
        "Rebuild plan for cluster example (2 steps, stops at the first failure):",
        `  1.  core-2: terraform apply -replace=${coreAddress("core-2")} in cdktf.out/stacks/core (keeps its network interface and data volume)`,
        "      then wait up to 5 min for Consul, Nomad and Vault to report a healthy quorum with 10.20.32.10 back",
        "  2.  workers: instance refresh of bitte-example-workers in eu-central-1 (min healthy 90%, skips instances already on the current launch template)",
        "",
      ].join("\n"),
    );
    expect(ctx.calls).toEqual([]);
    expect(describePlan(cluster, planRebuild(cluster, options(), readSynthesized(join(dir, "cdktf.out"))), { timeoutMinutes: 5, projectDir: dir }).trimEnd().split("\n")).toHaveLength(11);
  });

  test("a core directory synthesized for another cluster is refused", async () => {
    const dir = synthDir({ core: fakeCoreStack("prod") });
    await expect(rebuild(testContext({ projectDir: dir }), cluster, options({ dryRun: true, only: ["core-1"] }))).rejects.toThrow(/synthesized for cluster prod, not example/);
  });
});

describe("rebuild of core nodes", () => {
  test("one at a time: each node's quorum is back before the next is planned", async () => {
    const services = fakeServices({ rejoinPolls: 4 });
    const tf = fakeTerraform(services);
    const ctx = testContext({ projectDir: synthDir({ core: fakeCoreStack() }), run: tf.run, http: services.http, env: TOKENS });
    expect(await rebuild(ctx, cluster, options({ only: ["core-1", "core-2", "core-3"] }))).toBe(0);
    expect(tf.log).toEqual(["plan " + coreAddress("core-1"), "apply " + coreAddress("core-1"), "plan " + coreAddress("core-2"), "apply " + coreAddress("core-2"), "plan " + coreAddress("core-3"), "apply " + coreAddress("core-3")]);
    const ev = ctx.progress.events;
    for (const [a, b] of [
      ["succeed: core-1: back in a healthy quorum", "start: core-2: terraform plan -replace=" + coreAddress("core-2")],
      ["succeed: core-2: back in a healthy quorum", "start: core-3: terraform plan -replace=" + coreAddress("core-3")],
    ]) {
      expect(ev.indexOf(a)).toBeGreaterThan(-1);
      expect(ev.indexOf(a)).toBeLessThan(ev.indexOf(b));
    }
    // It waited while the node was away, and said why.
    expect(ev.some((e) => /^update: core-2: waiting for quorum — consul: server 10\.20\.32\.10 has not rejoined/.test(e))).toBe(true);
    // Terraform ran in the synthesized core directory; apply output went to stderr.
    expect(ctx.calls[0].options.cwd).toMatch(/cdktf\.out\/stacks\/core$/);
    expect(ctx.calls.find((c) => c.args[0] === "apply")?.options.stdio).toBe("stderr");
    // Tokens from the environment, in each service's header.
    expect(services.seen.some((s) => s.includes('"X-Consul-Token":"c"'))).toBe(true);
    expect(services.seen.some((s) => s.startsWith("https://vault.example.bitte.dev/v1/sys/storage/raft/autopilot/state") && s.includes('"X-Vault-Token":"v"'))).toBe(true);
  });

  test("stops on the first node whose quorum does not come back, and leaves the rest untouched", async () => {
    const services = fakeServices({ neverBack: ["10.20.32.10"] });
    const tf = fakeTerraform(services);
    const ctx = testContext({ projectDir: synthDir({ core: fakeCoreStack() }), run: tf.run, http: services.http, env: TOKENS });
    const err = (await rebuild(ctx, cluster, options({ timeoutMinutes: 3 })).catch((e) => e)) as CliError;
    expect(err).toBeInstanceOf(CliError);
    expect(err.message).toMatch(/^Rebuild stopped at core-2\. core-2: quorum not healthy after 3 minutes — consul: server 10\.20\.32\.10 has not rejoined, 2 of 3 voters, autopilot reports the cluster unhealthy; nomad: .*; vault: /);
    expect(err.message).toContain("Done: core-1. Not started: core-3, monitoring, routing, workers, workers-us.");
    expect(err.hint).toMatch(/bitte ssh core-2 -- journalctl/);
    expect(tf.log).toEqual(["plan " + coreAddress("core-1"), "apply " + coreAddress("core-1"), "plan " + coreAddress("core-2"), "apply " + coreAddress("core-2")]);
    expect(ctx.elapsed()).toBeGreaterThanOrEqual(3 * 60_000);
  });

  test("refuses to start on a cluster that is already unhealthy", async () => {
    const services = fakeServices({ unhealthyFromStart: true });
    const tf = fakeTerraform(services);
    const ctx = testContext({ projectDir: synthDir({ core: fakeCoreStack() }), run: tf.run, http: services.http, env: TOKENS });
    await expect(rebuild(ctx, cluster, options({ only: ["core-1"] }))).rejects.toThrow(/core-1: the cluster is not healthy before the roll/);
    expect(tf.log).toEqual([]);
  });

  test("a refused token stops at once instead of waiting", async () => {
    const services = fakeServices({ status: 403 });
    const ctx = testContext({ projectDir: synthDir({ core: fakeCoreStack() }), run: fakeTerraform(services).run, http: services.http, env: TOKENS });
    const err = (await rebuild(ctx, cluster, options({ only: ["core-1"] })).catch((e) => e)) as CliError;
    expect(err.message).toMatch(/not healthy before the roll — consul: .*refused the token \(HTTP 403\)/);
  });

  test("a plan that touches anything else, or would destroy the data volume, is refused before apply", async () => {
    for (const extra of [
      { address: "aws_security_group.core", type: "aws_security_group", actions: ["update"] },
      { address: "aws_ebs_volume.core-1_data", type: "aws_ebs_volume", actions: ["delete", "create"] },
    ]) {
      const services = fakeServices();
      const tf = fakeTerraform(services, [extra]);
      const ctx = testContext({ projectDir: synthDir({ core: fakeCoreStack() }), run: tf.run, http: services.http, env: TOKENS });
      const err = (await rebuild(ctx, cluster, options({ only: ["core-1", "core-2"] })).catch((e) => e)) as CliError;
      expect(err.message).toContain("core-1: the replacement plan does more than roll the node");
      expect(err.message).toContain(extra.address);
      expect(tf.log).toEqual(["plan " + coreAddress("core-1")]);
    }
  });

  test("runs terraform init first where the core directory was never initialised", async () => {
    const services = fakeServices({ rejoinPolls: 0 });
    const tf = fakeTerraform(services);
    const ctx = testContext({ projectDir: synthDir({ core: fakeCoreStack() }, { initialized: false }), run: tf.run, http: services.http, env: TOKENS });
    await rebuild(ctx, cluster, options({ only: ["core-3"] }));
    expect(ctx.calls.map((c) => c.args[0])).toEqual(["init", "plan", "show", "apply"]);
  });
});

describe("checkReplacePlan", () => {
  const json = fakeCoreStack() as InstanceStep["json"];
  const step: InstanceStep = { kind: "instance", name: "core-1", stackDir: "/x", address: coreAddress("core-1"), json, quorumIp: "10.20.0.10" };
  test("accepts the instance and what references it", () => {
    expect(checkReplacePlan({ resource_changes: [{ address: step.address, type: "aws_instance", change: { actions: ["delete", "create"] } }, { address: "aws_volume_attachment.core-1_data_attachment", type: "aws_volume_attachment", change: { actions: ["delete", "create"] } }] }, step)).toEqual([]);
  });
  test("notices a plan that does not replace the instance", () => {
    expect(checkReplacePlan({ resource_changes: [] }, step)).toEqual([`the plan does not replace ${step.address}`]);
  });
});

describe("judge", () => {
  const servers = (ips: string[]) => ips.map((ip) => ({ address: `${ip}:8300`, healthy: true, voter: true }));
  test("needs autopilot healthy, three voters and the node back", () => {
    expect(judge("consul", { healthy: true, servers: servers(CORE_IPS) }, "10.20.32.10").healthy).toBe(true);
    expect(judge("consul", { healthy: true, servers: servers(CORE_IPS.slice(0, 2)) }).detail).toBe("2 of 3 voters");
    expect(judge("nomad", { healthy: true, servers: [...servers(CORE_IPS.slice(0, 2)), { address: "10.20.64.10:4647", healthy: true, voter: false }] }, "10.20.64.10").detail).toBe("server 10.20.64.10 is back but not yet a healthy voter, 2 of 3 voters");
    expect(judge("vault", { healthy: false, servers: servers(CORE_IPS) }).detail).toBe("autopilot reports the cluster unhealthy");
    expect(judge("consul", { healthy: false, servers: servers(CORE_IPS.slice(0, 2)) }, "10.20.64.10").detail).toBe("server 10.20.64.10 has not rejoined, 2 of 3 voters, autopilot reports the cluster unhealthy");
  });
});

describe("rebuild of auto-scaling groups", () => {
  test("instance refresh with progress until Successful", async () => {
    const aws = regionalClients();
    const asg = mockClient(aws.autoScaling("eu-central-1") as AutoScalingClient);
    asg.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [{ AutoScalingGroupName: "bitte-example-workers" } as never] });
    asg.on(StartInstanceRefreshCommand).resolves({ InstanceRefreshId: "r-1" });
    asg
      .on(DescribeInstanceRefreshesCommand)
      .resolvesOnce({ InstanceRefreshes: [{ Status: "InProgress", PercentageComplete: 0, InstancesToUpdate: 3 }] })
      .resolvesOnce({ InstanceRefreshes: [{ Status: "InProgress", PercentageComplete: 67, InstancesToUpdate: 1 }] })
      .resolves({ InstanceRefreshes: [{ Status: "Successful", PercentageComplete: 100 }] });
    const ctx = testContext({ aws });
    expect(await rebuild(ctx, cluster, options({ only: ["workers"] }))).toBe(0);
    expect(asg.commandCalls(StartInstanceRefreshCommand)[0].args[0].input).toEqual({ AutoScalingGroupName: "bitte-example-workers", Strategy: "Rolling", Preferences: { MinHealthyPercentage: 90, SkipMatching: true } });
    expect(ctx.progress.events).toContain("update: workers: bitte-example-workers [#############-------]  67% InProgress, 1 to update");
    expect(ctx.progress.events).toContain("succeed: workers: bitte-example-workers refreshed");
  });

  test("a failed refresh stops the roll with its reason", async () => {
    const aws = regionalClients();
    const eu = mockClient(aws.autoScaling("eu-central-1") as AutoScalingClient);
    eu.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [{} as never] });
    eu.on(StartInstanceRefreshCommand).resolves({ InstanceRefreshId: "r-2" });
    eu.on(DescribeInstanceRefreshesCommand).resolves({ InstanceRefreshes: [{ Status: "Failed", StatusReason: "instances failed health checks" }] });
    const us = mockClient(aws.autoScaling("us-east-2") as AutoScalingClient);
    const err = (await rebuild(testContext({ aws }), cluster, options({ clients: true })).catch((e) => e)) as CliError;
    expect(err.message).toMatch(/Rebuild stopped at workers\. workers: instance refresh r-2 of bitte-example-workers ended Failed: instances failed health checks/);
    expect(err.message).toContain("Not started: workers-us.");
    expect(us.calls()).toHaveLength(0);
  });

  test("a missing group says to deploy", async () => {
    const aws = regionalClients();
    mockClient(aws.autoScaling("eu-central-1") as AutoScalingClient).on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [] });
    await expect(rebuild(testContext({ aws }), cluster, options({ only: ["routing"] }))).rejects.toThrow(/No auto-scaling group bitte-example-routing in eu-central-1/);
  });
});
