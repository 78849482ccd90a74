import type { App } from "cdktf";
import type { Cluster } from "../clusters/spec";
import type { CheckedJob } from "../constructs/jobs/checks";
import { ClientsStack } from "./clients";
import { ConsulStack } from "./consul";
import { CoreStack } from "./core";
import { JobsStack } from "./jobs";
import { NetworkStack } from "./network";
import type { BitteStack, StackId } from "./base";
import { STACK_DEPENDENCIES } from "./dependencies";
import { StateStack } from "./state";

export interface AddStacksOptions {
  /** Job files loaded and checked by `loadJobs`, already restricted by `BITTE_JOBS`. */
  readonly jobs: readonly CheckedJob[];
}

/**
 * Everything a cluster deploys, in deploy order: (state →) network → core → consul → clients → jobs.
 * The `state` stack exists only for the S3 backend.
 */
export function addStacks(app: App, cluster: Cluster, options: AddStacksOptions): void {
  const stacks: BitteStack[] = [];
  if (cluster.backend.type === "s3") stacks.push(new StateStack(app, "state", { cluster }));
  stacks.push(
    new NetworkStack(app, "network", { cluster }),
    new CoreStack(app, "core", { cluster }),
    new ConsulStack(app, "consul", { cluster }),
    new ClientsStack(app, "clients", { cluster }),
    new JobsStack(app, "jobs", { cluster, jobs: options.jobs }),
  );
  // The manifest's dependencies: what `cdktf deploy` and `bitte deploy` order by.
  const byId = new Map<StackId, BitteStack>(stacks.map((s) => [s.stackId, s]));
  for (const stack of stacks) {
    for (const dep of STACK_DEPENDENCIES[stack.stackId]) {
      const upstream = byId.get(dep);
      if (upstream) stack.addDependency(upstream);
    }
  }
}
