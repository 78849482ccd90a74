import { NatGateway } from "@cdktf/provider-aws/lib/nat-gateway";
import { Vpc } from "@cdktf/provider-aws/lib/vpc";
import { defineCluster, type ClusterSpec } from "../../clusters/spec";
import example from "../../clusters/example";
import large from "../../scripts/large-cluster";
import { NetworkStack } from "../../stacks/network";
import { networkOutputs } from "../../stacks/outputs";
import { ref, regionOf, resources, synth, type StackJson } from "../harness/synth";

const network = (cluster = example) => synth((app) => new NetworkStack(app, "network", { cluster }));

describe("network stack", () => {
  const { text, json } = network();

  test("snapshot", () => {
    expect(json).toMatchSnapshot();
  });

  test("one VPC per region with its planned block", () => {
    for (const r of example.regions) expect(text).toHaveResourceWithProperties(Vpc, { cidr_block: r.cidr, enable_dns_hostnames: true, provider: `aws.${r.name}` });
    expect(resources(json, "aws_vpc")).toHaveLength(example.regions.length);
  });

  test("every AWS resource names its region's provider, and zones match the region", () => {
    for (const [type, block] of Object.entries(json.resource ?? {})) {
      for (const name of Object.keys(block)) {
        const r = { address: `${type}.${name}`, name, config: block[name] };
        const region = regionOf(r);
        expect(example.regions.map((x) => x.name)).toContain(region);
        const az = r.config.availability_zone;
        if (typeof az === "string") expect(az.startsWith(region)).toBe(true);
      }
    }
  });

  test("a public and a private subnet per zone, private ones routed to the zone's NAT", () => {
    const subnets = resources(json, "aws_subnet");
    const zones = example.regions.flatMap((r) => r.zones);
    expect(subnets).toHaveLength(zones.length * 2);
    for (const z of zones) {
      expect(subnets.find((s) => s.config.cidr_block === z.privateCidr)?.config).toMatchObject({ availability_zone: z.name, map_public_ip_on_launch: false, tags: { Tier: "private" } });
      expect(subnets.find((s) => s.config.cidr_block === z.publicCidr)?.config).toMatchObject({ availability_zone: z.name, tags: { Tier: "public" } });
    }
    expect(resources(json, "aws_nat_gateway")).toHaveLength(zones.length);
    const nats = resources(json, "aws_nat_gateway");
    const defaults = resources(json, "aws_route").filter((r) => r.config.destination_cidr_block === "0.0.0.0/0" && r.config.nat_gateway_id);
    expect(defaults).toHaveLength(zones.length);
    for (const route of defaults) {
      const nat = nats.find((n) => `${n.address}.id` === ref(route.config.nat_gateway_id));
      expect(nat && regionOf(nat)).toBe(regionOf(route));
    }
  });

  test("the default security group of every VPC allows nothing", () => {
    for (const sg of resources(json, "aws_default_security_group")) expect(sg.config).toMatchObject({ ingress: [], egress: [] });
  });

  test("an S3 gateway endpoint on every route table", () => {
    const endpoints = resources(json, "aws_vpc_endpoint");
    expect(endpoints.map((e) => [e.config.service_name, e.config.vpc_endpoint_type])).toEqual(example.regions.map((r) => [`com.amazonaws.${r.name}.s3`, "Gateway"]));
    const tables = resources(json, "aws_route_table");
    expect(endpoints.flatMap((e) => e.config.route_table_ids as string[]).sort()).toEqual(tables.map((t) => `\${${t.address}.id}`).sort());
  });

  test("peering is accepted on the far side, resolves DNS both ways, and routes both ways", () => {
    const [conn] = resources(json, "aws_vpc_peering_connection");
    expect(conn.config).toMatchObject({ provider: "aws.eu-central-1", peer_region: "us-east-2", auto_accept: false });
    const [acc] = resources(json, "aws_vpc_peering_connection_accepter");
    expect(acc.config).toMatchObject({ provider: "aws.us-east-2", auto_accept: true, vpc_peering_connection_id: `\${${conn.address}.id}` });
    const options = resources(json, "aws_vpc_peering_connection_options").map((o) => o.config);
    expect(options).toEqual(expect.arrayContaining([
      expect.objectContaining({ provider: "aws.eu-central-1", requester: { allow_remote_vpc_dns_resolution: true } }),
      expect.objectContaining({ provider: "aws.us-east-2", accepter: { allow_remote_vpc_dns_resolution: true } }),
    ]));
    const peerRoutes = resources(json, "aws_route").filter((r) => r.config.vpc_peering_connection_id);
    const [eu, us] = example.regions;
    // Every route table of each side (public + one private per zone) routes to the other VPC.
    expect(peerRoutes.filter((r) => r.config.destination_cidr_block === us.cidr && regionOf(r) === eu.name)).toHaveLength(eu.zones.length + 1);
    expect(peerRoutes.filter((r) => r.config.destination_cidr_block === eu.cidr && regionOf(r) === us.name)).toHaveLength(us.zones.length + 1);
  });

  test("the cluster zone, with its name servers as an output for delegation", () => {
    const [zone] = resources(json, "aws_route53_zone");
    expect(zone.config).toMatchObject({ name: example.domain, provider: `aws.${example.coreRegion}` });
    expect(json.output?.[networkOutputs.zoneNameServers]?.value).toBe(`\${${zone.address}.name_servers}`);
  });

  test("the manual steps are printed as an output", () => {
    const steps = json.output?.manual_steps?.value as string[];
    expect(steps.join("\n")).toMatch(/Delegate example\.bitte\.dev[\s\S]*bitte deployer-policy/);
    // The cluster's own Auto Scaling service-linked role is created by the stacks (issue 12).
    expect(steps.join("\n")).not.toMatch(/create-service-linked-role/);
  });

  test("outputs for every region and zone, under their contract names", () => {
    for (const r of example.regions) {
      expect(json.output).toHaveProperty([networkOutputs.vpcId(r.name)]);
      for (const z of r.zones) {
        expect(json.output).toHaveProperty([networkOutputs.publicSubnetId(z.name)]);
        expect(json.output).toHaveProperty([networkOutputs.privateSubnetId(z.name)]);
      }
    }
  });

  test("providers carry the Cluster and ManagedBy default tags", () => {
    for (const p of json.provider?.aws ?? []) expect(p.default_tags).toEqual([{ tags: { Cluster: "example", ManagedBy: "bitte" } }]);
  });

  test("local state is addressed relative to the stack directory: no machine path in the JSON", () => {
    expect(json.terraform?.backend).toEqual({ local: { path: "../../../terraform.example.network.tfstate" } });
    expect(text).not.toContain(process.cwd());
  });
});

describe("network stack variants", () => {
  const base: ClusterSpec = {
    name: "nat",
    domain: "nat.example.com",
    coreRegion: "eu-west-1",
    coreZones: ["eu-west-1a", "eu-west-1b", "eu-west-1c"],
    clientGroups: [{ name: "w", region: "eu-west-1", instanceType: "m6i.large", min: 0, desired: 0, max: 1 }],
  };
  const count = (json: StackJson, type: string) => resources(json, type).length;

  test("NAT single: one gateway, every private table routed to it", () => {
    const { text, json } = network(defineCluster({ ...base, nat: "single" }));
    expect(count(json, "aws_nat_gateway")).toBe(1);
    expect(text).toHaveResourceWithProperties(NatGateway, {});
    expect(resources(json, "aws_route").filter((r) => r.config.nat_gateway_id)).toHaveLength(3);
  });

  test("NAT none: no gateway and no default route from private subnets", () => {
    const { json } = network(defineCluster({ ...base, nat: "none" }));
    expect(count(json, "aws_nat_gateway")).toBe(0);
    expect(count(json, "aws_eip")).toBe(0);
    expect(resources(json, "aws_route").filter((r) => r.config.nat_gateway_id)).toHaveLength(0);
  });

  test("S3 backend: encrypted with the cluster key and S3-native locking", () => {
    const { json } = network(defineCluster({ ...base, backend: { type: "s3", bucket: "acme-bitte-state" } }));
    expect(json.terraform?.backend).toEqual({
      s3: { bucket: "acme-bitte-state", key: "bitte/nat/network.tfstate", region: "eu-west-1", encrypt: true, kms_key_id: "alias/bitte-nat", use_lockfile: true },
    });
  });

  test("16 regions: a full peering mesh", () => {
    const { json } = network(large);
    const n = large.regions.length;
    expect(n).toBe(16);
    expect(count(json, "aws_vpc")).toBe(n);
    expect(count(json, "aws_vpc_peering_connection")).toBe((n * (n - 1)) / 2);
  });
});
