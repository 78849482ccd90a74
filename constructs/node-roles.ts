import { IamInstanceProfile } from "@cdktf/provider-aws/lib/iam-instance-profile";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import type { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Construct } from "constructs";
import { NODE_ROLES, type NodeRole } from "./node-config/types";
import { ec2AssumeRolePolicy, nodeRolePolicy, roleName, type NodePolicyContext } from "./iam/documents";

export interface NodeRolesProps extends NodePolicyContext {
  /** IAM is global; the provider only signs the calls. */
  readonly provider: AwsProvider;
}

/**
 * A role and instance profile per node role, each with its cluster-scoped inline policy and no
 * managed policy: Session Manager's agent actions are in the inline policy (iam/session-manager).
 */
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
      profiles.set(role, new IamInstanceProfile(this, `${role}-profile`, { provider, name, role: iamRole.name, tags: { Role: role } }));
      roles.set(role, iamRole);
    }
    this.roles = roles;
    this.profiles = profiles;
  }
}
