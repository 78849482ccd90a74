import { AutoscalingGroup, type AutoscalingGroupConfig } from "@cdktf/provider-aws/lib/autoscaling-group";
import { AutoscalingLifecycleHook } from "@cdktf/provider-aws/lib/autoscaling-lifecycle-hook";
import { LaunchTemplate } from "@cdktf/provider-aws/lib/launch-template";
import type { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Construct } from "constructs";
import { DATA_VOLUME_DEVICE, METADATA_OPTIONS, ROOT_DEVICE, templateVolume } from "../instance-defaults";
import { userDataBase64 } from "../user-data";

/** Name of the termination lifecycle hook on every client group. */
export const DRAIN_HOOK_NAME = "nomad-drain";

/**
 * Clients keep the hop limit of every machine, 1: a container behind the Docker or CNI bridge is
 * one hop further and gets no IMDSv2 token, so no task takes the client's role credentials
 * (workloads get identity from Nomad workload identity). The IMDS guard in the client's user
 * data also drops tasks' packets to the metadata address (README, security).
 */
export const CLIENT_METADATA_OPTIONS = METADATA_OPTIONS;

export interface ClientAutoScalingGroupProps {
  /** The provider of the group's region. */
  readonly provider: AwsProvider;
  readonly clusterName: string;
  /** Group name from the spec: the group is `bitte-<cluster>-<name>`. */
  readonly name: string;
  /** Nomad node class: the `NodeClass` tag. */
  readonly nodeClass: string;
  /** One instance type, or several for a mixed-instances group (the first is the launch template's). */
  readonly instanceTypes: readonly string[];
  readonly min: number;
  /** Size at creation; later changes to it are ignored (operator or autoscaler). */
  readonly desired: number;
  readonly max: number;
  /** Private subnets of the group's zones, in its region. */
  readonly subnetIds: readonly string[];
  readonly securityGroupIds: readonly string[];
  readonly ami: string;
  readonly instanceProfileArn: string;
  /** Cloud-init user data, as rendered (compressed and encoded here). */
  readonly userData: string;
  /** The cluster key in the group's region: encrypts the root and data volumes. */
  readonly kmsKeyArn: string;
  readonly rootVolumeGb: number;
  readonly dataVolumeGb: number;
  /** Tags on the instances and their volumes besides Name, Role and NodeClass (the cluster's tags: provider default tags do not reach them). */
  readonly instanceTags: Readonly<Record<string, string>>;
  /** The cluster's Auto Scaling service-linked role (the cluster key's policy names it). */
  readonly serviceLinkedRoleArn: string;
  /** Heartbeat timeout of the termination hook: longer than the drain takes. */
  readonly drainHeartbeatSeconds: number;
  /**
   * Replace instances older than this.
   * @default no maximum
   */
  readonly maxInstanceLifetimeSeconds?: number;
  /**
   * Seconds after launch before health checks count.
   * @default 300
   */
  readonly healthCheckGracePeriod?: number;
  /**
   * Share of the group that stays in service during an instance refresh.
   * @default 90
   */
  readonly minHealthyPercentage?: number;
  /**
   * Seconds a new instance needs before an instance refresh counts it (boot, bootstrap, join).
   * @default 300
   */
  readonly instanceWarmupSeconds?: number;
}

/** Defaults of the optional props, in one place. */
export const CLIENT_GROUP_DEFAULTS = Object.freeze({ healthCheckGracePeriod: 300, minHealthyPercentage: 90, instanceWarmupSeconds: 300 });

/**
 * A Nomad client auto-scaling group: a launch template (image, encrypted root and data volumes on
 * the cluster key, IMDSv2 with hop limit 2, client profile and security group, client user data,
 * tags on instances and volumes) and the group over its zones' private subnets, rolled by
 * instance refresh whenever the launch template gets a new version, with a termination lifecycle
 * hook that holds each terminating instance until its Nomad node is drained.
 */
export class ClientAutoScalingGroup extends Construct {
  readonly launchTemplate: LaunchTemplate;
  readonly group: AutoscalingGroup;
  readonly hook: AutoscalingLifecycleHook;
  /** `bitte-<cluster>-<group>`: the group's and launch template's name. */
  readonly groupName: string;

  constructor(scope: Construct, id: string, props: ClientAutoScalingGroupProps) {
    super(scope, id);
    const { provider } = props;
    const opts = { ...CLIENT_GROUP_DEFAULTS, ...definedOnly(props) };
    if (props.instanceTypes.length === 0) throw new Error(`client group ${props.name}: list at least one instance type`);
    if (!(props.min <= props.desired && props.desired <= props.max)) {
      throw new Error(`client group ${props.name}: sizes must satisfy min <= desired <= max (got ${props.min}, ${props.desired}, ${props.max})`);
    }
    const name = `bitte-${props.clusterName}-${props.name}`;
    this.groupName = name;
    const tags = { ...props.instanceTags, Name: `${props.clusterName}-${props.name}`, Role: "client", NodeClass: props.nodeClass };

    this.launchTemplate = new LaunchTemplate(this, "template", {
      provider,
      name,
      description: `Nomad clients of ${props.clusterName}, group ${props.name} (node class ${props.nodeClass})`,
      imageId: props.ami,
      instanceType: props.instanceTypes[0],
      iamInstanceProfile: { arn: props.instanceProfileArn },
      vpcSecurityGroupIds: [...props.securityGroupIds],
      metadataOptions: { ...CLIENT_METADATA_OPTIONS },
      monitoring: { enabled: true },
      blockDeviceMappings: [
        { deviceName: ROOT_DEVICE, ebs: templateVolume(props.rootVolumeGb, props.kmsKeyArn) },
        { deviceName: DATA_VOLUME_DEVICE, ebs: templateVolume(props.dataVolumeGb, props.kmsKeyArn) },
      ],
      userData: userDataBase64(props.userData),
      // The group always launches the newest version; a new version starts an instance refresh.
      updateDefaultVersion: true,
      tagSpecifications: ["instance", "volume"].map((resourceType) => ({ resourceType, tags })),
      tags: { Name: name, Role: "client", NodeClass: props.nodeClass },
    });

    const template = { id: this.launchTemplate.id, version: this.launchTemplate.latestVersion.toString() };
    const mixed = props.instanceTypes.length > 1;
    const placement: Pick<AutoscalingGroupConfig, "launchTemplate" | "mixedInstancesPolicy"> = mixed
      ? {
          mixedInstancesPolicy: {
            // On-demand only, in the spec's order of preference.
            instancesDistribution: { onDemandAllocationStrategy: "prioritized", onDemandBaseCapacity: 0, onDemandPercentageAboveBaseCapacity: 100 },
            launchTemplate: {
              launchTemplateSpecification: { launchTemplateId: template.id, version: template.version },
              override: props.instanceTypes.map((instanceType) => ({ instanceType })),
            },
          },
        }
      : { launchTemplate: template };

    this.group = new AutoscalingGroup(this, "group", {
      provider,
      name,
      minSize: props.min,
      desiredCapacity: props.desired,
      maxSize: props.max,
      vpcZoneIdentifier: [...props.subnetIds],
      ...placement,
      serviceLinkedRoleArn: props.serviceLinkedRoleArn,
      healthCheckType: "EC2",
      healthCheckGracePeriod: opts.healthCheckGracePeriod,
      capacityRebalance: true,
      // Scale-in removes instances of older launch templates first, then the default order.
      terminationPolicies: ["OldestLaunchTemplate", "Default"],
      ...(props.maxInstanceLifetimeSeconds !== undefined ? { maxInstanceLifetime: props.maxInstanceLifetimeSeconds } : {}),
      // A changed launch template or mixed-instances policy (a new template version) starts a rolling refresh.
      instanceRefresh: {
        strategy: "Rolling",
        preferences: { minHealthyPercentage: opts.minHealthyPercentage, instanceWarmup: String(opts.instanceWarmupSeconds), skipMatching: true },
      },
      enabledMetrics: ["GroupDesiredCapacity", "GroupInServiceInstances", "GroupPendingInstances", "GroupTerminatingInstances"],
      // Instances get their tags from the launch template; these tag the group itself.
      tag: Object.entries({ ...props.instanceTags, Role: "client", NodeClass: props.nodeClass }).map(([key, value]) => ({ key, value, propagateAtLaunch: false })),
      // An operator or an autoscaler owns the size after creation: a deploy never fights a scale-out.
      lifecycle: { ignoreChanges: ["desired_capacity"] },
    });

    this.hook = new AutoscalingLifecycleHook(this, "drain-hook", {
      provider,
      name: DRAIN_HOOK_NAME,
      autoscalingGroupName: this.group.name,
      lifecycleTransition: "autoscaling:EC2_INSTANCE_TERMINATING",
      heartbeatTimeout: props.drainHeartbeatSeconds,
      // If the drain never reports back, the instance still goes.
      defaultResult: "CONTINUE",
    });
  }
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
