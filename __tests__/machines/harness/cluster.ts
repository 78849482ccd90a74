/**
 * The machine tier's cluster: a small spec whose vendor and OS packages come from the test's
 * signed mirror (the spec's `packageMirror`, as an air-gapped account would set it), synthesized
 * through the real stacks, and each machine's user data decoded from that JSON.
 */
import type { Cluster, ClusterSpec } from "../../../clusters/spec";
import { defineCluster } from "../../../clusters/spec";
import { cidrHost, parseCidr } from "../../../clusters/spec/cidr";
import { clientsStack, consulStack, coreStack } from "../../harness/stacks";
import { testClusterSpec, testGroup } from "../../harness/specs";
import { resources, userDataOf, type StackJson, type TfResource } from "../../harness/synth";
import { roleOfProfile } from "./iam";

export type Role = "core" | "monitoring" | "routing" | "client";

export interface MachinePlan {
  readonly name: string;
  readonly role: Role;
  /** Address with its VPC prefix, `10.20.0.10/16`. */
  readonly address: string;
  readonly ip: string;
  readonly zone: string;
  readonly instanceId: string;
  readonly userData: string;
  readonly dataVolume: boolean;
  /** The IAM role its instance profile carries. */
  readonly iamRole: string;
  /** Its instance tags as synthesized (Terraform references unresolved: see world.ts). */
  readonly tags: Readonly<Record<string, string>>;
}

export interface TestCluster {
  readonly cluster: Cluster;
  /** The services namespace's address (apt mirror, SSM endpoint, shared state), with prefix. */
  readonly svcAddress: string;
  readonly svcIp: string;
  readonly machines: readonly MachinePlan[];
  readonly vpcCidrs: readonly string[];
  /** The synthesized stacks the machines come from. */
  readonly stacks: { readonly core: StackJson; readonly clients: StackJson; readonly consul: StackJson };
}

/** Where the services namespace serves each mirror (HTTP, path per repository). */
export const mirrorUrls = (svcIp: string) => ({ hashicorp: `http://${svcIp}/hashicorp`, grafana: `http://${svcIp}/grafana`, os: `http://${svcIp}/debian` });

/** The spec: core in one region with one client group, every package from the test mirror. */
export function testSpec(svcIp: string, signingKey: string): ClusterSpec {
  return testClusterSpec("machines", {
    domain: "machines.bitte.test",
    clientGroups: [testGroup()],
    adminCidrs: ["198.51.100.0/24"],
    routes: [{ host: "www", service: "web" }],
    namespaces: ["apps"],
    packageMirror: { ...mirrorUrls(svcIp), signingKey },
  });
}

/** The services namespace's address: the last-but-one host of the first private subnet. */
export function svcAddressFor(cluster: Pick<Cluster, "regions">): string {
  const zone = cluster.regions[0].zones[0];
  const c = parseCidr(zone.privateCidr);
  if (!c) throw new Error(`bad CIDR ${zone.privateCidr}`);
  return cidrHost(c, 250);
}

function tagsOf(r: { config: Record<string, unknown> }): Record<string, string> {
  // A launch template's instances carry its tag_specifications; an instance its own tags.
  return ((r.config.tag_specifications as { tags: Record<string, string> }[] | undefined)?.[0]?.tags ?? r.config.tags ?? {}) as Record<string, string>;
}

const tagged = (r: { config: Record<string, unknown> }, key: string): string | undefined => tagsOf(r)[key];

/** Synthesizes the stacks and plans every machine of the tier with its user data. */
export function planCluster(signingKey: string, svcIpHint = "10.20.0.250"): TestCluster {
  const cluster = defineCluster(testSpec(svcIpHint, signingKey));
  const svcIp = svcAddressFor(cluster);
  if (svcIp !== svcIpHint) throw new Error(`services address ${svcIp} differs from the spec's mirror host ${svcIpHint}: update svcIpHint`);
  const region = cluster.regions[0];
  const prefix = region.cidr.split("/")[1];
  const core = coreStack(cluster).json;
  const clients = clientsStack(cluster).json;
  const instances = resources(core, "aws_instance");
  const templates = [...resources(core, "aws_launch_template"), ...resources(clients, "aws_launch_template")];
  const machines: MachinePlan[] = [];
  let n = 0;
  const add = (name: string, role: Role, ip: string, zone: string, r: TfResource) => {
    const profile = r.config.iam_instance_profile;
    const iamRole = roleOfProfile(core, typeof profile === "object" && profile !== null ? (profile as { arn?: string; name?: string }).arn ?? (profile as { name?: string }).name : profile);
    machines.push({ name, role, ip, address: `${ip}/${prefix}`, zone, instanceId: `i-0${(++n).toString(16).padStart(16, "0")}`, userData: userDataOf(r), dataVolume: role !== "routing", iamRole, tags: tagsOf(r) });
  };
  for (const node of [...cluster.coreNodes, cluster.monitoringNode]) {
    const inst = instances.find((i) => tagged(i, "Name") === node.name);
    if (!inst) throw new Error(`no instance ${node.name} in the core stack`);
    add(node.name, node.name === "monitoring" ? "monitoring" : "core", node.privateIp, node.zone, inst);
  }
  const zoneA = parseCidr(region.zones[0].privateCidr);
  if (!zoneA) throw new Error("bad zone CIDR");
  const routing = templates.find((t) => tagged(t, "Role") === "routing");
  if (!routing) throw new Error("no routing launch template");
  add("routing-1", "routing", cidrHost(zoneA, 30), region.zones[0].name, routing);
  for (const g of cluster.clientGroups) {
    const t = templates.find((x) => tagged(x, "Role") === "client" && tagged(x, "Name") === `${cluster.name}-${g.name}`);
    if (!t) throw new Error(`no launch template for client group ${g.name}`);
    add(`${g.name}-1`, "client", cidrHost(zoneA, 40 + machines.length), region.zones[0].name, t);
  }
  return { cluster, svcAddress: `${svcIp}/${prefix}`, svcIp, machines, vpcCidrs: cluster.regions.map((r) => r.cidr), stacks: { core, clients, consul: consulStack(cluster).json } };
}
