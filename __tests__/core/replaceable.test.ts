/**
 * Resources that must survive replacement or an in-place change (issue 13): security groups
 * replaced with create_before_destroy, listener rules when a rule is added, the AMI lookup when
 * the image is deprecated, the routing instances' tags, and the core group's rule quota.
 */
import { App, Testing, TerraformStack } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import example from "../../clusters/example";
import { TAGS } from "../../cli/contract";
import { LoadBalancer } from "../../constructs/load-balancer";
import { DEFAULT_RULES_PER_GROUP, securityGroupQuotaUse } from "../../constructs/security/security-groups";
import large from "../../scripts/large-cluster";
import { clientsStack, coreStack } from "../harness/stacks";
import { resources, type StackJson } from "../harness/synth";

describe.each([
  ["example", example],
  ["16 regions", large],
])("%s", (_what, cluster) => {
  const core = coreStack(cluster).json;
  const clients = clientsStack(cluster).json;

  test("no security group has a fixed name: a create_before_destroy replacement would fail with InvalidGroup.Duplicate", () => {
    const groups = [...resources(core, "aws_security_group"), ...resources(clients, "aws_security_group")];
    expect(groups.length).toBeGreaterThan(0);
    for (const g of groups) {
      expect({ address: g.address, name: g.config.name }).toEqual({ address: g.address, name: undefined });
      expect(g.config.name_prefix).toMatch(new RegExp(`^bitte-${cluster.name}-`));
    }
  });

  test("the AMI lookup by name also finds the image once AWS deprecates it (two years after publication)", () => {
    const amis = [...resources(core, "aws_ami", "data"), ...resources(clients, "aws_ami", "data")];
    expect(amis.length).toBeGreaterThan(0);
    for (const a of amis) expect({ address: a.address, include_deprecated: a.config.include_deprecated }).toEqual({ address: a.address, include_deprecated: true });
  });

  test("routing instances carry the Cluster, Name and Role tags bitte info and bitte ssh look for", () => {
    const [template] = resources(core, "aws_launch_template").filter((t) => String(t.config.name ?? t.config.name_prefix).includes("routing"));
    const specs = template.config.tag_specifications as Array<{ resource_type: string; tags: Record<string, string> }>;
    const instance = specs.find((s) => s.resource_type === "instance");
    expect(instance?.tags).toMatchObject({ [TAGS.cluster]: cluster.name, [TAGS.name]: "routing", [TAGS.role]: "routing", ManagedBy: "bitte" });
  });
});

test("16 regions: the core group admits the 15 peered client regions through one prefix list, and the rule count is shown", () => {
  const core = coreStack(large).json;
  const coreGroup = resources(core, "aws_security_group").find((g) => (g.config.tags as Record<string, string>).Role === "core")!;
  const onCore = resources(core, "aws_vpc_security_group_ingress_rule").filter((r) => r.config.security_group_id === `\${aws_security_group.${coreGroup.name}.id}`);
  const lists = resources(core, "aws_ec2_managed_prefix_list");
  expect(lists).toHaveLength(1);
  expect(lists[0].config.max_entries).toBe(15);
  expect((lists[0].config.entry as unknown[]).length).toBe(15);
  // No rule per region any more: a CIDR rule would name one region's block.
  expect(onCore.filter((r) => r.config.cidr_ipv4 !== undefined)).toEqual([]);
  const byList = onCore.filter((r) => r.config.prefix_list_id !== undefined);
  const bySg = onCore.filter((r) => r.config.referenced_security_group_id !== undefined);
  // 39 SG-to-SG rules inside the core region and 8 for all peered regions: 47 rule resources,
  // whatever the number of regions (was 39 + 8 CIDR rules per region = 159).
  expect({ rules: onCore.length, bySecurityGroup: bySg.length, byPrefixList: byList.length }).toEqual({ rules: 47, bySecurityGroup: 39, byPrefixList: 8 });
  // But AWS counts a prefix-list reference as the list's max entries against the 60-rule quota:
  // 39 + 8 × 15 = 159, as before, so the quota still has to be raised (the synth warning says so).
  expect(securityGroupQuotaUse(bySg.length, byList.length, 15)).toBe(159);
  expect(159).toBeGreaterThan(DEFAULT_RULES_PER_GROUP);
});

function lbJson(adminCidrs: string[], publicHosts: string[]): StackJson {
  const app: App = Testing.app();
  const stack = new TerraformStack(app, "lb");
  const provider = new AwsProvider(stack, "aws", { region: "eu-central-1" });
  new LoadBalancer(stack, "load-balancer", { provider, clusterName: "example", domain: "example.com", zoneId: "Z1", vpcId: "vpc-1", publicSubnetIds: ["subnet-1", "subnet-2"], securityGroupId: "sg-1", adminCidrs, publicHosts });
  return JSON.parse(Testing.synth(stack)) as StackJson;
}
const priorities = (json: StackJson) => Object.fromEntries(resources(json, "aws_lb_listener_rule").map((r) => [r.name, r.config.priority as number]));

test("a listener rule keeps its priority when admin CIDRs and routes are added (no PriorityInUse shift)", () => {
  const before = priorities(lbJson(["192.0.2.0/24"], ["www"]));
  const after = priorities(lbJson(["198.51.100.0/24", "192.0.2.0/24", "203.0.113.0/24", "203.0.113.7/32", "10.9.0.0/16"], ["api", "www", "blog"]));
  expect(Object.keys(after).length).toBeGreaterThan(Object.keys(before).length);
  for (const [rule, priority] of Object.entries(before)) expect({ rule, priority: after[rule] }).toEqual({ rule, priority });
  for (const p of Object.values(after)) expect(p >= 1 && p <= 50000).toBe(true);
  expect(new Set(Object.values(after)).size).toBe(Object.values(after).length);
});
