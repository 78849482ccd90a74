/**
 * The IAM actions Terraform (hashicorp/aws 5.x) needs to create, read, update and delete each
 * AWS resource type, and to read each data source, that Bitte's stacks use: the one table
 * `bitte deployer-policy` is built from.
 *
 * A type missing here fails `bitte deployer-policy` and its test, naming the type: add its row
 * when a stack starts using it. Rows list exact actions only (no wildcards), each with the scope
 * it applies to (see `Scope`).
 */

/**
 * What the actions of a row may touch:
 * - `regional`: any resource, in the cluster's regions only (`aws:RequestedRegion`);
 * - `global`: any resource of a global service (IAM reads, Route53, STS);
 * - `iamRole` / `iamInstanceProfile` / `iamPolicy`: the names the stacks give them (else `bitte-<cluster>-*`);
 * - `serviceLinkedRole`: the service-linked roles of Auto Scaling and Elastic Load Balancing;
 * - `ssmParameter`: the parameters the stacks create or read (else `<ssmPrefix>/*`);
 * - `s3Bucket`: the buckets the stacks create (else `bitte-<cluster>-*`), and their objects.
 */
export type Scope = "regional" | "global" | "iamRole" | "iamInstanceProfile" | "iamPolicy" | "serviceLinkedRole" | "ssmParameter" | "s3Bucket";

export interface Grant {
  readonly scope: Scope;
  readonly actions: readonly string[];
  /** `attachablePolicies`: only the managed policies the stacks attach (`iam:PolicyARN`). */
  readonly condition?: "attachablePolicies";
}

const ec2 = (...names: string[]): Grant => ({ scope: "regional", actions: names.map((n) => `ec2:${n}`) });
const on = (scope: Scope, service: string, ...names: string[]): Grant => ({ scope, actions: names.map((n) => `${service}:${n}`) });
const tags = ["CreateTags", "DeleteTags", "DescribeTags"];
const passRole = on("iamRole", "iam", "PassRole", "GetRole");
/** Using a customer-managed key for EBS encryption at launch or volume creation. */
const ebsKms = on("regional", "kms", "CreateGrant", "Decrypt", "DescribeKey", "GenerateDataKeyWithoutPlaintext", "ReEncryptFrom", "ReEncryptTo");
const elbTags = ["AddTags", "RemoveTags", "DescribeTags"];
const s3Read = ["ListBucket", "GetBucketLocation"];

/** Resource types: create, read (every plan), update, delete. */
export const RESOURCE_PERMISSIONS: Readonly<Record<string, readonly Grant[]>> = {
  // Networks
  aws_vpc: [ec2("CreateVpc", "DeleteVpc", "DescribeVpcs", "DescribeVpcAttribute", "ModifyVpcAttribute", "DescribeNetworkAcls", "DescribeRouteTables", "DescribeSecurityGroups", "DescribeSecurityGroupRules", ...tags)],
  aws_subnet: [ec2("CreateSubnet", "DeleteSubnet", "DescribeSubnets", "ModifySubnetAttribute", "DescribeNetworkInterfaces", ...tags)],
  aws_internet_gateway: [ec2("CreateInternetGateway", "DeleteInternetGateway", "AttachInternetGateway", "DetachInternetGateway", "DescribeInternetGateways", ...tags)],
  aws_egress_only_internet_gateway: [ec2("CreateEgressOnlyInternetGateway", "DeleteEgressOnlyInternetGateway", "DescribeEgressOnlyInternetGateways", ...tags)],
  aws_eip: [ec2("AllocateAddress", "ReleaseAddress", "DescribeAddresses", "DescribeAddressesAttribute", "AssociateAddress", "DisassociateAddress", ...tags)],
  aws_eip_association: [ec2("AssociateAddress", "DisassociateAddress", "DescribeAddresses")],
  aws_nat_gateway: [ec2("CreateNatGateway", "DeleteNatGateway", "DescribeNatGateways", "DescribeAddresses", ...tags)],
  aws_route_table: [ec2("CreateRouteTable", "DeleteRouteTable", "DescribeRouteTables", "CreateRoute", "DeleteRoute", "ReplaceRoute", ...tags)],
  aws_route: [ec2("CreateRoute", "DeleteRoute", "ReplaceRoute", "DescribeRouteTables")],
  aws_route_table_association: [ec2("AssociateRouteTable", "DisassociateRouteTable", "ReplaceRouteTableAssociation", "DescribeRouteTables")],
  aws_main_route_table_association: [ec2("ReplaceRouteTableAssociation", "DescribeRouteTables")],
  aws_default_route_table: [ec2("DescribeRouteTables", "CreateRoute", "DeleteRoute", "ReplaceRoute", ...tags)],
  aws_default_security_group: [ec2("DescribeSecurityGroups", "DescribeSecurityGroupRules", "AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress", "RevokeSecurityGroupIngress", "RevokeSecurityGroupEgress", ...tags)],
  aws_default_network_acl: [ec2("DescribeNetworkAcls", "CreateNetworkAclEntry", "DeleteNetworkAclEntry", "ReplaceNetworkAclEntry", "ReplaceNetworkAclAssociation", ...tags)],
  aws_network_acl: [ec2("CreateNetworkAcl", "DeleteNetworkAcl", "DescribeNetworkAcls", "CreateNetworkAclEntry", "DeleteNetworkAclEntry", "ReplaceNetworkAclEntry", "ReplaceNetworkAclAssociation", ...tags)],
  aws_network_acl_rule: [ec2("CreateNetworkAclEntry", "DeleteNetworkAclEntry", "ReplaceNetworkAclEntry", "DescribeNetworkAcls")],
  aws_vpc_peering_connection: [ec2("CreateVpcPeeringConnection", "DeleteVpcPeeringConnection", "DescribeVpcPeeringConnections", "AcceptVpcPeeringConnection", "ModifyVpcPeeringConnectionOptions", ...tags)],
  aws_vpc_peering_connection_accepter: [ec2("AcceptVpcPeeringConnection", "DescribeVpcPeeringConnections", "ModifyVpcPeeringConnectionOptions", ...tags)],
  aws_vpc_peering_connection_options: [ec2("ModifyVpcPeeringConnectionOptions", "DescribeVpcPeeringConnections")],
  aws_vpc_endpoint: [ec2("CreateVpcEndpoint", "DeleteVpcEndpoints", "DescribeVpcEndpoints", "ModifyVpcEndpoint", "DescribePrefixLists", "DescribeVpcEndpointServices", ...tags)],
  aws_vpc_endpoint_route_table_association: [ec2("ModifyVpcEndpoint", "DescribeVpcEndpoints")],
  aws_vpc_dhcp_options: [ec2("CreateDhcpOptions", "DeleteDhcpOptions", "DescribeDhcpOptions", ...tags)],
  aws_vpc_dhcp_options_association: [ec2("AssociateDhcpOptions", "DescribeVpcs")],
  aws_flow_log: [ec2("CreateFlowLogs", "DeleteFlowLogs", "DescribeFlowLogs", ...tags), passRole, on("regional", "logs", "CreateLogDelivery", "DeleteLogDelivery")],
  // Security groups
  aws_security_group: [
    ec2(
      "CreateSecurityGroup", "DeleteSecurityGroup", "DescribeSecurityGroups", "DescribeSecurityGroupRules", "AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress",
      "RevokeSecurityGroupIngress", "RevokeSecurityGroupEgress", "UpdateSecurityGroupRuleDescriptionsIngress", "UpdateSecurityGroupRuleDescriptionsEgress", "ModifySecurityGroupRules", "DescribeNetworkInterfaces", ...tags,
    ),
  ],
  aws_security_group_rule: [ec2("AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress", "RevokeSecurityGroupIngress", "RevokeSecurityGroupEgress", "DescribeSecurityGroups", "DescribeSecurityGroupRules", "UpdateSecurityGroupRuleDescriptionsIngress", "UpdateSecurityGroupRuleDescriptionsEgress")],
  aws_vpc_security_group_ingress_rule: [ec2("AuthorizeSecurityGroupIngress", "RevokeSecurityGroupIngress", "DescribeSecurityGroupRules", "ModifySecurityGroupRules", ...tags)],
  aws_vpc_security_group_egress_rule: [ec2("AuthorizeSecurityGroupEgress", "RevokeSecurityGroupEgress", "DescribeSecurityGroupRules", "ModifySecurityGroupRules", ...tags)],
  // Compute
  aws_instance: [
    ec2(
      "RunInstances", "TerminateInstances", "StartInstances", "StopInstances", "DescribeInstances", "DescribeInstanceAttribute", "ModifyInstanceAttribute", "DescribeInstanceStatus", "DescribeInstanceTypes",
      "DescribeInstanceCreditSpecifications", "ModifyInstanceCreditSpecification", "ModifyInstanceMetadataOptions", "ModifyInstanceMaintenanceOptions", "MonitorInstances", "UnmonitorInstances",
      "DescribeVolumes", "ModifyVolume", "DescribeNetworkInterfaces", "DescribeImages", "DescribeLaunchTemplates", "DescribeLaunchTemplateVersions",
      "AssociateIamInstanceProfile", "DisassociateIamInstanceProfile", "ReplaceIamInstanceProfileAssociation", "DescribeIamInstanceProfileAssociations", ...tags,
    ),
    passRole,
    ebsKms,
  ],
  aws_ebs_volume: [ec2("CreateVolume", "DeleteVolume", "DescribeVolumes", "ModifyVolume", "DescribeVolumesModifications", ...tags), ebsKms],
  aws_volume_attachment: [ec2("AttachVolume", "DetachVolume", "DescribeVolumes", "DescribeInstances")],
  aws_network_interface: [
    ec2("CreateNetworkInterface", "DeleteNetworkInterface", "DescribeNetworkInterfaces", "DescribeNetworkInterfaceAttribute", "ModifyNetworkInterfaceAttribute", "AttachNetworkInterface", "DetachNetworkInterface", "AssignPrivateIpAddresses", "UnassignPrivateIpAddresses", ...tags),
  ],
  aws_network_interface_attachment: [ec2("AttachNetworkInterface", "DetachNetworkInterface", "DescribeNetworkInterfaces")],
  aws_network_interface_sg_attachment: [ec2("ModifyNetworkInterfaceAttribute", "DescribeNetworkInterfaces")],
  aws_launch_template: [ec2("CreateLaunchTemplate", "CreateLaunchTemplateVersion", "DeleteLaunchTemplate", "DeleteLaunchTemplateVersions", "DescribeLaunchTemplates", "DescribeLaunchTemplateVersions", "ModifyLaunchTemplate", ...tags)],
  aws_placement_group: [ec2("CreatePlacementGroup", "DeletePlacementGroup", "DescribePlacementGroups", ...tags)],
  aws_ec2_tag: [ec2(...tags)],
  // Auto Scaling
  aws_autoscaling_group: [
    on(
      "regional", "autoscaling",
      "CreateAutoScalingGroup", "UpdateAutoScalingGroup", "DeleteAutoScalingGroup", "DescribeAutoScalingGroups", "DescribeScalingActivities", "CreateOrUpdateTags", "DeleteTags", "DescribeTags",
      "PutLifecycleHook", "DeleteLifecycleHook", "DescribeLifecycleHooks", "StartInstanceRefresh", "CancelInstanceRefresh", "DescribeInstanceRefreshes", "PutWarmPool", "DeleteWarmPool", "DescribeWarmPool",
      "EnableMetricsCollection", "DisableMetricsCollection", "SuspendProcesses", "ResumeProcesses", "SetInstanceProtection", "DescribeAutoScalingInstances",
      "AttachLoadBalancerTargetGroups", "DetachLoadBalancerTargetGroups", "DescribeLoadBalancerTargetGroups", "AttachTrafficSources", "DetachTrafficSources", "DescribeTrafficSources",
    ),
    // Auto Scaling checks that the caller could launch what the group launches.
    ec2("RunInstances", "CreateTags", "DescribeLaunchTemplates", "DescribeLaunchTemplateVersions", "DescribeSubnets", "DescribeInstances"),
    on("regional", "elasticloadbalancing", "DescribeTargetGroups", "DescribeTargetHealth"),
    passRole,
    // A group with service_linked_role_arn passes the cluster's Auto Scaling role.
    on("serviceLinkedRole", "iam", "CreateServiceLinkedRole", "PassRole"),
  ],
  aws_autoscaling_lifecycle_hook: [on("regional", "autoscaling", "PutLifecycleHook", "DeleteLifecycleHook", "DescribeLifecycleHooks"), passRole],
  aws_autoscaling_policy: [on("regional", "autoscaling", "PutScalingPolicy", "DeletePolicy", "DescribePolicies")],
  aws_autoscaling_attachment: [on("regional", "autoscaling", "AttachLoadBalancerTargetGroups", "DetachLoadBalancerTargetGroups", "DescribeLoadBalancerTargetGroups", "AttachTrafficSources", "DetachTrafficSources", "DescribeTrafficSources")],
  aws_autoscaling_notification: [on("regional", "autoscaling", "PutNotificationConfiguration", "DeleteNotificationConfiguration", "DescribeNotificationConfigurations")],
  aws_autoscaling_schedule: [on("regional", "autoscaling", "PutScheduledUpdateGroupAction", "DeleteScheduledAction", "DescribeScheduledActions")],
  // Load balancing
  aws_lb: [
    on("regional", "elasticloadbalancing", "CreateLoadBalancer", "DeleteLoadBalancer", "DescribeLoadBalancers", "DescribeLoadBalancerAttributes", "ModifyLoadBalancerAttributes", "SetSecurityGroups", "SetSubnets", "SetIpAddressType", ...elbTags),
    ec2("DescribeNetworkInterfaces", "DescribeSubnets", "DescribeSecurityGroups", "DescribeVpcs", "DescribeInternetGateways", "DescribeAccountAttributes"),
    on("serviceLinkedRole", "iam", "CreateServiceLinkedRole"),
  ],
  aws_lb_target_group: [on("regional", "elasticloadbalancing", "CreateTargetGroup", "DeleteTargetGroup", "DescribeTargetGroups", "DescribeTargetGroupAttributes", "ModifyTargetGroup", "ModifyTargetGroupAttributes", ...elbTags)],
  aws_lb_listener: [on("regional", "elasticloadbalancing", "CreateListener", "DeleteListener", "DescribeListeners", "ModifyListener", "DescribeListenerAttributes", "ModifyListenerAttributes", ...elbTags)],
  aws_lb_listener_rule: [on("regional", "elasticloadbalancing", "CreateRule", "DeleteRule", "DescribeRules", "ModifyRule", "SetRulePriorities", ...elbTags)],
  aws_lb_listener_certificate: [on("regional", "elasticloadbalancing", "AddListenerCertificates", "RemoveListenerCertificates", "DescribeListenerCertificates")],
  aws_lb_target_group_attachment: [on("regional", "elasticloadbalancing", "RegisterTargets", "DeregisterTargets", "DescribeTargetHealth")],
  // Certificates and DNS
  aws_acm_certificate: [on("regional", "acm", "RequestCertificate", "DeleteCertificate", "DescribeCertificate", "ListTagsForCertificate", "AddTagsToCertificate", "RemoveTagsFromCertificate", "UpdateCertificateOptions")],
  aws_acm_certificate_validation: [on("regional", "acm", "DescribeCertificate")],
  aws_route53_zone: [
    on("global", "route53", "CreateHostedZone", "DeleteHostedZone", "GetHostedZone", "ListHostedZones", "UpdateHostedZoneComment", "ChangeTagsForResource", "ListTagsForResource", "GetChange", "ListResourceRecordSets", "ChangeResourceRecordSets", "AssociateVPCWithHostedZone", "DisassociateVPCFromHostedZone"),
    ec2("DescribeVpcs"),
  ],
  aws_route53_record: [on("global", "route53", "ChangeResourceRecordSets", "ListResourceRecordSets", "GetHostedZone", "GetChange")],
  aws_route53_zone_association: [on("global", "route53", "AssociateVPCWithHostedZone", "DisassociateVPCFromHostedZone", "GetHostedZone", "ListHostedZonesByVPC"), ec2("DescribeVpcs")],
  // Identity
  aws_iam_role: [
    on("iamRole", "iam", "CreateRole", "DeleteRole", "GetRole", "UpdateRole", "UpdateRoleDescription", "UpdateAssumeRolePolicy", "TagRole", "UntagRole", "ListRoleTags", "ListRolePolicies", "GetRolePolicy", "DeleteRolePolicy", "ListAttachedRolePolicies", "ListInstanceProfilesForRole"),
    { scope: "iamRole", actions: ["iam:DetachRolePolicy"], condition: "attachablePolicies" },
    on("iamInstanceProfile", "iam", "RemoveRoleFromInstanceProfile"),
  ],
  aws_iam_role_policy: [on("iamRole", "iam", "PutRolePolicy", "GetRolePolicy", "DeleteRolePolicy", "ListRolePolicies")],
  aws_iam_role_policy_attachment: [on("iamRole", "iam", "ListAttachedRolePolicies"), { scope: "iamRole", actions: ["iam:AttachRolePolicy", "iam:DetachRolePolicy"], condition: "attachablePolicies" }],
  aws_iam_instance_profile: [on("iamInstanceProfile", "iam", "CreateInstanceProfile", "DeleteInstanceProfile", "GetInstanceProfile", "AddRoleToInstanceProfile", "RemoveRoleFromInstanceProfile", "TagInstanceProfile", "UntagInstanceProfile", "ListInstanceProfileTags"), passRole],
  aws_iam_policy: [on("iamPolicy", "iam", "CreatePolicy", "DeletePolicy", "GetPolicy", "GetPolicyVersion", "ListPolicyVersions", "CreatePolicyVersion", "DeletePolicyVersion", "TagPolicy", "UntagPolicy", "ListPolicyTags", "ListEntitiesForPolicy")],
  aws_iam_service_linked_role: [on("serviceLinkedRole", "iam", "CreateServiceLinkedRole", "DeleteServiceLinkedRole", "GetServiceLinkedRoleDeletionStatus", "GetRole", "UpdateRoleDescription", "TagRole", "UntagRole")],
  // Keys
  aws_kms_key: [
    on(
      "regional", "kms",
      "CreateKey", "DescribeKey", "GetKeyPolicy", "PutKeyPolicy", "GetKeyRotationStatus", "EnableKeyRotation", "DisableKeyRotation", "ListResourceTags", "TagResource", "UntagResource",
      "ScheduleKeyDeletion", "CancelKeyDeletion", "UpdateKeyDescription", "EnableKey", "DisableKey",
    ),
  ],
  aws_kms_alias: [on("regional", "kms", "CreateAlias", "DeleteAlias", "UpdateAlias", "ListAliases", "DescribeKey")],
  aws_kms_replica_key: [on("regional", "kms", "ReplicateKey", "CreateKey", "DescribeKey", "GetKeyPolicy", "PutKeyPolicy", "ListResourceTags", "TagResource", "UntagResource", "ScheduleKeyDeletion", "UpdateKeyDescription", "EnableKey", "DisableKey")],
  aws_kms_key_policy: [on("regional", "kms", "PutKeyPolicy", "GetKeyPolicy", "DescribeKey")],
  aws_kms_grant: [on("regional", "kms", "CreateGrant", "RetireGrant", "RevokeGrant", "ListGrants")],
  // Systems Manager
  aws_ssm_parameter: [
    on("ssmParameter", "ssm", "PutParameter", "GetParameter", "GetParameters", "DeleteParameter", "AddTagsToResource", "RemoveTagsFromResource", "ListTagsForResource"),
    on("regional", "ssm", "DescribeParameters"),
    on("regional", "kms", "Encrypt", "Decrypt", "GenerateDataKey", "DescribeKey"),
  ],
  aws_ssm_document: [on("regional", "ssm", "CreateDocument", "DeleteDocument", "DescribeDocument", "GetDocument", "UpdateDocument", "UpdateDocumentDefaultVersion", "DescribeDocumentPermission", "ModifyDocumentPermission", "AddTagsToResource", "RemoveTagsFromResource", "ListTagsForResource")],
  aws_ssm_association: [on("regional", "ssm", "CreateAssociation", "DeleteAssociation", "DescribeAssociation", "UpdateAssociation", "ListAssociations")],
  // Storage
  aws_s3_bucket: [
    on(
      "s3Bucket", "s3",
      "CreateBucket", "DeleteBucket", ...s3Read, "ListBucketVersions", "GetBucketTagging", "PutBucketTagging", "GetBucketPolicy", "GetBucketAcl", "GetBucketCORS", "GetBucketWebsite", "GetBucketVersioning",
      "GetAccelerateConfiguration", "GetBucketRequestPayment", "GetBucketLogging", "GetLifecycleConfiguration", "GetReplicationConfiguration", "GetEncryptionConfiguration", "GetBucketObjectLockConfiguration",
      "DeleteObject", "DeleteObjectVersion",
    ),
  ],
  aws_s3_bucket_versioning: [on("s3Bucket", "s3", "PutBucketVersioning", "GetBucketVersioning")],
  aws_s3_bucket_server_side_encryption_configuration: [on("s3Bucket", "s3", "PutEncryptionConfiguration", "GetEncryptionConfiguration")],
  aws_s3_bucket_public_access_block: [on("s3Bucket", "s3", "PutBucketPublicAccessBlock", "GetBucketPublicAccessBlock")],
  aws_s3_bucket_policy: [on("s3Bucket", "s3", "PutBucketPolicy", "GetBucketPolicy", "DeleteBucketPolicy")],
  aws_s3_bucket_lifecycle_configuration: [on("s3Bucket", "s3", "PutLifecycleConfiguration", "GetLifecycleConfiguration")],
  aws_s3_bucket_ownership_controls: [on("s3Bucket", "s3", "PutBucketOwnershipControls", "GetBucketOwnershipControls")],
  aws_s3_bucket_logging: [on("s3Bucket", "s3", "PutBucketLogging", "GetBucketLogging")],
  aws_s3_bucket_acl: [on("s3Bucket", "s3", "PutBucketAcl", "GetBucketAcl")],
  aws_s3_bucket_notification: [on("s3Bucket", "s3", "PutBucketNotification", "GetBucketNotification")],
  aws_s3_object: [on("s3Bucket", "s3", "PutObject", "GetObject", "DeleteObject", "GetObjectTagging", "PutObjectTagging", "ListBucket"), on("regional", "kms", "Encrypt", "Decrypt", "GenerateDataKey")],
  // Logs, alarms, events, queues
  aws_cloudwatch_log_group: [
    on("regional", "logs", "CreateLogGroup", "DeleteLogGroup", "DescribeLogGroups", "PutRetentionPolicy", "DeleteRetentionPolicy", "TagResource", "UntagResource", "ListTagsForResource", "ListTagsLogGroup", "TagLogGroup", "UntagLogGroup", "AssociateKmsKey", "DisassociateKmsKey"),
  ],
  aws_cloudwatch_metric_alarm: [on("regional", "cloudwatch", "PutMetricAlarm", "DeleteAlarms", "DescribeAlarms", "TagResource", "UntagResource", "ListTagsForResource")],
  aws_cloudwatch_event_rule: [on("regional", "events", "PutRule", "DeleteRule", "DescribeRule", "EnableRule", "DisableRule", "ListTargetsByRule", "TagResource", "UntagResource", "ListTagsForResource")],
  aws_cloudwatch_event_target: [on("regional", "events", "PutTargets", "RemoveTargets", "ListTargetsByRule"), passRole],
  aws_sns_topic: [on("regional", "sns", "CreateTopic", "DeleteTopic", "GetTopicAttributes", "SetTopicAttributes", "ListTagsForResource", "TagResource", "UntagResource")],
  aws_sns_topic_subscription: [on("regional", "sns", "Subscribe", "Unsubscribe", "GetSubscriptionAttributes", "SetSubscriptionAttributes")],
  aws_sqs_queue: [on("regional", "sqs", "CreateQueue", "DeleteQueue", "GetQueueAttributes", "SetQueueAttributes", "GetQueueUrl", "ListQueueTags", "TagQueue", "UntagQueue")],
  aws_sqs_queue_policy: [on("regional", "sqs", "SetQueueAttributes", "GetQueueAttributes")],
};

/** Data sources: read on every plan. An empty list means no API call (computed locally). */
export const DATA_SOURCE_PERMISSIONS: Readonly<Record<string, readonly Grant[]>> = {
  aws_iam_policy_document: [],
  aws_partition: [],
  aws_region: [],
  aws_default_tags: [],
  aws_caller_identity: [on("global", "sts", "GetCallerIdentity")],
  aws_regions: [ec2("DescribeRegions")],
  aws_availability_zones: [ec2("DescribeAvailabilityZones")],
  aws_availability_zone: [ec2("DescribeAvailabilityZones")],
  aws_ami: [ec2("DescribeImages")],
  aws_ami_ids: [ec2("DescribeImages")],
  aws_vpc: [ec2("DescribeVpcs", "DescribeVpcAttribute")],
  aws_vpcs: [ec2("DescribeVpcs")],
  aws_subnet: [ec2("DescribeSubnets")],
  aws_subnets: [ec2("DescribeSubnets")],
  aws_security_group: [ec2("DescribeSecurityGroups")],
  aws_security_groups: [ec2("DescribeSecurityGroups")],
  aws_route_table: [ec2("DescribeRouteTables")],
  aws_nat_gateway: [ec2("DescribeNatGateways")],
  aws_internet_gateway: [ec2("DescribeInternetGateways")],
  aws_network_interface: [ec2("DescribeNetworkInterfaces")],
  aws_instance: [ec2("DescribeInstances", "DescribeInstanceAttribute", "DescribeInstanceCreditSpecifications", "DescribeVolumes")],
  aws_instances: [ec2("DescribeInstances")],
  aws_ebs_volume: [ec2("DescribeVolumes")],
  aws_launch_template: [ec2("DescribeLaunchTemplates", "DescribeLaunchTemplateVersions")],
  aws_ec2_instance_type: [ec2("DescribeInstanceTypes")],
  aws_ec2_instance_type_offerings: [ec2("DescribeInstanceTypeOfferings")],
  aws_ec2_managed_prefix_list: [ec2("DescribeManagedPrefixLists", "GetManagedPrefixListEntries")],
  aws_prefix_list: [ec2("DescribePrefixLists")],
  aws_vpc_peering_connection: [ec2("DescribeVpcPeeringConnections")],
  aws_autoscaling_group: [on("regional", "autoscaling", "DescribeAutoScalingGroups")],
  aws_autoscaling_groups: [on("regional", "autoscaling", "DescribeAutoScalingGroups")],
  aws_lb: [on("regional", "elasticloadbalancing", "DescribeLoadBalancers", "DescribeLoadBalancerAttributes", "DescribeTags")],
  aws_lb_target_group: [on("regional", "elasticloadbalancing", "DescribeTargetGroups", "DescribeTargetGroupAttributes", "DescribeTags")],
  aws_acm_certificate: [on("regional", "acm", "ListCertificates", "DescribeCertificate", "ListTagsForCertificate")],
  aws_route53_zone: [on("global", "route53", "ListHostedZones", "ListHostedZonesByName", "GetHostedZone", "ListTagsForResource")],
  aws_kms_key: [on("regional", "kms", "DescribeKey")],
  aws_kms_alias: [on("regional", "kms", "ListAliases", "DescribeKey")],
  aws_ssm_parameter: [on("ssmParameter", "ssm", "GetParameter")],
  aws_iam_role: [on("global", "iam", "GetRole")],
  aws_iam_policy: [on("global", "iam", "GetPolicy", "GetPolicyVersion", "ListPolicies")],
  aws_iam_instance_profile: [on("global", "iam", "GetInstanceProfile")],
  aws_s3_bucket: [on("s3Bucket", "s3", ...s3Read)],
  aws_elb_service_account: [],
};

/** Every AWS provider: it identifies the account before anything else. */
export const PROVIDER_PERMISSIONS: readonly Grant[] = [on("global", "sts", "GetCallerIdentity")];

/** Service principals whose service-linked roles resources create on first use. */
export const SERVICE_LINKED_ROLES: Readonly<Record<string, string>> = {
  "autoscaling.amazonaws.com": "AWSServiceRoleForAutoScaling",
  "elasticloadbalancing.amazonaws.com": "AWSServiceRoleForElasticLoadBalancing",
};

/** Services whose API endpoints are global: no `aws:RequestedRegion` condition on them. */
export const GLOBAL_SERVICES = new Set(["iam", "route53", "sts", "s3"]);
