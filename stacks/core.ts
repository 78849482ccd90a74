import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { DataAwsKmsKey } from "@cdktf/provider-aws/lib/data-aws-kms-key";
import type { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import type { Construct } from "constructs";
import { ADMIN_HOSTS, adminEndpoint, type Cluster } from "../clusters/spec";
import { PrivateBucket } from "../constructs/cluster-bucket";
import { CoreNode } from "../constructs/core-node";
import { HashiStackBootstrap } from "../constructs/hashistack-bootstrap";
import { AutoScalingServiceRole, autoScalingRoleArn } from "../constructs/iam/service-linked-role";
import { KmsKey, regionalKeyArn } from "../constructs/kms-key";
import { LoadBalancer } from "../constructs/load-balancer";
import { machineImage } from "../constructs/machine-image";
import { AUTO_JOIN_TAG_KEY, autoJoinTagValue, NODE_ROLES, renderUserData } from "../constructs/node-config";
import { NodeRoles } from "../constructs/node-roles";
import { RoutingGroup } from "../constructs/routing-group";
import { AlertTopic } from "../constructs/operations/alert-topic";
import { SnapshotRetention } from "../constructs/operations/snapshot-retention";
import { SNAPSHOT_BUCKET_TAG } from "../constructs/node-config/snapshots";
import { SecurityGroups } from "../constructs/security/security-groups";
import { BitteStack, clusterKeyAlias, defaultTags, regionProviders, type BitteStackProps } from "./base";
import { coreOutputs, networkOutputs, output } from "./outputs";

/**
 * Where the cluster key comes from, per region. Bitte creates it here with local state; with
 * the S3 backend the `state` stack created it before any state existed, so it is looked up by
 * alias; a key the spec names is used as given (a multi-Region key has the same id everywhere).
 */
function clusterKeyArns(stack: BitteStack, cluster: Cluster, providers: ReadonlyMap<string, AwsProvider>, accountId: string): ReadonlyMap<string, string> {
  const regions = cluster.regions.map((r) => r.name);
  if (!cluster.kms.create) {
    const arn = cluster.kms.keyArn;
    return new Map(regions.map((r) => [r, regionalKeyArn(cluster, arn, r)]));
  }
  if (cluster.backend.type === "s3") {
    return new Map(regions.map((r) => [r, new DataAwsKmsKey(stack, `kms-key-${r}`, { provider: providers.get(r), keyId: clusterKeyAlias(cluster) }).arn]));
  }
  return KmsKey.forCluster(stack, cluster, providers, accountId).arns;
}

/**
 * The `core` workspace: the cluster key, the node roles, the security groups, the three core
 * servers and the monitoring node, the routing group and the load balancer, and the bucket.
 */
export class CoreStack extends BitteStack {
  readonly coreNodes: readonly CoreNode[];
  readonly monitoring: CoreNode;

  constructor(scope: Construct, id: "core", props: BitteStackProps) {
    super(scope, id, props);
    const { cluster } = props;
    const core = cluster.regions[0];
    // Replica keys need every region's provider; otherwise the core region is enough.
    const providers = regionProviders(this, cluster, cluster.kms.create ? cluster.regions.map((r) => r.name) : [core.name]);
    const provider = providers.get(core.name) as AwsProvider;
    const network = this.remoteState("network");
    const accountId = new DataAwsCallerIdentity(this, "account", { provider }).accountId;

    const keyArns = clusterKeyArns(this, cluster, providers, accountId);
    const keyArn = keyArns.get(core.name) as string;
    const bucket = new PrivateBucket(this, "bucket", { provider, name: { prefix: `bitte-${cluster.name}-` }, kmsKeyArn: keyArn }).bucket;
    new SnapshotRetention(this, "snapshot-retention", { provider, bucket: bucket.id, retentionDays: cluster.operations.snapshots.retentionDays });
    const alerts = new AlertTopic(this, "alerts", { provider, cluster, kmsKeyArn: keyArn });
    // Auto Scaling's role of this cluster: made with the cluster key when Bitte creates the key
    // (here or in the state stack), else here, for the groups.
    const autoScalingRole = (this.node.tryFindChild("autoscaling-role") as AutoScalingServiceRole | undefined) ?? (cluster.kms.create ? undefined : new AutoScalingServiceRole(this, "autoscaling-role", { provider, cluster }));
    const bootstrap = new HashiStackBootstrap(this, "bootstrap", { provider, cluster, accountId });
    const iam = new NodeRoles(this, "iam", { provider, cluster, accountId, coreKeyArn: keyArn, bucketArn: bucket.arn, recoveryKeyArn: bootstrap.recoveryKeyArn });
    const vpcId = network.getString(networkOutputs.vpcId(core.name));
    const sgs = new SecurityGroups(this, "security-groups", {
      provider,
      clusterName: cluster.name,
      vpcId,
      region: core.name,
      remoteClientCidrs: cluster.regions.filter((r) => !r.isCore).map((r) => r.cidr),
    });
    const sg = (role: "core" | "monitoring" | "routing" | "client" | "alb") => sgs.groups.get(role)?.id as string;
    // One image per architecture the fixed nodes use (x86_64 unless a role runs on Graviton).
    const ami = (role: "core" | "monitoring" | "routing") => machineImage(this, cluster, core.name, provider, cluster[role].architecture);
    ami("core");
    const privateSubnet = (zone: string) => network.getString(networkOutputs.privateSubnetId(zone));

    const fixedNode = (node: (typeof cluster.coreNodes)[number], role: "core" | "monitoring") =>
      new CoreNode(this, node.name, {
        provider,
        name: node.name,
        role,
        zone: node.zone,
        subnetId: privateSubnet(node.zone),
        privateIp: node.privateIp,
        securityGroupIds: [sg(role)],
        instanceType: cluster[role].instanceType,
        ami: ami(role),
        instanceProfileName: iam.profiles.get(role)?.name as string,
        userData: renderUserData({ cluster, role, nodeName: node.name }),
        kmsKeyArn: keyArn,
        rootVolumeGb: cluster[role].rootVolumeGb,
        dataVolumeGb: cluster[role].dataVolumeGb,
        // The bucket tag tells bitte-snapshot where to write (its name is generated at apply).
        tags: role === "core" ? { [AUTO_JOIN_TAG_KEY]: autoJoinTagValue(cluster), [SNAPSHOT_BUCKET_TAG]: bucket.bucket } : {},
      });
    this.coreNodes = cluster.coreNodes.map((n) => fixedNode(n, "core"));
    this.monitoring = fixedNode(cluster.monitoringNode, "monitoring");

    const lb = new LoadBalancer(this, "load-balancer", {
      provider,
      clusterName: cluster.name,
      domain: cluster.domain,
      zoneId: network.getString(networkOutputs.zoneId),
      vpcId,
      publicSubnetIds: core.zones.map((z) => network.getString(networkOutputs.publicSubnetId(z.name))),
      securityGroupId: sg("alb"),
      adminCidrs: cluster.adminCidrs,
      publicHosts: cluster.routes.map((r) => r.host),
    });
    // HAProxy sits in private subnets: only the load balancer is public.
    new RoutingGroup(this, "routing", {
      provider,
      clusterName: cluster.name,
      subnetIds: cluster.coreZones.slice(0, 2).map(privateSubnet),
      securityGroupIds: [sg("routing")],
      instanceType: cluster.routing.instanceType,
      ami: ami("routing"),
      instanceProfileArn: iam.profiles.get("routing")?.arn as string,
      userData: renderUserData({ cluster, role: "routing" }),
      kmsKeyArn: keyArn,
      rootVolumeGb: cluster.routing.rootVolumeGb,
      targetGroupArn: lb.targetGroup.arn,
      instanceTags: defaultTags(cluster),
      serviceLinkedRoleArn: autoScalingRoleArn(cluster, accountId),
      dependsOn: autoScalingRole ? [autoScalingRole.role] : [],
    });

    for (const role of NODE_ROLES) {
      output(this, coreOutputs.iamRoleArn(role), iam.roles.get(role)?.arn as string, `IAM role of the ${role} nodes`);
      output(this, coreOutputs.instanceProfileArn(role), iam.profiles.get(role)?.arn as string, `instance profile of the ${role} nodes`);
    }
    output(this, coreOutputs.securityGroupId("client"), sg("client"), `security group of the clients in ${core.name}`);
    for (const [region, arn] of keyArns) output(this, coreOutputs.kmsKeyArn(region), arn, `the cluster key in ${region}`);
    output(this, coreOutputs.bucket, bucket.bucket, "the cluster bucket (snapshots/, artifacts/)");
    output(this, "alert_topic_arn", alerts.topic.arn, "the SNS topic Alertmanager sends every alert to; subscribe on-call here");
    output(this, "load_balancer_dns_name", lb.lb.dnsName, "the load balancer; every host of the domain is an alias of it");
    output(this, "endpoints", ADMIN_HOSTS.map((h) => adminEndpoint(cluster, h)), "the admin UIs, reachable from adminCidrs only");
  }
}
