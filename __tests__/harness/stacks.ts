/** The AWS stacks of a cluster, synthesized for tests, with stand-in upstream outputs. */
import type { Cluster } from "../../clusters/spec";
import { ClientsStack } from "../../stacks/clients";
import { ConsulStack } from "../../stacks/consul";
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

const key = (stack: string, cluster: Cluster) => `${stack}:${cluster.name}:${cluster.regions.length}:${cluster.clientGroups.length}`;

export function networkStack(cluster: Cluster): Synthesized {
  return cached(key("network", cluster), () => synth((app) => new NetworkStack(app, "network", { cluster })));
}

export function coreStack(cluster: Cluster): Synthesized {
  return cached(key("core", cluster), () => synth((app) => new CoreStack(app, "core", { cluster })));
}

export function clientsStack(cluster: Cluster): Synthesized {
  return cached(key("clients", cluster), () => synth((app) => new ClientsStack(app, "clients", { cluster })));
}

export function consulStack(cluster: Cluster): Synthesized {
  return cached(key("consul", cluster), () => synth((app) => new ConsulStack(app, "consul", { cluster })));
}

/** `override_data` values for the remote states a stack reads. */
export function upstreamOutputs<K extends "network" | "core">(cluster: Cluster, from: readonly K[]): Record<K, Record<string, unknown>> {
  const stacks = { network: networkStack, core: coreStack };
  return Object.fromEntries(from.map((id) => [id, mockOutputs(stacks[id](cluster).text)])) as Record<K, Record<string, unknown>>;
}
