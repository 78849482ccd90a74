import type { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Route53Zone as Zone } from "@cdktf/provider-aws/lib/route53-zone";
import { Construct } from "constructs";

export interface Route53ZoneProps {
  /** The cluster domain, e.g. `cluster.example.com`. */
  readonly domain: string;
  /** Provider of the core region (Route53 is global; the provider only signs the calls). */
  readonly provider: AwsProvider;
  /** Cluster name, for the zone comment. */
  readonly clusterName: string;
}

/**
 * The public hosted zone of the cluster domain. It lives in the first stack deployed so its
 * name servers can be delegated from the parent domain before anything needs the zone.
 */
export class Route53Zone extends Construct {
  readonly zone: Zone;
  readonly zoneId: string;
  /** The zone's name servers: put these in NS records at the parent domain. */
  readonly nameServers: string[];

  constructor(scope: Construct, id: string, props: Route53ZoneProps) {
    super(scope, id);
    this.zone = new Zone(this, "zone", { provider: props.provider, name: props.domain, comment: `Bitte cluster ${props.clusterName}`, forceDestroy: false });
    this.zoneId = this.zone.zoneId;
    this.nameServers = this.zone.nameServers;
  }
}
