import { Ec2ManagedPrefixList } from "@cdktf/provider-aws/lib/ec2-managed-prefix-list";
import type { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { Construct } from "constructs";
import { AGENT_ROLES, clientPortsFrom, type PortSpec } from "../security/rules";
import { portFields, ruleId } from "../security/security-groups";

/** What clients need of each other: admitted from the region's own clients and from the other client regions. */
const FROM_CLIENTS: readonly PortSpec[] = clientPortsFrom(["client"]);
/** What every role of the core region (clients included) needs of clients. */
const FROM_CORE_REGION: readonly PortSpec[] = clientPortsFrom(AGENT_ROLES);

export interface RegionClientSecurityGroupProps {
  readonly provider: AwsProvider;
  readonly clusterName: string;
  /** The region (names the group and its rules). */
  readonly region: string;
  /** The region's VPC. */
  readonly vpcId: string;
  /** VPC block of the core region: its servers, monitoring and routing nodes and clients. */
  readonly coreCidr: string;
  /** VPC blocks of the other client regions outside the core region. */
  readonly otherClientCidrs: readonly string[];
}

/**
 * The security group of the clients in a region other than the core region. Everything comes
 * from the rule catalogue: SG-to-SG rules from itself for what clients need of each other, CIDR
 * rules from the core VPC for what the core region's roles need of clients (reached over the
 * peering), and from every other client region for what clients need of each other. The other
 * client regions' blocks are one managed prefix list per region, so adding a region adds an
 * entry rather than a rule per port (each reference still counts its maximum entries against
 * the group's rule quota). All egress; nothing from the world, no port 22.
 */
export class RegionClientSecurityGroup extends Construct {
  readonly group: SecurityGroup;
  /** The other client regions' VPC blocks, when there are any. */
  readonly otherClientRegions?: Ec2ManagedPrefixList;

  constructor(scope: Construct, id: string, props: RegionClientSecurityGroupProps) {
    super(scope, id);
    const { provider } = props;
    const name = `bitte-${props.clusterName}-client`;
    this.group = new SecurityGroup(this, "group", {
      provider,
      // A prefix: a create_before_destroy replacement must not collide with the old group's name.
      namePrefix: `${name}-`,
      description: `Bitte ${props.clusterName} client (${props.region})`,
      vpcId: props.vpcId,
      tags: { Name: name, Role: "client" },
      lifecycle: { createBeforeDestroy: true },
    });
    const securityGroupId = this.group.id;
    for (const p of FROM_CLIENTS) {
      new VpcSecurityGroupIngressRule(this, ruleId(p, "client"), { provider, securityGroupId, referencedSecurityGroupId: securityGroupId, ...portFields(p) });
    }
    for (const p of FROM_CORE_REGION) {
      new VpcSecurityGroupIngressRule(this, ruleId(p, props.coreCidr), { provider, securityGroupId, cidrIpv4: props.coreCidr, ...portFields(p), description: `${p.what} (core region ${props.coreCidr})` });
    }
    if (props.otherClientCidrs.length > 0) {
      const list = new Ec2ManagedPrefixList(this, "other-client-regions", {
        provider,
        name: `bitte-${props.clusterName}-client-regions`,
        addressFamily: "IPv4",
        maxEntries: props.otherClientCidrs.length,
        entry: props.otherClientCidrs.map((cidr) => ({ cidr, description: "client region" })),
      });
      for (const p of FROM_CLIENTS) {
        new VpcSecurityGroupIngressRule(this, ruleId(p, "client-regions"), { provider, securityGroupId, prefixListId: list.id, ...portFields(p), description: `${p.what} (clients in other regions)` });
      }
      this.otherClientRegions = list;
    }
    // Nodes fetch packages, reach the core servers over the peering and call AWS APIs.
    new VpcSecurityGroupEgressRule(this, "egress", { provider, securityGroupId, cidrIpv4: "0.0.0.0/0", ipProtocol: "-1", description: "all outbound" });
  }
}
