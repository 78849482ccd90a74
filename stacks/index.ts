import type { App } from "cdktf";
import type { Cluster } from "../clusters/spec";
import { NetworkStack } from "./network";

/** Everything a cluster deploys, in deploy order. */
export function addStacks(app: App, cluster: Cluster): void {
  new NetworkStack(app, "network", { cluster });
}
