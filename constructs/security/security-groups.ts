import type { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { Annotations } from "cdktf";
import { Construct } from "constructs";
import { ingressRules, PUBLIC_INGRESS, remoteClientIngress, type PortSpec, type SgRole } from "./rules";

export interface SecurityGroupsProps {
  readonly provider: AwsProvider;
  readonly clusterName: string;
  readonly vpcId: string;
  /** The region (for messages). */
  readonly region: string;
  /** VPC blocks of the peered client regions: admitted by CIDR (SG references cannot cross regions). */
  readonly remoteClientCidrs: readonly string[];
}

/** AWS's default quota of inbound rules per security group (adjustable in Service Quotas). */
export const DEFAULT_RULES_PER_GROUP = 60;

/** `from_port`/`to_port`/`ip_protocol` of a rule, and its description. */
export function portFields(p: PortSpec): { fromPort: number; toPort: number; ipProtocol: string; description: string } {
  return { fromPort: p.port, toPort: p.toPort ?? p.port, ipProtocol: p.protocol, description: p.what };
}

/** The id suffix of a rule: readable and stable, so adding a rule never renames another. */
export function ruleId(p: PortSpec, from: string): string {
  return `${p.protocol}-${p.port}${p.toPort ? `-${p.toPort}` : ""}-from-${from}`;
}

/**
 * A security group per role in the core region, with one SG-to-SG rule per catalogue entry, CIDR
 * rules for the peered client regions, all egress, and nothing open to the world but the load
 * balancer's 80 and 443. No rule opens port 22: access is through Session Manager.
 */
export class SecurityGroups extends Construct {
  readonly groups: ReadonlyMap<SgRole, SecurityGroup>;

  constructor(scope: Construct, id: string, props: SecurityGroupsProps) {
    super(scope, id);
    const { provider } = props;
    const roles: SgRole[] = ["core", "monitoring", "routing", "client", "alb"];
    const groups = new Map<SgRole, SecurityGroup>(
      roles.map((role) => [
        role,
        new SecurityGroup(this, role, {
          provider,
          name: `bitte-${props.clusterName}-${role}`,
          description: `Bitte ${props.clusterName} ${role}`,
          vpcId: props.vpcId,
          tags: { Name: `bitte-${props.clusterName}-${role}`, Role: role },
          lifecycle: { createBeforeDestroy: true },
        }),
      ]),
    );
    const sg = (role: SgRole) => groups.get(role) as SecurityGroup;

    const counts = new Map<SgRole, number>();
    const count = (role: SgRole) => counts.set(role, (counts.get(role) ?? 0) + 1);
    for (const rule of ingressRules()) {
      count(rule.to);
      new VpcSecurityGroupIngressRule(this, `${rule.to}-${ruleId(rule, rule.from)}`, {
        provider,
        securityGroupId: sg(rule.to).id,
        referencedSecurityGroupId: sg(rule.from).id,
        ...portFields(rule),
      });
    }
    props.remoteClientCidrs.forEach((cidr) => {
      for (const rule of remoteClientIngress()) {
        count(rule.to);
        new VpcSecurityGroupIngressRule(this, `${rule.to}-${ruleId(rule, cidr)}`, { provider, securityGroupId: sg(rule.to).id, cidrIpv4: cidr, ...portFields(rule), description: `${rule.what} (clients in ${cidr})` });
      }
    });
    for (const p of PUBLIC_INGRESS) {
      new VpcSecurityGroupIngressRule(this, `alb-${ruleId(p, "internet")}`, { provider, securityGroupId: sg("alb").id, cidrIpv4: "0.0.0.0/0", ...portFields(p) });
    }
    for (const [role, n] of counts) {
      if (n > DEFAULT_RULES_PER_GROUP) {
        Annotations.of(this).addWarning(
          `security group ${role} has ${n} inbound rules, more than AWS's default quota of ${DEFAULT_RULES_PER_GROUP}: raise "Inbound or outbound rules per security group" (VPC, Service Quotas) in ${props.region} before deploying`,
        );
      }
    }
    for (const role of roles) {
      // Nodes fetch packages and call AWS APIs; the load balancer forwards to HAProxy.
      new VpcSecurityGroupEgressRule(this, `${role}-egress`, { provider, securityGroupId: sg(role).id, cidrIpv4: "0.0.0.0/0", ipProtocol: "-1", description: "all outbound" });
    }
    this.groups = groups;
  }
}
