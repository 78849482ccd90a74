/**
 * The cluster's own Auto Scaling service-linked role. Auto Scaling launches instances with volumes
 * encrypted by the cluster key, so the key policy must name the role that launches them; naming the
 * account's default `AWSServiceRoleForAutoScaling` fails `CreateKey` with MalformedPolicyDocument
 * on an account where Auto Scaling never ran (the role does not exist yet). A role with a custom
 * suffix is created by the stacks before the key, used by every group of the cluster through
 * `service_linked_role_arn`, and leaves an account's default role alone.
 * EC2 Auto Scaling User Guide, "Service-linked roles" (custom suffix) and "Required AWS KMS key
 * policy for use with encrypted volumes"; provider hashicorp/aws 5.100.0 `aws_iam_service_linked_role`
 * (`aws_service_name`, `custom_suffix`).
 */
import { IamServiceLinkedRole } from "@cdktf/provider-aws/lib/iam-service-linked-role";
import type { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Construct } from "constructs";
import type { Cluster } from "../../clusters/spec";

const SERVICE = "autoscaling.amazonaws.com";
const BASE_NAME = "AWSServiceRoleForAutoScaling";

/** `bitte-<cluster>`: IAM role names are at most 64 characters; cluster names at most 16. */
export function autoScalingRoleSuffix(cluster: Pick<Cluster, "name">): string {
  return `bitte-${cluster.name}`;
}

/** The role's ARN, known before it exists (the path and name are fixed by AWS). */
export function autoScalingRoleArn(cluster: Pick<Cluster, "name">, accountId: string): string {
  return `arn:aws:iam::${accountId}:role/aws-service-role/${SERVICE}/${BASE_NAME}_${autoScalingRoleSuffix(cluster)}`;
}

export interface AutoScalingServiceRoleProps {
  readonly provider: AwsProvider;
  readonly cluster: Cluster;
}

export class AutoScalingServiceRole extends Construct {
  readonly role: IamServiceLinkedRole;

  constructor(scope: Construct, id: string, props: AutoScalingServiceRoleProps) {
    super(scope, id);
    this.role = new IamServiceLinkedRole(this, "role", {
      provider: props.provider,
      awsServiceName: SERVICE,
      customSuffix: autoScalingRoleSuffix(props.cluster),
      description: `Auto Scaling of Bitte cluster ${props.cluster.name}: launches its groups with volumes on the cluster key`,
    });
  }
}
