/**
 * Issue 14, "Validation": each class of spec AWS or Bitte would refuse (or silently ignore) is
 * refused by defineCluster with the field, the value and the fix. Only the public API is used,
 * so these tests run against any version of defineCluster.
 */
import { ClusterSpecError, defineCluster, type ClusterSpec } from "../../clusters/spec";
import { testClusterSpec, testGroup } from "../harness/specs";

const valid: ClusterSpec = testClusterSpec("demo", { clientGroups: [testGroup({ region: "us-east-2", desired: 2, max: 4 })], adminCidrs: ["203.0.113.0/24"] });
const group = valid.clientGroups[0];

/** Loosely typed specs: what a user's file holds once tsx has stripped the types. */
function spec(extra: Record<string, unknown>): ClusterSpec {
  return { ...valid, ...extra } as unknown as ClusterSpec;
}
function withGroup(extra: Record<string, unknown>, index = 0): ClusterSpec {
  const groups: unknown[] = [...valid.clientGroups];
  groups[index] = { ...group, ...extra };
  return spec({ clientGroups: groups });
}

interface Found {
  readonly field: string;
  readonly value: unknown;
  readonly problem: string;
  readonly fix: string;
}

/** Every problem of a spec that must be refused; fails on acceptance and on any other error. */
function problemsOf(s: ClusterSpec): Found[] {
  let err: unknown;
  try {
    defineCluster(s);
  } catch (e) {
    err = e;
  }
  if (err === undefined) throw new Error("spec was accepted; expected it to be refused");
  if (!(err instanceof ClusterSpecError)) throw new Error(`expected a ClusterSpecError, got ${String(err)}`);
  return err.problems.map((p) => ({ ...p }));
}

function problem(s: ClusterSpec, field: string): Found {
  const all = problemsOf(s);
  const p = all.find((x) => x.field === field);
  if (!p) throw new Error(`no problem reported for ${field}; got ${JSON.stringify(all.map((x) => x.field))}`);
  return p;
}

describe("nothing is ignored: unknown keys name their path and the closest known key", () => {
  test.each([
    ["top level", spec({ adminCidr: ["203.0.113.0/24"] }), "adminCidr", "adminCidrs"],
    ["a client group", withGroup({ nodeclass: "web" }), "clientGroups[0].nodeclass", "nodeClass"],
    ["the backend", spec({ backend: { type: "s3", bucket: "acme-bitte-state", regoin: "eu-central-1" } }), "backend.regoin", "region"],
    ["the image", spec({ image: { type: "name", name: "my-image", ownr: "123456789012" } }), "image.ownr", "owner"],
    ["a route", spec({ routes: [{ host: "www", servce: "web" }] }), "routes[0].servce", "service"],
    ["a node size", spec({ core: { instancetype: "m6i.xlarge" } }), "core.instancetype", "instanceType"],
    ["versions", spec({ versions: { nomd: "1.10.5" } }), "versions.nomd", "nomad"],
  ])("%s", (_where, s, field, near) => {
    const p = problem(s, field);
    expect(p.problem).toMatch(/^unknown key/);
    expect(p.fix).toBe(`did you mean "${near}"?`);
  });

  test("a misspelt required key: the typo and the missing key are both named", () => {
    const groups = [group, { name: "web", region: "eu-central-1", instanceTyp: "m6i.large", min: 1, desired: 1, max: 2 }];
    const all = problemsOf(spec({ clientGroups: groups }));
    expect(all).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ field: "clientGroups[1].instanceTyp", problem: "unknown key", fix: 'did you mean "instanceType"?' }),
        expect.objectContaining({ field: "clientGroups[1].instanceType", problem: "required" }),
      ]),
    );
  });

  test("a key that belongs to another variant of a union", () => {
    const p = problem(spec({ kms: { create: true, keyArn: "arn:aws:kms:eu-central-1:123456789012:key/1234abcd" } }), "kms.keyArn");
    expect(p.problem).toBe("unknown key for create: true");
    const r = problem(spec({ routing: { instanceType: "t3.small", dataVolumeGb: 50 } }), "routing.dataVolumeGb");
    expect(r.problem).toBe("unknown key");
  });

  test("a key far from every known key lists the known keys", () => {
    expect(problem(spec({ zzzzzz: 1 }), "zzzzzz").fix).toMatch(/^remove it; the known keys are name, domain, coreRegion/);
  });

  test("overrides and AMIs for regions the cluster does not use", () => {
    expect(problem(spec({ cidrOverrides: { "us-west-2": "10.104.0.0/16" } }), "cidrOverrides.us-west-2").problem).toBe("us-west-2 hosts nothing in this cluster, so the override would be ignored");
    const amis = { "eu-central-1": "ami-0123456789abcdef0", "us-east-2": "ami-0123456789abcdef1", "us-west-2": "ami-0123456789abcdef2" };
    expect(problem(spec({ image: { type: "ami", amis } }), "image.amis.us-west-2").problem).toMatch(/hosts nothing in this cluster/);
    expect(problem(spec({ arm64Image: { type: "name", name: "my-arm-image" } }), "arm64Image").problem).toBe("no node is arm64, so this image would be ignored");
  });
});

describe("wrong JSON types are errors naming the field, never a TypeError", () => {
  test.each([
    ["clientGroups", "workers", /^must be a list of objects, not a string$/],
    ["coreZones", "eu-central-1a", /^must be a list of strings, not a string$/],
    ["adminCidrs", "203.0.113.0/24", /^must be a list of strings, not a string$/],
    ["tags", ["team"], /^must be an object: tag key → string, not a list$/],
    ["backend", "s3", /^must be \{ type: "local", … \} \| \{ type: "s3", … \}, not a string$/],
    ["name", 42, /^must be a string, not a number$/],
    ["routes", [null], /^must be an object, not null$/],
    ["nat", 1, /^must be "per-az" \| "single" \| "none", not a number$/],
  ])("%s = %j", (field, value, message) => {
    const all = problemsOf(spec({ [field]: value }));
    expect(all[0].field).toBe(field === "routes" ? "routes[0]" : field);
    expect(all[0].problem).toMatch(message);
  });

  test("numbers as strings and fractions in a group", () => {
    expect(problem(withGroup({ min: "1" }), "clientGroups[0].min").problem).toBe("must be a whole number, not a string");
    expect(problem(withGroup({ max: 2.5 }), "clientGroups[0].max").problem).toBe("must be a whole number of at least 1");
    expect(problem(spec({ kms: { create: "false", keyArn: "x" } }), "kms.create").problem).toBe("must be false, not a string");
  });

  // Every field, replaced by every JSON type: the only error ever is a ClusterSpecError.
  const junk: unknown[] = [null, 0, -1, 1.5, "", "x", [], [null], {}, { a: 1 }, true];
  const fields = ["name", "domain", "coreRegion", "coreZones", "clientGroups", "core", "monitoring", "routing", "nat", "kms", "backend", "versions", "image", "arm64Image", "adminCidrs", "routes", "cidrOverrides", "namespaces", "tags"];
  const groupFields = ["name", "region", "zones", "instanceType", "min", "desired", "max", "nodeClass", "rootVolumeGb", "dataVolumeGb", "maxInstanceLifetimeDays"];
  test("no junk value anywhere crashes defineCluster", () => {
    const crashes: string[] = [];
    const attempt = (label: string, s: unknown): void => {
      try {
        defineCluster(s as ClusterSpec);
      } catch (e) {
        if (!(e instanceof ClusterSpecError)) crashes.push(`${label}: ${String(e)}`);
      }
    };
    for (const v of junk) {
      for (const f of fields) attempt(`${f} = ${JSON.stringify(v)}`, spec({ [f]: v }));
      for (const f of groupFields) attempt(`clientGroups[0].${f} = ${JSON.stringify(v)}`, withGroup({ [f]: v }));
      attempt(`clientGroups[0] = ${JSON.stringify(v)}`, spec({ clientGroups: [v] }));
      attempt(`spec = ${JSON.stringify(v)}`, v);
    }
    expect(crashes).toEqual([]);
  });
});

describe("zones that exist", () => {
  test("a region's default zones exist in it (ca-central-1 has no zone c, ap-northeast-1 no zone b)", () => {
    const ca = defineCluster(spec({ clientGroups: [{ ...group, region: "ca-central-1" }] }));
    expect(ca.clientGroups[0].zones).toEqual(["ca-central-1a", "ca-central-1b", "ca-central-1d"]);
    const tokyo = defineCluster(spec({ clientGroups: [{ ...group, region: "ap-northeast-1" }] }));
    expect(tokyo.clientGroups[0].zones).toEqual(["ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"]);
  });

  test("a zone letter the region does not have is refused, naming the zones it has", () => {
    const p = problem(spec({ coreZones: ["eu-central-1a", "eu-central-1b", "eu-central-1d"] }), "coreZones[2]");
    expect(p).toMatchObject({ value: "eu-central-1d", problem: "not an availability zone of eu-central-1" });
    expect(p.fix).toBe('use one of "eu-central-1a", "eu-central-1b", "eu-central-1c" (clusters/spec/zones.ts)');
    expect(problem(withGroup({ region: "ap-northeast-1", zones: ["ap-northeast-1a", "ap-northeast-1b"] }), "clientGroups[0].zones[1]").problem).toBe("not an availability zone of ap-northeast-1");
    expect(defineCluster(withGroup({ region: "us-east-1", zones: ["us-east-1f"] })).clientGroups[0].zones).toEqual(["us-east-1f"]);
  });

  test("a region where an account sees two zones cannot host the core, and has no default zones", () => {
    const p = problem(spec({ coreRegion: "us-west-1", coreZones: ["us-west-1a", "us-west-1b", "us-west-1c"] }), "coreRegion");
    expect(p.problem).toBe("an account sees only 2 availability zones of us-west-1; the core needs three");
    expect(problem(withGroup({ region: "us-west-1" }), "clientGroups[0].zones").problem).toBe("us-west-1's zone names differ per account, so there is no default");
    expect(problem(withGroup({ region: "us-west-1", zones: ["us-west-1a", "us-west-1b", "us-west-1c"] }), "clientGroups[0].zones").problem).toBe("us-west-1 gives an account only 2 of its zones");
    expect(defineCluster(withGroup({ region: "us-west-1", zones: ["us-west-1a", "us-west-1c"] })).clientGroups[0].zones).toEqual(["us-west-1a", "us-west-1c"]);
  });

  test("the same core zone twice", () => {
    expect(problem(spec({ coreZones: ["eu-central-1a", "eu-central-1a", "eu-central-1b"] }), "coreZones[1]").problem).toBe("zone listed twice");
  });
});

describe("architecture: instance types match their image", () => {
  test("a Graviton group gets the arm64 image; x86_64 nodes keep theirs", () => {
    const c = defineCluster(withGroup({ instanceType: ["m7g.large", "c7gn.large"] }));
    expect(c.clientGroups[0].architecture).toBe("arm64");
    expect(c.core.architecture).toBe("x86_64");
    expect(c.images.arm64).toMatchObject({ type: "name", name: expect.stringContaining("-arm64-server-") });
    expect(c.images.x86_64).toEqual(c.image);
  });

  test.each([
    ["a1.large", "arm64"],
    ["t4g.small", "arm64"],
    ["g5g.xlarge", "arm64"],
    ["im4gn.large", "arm64"],
    ["is4gen.large", "arm64"],
    ["x2gd.large", "arm64"],
    ["hpc7g.4xlarge", "arm64"],
    ["g5.xlarge", "x86_64"],
    ["m7i-flex.large", "x86_64"],
    ["c5n.large", "x86_64"],
    ["m6a.large", "x86_64"],
  ])("%s is %s", (type, arch) => {
    expect(defineCluster(withGroup({ instanceType: type })).clientGroups[0].architecture).toBe(arch);
  });

  test("x86_64 and arm64 types in one group are refused", () => {
    const p = problem(withGroup({ instanceType: ["m6i.large", "m7g.large"] }), "clientGroups[0].instanceType[1]");
    expect(p.problem).toBe("is arm64 but m6i.large, the group's first type, is x86_64; one launch template has one image");
    expect(p.fix).toBe("use types of one architecture in a group, or split the group");
  });

  test("a custom image and Graviton nodes need an arm64Image", () => {
    const p = problem(spec({ image: { type: "name", name: "acme-base-amd64-2025" }, core: { instanceType: "m7g.large" } }), "arm64Image");
    expect(p.problem).toBe("core.instanceType = m7g.large is arm64, and image only sets the x86_64 image");
    const ok = defineCluster(spec({ image: { type: "name", name: "acme-base-amd64-2025" }, arm64Image: { type: "name", name: "acme-base-arm64-2025" }, core: { instanceType: "m7g.large" } }));
    expect(ok.images.arm64).toEqual({ type: "name", name: "acme-base-arm64-2025", owner: "099720109477" });
  });

  test("an image whose name says the other architecture", () => {
    expect(problem(spec({ image: { type: "name", name: "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-arm64-server-20251022" } }), "image.name").problem).toBe("the image is for x86_64 nodes, but this names an arm64 image");
    expect(problem(spec({ arm64Image: { type: "ssm", parameter: "/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id" }, routing: { instanceType: "t4g.small" } }), "arm64Image.parameter").problem).toBe("the arm64Image is for arm64 nodes, but this names an x86_64 image");
  });

  test("mac instances cannot run in an auto-scaling group", () => {
    expect(problem(withGroup({ instanceType: "mac2.metal" }), "clientGroups[0].instanceType").problem).toMatch(/dedicated hosts/);
  });
});

describe("AWS's own bounds are refused before apply", () => {
  test("instance lifetime: Auto Scaling takes 1–365 days", () => {
    expect(problem(withGroup({ maxInstanceLifetimeDays: 366 }), "clientGroups[0].maxInstanceLifetimeDays")).toMatchObject({ problem: "must be a whole number from 1 to 365", fix: "give a whole number days in 1–365" });
    expect(problem(withGroup({ maxInstanceLifetimeDays: 0 }), "clientGroups[0].maxInstanceLifetimeDays").problem).toBe("must be a whole number from 1 to 365");
    expect(defineCluster(withGroup({ maxInstanceLifetimeDays: 365 })).clientGroups[0].maxInstanceLifetimeSeconds).toBe(31536000);
  });

  test("a root volume smaller than the image's root snapshot", () => {
    expect(problem(withGroup({ rootVolumeGb: 4 }), "clientGroups[0].rootVolumeGb")).toMatchObject({ value: 4, problem: "smaller than the image's 8 GiB root snapshot; EC2 refuses the launch", fix: "give at least 8 GiB" });
    expect(problem(spec({ image: { type: "name", name: "acme-amd64", rootSnapshotGb: 50 } }), "core.rootVolumeGb").problem).toBe("smaller than the image's 50 GiB root snapshot; EC2 refuses the launch");
    expect(problem(withGroup({ dataVolumeGb: 20000 }), "clientGroups[0].dataVolumeGb").problem).toBe("must be a whole number from 1 to 16384");
  });

  test("reserved tag prefixes and keys, and AWS's tag limits", () => {
    expect(problem(spec({ tags: { "aws:team": "x" } }), "tags.aws:team".replace("tags.aws:team", 'tags["aws:team"]')).problem).toBe('tag key "aws:team": the aws: prefix is reserved for AWS\'s own tags');
    expect(problem(spec({ tags: { "AWS:Team": "x" } }), 'tags["AWS:Team"]').problem).toMatch(/aws: prefix is reserved/);
    expect(problem(spec({ tags: { Name: "x" } }), "tags.Name").problem).toBe('tag key "Name": Bitte sets this tag itself');
    expect(problem(spec({ tags: { "cost center": "x" } }), 'tags["cost center"]').problem).toMatch(/instance metadata tags on/);
    expect(problem(spec({ tags: { ["k".repeat(129)]: "x" } }), `tags.${"k".repeat(129)}`).problem).toMatch(/129 characters; AWS takes tag keys of 1–128/);
    expect(problem(spec({ tags: { team: "v".repeat(257) } }), "tags.team").problem).toBe("is 257 characters; AWS takes tag values of at most 256");
    const many = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`t${i}`, "v"]));
    expect(problem(spec({ tags: many(46) }), "tags").problem).toBe("has 46 entries, more than 45");
    expect(Object.keys(defineCluster(spec({ tags: many(45) })).tags)).toHaveLength(45);
  });

  test("S3 bucket names and Terraform's S3 backend key rules", () => {
    const s3 = (extra: Record<string, unknown>) => spec({ backend: { type: "s3", bucket: "acme-bitte-state", ...extra } });
    expect(problem(s3({ bucket: "acme..state" }), "backend.bucket").problem).toBe("not an S3 bucket name: two adjacent dots");
    expect(problem(s3({ bucket: "192.168.1.10" }), "backend.bucket").problem).toBe("not an S3 bucket name: formatted as an IP address");
    expect(problem(s3({ bucket: "xn--state" }), "backend.bucket").problem).toBe("not an S3 bucket name: the prefix xn-- is reserved");
    expect(problem(s3({ bucket: "state-s3alias" }), "backend.bucket").problem).toBe("not an S3 bucket name: the suffix -s3alias is reserved");
    expect(problem(s3({ keyPrefix: "/bitte/prod" }), "backend.keyPrefix").problem).toMatch(/^starts or ends with "\/"/);
    expect(problem(s3({ keyPrefix: "bitte/prod/" }), "backend.keyPrefix").problem).toMatch(/^starts or ends with "\/"/);
    expect(problem(s3({ keyPrefix: "bitte//prod" }), "backend.keyPrefix").problem).toBe('contains "//", which Terraform\'s S3 backend refuses in a key');
    expect(problem(s3({ keyPrefix: "" }), "backend.keyPrefix").problem).toMatch(/^empty/);
  });

  test("quotas a cluster may exceed at its maximum size are warnings naming the quota", () => {
    const big = defineCluster(withGroup({ instanceType: "m6i.4xlarge", max: 100 }));
    expect(big.warnings).toEqual([expect.objectContaining({ field: "clientGroups[0].max", problem: expect.stringContaining('"Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances" (L-1216C47A)') })]);
    const gpu = defineCluster(withGroup({ instanceType: "g5.xlarge", min: 0, desired: 0, max: 1 }));
    expect(gpu.warnings.map((w) => w.problem)).toEqual([expect.stringContaining('"Running On-Demand G and VT instances" (L-DB2E81BA)')]);
    const eips = defineCluster(withGroup({ region: "us-east-1", zones: ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1e", "us-east-1f"] }));
    expect(eips.warnings.map((w) => w.problem)).toEqual([expect.stringContaining('us-east-1 needs 6 Elastic IPs for its NAT gateways; the quota "EC2-VPC Elastic IPs" (L-0263D0A3)')]);
    expect(defineCluster(valid).warnings).toEqual([]);
  });

  test("a quota warning names the field that contributes most, with that field's own value, and lists every contributor", () => {
    // In the core region the core, monitoring and routing nodes count too, but the group is what
    // takes the region over the quota: the warning must not say "core.instanceType = 326".
    const big = defineCluster({ ...valid, clientGroups: [{ ...group, region: "eu-central-1", instanceType: "m6i.4xlarge", max: 20 }] });
    expect(big.warnings).toHaveLength(1);
    const w = big.warnings[0];
    expect({ field: w.field, value: w.value }).toEqual({ field: "clientGroups[0].max", value: 20 });
    expect(w.problem).toMatch(/^at maximum size eu-central-1 runs about 332 vCPUs under the EC2 quota "Running On-Demand Standard/);
    expect(w.problem).toContain("clientGroups[0] 20 × m6i.4xlarge (320), core 3 × ");
  });
});

describe("address plans that work on the nodes", () => {
  test.each([
    ["172.17.0.0/16", "Docker's default bridge docker0"],
    ["172.26.0.0/16", "Nomad's bridge network"],
    ["169.254.0.0/16", "link-local range"],
    ["127.1.0.0/16", "loopback"],
    ["224.0.0.0/16", "multicast"],
  ])("%s is refused", (cidr, what) => {
    const p = problem(spec({ cidrOverrides: { "us-east-2": cidr } }), "cidrOverrides.us-east-2");
    expect(p.problem).toMatch(new RegExp(`^overlaps [0-9./]+, .*${what}`));
    expect(p.fix).toBe('pick a /16 outside ' + p.problem.split(" ")[1].replace(",", "") + ', e.g. "10.102.0.0/16"');
  });

  test("a block next to them is used", () => {
    expect(defineCluster(spec({ cidrOverrides: { "us-east-2": "172.18.0.0/16" } })).regions[1].cidr).toBe("172.18.0.0/16");
    expect(defineCluster(spec({ cidrOverrides: { "eu-central-1": "172.27.0.0/16" } })).regions[0].cidr).toBe("172.27.0.0/16");
  });
});
