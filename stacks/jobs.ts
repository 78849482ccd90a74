import { Job } from "@cdktf/provider-nomad/lib/job";
import { TerraformOutput } from "cdktf";
import type { Construct } from "constructs";
import { nomadProvider } from "../constructs/hashicorp-providers";
import type { CheckedJob } from "../constructs/jobs/checks";
import { terraformLiteral } from "../constructs/jobs/escape";
import { AutoscalerJob } from "../constructs/operations/autoscaler-job";
import { BitteStack, type BitteStackProps } from "./base";

export interface JobsStackProps extends BitteStackProps {
  /**
   * The job files to deploy, loaded and checked against the same cluster by `loadJobs`
   * (`constructs/jobs`), already restricted by `BITTE_JOBS`.
   */
  readonly jobs: readonly CheckedJob[];
  /**
   * Wait for each job's evaluation and deployment to succeed, so a failed rollout fails the
   * apply (`detach = false`). Turn off to return as soon as Nomad accepts the job.
   * @default true
   */
  readonly waitForDeployment?: boolean;
  /**
   * How long Terraform waits for a job's deployment on create and update.
   * @default "15m" (longer than the example jobs' 10-minute progress deadline)
   */
  readonly deployTimeout?: string;
  /**
   * Purge a job from Nomad's state when it is destroyed, instead of only stopping it.
   * @default false (stopped jobs stay visible for inspection until Nomad's garbage collection)
   */
  readonly purgeOnDestroy?: boolean;
}

/**
 * The `jobs` workspace: one `nomad_job` per job file, through the Nomad API on the cluster's
 * admin endpoint (token from `NOMAD_TOKEN`). Each jobspec is the file's text, with the HCL2
 * variables it declares supplied from the spec (`hcl2.vars`), parsed by Nomad itself.
 */
export class JobsStack extends BitteStack {
  /** The `nomad_job` resources by job name. */
  readonly jobs: ReadonlyMap<string, Job>;

  constructor(scope: Construct, id: "jobs", props: JobsStackProps) {
    super(scope, id, props);
    const waitForDeployment = props.waitForDeployment ?? true;
    const deployTimeout = props.deployTimeout ?? "15m";
    const purgeOnDestroy = props.purgeOnDestroy ?? false;

    for (const job of props.jobs) {
      if (job.cluster !== props.cluster.name) {
        throw new Error(`${job.file}: checked against cluster ${job.cluster}, but the jobs stack is for cluster ${props.cluster.name}. Load the jobs with loadJobs({ cluster }) for the same cluster.`);
      }
    }
    const names = props.jobs.map((j) => j.name);
    const duplicate = names.find((n, i) => names.indexOf(n) !== i);
    if (duplicate !== undefined) throw new Error(`Job "${duplicate}" is given twice to the jobs stack; pass each checked job once.`);

    nomadProvider(this, props.cluster);
    // The construct id is the job name (= file name): renaming a file replaces the job.
    this.jobs = new Map(
      props.jobs.map((job) => [
        job.name,
        new Job(this, job.name, {
          jobspec: terraformLiteral(job.source),
          hcl2: { allowFs: false, vars: { ...job.vars } },
          detach: !waitForDeployment,
          deregisterOnDestroy: true,
          deregisterOnIdChange: true,
          purgeOnDestroy,
          timeouts: { create: deployTimeout, update: deployTimeout },
        }),
      ]),
    );
    // Generated from the spec, not a file: the Nomad Autoscaler, when a group is autoscaled.
    if (Object.keys(props.cluster.operations.autoscaling).length > 0) new AutoscalerJob(this, "nomad-autoscaler", { cluster: props.cluster, deployTimeout });
    new TerraformOutput(this, "job_names", { value: names, description: "Nomad jobs this workspace manages." });
  }
}
