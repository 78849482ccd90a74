/**
 * The cluster's instances, found by their `Cluster` tag in every region the spec names, and
 * resolution of what an operator types (`core-2`, `i-0abc…`, `10.0.1.12`, `workers`) to one node.
 */
import { DescribeInstancesCommand, type Instance } from "@aws-sdk/client-ec2";
import type { Cluster } from "../clusters/spec/types";
import type { AwsClients } from "./context";
import { ROLES, TAGS, clientInstanceName } from "./contract";
import { CliError, awsCall } from "./errors";

export interface Node {
  readonly name: string;
  /** `core`, `monitoring`, `routing`, `client`, or what the Role tag says. */
  readonly role: string;
  readonly nodeClass?: string;
  readonly region: string;
  readonly zone: string;
  readonly privateIp?: string;
  readonly instanceId: string;
  readonly instanceType?: string;
  /** `pending`, `running`, `stopping`, `stopped`, `shutting-down`. */
  readonly state: string;
  /** The launch template the instance came from, when it came from one. */
  readonly launchTemplate?: { readonly id: string; readonly version: string };
  /** ISO 8601. */
  readonly launchTime?: string;
}

function tag(instance: Instance, key: string): string | undefined {
  return instance.Tags?.find((t) => t.Key === key)?.Value;
}

function toNode(instance: Instance, region: string): Node {
  const ltId = tag(instance, "aws:ec2launchtemplate:id");
  const ltVersion = tag(instance, "aws:ec2launchtemplate:version");
  return {
    name: tag(instance, TAGS.name) ?? instance.InstanceId ?? "?",
    role: tag(instance, TAGS.role) ?? "unknown",
    nodeClass: tag(instance, TAGS.nodeClass),
    region,
    zone: instance.Placement?.AvailabilityZone ?? "?",
    privateIp: instance.PrivateIpAddress,
    instanceId: instance.InstanceId ?? "?",
    instanceType: instance.InstanceType,
    state: instance.State?.Name ?? "unknown",
    launchTemplate: ltId && ltVersion ? { id: ltId, version: ltVersion } : undefined,
    launchTime: instance.LaunchTime ? new Date(instance.LaunchTime).toISOString() : undefined,
  };
}

const roleOrder = (role: string): number => {
  const i = (ROLES as readonly string[]).indexOf(role);
  return i < 0 ? ROLES.length : i;
};

/** Nodes in display order: by role, then name, then zone and id. */
export function sortNodes(nodes: readonly Node[]): Node[] {
  return [...nodes].sort(
    (a, b) =>
      roleOrder(a.role) - roleOrder(b.role) ||
      a.role.localeCompare(b.role) ||
      a.name.localeCompare(b.name, undefined, { numeric: true }) ||
      a.zone.localeCompare(b.zone) ||
      a.instanceId.localeCompare(b.instanceId),
  );
}

/** Every instance of the cluster that is not terminated, in every region the spec names. */
export async function listNodes(cluster: Cluster, aws: AwsClients): Promise<Node[]> {
  const perRegion = await Promise.all(
    cluster.regions.map(async ({ name: region }) => {
      const nodes: Node[] = [];
      let nextToken: string | undefined;
      do {
        const page = await awsCall(`ec2:DescribeInstances in ${region}`, () =>
          aws.ec2(region).send(
            new DescribeInstancesCommand({
              Filters: [
                { Name: `tag:${TAGS.cluster}`, Values: [cluster.name] },
                { Name: "instance-state-name", Values: ["pending", "running", "stopping", "stopped", "shutting-down"] },
              ],
              NextToken: nextToken,
            }),
          ),
        );
        for (const reservation of page.Reservations ?? []) {
          for (const instance of reservation.Instances ?? []) nodes.push(toNode(instance, region));
        }
        nextToken = page.NextToken;
      } while (nextToken);
      return nodes;
    }),
  );
  return sortNodes(perRegion.flat());
}

const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

function describe(node: Node): string {
  return `${node.name} ${node.instanceId} ${node.privateIp ?? "-"} ${node.zone} ${node.state}`;
}

/**
 * The one node `query` names: an instance id, a private IP, a Name tag (`core-2`), or a client
 * group (`workers`, i.e. Name `<cluster>-workers`). Several matches (a client group has many
 * instances) or none are errors that list what would work.
 */
export function resolveNode(cluster: Cluster, nodes: readonly Node[], query: string): Node {
  let matches: Node[];
  let kind: string;
  if (INSTANCE_ID.test(query)) {
    kind = "instance id";
    matches = nodes.filter((n) => n.instanceId === query);
  } else if (IPV4.test(query)) {
    kind = "private IP";
    matches = nodes.filter((n) => n.privateIp === query);
  } else {
    kind = "name";
    matches = nodes.filter((n) => n.name === query);
    if (matches.length === 0) matches = nodes.filter((n) => n.name === clientInstanceName(cluster, query));
  }
  if (matches.length > 1) {
    const running = matches.filter((n) => n.state === "running");
    if (running.length === 1 && kind !== "name") return running[0];
    throw new CliError(
      `${JSON.stringify(query)} matches ${matches.length} instances of cluster ${cluster.name}:\n${matches.map((n) => `  ${describe(n)}`).join("\n")}`,
      "Name one of them by instance id or private IP.",
    );
  }
  if (matches.length === 0) {
    const names = [...new Set(nodes.map((n) => n.name))];
    throw new CliError(
      `No instance of cluster ${cluster.name} has the ${kind} ${JSON.stringify(query)} (searched ${cluster.regions.map((r) => r.name).join(", ")}).`,
      names.length > 0 ? `Known nodes: ${names.join(", ")}. \`bitte info\` lists every instance.` : `The cluster has no instances yet: deploy it with \`bitte deploy\`, or check --cluster and your AWS account.`,
    );
  }
  return matches[0];
}
