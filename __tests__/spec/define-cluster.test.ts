import { ClusterSpecError, defineCluster, type ClusterSpec } from "../../clusters/spec";
import { knownClusters, loadCluster } from "../../clusters/spec/load";
import { testClusterSpec, testGroup } from "../harness/specs";

const valid: ClusterSpec = testClusterSpec("demo", { clientGroups: [testGroup({ region: "us-east-2", desired: 2, max: 4 })], adminCidrs: ["203.0.113.0/24"] });

/** The single problem an invalid spec reports, by field. */
function problem(spec: ClusterSpec, field: string): { value: unknown; problem: string; fix: string; message: string } {
  try {
    defineCluster(spec);
  } catch (e) {
    expect(e).toBeInstanceOf(ClusterSpecError);
    const err = e as ClusterSpecError;
    const p = err.problems.find((x) => x.field === field);
    if (!p) throw new Error(`no problem reported for ${field}; got: ${err.message}`);
    return { ...p, message: err.message };
  }
  throw new Error(`spec was accepted; expected a problem with ${field}`);
}

describe("defineCluster: valid specs", () => {
  test("fills defaults in one place", () => {
    const c = defineCluster(valid);
    expect(c.nat).toBe("per-az");
    expect(c.kms).toEqual({ create: true });
    expect(c.backend).toEqual({ type: "local" });
    expect(c.clientGroups[0]).toMatchObject({ nodeClass: "workers", zones: ["us-east-2a", "us-east-2b", "us-east-2c"], instanceTypes: ["m6i.large"] });
    expect(c.core.instanceType).toBe("m6i.large");
    expect(c.ssmPrefix).toBe("/bitte/demo");
  });

  test("plans one /16 per region from the fixed table, core region first", () => {
    const c = defineCluster(valid);
    expect(c.regions.map((r) => [r.name, r.cidr, r.isCore])).toEqual([
      ["eu-central-1", "10.20.0.0/16", true],
      ["us-east-2", "10.2.0.0/16", false],
    ]);
    expect(c.regions[0].zones[1]).toEqual({ name: "eu-central-1b", privateCidr: "10.20.32.0/19", publicCidr: "10.20.196.0/22" });
  });

  test("adding a region never renumbers another", () => {
    const more = defineCluster({ ...valid, clientGroups: [...valid.clientGroups, { name: "west", region: "us-west-2", instanceType: "m6i.large", min: 0, desired: 0, max: 1 }] });
    const before = defineCluster(valid);
    for (const r of before.regions) expect(more.regions.find((x) => x.name === r.name)).toEqual(r);
  });

  test("core nodes get fixed addresses in their zones' private subnets", () => {
    const c = defineCluster(valid);
    expect(c.coreNodes.map((n) => [n.name, n.zone, n.privateIp])).toEqual([
      ["core-1", "eu-central-1a", "10.20.0.10"],
      ["core-2", "eu-central-1b", "10.20.32.10"],
      ["core-3", "eu-central-1c", "10.20.64.10"],
    ]);
    expect(c.monitoringNode.privateIp).toBe("10.20.0.20");
  });

  test("a CIDR override that collides with nothing is used", () => {
    expect(defineCluster({ ...valid, cidrOverrides: { "us-east-2": "10.200.0.0/16" } }).regions[1].cidr).toBe("10.200.0.0/16");
  });

  test("the S3 backend defaults its region and key prefix", () => {
    expect(defineCluster({ ...valid, backend: { type: "s3", bucket: "acme-bitte-state" } }).backend).toEqual({ type: "s3", bucket: "acme-bitte-state", region: "eu-central-1", keyPrefix: "bitte/demo" });
  });
});

describe("defineCluster: every invalid spec names the field, the value and the fix", () => {
  test("name with bad characters", () => {
    const p = problem({ ...valid, name: "My_Cluster" }, "name");
    expect(p.value).toBe("My_Cluster");
    expect(p.message).toContain('name = "My_Cluster"');
    expect(p.problem).toMatch(/lowercase letters, digits and dashes/);
  });

  test("name too long for AWS resource names", () => {
    const p = problem({ ...valid, name: "a-very-long-cluster-name" }, "name");
    expect(p.problem).toMatch(/more than the 16 that fit AWS resource names/);
    expect(p.fix).toMatch(/shorten/);
  });

  test("domain that is not a DNS name", () => {
    for (const domain of ["not a domain", "localhost", "Example.COM", "a..b.com", "-x.example.com"]) {
      expect(problem({ ...valid, domain }, "domain").problem).toBe("not a DNS name");
    }
  });

  test("availability zone outside its region", () => {
    const p = problem({ ...valid, coreZones: ["eu-central-1a", "eu-central-1b", "us-east-1c"] }, "coreZones[2]");
    expect(p.problem).toBe("not an availability zone of eu-central-1");
    expect(p.fix).toContain('"eu-central-1a"');
    const g = problem({ ...valid, clientGroups: [{ ...valid.clientGroups[0], zones: ["us-east-2a", "eu-west-1b"] }] }, "clientGroups[0].zones[1]");
    expect(g.problem).toBe("not an availability zone of us-east-2");
  });

  test("fewer or more than three core zones", () => {
    expect(problem({ ...valid, coreZones: ["eu-central-1a", "eu-central-1b"] }, "coreZones").problem).toMatch(/exactly three .* \(got 2\)/);
    expect(problem({ ...valid, coreZones: ["eu-central-1a", "eu-central-1b", "eu-central-1c", "eu-central-1a"] }, "coreZones").problem).toMatch(/got 4/);
  });

  test("min > desired and desired > max", () => {
    const g = valid.clientGroups[0];
    expect(problem({ ...valid, clientGroups: [{ ...g, min: 3, desired: 2 }] }, "clientGroups[0].min")).toMatchObject({ value: 3, problem: "greater than desired (2)", fix: "make min ≤ desired ≤ max" });
    expect(problem({ ...valid, clientGroups: [{ ...g, desired: 5, max: 4 }] }, "clientGroups[0].desired")).toMatchObject({ value: 5, problem: "greater than max (4)" });
  });

  test("two groups with the same name", () => {
    const p = problem({ ...valid, clientGroups: [valid.clientGroups[0], { ...valid.clientGroups[0], region: "eu-central-1" }] }, "clientGroups[1].name");
    expect(p.problem).toBe("clientGroups[0] has the same name");
    expect(p.fix).toBe("give every group a unique name");
  });

  test("unknown region", () => {
    expect(problem({ ...valid, coreRegion: "eu-middle-9" }, "coreRegion")).toMatchObject({ value: "eu-middle-9", problem: "unknown AWS region" });
    expect(problem({ ...valid, clientGroups: [{ ...valid.clientGroups[0], region: "mars-1" }] }, "clientGroups[0].region").fix).toMatch(/clusters\/spec\/regions.ts/);
  });

  test("CIDR override that collides with another region", () => {
    const p = problem({ ...valid, cidrOverrides: { "us-east-2": "10.20.0.0/16" } }, "cidrOverrides.us-east-2");
    expect(p.problem).toBe("collides with eu-central-1's VPC block 10.20.0.0/16");
    expect(problem({ ...valid, cidrOverrides: { "us-east-2": "10.2.0.0/20" } }, "cidrOverrides.us-east-2").problem).toMatch(/must be a \/16/);
  });

  test("instance type not of the form family.size", () => {
    for (const t of ["large", "m6i-large", "M6I.LARGE", "m6i."]) {
      expect(problem({ ...valid, core: { instanceType: t } }, "core.instanceType").problem).toBe("not an EC2 instance type of the form family.size");
    }
    expect(problem({ ...valid, clientGroups: [{ ...valid.clientGroups[0], instanceType: ["m6i.large", "big"] }] }, "clientGroups[0].instanceType[1]").value).toBe("big");
  });

  test("adminCidrs entry that is not a CIDR or is 0.0.0.0/0", () => {
    expect(problem({ ...valid, adminCidrs: ["10.0.0.1"] }, "adminCidrs[0]").problem).toBe("not an IPv4 CIDR block");
    expect(problem({ ...valid, adminCidrs: ["203.0.113.0/33"] }, "adminCidrs[0]").problem).toBe("not an IPv4 CIDR block");
    const open = problem({ ...valid, adminCidrs: ["203.0.113.0/24", "0.0.0.0/0"] }, "adminCidrs[1]");
    expect(open.problem).toMatch(/whole internet/);
  });

  test("every problem is reported at once", () => {
    try {
      defineCluster({ ...valid, name: "X", domain: "nope", coreZones: [] });
      throw new Error("accepted");
    } catch (e) {
      expect((e as ClusterSpecError).problems.map((p) => p.field)).toEqual(["name", "domain", "coreZones"]);
    }
  });

  test("an existing key outside the core region, or single-region with remote clients", () => {
    expect(problem({ ...valid, kms: { create: false, keyArn: "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab" } }, "kms.keyArn").problem).toMatch(/not the core region/);
    expect(problem({ ...valid, kms: { create: false, keyArn: "arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab" } }, "kms.keyArn").fix).toMatch(/multi-Region key/);
  });

  test("a route that takes an admin host", () => {
    expect(problem({ ...valid, routes: [{ host: "vault", service: "web" }] }, "routes[0].host").problem).toMatch(/reserved/);
  });
});

describe("cluster files", () => {
  test("the example cluster loads and is valid", () => {
    expect(knownClusters()).toContain("example");
    expect(loadCluster("example").regions.map((r) => r.name)).toEqual(["eu-central-1", "us-east-2"]);
  });

  test("an unknown cluster name fails with the list of known clusters", () => {
    expect(() => loadCluster("nope")).toThrow(/Unknown cluster "nope" \(BITTE_CLUSTER\)\. Known clusters: .*example/);
  });
});
