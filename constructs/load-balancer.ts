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
    let priority = 1;
    const rule = (ruleId: string, conditions: LbListenerRuleCondition[]) =>
      new LbListenerRule(this, ruleId, { provider, listenerArn: https.arn, priority: priority++, action: forward, condition: conditions });
    const host = (label: string): LbListenerRuleCondition => ({ hostHeader: { values: [`${label}.${domain}`] } });

    // Nomad's JWKS is fetched by Vault and Consul from the NAT addresses: open that path only.
    rule("nomad-jwks", [host("nomad"), { pathPattern: { values: [NOMAD_JWKS_PATH] } }]);
    for (const admin of ADMIN_HOSTS) {
      for (let i = 0; i < props.adminCidrs.length; i += MAX_SOURCE_IPS_PER_RULE) {
        rule(`admin-${admin}-${i / MAX_SOURCE_IPS_PER_RULE}`, [host(admin), { sourceIp: { values: props.adminCidrs.slice(i, i + MAX_SOURCE_IPS_PER_RULE) } }]);
      }
    }
    for (const label of props.publicHosts) rule(`route-${label}`, [host(label)]);

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
