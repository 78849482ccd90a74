import { createHash } from "node:crypto";
import { AcmCertificate } from "@cdktf/provider-aws/lib/acm-certificate";
import { AcmCertificateValidation } from "@cdktf/provider-aws/lib/acm-certificate-validation";
import { Lb } from "@cdktf/provider-aws/lib/lb";
import { LbListener } from "@cdktf/provider-aws/lib/lb-listener";
import { LbListenerRule, type LbListenerRuleCondition } from "@cdktf/provider-aws/lib/lb-listener-rule";
import { LbTargetGroup } from "@cdktf/provider-aws/lib/lb-target-group";
import type { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Route53Record } from "@cdktf/provider-aws/lib/route53-record";
import { Construct } from "constructs";
import { ADMIN_HOSTS } from "../clusters/spec";
import { NOMAD_JWKS_PATH, ROUTING_HEALTH_PATH } from "./node-config/haproxy";
import { PORTS } from "./ports";

/** Listener rule priorities ALB accepts: 1 to 50,000 (CreateRule, `Priority`). */
const MAX_PRIORITY = 50000;

/**
 * A priority per listener rule derived from the rule's id (its construct id, which names what it
 * matches), so adding or removing a rule never moves another: numbering rules in order shifted
 * every later rule into `PriorityInUse`. A collision (rare: ~n²/100,000 for n rules) is resolved by
 * rehashing, the rules taken in id order. Evaluation order is irrelevant here: every rule forwards
 * to the same target group, and no two rules' conditions call for different actions.
 */
export function listenerRulePriorities(ruleIds: readonly string[]): Map<string, number> {
  const taken = new Set<number>();
  const out = new Map<string, number>();
  for (const id of [...ruleIds].sort()) {
    if (out.has(id)) throw new Error(`listener rule ${id} is declared twice`);
    for (let k = 0; ; k++) {
      const digest = createHash("sha256").update(k === 0 ? id : `${id}#${k}`).digest();
      const p = 1 + (digest.readUInt32BE(0) % MAX_PRIORITY);
      if (!taken.has(p)) {
        taken.add(p);
        out.set(id, p);
        break;
      }
    }
  }
  return out;
}

/** ALB conditions take at most five values per rule; the host header takes one. */
const MAX_SOURCE_IPS_PER_RULE = 4;

export interface LoadBalancerProps {
  readonly provider: AwsProvider;
  readonly clusterName: string;
  readonly domain: string;
  readonly zoneId: string;
  readonly vpcId: string;
  readonly publicSubnetIds: readonly string[];
  readonly securityGroupId: string;
  /** Networks allowed to the admin hosts; none means the admin hosts are unreachable. */
  readonly adminCidrs: readonly string[];
  /** Host labels of the public routes. */
  readonly publicHosts: readonly string[];
}

/**
 * The internet-facing application load balancer: HTTP redirects to HTTPS; HTTPS with an ACM
 * certificate for the domain and `*.<domain>`, validated in the cluster zone; admin hosts
 * forwarded only from `adminCidrs`; public routes forwarded from anywhere; everything else 404.
 * Every forward goes to the routing group's HAProxy, which routes by host.
 */
export class LoadBalancer extends Construct {
  readonly lb: Lb;
  readonly targetGroup: LbTargetGroup;
  readonly certificate: AcmCertificate;

  constructor(scope: Construct, id: string, props: LoadBalancerProps) {
    super(scope, id);
    const { provider, domain } = props;
    const name = `bitte-${props.clusterName}`;

    this.certificate = new AcmCertificate(this, "certificate", {
      provider,
      domainName: domain,
      subjectAlternativeNames: [`*.${domain}`],
      validationMethod: "DNS",
      lifecycle: { createBeforeDestroy: true },
    });
    // ACM validates the apex and `*.<domain>` with one and the same CNAME, so one record serves
    // both; a static address also keeps the plan free of apply-time for_each keys.
    const dvo = this.certificate.domainValidationOptions.get(0);
    const validationRecord = new Route53Record(this, "validation-record", {
      provider,
      zoneId: props.zoneId,
      name: dvo.resourceRecordName,
      type: dvo.resourceRecordType,
      records: [dvo.resourceRecordValue],
      ttl: 300,
      allowOverwrite: true,
    });
    const validated = new AcmCertificateValidation(this, "validation", {
      provider,
      certificateArn: this.certificate.arn,
      validationRecordFqdns: [validationRecord.fqdn],
    });

    this.lb = new Lb(this, "lb", {
      provider,
      name,
      internal: false,
      loadBalancerType: "application",
      securityGroups: [props.securityGroupId],
      subnets: [...props.publicSubnetIds],
      dropInvalidHeaderFields: true,
      enableDeletionProtection: false,
      idleTimeout: 120,
    });
    this.targetGroup = new LbTargetGroup(this, "routing", {
      provider,
      name: `${name}-routing`,
      port: PORTS.haproxyHttp,
      protocol: "HTTP",
      vpcId: props.vpcId,
      targetType: "instance",
      deregistrationDelay: "30",
      healthCheck: { path: ROUTING_HEALTH_PATH, port: "traffic-port", protocol: "HTTP", matcher: "200", healthyThreshold: 2, unhealthyThreshold: 3, interval: 10 },
    });

    new LbListener(this, "http", {
      provider,
      loadBalancerArn: this.lb.arn,
      port: 80,
      protocol: "HTTP",
      defaultAction: [{ type: "redirect", redirect: { port: "443", protocol: "HTTPS", statusCode: "HTTP_301" } }],
    });
    const https = new LbListener(this, "https", {
      provider,
      loadBalancerArn: this.lb.arn,
      port: 443,
      protocol: "HTTPS",
      sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06",
      certificateArn: validated.certificateArn,
      defaultAction: [{ type: "fixed-response", fixedResponse: { contentType: "text/plain", statusCode: "404", messageBody: "no such route" } }],
    });

    const forward = [{ type: "forward", targetGroupArn: this.targetGroup.arn }];
    const host = (label: string): LbListenerRuleCondition => ({ hostHeader: { values: [`${label}.${domain}`] } });
    const rules = new Map<string, LbListenerRuleCondition[]>();
    // Nomad's JWKS is fetched by Vault and Consul from the NAT addresses: open that path only.
    rules.set("nomad-jwks", [host("nomad"), { pathPattern: { values: [NOMAD_JWKS_PATH] } }]);
    for (const admin of ADMIN_HOSTS) {
      for (let i = 0; i < props.adminCidrs.length; i += MAX_SOURCE_IPS_PER_RULE) {
        rules.set(`admin-${admin}-${i / MAX_SOURCE_IPS_PER_RULE}`, [host(admin), { sourceIp: { values: props.adminCidrs.slice(i, i + MAX_SOURCE_IPS_PER_RULE) } }]);
      }
    }
    for (const label of props.publicHosts) rules.set(`route-${label}`, [host(label)]);
    const priorities = listenerRulePriorities([...rules.keys()]);
    for (const [ruleId, condition] of rules) {
      new LbListenerRule(this, ruleId, { provider, listenerArn: https.arn, priority: priorities.get(ruleId) as number, action: forward, condition });
    }

    for (const label of [...ADMIN_HOSTS, ...props.publicHosts]) {
      new Route53Record(this, `record-${label}`, {
        provider,
        zoneId: props.zoneId,
        name: `${label}.${domain}`,
        type: "A",
        alias: { name: this.lb.dnsName, zoneId: this.lb.zoneId, evaluateTargetHealth: true },
      });
    }
  }
}
