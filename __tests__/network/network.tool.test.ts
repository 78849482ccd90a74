import type { Cluster } from "../../clusters/spec";
import example from "../../clusters/example";
import large from "../../scripts/large-cluster";
import { NetworkStack } from "../../stacks/network";
import { networkOutputs } from "../../stacks/outputs";
import { regionOf, resources, synth } from "../harness/synth";
import { terraformTest, terraformUnavailable, type TfAssert } from "../harness/terraform";
import { describeIf } from "../harness/tools";

/**
 * What Terraform must see after a mocked apply of the network: planned blocks, subnets wired to
 * their region's VPC, each private table's default route through a NAT of its own region, and
 * outputs that carry the right ids. Mocked ids are random, so equalities prove the wiring.
 */
function networkAsserts(cluster: Cluster, json: ReturnType<typeof synth>["json"]): TfAssert[] {
  const vpcs = resources(json, "aws_vpc");
  const subnets = resources(json, "aws_subnet");
  const nats = resources(json, "aws_nat_gateway");
  const asserts: TfAssert[] = [];
  for (const plan of cluster.regions) {
    const vpc = vpcs.find((v) => regionOf(v) === plan.name);
    if (!vpc) throw new Error(`no VPC in ${plan.name}`);
    asserts.push({ condition: `${vpc.address}.cidr_block == "${plan.cidr}"`, message: `VPC of ${plan.name} is ${plan.cidr}` });
    asserts.push({ condition: `output.${networkOutputs.vpcId(plan.name)} == ${vpc.address}.id`, message: `output ${networkOutputs.vpcId(plan.name)} is the VPC id` });
    for (const zone of plan.zones) {
      for (const [cidr, out] of [[zone.privateCidr, networkOutputs.privateSubnetId(zone.name)], [zone.publicCidr, networkOutputs.publicSubnetId(zone.name)]]) {
        const subnet = subnets.find((s) => s.config.cidr_block === cidr);
        if (!subnet) throw new Error(`no subnet ${cidr}`);
        asserts.push({ condition: `${subnet.address}.vpc_id == ${vpc.address}.id && ${subnet.address}.availability_zone == "${zone.name}"`, message: `subnet ${cidr} is in ${zone.name} of ${plan.name}'s VPC` });
        asserts.push({ condition: `output.${out} == ${subnet.address}.id`, message: `output ${out} is the subnet id` });
      }
    }
  }
  for (const route of resources(json, "aws_route").filter((r) => r.config.nat_gateway_id)) {
    const sameRegion = nats.filter((n) => regionOf(n) === regionOf(route)).map((n) => `${n.address}.id`);
    asserts.push({ condition: `contains([${sameRegion.join(", ")}], ${route.address}.nat_gateway_id)`, message: `${route.address} goes through a NAT gateway of ${regionOf(route)}` });
  }
  for (const acc of resources(json, "aws_vpc_peering_connection_accepter")) {
    const conn = String(acc.config.vpc_peering_connection_id).replace(/^\$\{|\}$/g, "");
    asserts.push({ condition: `${acc.address}.vpc_peering_connection_id == ${conn}`, message: `${acc.address} accepts its connection` });
  }
  return asserts;
}

describeIf(terraformUnavailable(), "network stack under terraform (validate + mocked apply)", () => {
  test.each([
    ["example", example],
    ["16-region", large],
  ])("%s cluster", (_name, cluster) => {
    const { text, json } = synth((app) => new NetworkStack(app, "network", { cluster }));
    const result = terraformTest({ stackJson: text, asserts: networkAsserts(cluster, json) });
    expect(result.validate).toMatch(/The configuration is valid/);
    expect(result.test).toMatch(/1 passed, 0 failed/);
  });
});
