import { AclPolicy } from "@cdktf/provider-nomad/lib/acl-policy";
import { Job } from "@cdktf/provider-nomad/lib/job";
import { Construct } from "constructs";
import type { Cluster } from "../../clusters/spec";
import { terraformLiteral } from "../jobs/escape";
import { AUTOSCALER_JOB, autoscalerAclRules, autoscalerJobspec } from "./autoscaler";

export interface AutoscalerJobProps {
  readonly cluster: Cluster;
  /**
   * How long Terraform waits for the job's deployment.
   * @default "15m"
   */
  readonly deployTimeout?: string;
}

/**
 * The Nomad Autoscaler job and the ACL policy its workload identity gets (`job_acl`): no token is
 * written anywhere. AWS calls use the client instance role, whose autoscaling statements are
 * limited to the autoscaled groups (constructs/iam/operations.ts).
 */
export class AutoscalerJob extends Construct {
  readonly job: Job;

  constructor(scope: Construct, id: string, props: AutoscalerJobProps) {
    super(scope, id);
    const acl = new AclPolicy(this, "acl", {
      name: AUTOSCALER_JOB,
      description: "Nomad Autoscaler: read jobs and nodes, drain and purge nodes of autoscaled groups",
      rulesHcl: autoscalerAclRules(),
      jobAcl: { namespace: "default", jobId: AUTOSCALER_JOB },
    });
    const timeout = props.deployTimeout ?? "15m";
    this.job = new Job(this, "job", {
      jobspec: terraformLiteral(autoscalerJobspec(props.cluster)),
      hcl2: { allowFs: false },
      detach: false,
      deregisterOnDestroy: true,
      deregisterOnIdChange: true,
      timeouts: { create: timeout, update: timeout },
      dependsOn: [acl],
    });
  }
}
