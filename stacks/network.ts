import type { Construct } from "constructs";
import { RegionNetwork } from "../constructs/network/region-network";
import { Route53Zone } from "../constructs/network/route53-zone";
import { VpcPeering } from "../constructs/network/vpc-peering";
import { BitteStack, regionProviders, type BitteStackProps } from "./base";
import { networkOutputs, output } from "./outputs";

/**
 * The `network` workspace, deployed first: a VPC in every region that hosts anything, peering
 * between every pair of them, and the cluster's Route53 zone.
 */
export class NetworkStack extends BitteStack {
  /** Region name → its network. */
  readonly networks: ReadonlyMap<string, RegionNetwork>;
  readonly zone: Route53Zone;

  constructor(scope: Construct, id: "network", props: BitteStackProps) {
    super(scope, id, props);
    const { cluster } = props;
    const providers = regionProviders(this, cluster);
    const provider = (region: string) => providers.get(region) as NonNullable<ReturnType<typeof providers.get>>;

    const networks = new Map<string, RegionNetwork>();
    for (const plan of cluster.regions) {
      const network = new RegionNetwork(this, plan.name, { plan, provider: provider(plan.name), clusterName: cluster.name, nat: cluster.nat });
      networks.set(plan.name, network);
      output(this, networkOutputs.vpcId(plan.name), network.vpcId, `VPC of ${plan.name}`);
      for (const zone of plan.zones) {
        output(this, networkOutputs.publicSubnetId(zone.name), network.publicSubnets.get(zone.name)?.id ?? "", `public subnet of ${zone.name}`);
        output(this, networkOutputs.privateSubnetId(zone.name), network.privateSubnets.get(zone.name)?.id ?? "", `private subnet of ${zone.name}`);
      }
    }
    this.networks = networks;

    // Consul LAN gossip is all-to-all: every pair of regions is peered (core ↔ clients and a
    // full mesh between client regions). The earlier region in cluster order requests.
    const regions = cluster.regions;
    regions.forEach((a, i) => {
      for (const b of regions.slice(i + 1)) {
        new VpcPeering(this, `peering-${a.name}-${b.name}`, {
          clusterName: cluster.name,
          requester: { region: a.name, cidr: a.cidr, network: networks.get(a.name) as RegionNetwork, provider: provider(a.name) },
          accepter: { region: b.name, cidr: b.cidr, network: networks.get(b.name) as RegionNetwork, provider: provider(b.name) },
        });
      }
    });

    this.zone = new Route53Zone(this, "zone", { domain: cluster.domain, provider: provider(cluster.coreRegion), clusterName: cluster.name });
    output(this, networkOutputs.zoneId, this.zone.zoneId, `Route53 zone of ${cluster.domain}`);
    output(this, networkOutputs.zoneNameServers, this.zone.nameServers, `Delegate ${cluster.domain} to these name servers (NS records at the parent domain) before deploying core`);
    // The steps Bitte cannot take for the operator, printed after every deploy of the first stack.
    output(
      this,
      "manual_steps",
      [
        `1. Delegate ${cluster.domain}: NS records at the parent domain with the four zone_name_servers, before deploying core (its certificate is validated through this zone).`,
        "2. Give the deploying principal the policy printed by `npx bitte deployer-policy`.",
      ],
      "what stays manual (README, Deploying)",
    );
  }
}
