import type { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { Construct } from "constructs";
import { clientIngressFrom, clientPortsFrom, AGENT_ROLES } from "../security/rules";
import { portFields, ruleId } from "../security/security-groups";

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
 * peering), and from every other client region for what clients need of each other. All
 * egress; nothing from the world, no port 22.
 */
export class RegionClientSecurityGroup extends Construct {
  readonly group: SecurityGroup;
  /** Inbound rules created, for quota checks. */
  readonly ingressRuleCount: number;

  constructor(scope: Construct, id: string, props: RegionClientSecurityGroupProps) {
    super(scope, id);
    const { provider } = props;
    const name = `bitte-${props.clusterName}-client`;
    this.group = new SecurityGroup(this, "group", {
      provider,
      name,
      description: `Bitte ${props.clusterName} client (${props.region})`,
      vpcId: props.vpcId,
      tags: { Name: name, Role: "client" },
      lifecycle: { createBeforeDestroy: true },
    });
    const securityGroupId = this.group.id;
    let count = 0;
    for (const p of clientIngressFrom("client")) {
      new VpcSecurityGroupIngressRule(this, ruleId(p, "client"), { provider, securityGroupId, referencedSecurityGroupId: securityGroupId, ...portFields(p) });
      count++;
    }
    const fromCidr = (cidr: string, where: string, ports: ReturnType<typeof clientPortsFrom>) => {
      for (const p of ports) {
        new VpcSecurityGroupIngressRule(this, ruleId(p, cidr), { provider, securityGroupId, cidrIpv4: cidr, ...portFields(p), description: `${p.what} (${where} ${cidr})` });
        count++;
      }
    };
    fromCidr(props.coreCidr, "core region", clientPortsFrom(AGENT_ROLES));
    for (const cidr of props.otherClientCidrs) fromCidr(cidr, "clients in", clientPortsFrom(["client"]));
    // Nodes fetch packages, reach the core servers over the peering and call AWS APIs.
    new VpcSecurityGroupEgressRule(this, "egress", { provider, securityGroupId, cidrIpv4: "0.0.0.0/0", ipProtocol: "-1", description: "all outbound" });
    this.ingressRuleCount = count;
  }
}
