/**
 * `bitte info`: every instance of the cluster, a table per role or JSON.
 */
import type { Cluster } from "../../clusters/spec/types";
import type { Context } from "../context";
import { ROLES } from "../contract";
import { listNodes, type Node } from "../nodes";

/** What `bitte info --json` prints: a stable, documented shape. */
export interface InfoJson {
  readonly cluster: string;
  readonly domain: string;
  readonly regions: readonly string[];
  readonly nodes: ReadonlyArray<{
    readonly name: string;
    readonly role: string;
    readonly nodeClass: string | null;
    readonly region: string;
    readonly zone: string;
    readonly privateIp: string | null;
    readonly instanceId: string;
    readonly instanceType: string | null;
    readonly state: string;
    readonly launchTemplate: { readonly id: string; readonly version: string } | null;
    readonly launchTime: string | null;
  }>;
}

export function infoJson(cluster: Cluster, nodes: readonly Node[]): InfoJson {
  return {
    cluster: cluster.name,
    domain: cluster.domain,
    regions: cluster.regions.map((r) => r.name),
    nodes: nodes.map((n) => ({
      name: n.name,
      role: n.role,
      nodeClass: n.nodeClass ?? null,
      region: n.region,
      zone: n.zone,
      privateIp: n.privateIp ?? null,
      instanceId: n.instanceId,
      instanceType: n.instanceType ?? null,
      state: n.state,
      launchTemplate: n.launchTemplate ?? null,
      launchTime: n.launchTime ?? null,
    })),
  };
}

/** Left-aligned columns separated by two spaces. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join("  ");
  return [line(header), ...rows.map(line)].join("\n") + "\n";
}

/** A table per role (core, monitoring, routing, client, then any other Role tag). */
export function infoText(cluster: Cluster, nodes: readonly Node[]): string {
  const header = ["NAME", "CLASS", "ZONE", "PRIVATE IP", "INSTANCE", "STATE", "LT VERSION"];
  const roles = [...ROLES, ...new Set(nodes.map((n) => n.role).filter((r) => !(ROLES as readonly string[]).includes(r)))];
  const sections = [`Cluster ${cluster.name} (${cluster.domain}) in ${cluster.regions.map((r) => r.name).join(", ")}`];
  for (const role of roles) {
    const members = nodes.filter((n) => n.role === role);
    if (members.length === 0) continue;
    const rows = members.map((n) => [n.name, n.nodeClass ?? "-", n.zone, n.privateIp ?? "-", n.instanceId, n.state, n.launchTemplate ? n.launchTemplate.version : "-"]);
    sections.push(`${role} (${members.length})\n${table(header, rows)}`);
  }
  if (nodes.length === 0) sections.push("No instances carry the tag Cluster=" + cluster.name + ". Deploy the cluster with `bitte deploy`.");
  return sections.join("\n\n").trimEnd() + "\n";
}

export interface InfoOptions {
  readonly json: boolean;
}

export async function info(ctx: Context, cluster: Cluster, options: InfoOptions): Promise<number> {
  ctx.progress.start(`Listing instances of ${cluster.name} in ${cluster.regions.map((r) => r.name).join(", ")}`);
  let nodes: Node[];
  try {
    nodes = await listNodes(cluster, ctx.aws);
  } catch (err) {
    ctx.progress.fail();
    throw err;
  }
  ctx.progress.succeed(`${nodes.length} instances of ${cluster.name}`);
  ctx.stdout.write(options.json ? JSON.stringify(infoJson(cluster, nodes), null, 2) + "\n" : infoText(cluster, nodes));
  return 0;
}
