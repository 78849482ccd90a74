/**
 * `bitte deployer-policy`: the least-privilege IAM policy the deploying principal needs, derived
 * from the resource types of the synthesized stacks.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Cluster } from "../../clusters/spec/types";
import type { Context } from "../context";
import { CliError } from "../errors";
import { INLINE_ROLE_POLICY_LIMIT, MANAGED_POLICY_LIMIT, deployerPolicy, policySize, splitPolicy } from "../policy/policy";
import { readSynthesized, synthesize, synthesizedClusterName, type SynthesizedStack } from "../synth";

export interface DeployerPolicyOptions {
  /** Read this synthesized output directory (e.g. `cdktf.out`) instead of synthesizing. */
  readonly from?: string;
  /** Account id for ARNs. */
  readonly account?: string;
  /** Print a JSON array of documents that each fit a managed policy. */
  readonly split: boolean;
}

export async function loadStacks(ctx: Context, cluster: Cluster, from: string | undefined): Promise<Map<string, SynthesizedStack>> {
  if (from) {
    const stacks = readSynthesized(from);
    if (stacks.size === 0) throw new CliError(`No synthesized stacks under ${join(from, "stacks")}.`, `Run \`BITTE_CLUSTER=${cluster.name} npx cdktf synth\`, or leave out --from.`);
    for (const s of stacks.values()) {
      const name = synthesizedClusterName(s);
      if (name && name !== cluster.name) throw new CliError(`${s.dir} was synthesized for cluster ${name}, not ${cluster.name}.`, `Pass --cluster ${name}, or resynthesize with BITTE_CLUSTER=${cluster.name}.`);
    }
    return stacks;
  }
  const dir = mkdtempSync(join(tmpdir(), "bitte-policy-"));
  ctx.progress.start(`Synthesizing the stacks of ${cluster.name}`);
  try {
    const stacks = await synthesize(cluster, dir, ctx.projectDir);
    ctx.progress.succeed(`Synthesized ${[...stacks.keys()].join(", ")}`);
    return stacks;
  } catch (err) {
    ctx.progress.fail();
    throw err;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function deployerPolicyCommand(ctx: Context, cluster: Cluster, options: DeployerPolicyOptions): Promise<number> {
  const stacks = await loadStacks(ctx, cluster, options.from);
  const policy = deployerPolicy(cluster, stacks, { account: options.account });
  ctx.progress.info(`Policy for ${policy.resourceTypes.length} resource and ${policy.dataTypes.length} data source types in ${policy.stacks.join(", ")}.`);
  const size = policySize(policy.document);
  if (options.split) {
    const docs = splitPolicy(policy.document);
    ctx.progress.info(`${docs.length} documents, each within the ${MANAGED_POLICY_LIMIT}-character managed policy limit.`);
    ctx.stdout.write(JSON.stringify(docs, null, 2) + "\n");
  } else {
    const note = sizeNote(size);
    if (note) ctx.progress.info(note);
    ctx.stdout.write(JSON.stringify(policy.document, null, 2) + "\n");
  }
  return 0;
}

/** What to say about a document's size: inline only when it fits IAM's inline limit. */
export function sizeNote(size: number): string | undefined {
  if (size <= MANAGED_POLICY_LIMIT) return undefined;
  const inline = size <= INLINE_ROLE_POLICY_LIMIT ? `, or attach it as an inline role policy (limit ${INLINE_ROLE_POLICY_LIMIT} characters)` : ` (it exceeds the ${INLINE_ROLE_POLICY_LIMIT}-character inline policy limit too)`;
  return `Note: ${size} characters exceed the ${MANAGED_POLICY_LIMIT}-character managed policy limit; use --split for documents that fit${inline}.`;
}
