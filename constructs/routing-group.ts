import { AutoscalingGroup } from "@cdktf/provider-aws/lib/autoscaling-group";
import { LaunchTemplate } from "@cdktf/provider-aws/lib/launch-template";
import type { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import { METADATA_OPTIONS, ROOT_DEVICE, templateVolume } from "./instance-defaults";
import { userDataBase64 } from "./user-data";

export interface RoutingGroupProps {
  readonly provider: AwsProvider;
  readonly clusterName: string;
  /** Private subnets of two different zones. */
  readonly subnetIds: readonly string[];
  readonly securityGroupIds: string[];
  readonly instanceType: string;
  readonly ami: string;
  readonly instanceProfileArn: string;
  readonly userData: string;
  readonly kmsKeyArn: string;
  readonly rootVolumeGb: number;
  /** The load balancer's target group. */
  readonly targetGroupArn: string;
  /** The cluster's Auto Scaling service-linked role (the cluster key's policy names it). */
  readonly serviceLinkedRoleArn: string;
  /**
   * What the group must wait for (the service-linked role, when made in the same stack).
   * @default none
   */
  readonly dependsOn?: ITerraformDependable[];
  /**
   * Tags of the instances and volumes, besides Name and Role: the cluster's default tags (provider
   * default tags do not reach what a launch template launches), which `bitte info` and `bitte ssh` filter on.
   */
  readonly instanceTags: Readonly<Record<string, string>>;
  /**
   * Number of HAProxy instances.
   * @default 2
   */
  readonly size?: number;
}

/**
 * HAProxy instances behind the load balancer: a launch template and an auto-scaling group over two
 * zones, rolled by instance refresh whenever the launch template changes.
 */
export class RoutingGroup extends Construct {
  readonly group: AutoscalingGroup;
  readonly launchTemplate: LaunchTemplate;

  constructor(scope: Construct, id: string, props: RoutingGroupProps) {
    super(scope, id);
    const { provider } = props;
    const name = `bitte-${props.clusterName}-routing`;
    const size = props.size ?? 2;
    this.launchTemplate = new LaunchTemplate(this, "template", {
      provider,
      name,
      imageId: props.ami,
      instanceType: props.instanceType,
      iamInstanceProfile: { arn: props.instanceProfileArn },
      vpcSecurityGroupIds: props.securityGroupIds,
      metadataOptions: { ...METADATA_OPTIONS },
      monitoring: { enabled: true },
      blockDeviceMappings: [{ deviceName: ROOT_DEVICE, ebs: templateVolume(props.rootVolumeGb, props.kmsKeyArn) }],
      userData: userDataBase64(props.userData),
      updateDefaultVersion: true,
      tagSpecifications: ["instance", "volume"].map((resourceType) => ({ resourceType, tags: { ...props.instanceTags, Name: "routing", Role: "routing" } })),
    });
    this.group = new AutoscalingGroup(this, "group", {
      provider,
      name,
      minSize: size,
      maxSize: size,
      desiredCapacity: size,
      vpcZoneIdentifier: [...props.subnetIds],
      launchTemplate: { id: this.launchTemplate.id, version: this.launchTemplate.latestVersion.toString() },
      targetGroupArns: [props.targetGroupArn],
      serviceLinkedRoleArn: props.serviceLinkedRoleArn,
      dependsOn: props.dependsOn,
      healthCheckType: "ELB",
      healthCheckGracePeriod: 300,
      terminationPolicies: ["OldestLaunchTemplate", "Default"],
      // Keep one HAProxy serving while the other is replaced.
      instanceRefresh: { strategy: "Rolling", preferences: { minHealthyPercentage: 50, instanceWarmup: "120" } },
      tag: [
        { key: "Name", value: "routing", propagateAtLaunch: true },
        { key: "Role", value: "routing", propagateAtLaunch: true },
      ],
    });
  }
}
