import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import type { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import type { Construct } from "constructs";
import { autoScalingRoleArn } from "../constructs/iam/service-linked-role";
import { ClientAutoScalingGroup, DRAIN_HOOK_NAME, DrainRole, drainTimings, RegionClientSecurityGroup, RegionDrain } from "../constructs/client-group";
import { machineImage } from "../constructs/machine-image";
import { CLIENT_DRAIN_DEADLINE_SECONDS, renderUserData } from "../constructs/node-config";
import { BitteStack, defaultTags, regionProviders, type BitteStackProps } from "./base";
import { coreOutputs, networkOutputs, output } from "./outputs";

/**
 * The `clients` workspace: a launch template and auto-scaling group per client group of the spec,
 * in its region and zones, rolled by instance refresh; the security group of each client region
 * outside the core region (the core region's comes from `core`); and draining on termination: a
 * lifecycle hook per group, and per region an EventBridge rule that sends the terminating instance
 * the drain document. The drain's timings come from the client agents' drain deadline
 * (`CLIENT_DRAIN_DEADLINE_SECONDS`), which the node configuration also writes.
 */
export class ClientsStack extends BitteStack {
  readonly groups: readonly ClientAutoScalingGroup[];
  readonly drains: ReadonlyMap<string, RegionDrain>;

  constructor(scope: Construct, id: "clients", props: BitteStackProps) {
    super(scope, id, props);
    const { cluster } = props;
    const timings = drainTimings(CLIENT_DRAIN_DEADLINE_SECONDS);
    const clientRegions = cluster.regions.filter((r) => cluster.clientGroups.some((g) => g.region === r.name));
    // The core region's provider carries the global IAM role even when no clients run there.
    const providers = regionProviders(this, cluster, [...new Set([cluster.coreRegion, ...clientRegions.map((r) => r.name)])]);
    const coreProvider = providers.get(cluster.coreRegion) as AwsProvider;
    const network = this.remoteState("network");
    const core = this.remoteState("core");
    const accountId = new DataAwsCallerIdentity(this, "account", { provider: coreProvider }).accountId;
    const coreCidr = (cluster.regions.find((r) => r.isCore) ?? cluster.regions[0]).cidr;
    const remoteCidrs = clientRegions.filter((r) => !r.isCore).map((r) => r.cidr);
    const tags = defaultTags(cluster);
    const instanceProfileArn = core.getString(coreOutputs.instanceProfileArn("client"));

    const groups: ClientAutoScalingGroup[] = [];
    const drains = new Map<string, RegionDrain>();
    const role = clientRegions.length > 0 ? new DrainRole(this, "drain-role", { provider: coreProvider, clusterName: cluster.name, accountId }) : undefined;
    for (const region of clientRegions) {
      const provider = providers.get(region.name) as AwsProvider;
      const securityGroupId = region.isCore
        ? core.getString(coreOutputs.securityGroupId("client"))
        : new RegionClientSecurityGroup(this, `security-group-${region.name}`, {
            provider,
            clusterName: cluster.name,
            region: region.name,
            vpcId: network.getString(networkOutputs.vpcId(region.name)),
            coreCidr,
            otherClientCidrs: remoteCidrs.filter((c) => c !== region.cidr),
          }).group.id;
      // One image per architecture the region's groups use, looked up before the groups.
      for (const g of cluster.clientGroups) if (g.region === region.name) machineImage(this, cluster, region.name, provider, g.architecture);
      const kmsKeyArn = core.getString(coreOutputs.kmsKeyArn(region.name));
      const regionGroups = cluster.clientGroups.filter((g) => g.region === region.name);
      const made = regionGroups.map(
        (g) =>
          new ClientAutoScalingGroup(this, `group-${g.name}`, {
            provider,
            clusterName: cluster.name,
            name: g.name,
            serviceLinkedRoleArn: autoScalingRoleArn(cluster, accountId),
            nodeClass: g.nodeClass,
            instanceTypes: g.instanceTypes,
            min: g.min,
            desired: g.desired,
            max: g.max,
            subnetIds: g.zones.map((z) => network.getString(networkOutputs.privateSubnetId(z))),
            securityGroupIds: [securityGroupId],
            ami: machineImage(this, cluster, region.name, provider, g.architecture),
            instanceProfileArn,
            userData: renderUserData({ cluster, role: "client", region: region.name, nodeClass: g.nodeClass }),
            kmsKeyArn,
            rootVolumeGb: g.rootVolumeGb,
            dataVolumeGb: g.dataVolumeGb,
            instanceTags: tags,
            drainHeartbeatSeconds: timings.heartbeatSeconds,
            maxInstanceLifetimeSeconds: g.maxInstanceLifetimeSeconds,
          }),
      );
      groups.push(...made);
      drains.set(
        region.name,
        new RegionDrain(this, `drain-${region.name}`, {
          provider,
          clusterName: cluster.name,
          region: region.name,
          timings,
          groupNames: made.map((g) => g.groupName),
          hookName: DRAIN_HOOK_NAME,
          roleArn: (role as DrainRole).role.arn,
        }),
      );
    }
    role?.allow(
      [...drains.values()].map((d) => d.document.arn),
      [...drains.keys()],
    );
    this.groups = groups;
    this.drains = drains;
    output(this, "client_group_names", groups.map((g) => g.groupName), "the client auto-scaling groups");
  }
}
