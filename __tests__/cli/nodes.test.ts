import { DescribeInstancesCommand, EC2Client, type Instance } from "@aws-sdk/client-ec2";
import { mockClient } from "aws-sdk-client-mock";
import { info, infoJson } from "../../cli/commands/info";
import { CliError } from "../../cli/errors";
import { listNodes, resolveNode, type Node } from "../../cli/nodes";
import { cluster, regionalClients, testContext } from "./helpers";

function instance(id: string, ip: string, zone: string, tags: Record<string, string>, state = "running"): Instance {
  return {
    InstanceId: id,
    PrivateIpAddress: ip,
    InstanceType: "m6i.large",
    Placement: { AvailabilityZone: zone },
    State: { Name: state as "running" },
    LaunchTime: new Date("2025-01-02T03:04:05Z"),
    Tags: Object.entries({ Cluster: "example", ...tags }).map(([Key, Value]) => ({ Key, Value })),
  };
}

const EU = [
  instance("i-0000000000000c002", "10.20.32.10", "eu-central-1b", { Name: "core-2", Role: "core" }),
  instance("i-0000000000000c001", "10.20.0.10", "eu-central-1a", { Name: "core-1", Role: "core" }),
  instance("i-0000000000000c003", "10.20.64.10", "eu-central-1c", { Name: "core-3", Role: "core" }),
  instance("i-00000000000000m01", "10.20.0.20", "eu-central-1a", { Name: "monitoring", Role: "monitoring" }),
  instance("i-0000000000000w001", "10.20.1.5", "eu-central-1a", { Name: "example-workers", Role: "client", NodeClass: "workers", "aws:ec2launchtemplate:id": "lt-0abc", "aws:ec2launchtemplate:version": "7" }),
  instance("i-0000000000000w002", "10.20.33.5", "eu-central-1b", { Name: "example-workers", Role: "client", NodeClass: "workers", "aws:ec2launchtemplate:id": "lt-0abc", "aws:ec2launchtemplate:version": "6" }),
];
const US = [instance("i-0000000000000u001", "10.21.0.5", "us-east-2a", { Name: "example-workers-us", Role: "client", NodeClass: "workers", "aws:ec2launchtemplate:id": "lt-0def", "aws:ec2launchtemplate:version": "2" })];

function mockedClients() {
  const aws = regionalClients();
  const eu = mockClient(aws.ec2("eu-central-1") as EC2Client);
  // Two pages in eu-central-1, to cover pagination.
  eu.on(DescribeInstancesCommand, { NextToken: undefined }).resolves({ Reservations: [{ Instances: EU.slice(0, 3) }], NextToken: "page2" });
  eu.on(DescribeInstancesCommand, { NextToken: "page2" }).resolves({ Reservations: [{ Instances: EU.slice(3) }] });
  const us = mockClient(aws.ec2("us-east-2") as EC2Client);
  us.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: US }] });
  return { aws, eu, us };
}

describe("listNodes", () => {
  test("finds the cluster's instances by tag in every region, paginated, sorted by role then name", async () => {
    const { aws, eu, us } = mockedClients();
    const nodes = await listNodes(cluster, aws);
    expect(nodes.map((n) => `${n.role}/${n.name}/${n.region}`)).toEqual([
      "core/core-1/eu-central-1",
      "core/core-2/eu-central-1",
      "core/core-3/eu-central-1",
      "monitoring/monitoring/eu-central-1",
      "client/example-workers/eu-central-1",
      "client/example-workers/eu-central-1",
      "client/example-workers-us/us-east-2",
    ]);
    expect(eu.commandCalls(DescribeInstancesCommand)).toHaveLength(2);
    expect(us.commandCalls(DescribeInstancesCommand)).toHaveLength(1);
    const filters = eu.commandCalls(DescribeInstancesCommand)[0].args[0].input.Filters;
    expect(filters).toContainEqual({ Name: "tag:Cluster", Values: ["example"] });
    expect(nodes.find((n) => n.instanceId === "i-0000000000000w001")?.launchTemplate).toEqual({ id: "lt-0abc", version: "7" });
  });

  test("names the failing call and what to do when credentials are missing", async () => {
    const aws = regionalClients();
    mockClient(aws.ec2("eu-central-1") as EC2Client).on(DescribeInstancesCommand).rejects(Object.assign(new Error("Could not load credentials from any providers"), { name: "CredentialsProviderError" }));
    mockClient(aws.ec2("us-east-2") as EC2Client).on(DescribeInstancesCommand).resolves({});
    const err = await listNodes(cluster, aws).catch((e: CliError) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).message).toContain("ec2:DescribeInstances in eu-central-1");
    expect((err as CliError).hint).toMatch(/AWS_PROFILE/);
  });
});

describe("resolveNode", () => {
  let nodes: Node[];
  beforeAll(async () => {
    nodes = await listNodes(cluster, mockedClients().aws);
  });

  test("by Name tag", () => expect(resolveNode(cluster, nodes, "core-2").instanceId).toBe("i-0000000000000c002"));
  test("by instance id", () => expect(resolveNode(cluster, nodes, "i-0000000000000c003").name).toBe("core-3"));
  test("by private IP", () => expect(resolveNode(cluster, nodes, "10.20.0.20").name).toBe("monitoring"));
  test("by client group name when the group has one instance", () => expect(resolveNode(cluster, nodes, "workers-us").instanceId).toBe("i-0000000000000u001"));

  test("an ambiguous name lists the candidates and asks for an id or IP", () => {
    const err = (() => {
      try {
        resolveNode(cluster, nodes, "workers");
      } catch (e) {
        return e as CliError;
      }
      throw new Error("no error");
    })();
    expect(err.message).toContain("matches 2 instances");
    expect(err.message).toContain("i-0000000000000w001");
    expect(err.message).toContain("10.20.33.5");
    expect(err.hint).toMatch(/instance id or private IP/);
  });

  test("no such node names what was searched and what exists", () => {
    expect(() => resolveNode(cluster, nodes, "core-9")).toThrow(/No instance of cluster example has the name "core-9" \(searched eu-central-1, us-east-2\)/);
    expect(() => resolveNode(cluster, nodes, "10.9.9.9")).toThrow(/private IP "10.9.9.9"/);
    expect(() => resolveNode(cluster, nodes, "i-0123456789abcdef0")).toThrow(/instance id/);
    try {
      resolveNode(cluster, nodes, "core-9");
    } catch (e) {
      expect((e as CliError).hint).toContain("core-1, core-2, core-3, monitoring");
    }
  });

  test("an empty cluster says to deploy", () => {
    expect(() => resolveNode(cluster, [], "core-1")).toThrow(CliError);
    try {
      resolveNode(cluster, [], "core-1");
    } catch (e) {
      expect((e as CliError).hint).toMatch(/bitte deploy/);
    }
  });
});

describe("bitte info", () => {
  test("--json prints the documented shape", async () => {
    const ctx = testContext({ aws: mockedClients().aws });
    expect(await info(ctx, cluster, { json: true })).toBe(0);
    const json = JSON.parse(ctx.out.join(""));
    expect(Object.keys(json)).toEqual(["cluster", "domain", "regions", "nodes"]);
    expect(json.cluster).toBe("example");
    expect(json.regions).toEqual(["eu-central-1", "us-east-2"]);
    expect(json.nodes).toHaveLength(7);
    expect(json.nodes[0]).toEqual({
      name: "core-1",
      role: "core",
      nodeClass: null,
      region: "eu-central-1",
      zone: "eu-central-1a",
      privateIp: "10.20.0.10",
      instanceId: "i-0000000000000c001",
      instanceType: "m6i.large",
      state: "running",
      launchTemplate: null,
      launchTime: "2025-01-02T03:04:05.000Z",
    });
    expect(json.nodes[4]).toMatchObject({ role: "client", nodeClass: "workers", launchTemplate: { id: "lt-0abc", version: "7" } });
    // Progress went to stderr (the progress reporter), not stdout.
    expect(ctx.progress.events[0]).toMatch(/^start: Listing instances/);
  });

  test("prints a table per role", async () => {
    const ctx = testContext({ aws: mockedClients().aws });
    await info(ctx, cluster, { json: false });
    const text = ctx.out.join("");
    expect(text.indexOf("core (3)")).toBeLessThan(text.indexOf("monitoring (1)"));
    expect(text.indexOf("monitoring (1)")).toBeLessThan(text.indexOf("client (3)"));
    expect(text).toMatch(/example-workers\s+workers\s+eu-central-1a\s+10\.20\.1\.5\s+i-0000000000000w001\s+running\s+7/);
    expect(text).not.toContain("routing (");
  });

  test("infoJson of no nodes", () => {
    expect(infoJson(cluster, []).nodes).toEqual([]);
  });
});
