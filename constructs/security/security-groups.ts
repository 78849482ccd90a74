import { Ec2ManagedPrefixList } from "@cdktf/provider-aws/lib/ec2-managed-prefix-list";
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
  /**
   * VPC blocks of the peered client regions: admitted through one managed prefix list (SG
   * references cannot cross regions), so adding a region adds an entry, not a rule per port.
   */
  readonly remoteClientCidrs: readonly string[];
}

/** AWS's default quota of inbound rules per security group (adjustable in Service Quotas). */
export const DEFAULT_RULES_PER_GROUP = 60;

/**
 * How many rules a group uses of its quota: AWS counts a rule referencing a prefix list as the
 * list's maximum entries ("Amazon VPC quotas", managed prefix lists: a list of 20 maximum entries
 * referenced in a security group rule counts as 20 rules).
 */
export function securityGroupQuotaUse(plainRules: number, prefixListRules: number, maxEntries: number): number {
  return plainRules + prefixListRules * maxEntries;
}

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
          // A prefix, not a name: create_before_destroy makes the new group while the old exists,
          // and a second group of the same name fails with InvalidGroup.Duplicate.
          namePrefix: `bitte-${props.clusterName}-${role}-`,
          description: `Bitte ${props.clusterName} ${role}`,
          vpcId: props.vpcId,
          tags: { Name: `bitte-${props.clusterName}-${role}`, Role: role },
          lifecycle: { createBeforeDestroy: true },
        }),
      ]),
    );
    const sg = (role: SgRole) => groups.get(role) as SecurityGroup;

    const counts = new Map<SgRole, number>();
    const count = (role: SgRole, n = 1) => counts.set(role, (counts.get(role) ?? 0) + n);
    for (const rule of ingressRules()) {
      count(rule.to);
      new VpcSecurityGroupIngressRule(this, `${rule.to}-${ruleId(rule, rule.from)}`, {
        provider,
        securityGroupId: sg(rule.to).id,
        referencedSecurityGroupId: sg(rule.from).id,
        ...portFields(rule),
      });
    }
    if (props.remoteClientCidrs.length > 0) {
      const maxEntries = props.remoteClientCidrs.length;
      const list = new Ec2ManagedPrefixList(this, "client-regions", {
        provider,
        name: `bitte-${props.clusterName}-client-regions`,
        addressFamily: "IPv4",
        maxEntries,
        entry: props.remoteClientCidrs.map((cidr) => ({ cidr, description: "client region" })),
      });
      for (const rule of remoteClientIngress()) {
        count(rule.to, maxEntries);
        new VpcSecurityGroupIngressRule(this, `${rule.to}-${ruleId(rule, "client-regions")}`, { provider, securityGroupId: sg(rule.to).id, prefixListId: list.id, ...portFields(rule), description: `${rule.what} (clients in peered regions)` });
      }
    }
    for (const p of PUBLIC_INGRESS) {
      new VpcSecurityGroupIngressRule(this, `alb-${ruleId(p, "internet")}`, { provider, securityGroupId: sg("alb").id, cidrIpv4: "0.0.0.0/0", ...portFields(p) });
    }
    for (const [role, n] of counts) {
      if (n > DEFAULT_RULES_PER_GROUP) {
        Annotations.of(this).addWarning(
          `security group ${role} uses ${n} inbound rules of its quota (a prefix-list reference counts its maximum entries), more than AWS's default quota of ${DEFAULT_RULES_PER_GROUP}: raise "Inbound or outbound rules per security group" (VPC, Service Quotas) in ${props.region} before deploying`,
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
