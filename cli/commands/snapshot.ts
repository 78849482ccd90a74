/**
 * `bitte snapshot`: take Consul, Nomad and Vault snapshots now. Runs bitte-snapshot (the same
 * script the core nodes' timer runs) on every core node through SSM Run Command; only the Consul
 * leader takes them, so the cluster gets one set, printed as their s3:// URIs.
 */
import { DescribeInstancesCommand } from "@aws-sdk/client-ec2";
import type { Cluster } from "../../clusters/spec/types";
import { SNAPSHOT_BUCKET_TAG, SNAPSHOT_PATHS } from "../../constructs/node-config/snapshots";
import type { Context } from "../context";
import { TAGS } from "../contract";
import { CliError, awsCall } from "../errors";
import { listNodes } from "../nodes";
import { runCommand } from "./ssh";

export interface SnapshotOptions {
  /** Minutes to wait for each node. */
  readonly timeoutMinutes: number;
}

export async function snapshot(ctx: Context, cluster: Cluster, options: SnapshotOptions): Promise<number> {
  ctx.progress.start(`Finding the core nodes of ${cluster.name}`);
  const cores = (await listNodes(cluster, ctx.aws)).filter((n) => n.role === "core" && n.state === "running");
  if (cores.length === 0) {
    ctx.progress.fail();
    throw new CliError(`No running core node in cluster ${cluster.name}.`, "`bitte info` lists the nodes; deploy the core stack first.");
  }
  ctx.progress.succeed(`${cores.length} core node(s): ${cores.map((n) => n.name).join(", ")}`);
  let failed = 0;
  for (const node of cores) {
    // Non-leaders exit 0 at once; the leader prints each stored object's s3:// URI.
    const code = await runCommand(ctx, node, SNAPSHOT_PATHS.script, options.timeoutMinutes);
    if (code !== 0) failed++;
  }
  if (failed > 0) throw new CliError(`bitte-snapshot failed on ${failed} core node(s).`, "Its log is above; on the node: journalctl -u bitte-snapshot, or `bitte ssh <node> -- journalctl -u bitte-snapshot -n 50`.");
  return 0;
}

/** The cluster bucket's name, from the core instances' bucket tag (set by the core stack). */
export async function clusterBucket(ctx: Context, cluster: Cluster): Promise<string> {
  const out = await awsCall(`ec2:DescribeInstances in ${cluster.coreRegion}`, () =>
    ctx.aws.ec2(cluster.coreRegion).send(
      new DescribeInstancesCommand({ Filters: [{ Name: `tag:${TAGS.cluster}`, Values: [cluster.name] }, { Name: `tag:${TAGS.role}`, Values: ["core"] }, { Name: "instance-state-name", Values: ["running", "stopped"] }] }),
    ),
  );
  const names = new Set((out.Reservations ?? []).flatMap((r) => r.Instances ?? []).flatMap((i) => (i.Tags ?? []).filter((t) => t.Key === SNAPSHOT_BUCKET_TAG).map((t) => t.Value ?? "")));
  if (names.size !== 1) {
    throw new CliError(
      names.size === 0 ? `No core node of cluster ${cluster.name} carries the ${SNAPSHOT_BUCKET_TAG} tag.` : `The core nodes of ${cluster.name} name different buckets: ${[...names].join(", ")}.`,
      "Deploy the core stack (`npx cdktf deploy core`); it tags the core nodes with the cluster bucket.",
    );
  }
  return [...names][0];
}
