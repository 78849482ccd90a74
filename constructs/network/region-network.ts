import { DefaultSecurityGroup } from "@cdktf/provider-aws/lib/default-security-group";
import { Eip } from "@cdktf/provider-aws/lib/eip";
import { InternetGateway } from "@cdktf/provider-aws/lib/internet-gateway";
import { NatGateway } from "@cdktf/provider-aws/lib/nat-gateway";
import type { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Route } from "@cdktf/provider-aws/lib/route";
import { RouteTable } from "@cdktf/provider-aws/lib/route-table";
import { RouteTableAssociation } from "@cdktf/provider-aws/lib/route-table-association";
import { Subnet } from "@cdktf/provider-aws/lib/subnet";
import { Vpc } from "@cdktf/provider-aws/lib/vpc";
import { VpcEndpoint } from "@cdktf/provider-aws/lib/vpc-endpoint";
import { Construct } from "constructs";
import type { NatMode, RegionPlan } from "../../clusters/spec";

export interface RegionNetworkProps {
  /** The region's planned VPC block and zones. */
  readonly plan: RegionPlan;
  /** The region's AWS provider. */
  readonly provider: AwsProvider;
  /** Cluster name, for `Name` tags. */
  readonly clusterName: string;
  /** How private subnets reach the internet: a NAT gateway per zone, one per region, or none. */
  readonly nat: NatMode;
}

/**
 * One region's VPC: a public and a private subnet per zone, an internet gateway, NAT per the
 * spec, a public route table, a private route table per zone, and an S3 gateway endpoint. The
 * VPC's default security group is emptied so nothing can use it by accident.
 */
export class RegionNetwork extends Construct {
  readonly vpc: Vpc;
  /** Zone name → public subnet. */
  readonly publicSubnets: ReadonlyMap<string, Subnet>;
  /** Zone name → private subnet. */
  readonly privateSubnets: ReadonlyMap<string, Subnet>;
  /** Every route table of the VPC (public first), for peering routes. */
  readonly routeTables: readonly RouteTable[];
  /**
   * `vpc.id` and the route tables' ids, taken once: each read of a resource attribute makes a
   * new token, and the sixteen-region mesh reads these a few thousand times.
   */
  readonly vpcId: string;
  readonly routeTableIds: readonly string[];

  constructor(scope: Construct, id: string, props: RegionNetworkProps) {
    super(scope, id);
    const { plan, provider } = props;
    const name = (suffix: string) => ({ Name: `bitte-${props.clusterName}-${suffix}` });

    this.vpc = new Vpc(this, "vpc", { provider, cidrBlock: plan.cidr, enableDnsSupport: true, enableDnsHostnames: true, tags: name(plan.name) });
    const vpcId = this.vpc.id;
    this.vpcId = vpcId;
    new DefaultSecurityGroup(this, "default-sg", { provider, vpcId, ingress: [], egress: [], tags: name(`${plan.name}-default-deny`) });
    const igw = new InternetGateway(this, "igw", { provider, vpcId, tags: name(plan.name) });

    const publicRt = new RouteTable(this, "rt-public", { provider, vpcId, tags: name(`${plan.name}-public`) });
    new Route(this, "rt-public-default", { provider, routeTableId: publicRt.id, destinationCidrBlock: "0.0.0.0/0", gatewayId: igw.id });

    const publicSubnets = new Map<string, Subnet>();
    const privateSubnets = new Map<string, Subnet>();
    const privateRts: RouteTable[] = [];
    const nats = new Map<string, NatGateway>();
    for (const zone of plan.zones) {
      const pub = new Subnet(this, `public-${zone.name}`, {
        provider,
        vpcId,
        availabilityZone: zone.name,
        cidrBlock: zone.publicCidr,
        // Nothing in the public subnets needs a public address of its own: the load balancer
        // and NAT gateways get theirs explicitly.
        mapPublicIpOnLaunch: false,
        tags: { ...name(`public-${zone.name}`), Tier: "public" },
      });
      new RouteTableAssociation(this, `public-${zone.name}-rta`, { provider, subnetId: pub.id, routeTableId: publicRt.id });
      publicSubnets.set(zone.name, pub);

      if (props.nat === "per-az" || (props.nat === "single" && nats.size === 0)) {
        const eip = new Eip(this, `nat-${zone.name}-eip`, { provider, domain: "vpc", tags: name(`nat-${zone.name}`) });
        nats.set(zone.name, new NatGateway(this, `nat-${zone.name}`, { provider, subnetId: pub.id, allocationId: eip.allocationId, tags: name(`nat-${zone.name}`), dependsOn: [igw] }));
      }

      const priv = new Subnet(this, `private-${zone.name}`, {
        provider,
        vpcId,
        availabilityZone: zone.name,
        cidrBlock: zone.privateCidr,
        mapPublicIpOnLaunch: false,
        tags: { ...name(`private-${zone.name}`), Tier: "private" },
      });
      const rt = new RouteTable(this, `rt-private-${zone.name}`, { provider, vpcId, tags: name(`${zone.name}-private`) });
      const nat = nats.get(zone.name) ?? nats.values().next().value;
      if (nat) new Route(this, `rt-private-${zone.name}-default`, { provider, routeTableId: rt.id, destinationCidrBlock: "0.0.0.0/0", natGatewayId: nat.id });
      new RouteTableAssociation(this, `private-${zone.name}-rta`, { provider, subnetId: priv.id, routeTableId: rt.id });
      privateSubnets.set(zone.name, priv);
      privateRts.push(rt);
    }
    this.publicSubnets = publicSubnets;
    this.privateSubnets = privateSubnets;
    this.routeTables = [publicRt, ...privateRts];
    this.routeTableIds = this.routeTables.map((t) => t.id);

    // S3 traffic (packages, snapshots, state) stays off the NAT gateways.
    new VpcEndpoint(this, "s3-endpoint", {
      provider,
      vpcId,
      serviceName: `com.amazonaws.${plan.name}.s3`,
      vpcEndpointType: "Gateway",
      routeTableIds: [...this.routeTableIds],
      tags: name(`${plan.name}-s3`),
    });
  }
}
