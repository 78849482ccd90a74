/**
 * IAM statements for operating the cluster (snapshots, alerts, autoscaling), kept apart from the
 * bootstrap's statements so the authorization matrix can check them as their own rows:
 * - core: nothing here; `snapshots/` is a row of HashiStackBootstrap's bucket table;
 * - monitoring: publish to the alert topic, encrypted with the cluster key;
 * - client: the Nomad Autoscaler's aws-asg plugin, on the cluster's autoscaled groups only.
 */
import type { Cluster } from "../../clusters/spec";
import { alertTopicName } from "../node-config/alerting";
import type { NodeRole } from "../node-config/types";
import type { NodePolicyContext, PolicyStatement } from "./documents";

/** The alert topic's ARN, from names alone (the core stack creates the topic with this name). */
export function alertTopicArn(cluster: Cluster, accountId: string): string {
  return `arn:aws:sns:${cluster.coreRegion}:${accountId}:${alertTopicName(cluster)}`;
}

/** Auto Scaling group ARNs of the autoscaled groups (any region the group runs in). */
export function autoscaledGroupArns(cluster: Cluster, accountId: string): string[] {
  return cluster.clientGroups
    .filter((g) => cluster.operations.autoscaling[g.name] !== undefined)
    .map((g) => `arn:aws:autoscaling:${g.region}:${accountId}:autoScalingGroup:*:autoScalingGroupName/bitte-${cluster.name}-${g.name}`);
}

/**
 * Exactly what the aws-asg target plugin of the Nomad Autoscaler calls (hashicorp/nomad-autoscaler,
 * plugins/builtin/target/aws-asg/plugin): `Status` → DescribeAutoScalingGroups and
 * DescribeScalingActivities; `Scale` → DescribeInstanceRefreshes (no scaling during a refresh),
 * UpdateAutoScalingGroup (scale out: desired capacity), TerminateInstanceInAutoScalingGroup with
 * ShouldDecrementDesiredCapacity (scale in, after its own drain), and CreateOrUpdateTags (the
 * `nomad_autoscaler_lifecycle_phase_<n>` tags of event.go). Describe calls cannot be scoped.
 */
export const AUTOSCALER_READ_ACTIONS = Object.freeze(["autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeScalingActivities", "autoscaling:DescribeInstanceRefreshes"]);
export const AUTOSCALER_WRITE_ACTIONS = Object.freeze(["autoscaling:UpdateAutoScalingGroup", "autoscaling:TerminateInstanceInAutoScalingGroup", "autoscaling:CreateOrUpdateTags"]);

/** The operations statements of a node role; empty when the role needs none. */
export function operationsStatements(role: NodeRole, ctx: NodePolicyContext): PolicyStatement[] {
  const { cluster } = ctx;
  const region = cluster.coreRegion;
  switch (role) {
    case "core":
      // Snapshots: the S3 actions and the key through S3 come from HashiStackBootstrap's bucket
      // table (snapshots/, core reads and writes), like every other bucket prefix.
      return [];
    case "monitoring":
      return [
        { Sid: "PublishAlerts", Effect: "Allow", Action: ["sns:Publish"], Resource: alertTopicArn(cluster, ctx.accountId) },
        // The topic is encrypted with the cluster key; a publisher needs a data key through SNS.
        { Sid: "AlertTopicEncryption", Effect: "Allow", Action: ["kms:GenerateDataKey", "kms:Decrypt"], Resource: ctx.coreKeyArn, Condition: { StringEquals: { "kms:ViaService": `sns.${region}.amazonaws.com` } } },
      ];
    case "client": {
      const groups = autoscaledGroupArns(cluster, ctx.accountId);
      if (groups.length === 0) return [];
      return [
        // Auto Scaling and EC2 cannot scope Describe calls to resources.
        { Sid: "AutoscalerDescribe", Effect: "Allow", Action: [...AUTOSCALER_READ_ACTIONS], Resource: "*" },
        { Sid: "AutoscalerScaleOwnGroups", Effect: "Allow", Action: [...AUTOSCALER_WRITE_ACTIONS], Resource: groups },
      ];
    }
    case "routing":
      return [];
  }
}
