/** The AWS stacks of a cluster, synthesized for tests, with stand-in upstream outputs. */
import type { Cluster } from "../../clusters/spec";
import { CoreStack } from "../../stacks/core";
import { NetworkStack } from "../../stacks/network";
import { synth, type Synthesized } from "./synth";
import { mockOutputs } from "./terraform";

const cache = new Map<string, Synthesized>();

function cached(key: string, build: () => Synthesized): Synthesized {
  const hit = cache.get(key);
  if (hit) return hit;
  const made = build();
  cache.set(key, made);
  return made;
}

export function networkStack(cluster: Cluster): Synthesized {
  return cached(`network:${cluster.name}:${cluster.clientGroups.length}`, () => synth((app) => new NetworkStack(app, "network", { cluster })));
}

export function coreStack(cluster: Cluster): Synthesized {
  return cached(`core:${cluster.name}:${cluster.clientGroups.length}`, () => synth((app) => new CoreStack(app, "core", { cluster })));
}

/** `override_data` values for the remote states a stack reads. */
export function upstreamOutputs(cluster: Cluster, from: readonly ("network" | "core")[]): Record<string, Record<string, unknown>> {
  const stacks = { network: networkStack, core: coreStack };
  return Object.fromEntries(from.map((id) => [id, mockOutputs(stacks[id](cluster).text)]));
}
