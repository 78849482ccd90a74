import { IamInstanceProfile } from "@cdktf/provider-aws/lib/iam-instance-profile";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import type { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Construct } from "constructs";
import { NODE_ROLES, type NodeRole } from "./node-config/types";
import { ec2AssumeRolePolicy, nodeRolePolicy, roleName, type NodePolicyContext } from "./iam/documents";

/** Session Manager access instead of SSH: no key pairs, no port 22. */
export const SSM_MANAGED_POLICY_ARN = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore";

export interface NodeRolesProps extends NodePolicyContext {
  /** IAM is global; the provider only signs the calls. */
  readonly provider: AwsProvider;
}

/** A role and instance profile per node role, each with its cluster-scoped inline policy. */
export class NodeRoles extends Construct {
  readonly roles: ReadonlyMap<NodeRole, IamRole>;
  readonly profiles: ReadonlyMap<NodeRole, IamInstanceProfile>;

  constructor(scope: Construct, id: string, props: NodeRolesProps) {
    super(scope, id);
    const { provider, cluster } = props;
    const roles = new Map<NodeRole, IamRole>();
    const profiles = new Map<NodeRole, IamInstanceProfile>();
    for (const role of NODE_ROLES) {
      const name = roleName(cluster, role);
      const iamRole = new IamRole(this, role, { provider, name, assumeRolePolicy: JSON.stringify(ec2AssumeRolePolicy()), description: `Bitte ${cluster.name} ${role} nodes`, tags: { Role: role } });
      new IamRolePolicy(this, `${role}-policy`, { provider, name: `${name}-node`, role: iamRole.id, policy: JSON.stringify(nodeRolePolicy(role, props)) });
      new IamRolePolicyAttachment(this, `${role}-ssm`, { provider, role: iamRole.name, policyArn: SSM_MANAGED_POLICY_ARN });
      profiles.set(role, new IamInstanceProfile(this, `${role}-profile`, { provider, name, role: iamRole.name, tags: { Role: role } }));
      roles.set(role, iamRole);
    }
    this.roles = roles;
    this.profiles = profiles;
  }
}
