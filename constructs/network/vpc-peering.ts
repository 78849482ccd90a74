import type { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Route } from "@cdktf/provider-aws/lib/route";
import { VpcPeeringConnection } from "@cdktf/provider-aws/lib/vpc-peering-connection";
import { VpcPeeringConnectionAccepterA } from "@cdktf/provider-aws/lib/vpc-peering-connection-accepter";
import { VpcPeeringConnectionOptions } from "@cdktf/provider-aws/lib/vpc-peering-connection-options";
import { Construct } from "constructs";
import type { RegionNetwork } from "./region-network";

/** One side of a peering. */
export interface PeerSide {
  readonly region: string;
  readonly cidr: string;
  readonly network: RegionNetwork;
  readonly provider: AwsProvider;
}

export interface VpcPeeringProps {
  /** The side that requests the peering. */
  readonly requester: PeerSide;
  /** The side that accepts it (another region). */
  readonly accepter: PeerSide;
  /** Cluster name, for `Name` tags. */
  readonly clusterName: string;
}

/**
 * A cross-region VPC peering, accepted on the far side, with DNS resolution across it and
 * routes to the other VPC in every route table on both sides. Consul LAN gossip is all-to-all,
 * so every pair of the cluster's regions is peered.
 */
export class VpcPeering extends Construct {
  readonly connection: VpcPeeringConnection;

  constructor(scope: Construct, id: string, props: VpcPeeringProps) {
    super(scope, id);
    const { requester: a, accepter: b } = props;
    const tags = { Name: `bitte-${props.clusterName}-${a.region}-${b.region}` };
    this.connection = new VpcPeeringConnection(this, "connection", {
      provider: a.provider,
      vpcId: a.network.vpcId,
      peerVpcId: b.network.vpcId,
      peerRegion: b.region,
      // Cross-region peerings cannot be auto-accepted by the requester; the accepter does it.
      autoAccept: false,
      tags,
    });
    const accepter = new VpcPeeringConnectionAccepterA(this, "accepter", { provider: b.provider, vpcPeeringConnectionId: this.connection.id, autoAccept: true, tags });
    // Read once: each read of an attribute makes a new token (the same reference in the JSON).
    const peeringId = accepter.vpcPeeringConnectionId;
    // Options can only be set once the peering is active, on each side with its own provider.
    new VpcPeeringConnectionOptions(this, "requester-options", {
      provider: a.provider,
      vpcPeeringConnectionId: peeringId,
      requester: { allowRemoteVpcDnsResolution: true },
    });
    new VpcPeeringConnectionOptions(this, "accepter-options", {
      provider: b.provider,
      vpcPeeringConnectionId: peeringId,
      accepter: { allowRemoteVpcDnsResolution: true },
    });
    for (const [side, other] of [[a, b], [b, a]] as const) {
      side.network.routeTableIds.forEach((routeTableId, i) => {
        new Route(this, `route-${side.region}-${i}`, {
          provider: side.provider,
          routeTableId,
          destinationCidrBlock: other.cidr,
          vpcPeeringConnectionId: peeringId,
        });
      });
    }
  }
}
