import type { App } from "cdktf";
import type { Cluster } from "../clusters/spec";
import type { CheckedJob } from "../constructs/jobs/checks";
import { ConsulStack } from "./consul";
import { CoreStack } from "./core";
import { JobsStack } from "./jobs";
import { NetworkStack } from "./network";

export interface AddStacksOptions {
  /** Job files loaded and checked by `loadJobs`, already restricted by `BITTE_JOBS`. */
  readonly jobs: readonly CheckedJob[];
}

/** Everything a cluster deploys, in deploy order: network → core → consul → clients → jobs. */
export function addStacks(app: App, cluster: Cluster, options: AddStacksOptions): void {
  new NetworkStack(app, "network", { cluster });
  new CoreStack(app, "core", { cluster });
  new ConsulStack(app, "consul", { cluster });
  new JobsStack(app, "jobs", { cluster, jobs: options.jobs });
}
