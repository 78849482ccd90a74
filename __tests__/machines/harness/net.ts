/**
 * The test's network: one namespace for the services (apt mirror, AWS endpoints, shared state)
 * holding a bridge, and one namespace per container joined to that bridge by a veth pair. The
 * bridge lives inside the services namespace, so no interface, address or route is added to the
 * host's namespace and nothing has a way out: there is no default route anywhere.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { sh } from "./exec";

/** Every resource of the tier is named `bitte-m-<pid of the jest worker>-…`, so a sweep finds its own. */
export const PREFIX = "bitte-m-";
export const runId = (pid = process.pid) => `${PREFIX}${pid}`;

/** The instance metadata address, on the services namespace's bridge. */
export const IMDS_IP = "169.254.169.254";

export interface Net {
  readonly run: string;
  readonly svcNs: string;
  readonly svcIp: string;
  /** On-link routes every namespace gets: the VPCs (peered, as DESIGN.md says). */
  readonly vpcCidrs: readonly string[];
}

const ip = (ns: string | undefined, ...args: string[]) => sh(["ip", ...(ns ? ["-n", ns] : []), ...args], { timeoutMs: 30_000 });

/** Creates the services namespace and its bridge. `svcIp` is an address with its VPC prefix, `10.0.1.250/16`. */
export function createNet(run: string, svcIp: string, vpcCidrs: readonly string[]): Net {
  const svcNs = `${run}-svc`;
  sh(["ip", "netns", "add", svcNs]);
  ip(svcNs, "link", "set", "lo", "up");
  ip(svcNs, "link", "add", "br0", "type", "bridge");
  ip(svcNs, "link", "set", "br0", "up");
  ip(svcNs, "addr", "add", svcIp, "dev", "br0");
  ip(svcNs, "addr", "add", `${IMDS_IP}/32`, "dev", "br0");
  for (const c of vpcCidrs) ip(svcNs, "route", "replace", c, "dev", "br0");
  return { run, svcNs, svcIp: svcIp.split("/")[0], vpcCidrs };
}

/** A container's namespace: `eth0` with its fixed address, on-link routes to the VPCs and to IMDS. */
export function addNode(net: Net, name: string, index: number, address: string): string {
  const ns = `${net.run}-${name}`;
  sh(["ip", "netns", "add", ns]);
  ip(ns, "link", "set", "lo", "up");
  const peer = `v${index}`;
  ip(net.svcNs, "link", "add", peer, "type", "veth", "peer", "name", "eth0", "netns", ns);
  ip(net.svcNs, "link", "set", peer, "master", "br0");
  ip(net.svcNs, "link", "set", peer, "up");
  ip(ns, "addr", "add", address, "dev", "eth0");
  ip(ns, "link", "set", "eth0", "up");
  for (const c of net.vpcCidrs) ip(ns, "route", "replace", c, "dev", "eth0");
  ip(ns, "route", "add", `${IMDS_IP}/32`, "dev", "eth0");
  return ns;
}

/** Deletes the namespaces of a run (their veths and the bridge go with them). */
export function destroyNet(run: string): void {
  for (const ns of namespaces()) if (ns.startsWith(`${run}-`)) sh(["ip", "netns", "delete", ns], { check: false });
}

export function namespaces(): string[] {
  if (!existsSync("/run/netns")) return [];
  return readdirSync("/run/netns");
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Runs of the tier whose jest process is gone: their pids, found from namespaces and mounts. */
export function staleRuns(): number[] {
  const pids = new Set<number>();
  const re = new RegExp(`${PREFIX}(\\d+)`);
  for (const ns of namespaces()) {
    const m = re.exec(ns);
    if (m) pids.add(Number(m[1]));
  }
  for (const line of readFileSync("/proc/mounts", "utf8").split("\n")) {
    const m = re.exec(line);
    if (m) pids.add(Number(m[1]));
  }
  return [...pids].filter((p) => p !== process.pid && !alive(p));
}
