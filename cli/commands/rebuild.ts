/**
 * `bitte rebuild`: roll nodes onto the current launch configuration.
 *
 * Core nodes go one at a time through Terraform (`terraform apply -replace=…` in the synthesized
 * `core` directory, so state stays true). The plan is checked first: it may only replace the
 * instance and what references it, never the node's network interface or data volume. After each
 * core node, Consul, Nomad and Vault must report a healthy quorum with the node back before the
 * next one starts. Auto-scaling groups (routing, clients) roll by instance refresh. The first
 * failure stops the roll.
 */
import { DescribeAutoScalingGroupsCommand, DescribeInstanceRefreshesCommand, StartInstanceRefreshCommand } from "@aws-sdk/client-auto-scaling";
import { existsSync } from "node:fs";
import { join, relative } from "node:path";
import type { Cluster } from "../../clusters/spec/types";
import type { Context } from "../context";
import { CORE_STACK, cdktfCommand, clientGroupAsgName, routingAsgName, synthDir } from "../contract";
import { CliError, awsCall } from "../errors";
import { checkQuorum, type ServiceHealth } from "../health";
import { bar } from "../progress";
import { instanceAddresses, readSynthesized, synthesizedStack, type SynthesizedStack, type TfJson } from "../synth";
import { resolveTokens } from "./tokens";

/** A fixed node replaced through Terraform; core nodes also wait for quorum. */
export interface InstanceStep {
  readonly kind: "instance";
  readonly name: string;
  readonly stackDir: string;
  readonly address: string;
  readonly json: TfJson;
  /** Set for core nodes: the quorum must come back with this IP. */
  readonly quorumIp?: string;
}

/** An auto-scaling group rolled by instance refresh. */
export interface RefreshStep {
  readonly kind: "refresh";
  readonly name: string;
  readonly region: string;
  readonly asgName: string;
  readonly minHealthyPercentage: number;
}

export type RebuildStep = InstanceStep | RefreshStep;

export interface RebuildSelection {
  /** Node or group names (`core-2`, `monitoring`, `routing`, `workers`). */
  readonly only: readonly string[];
  /** Every client group (or those of `classes`). */
  readonly clients: boolean;
  /** Node classes of the client groups to roll. */
  readonly classes: readonly string[];
}

export interface RebuildOptions extends RebuildSelection {
  readonly dryRun: boolean;
  /** Minutes to wait for each core node's quorum, and for each instance refresh. */
  readonly timeoutMinutes: number;
  /** Minimum healthy percentage during client instance refreshes. */
  readonly minHealthyPercentage: number;
}

/** Health polls while waiting for quorum. */
export const QUORUM_POLL_MS = 10_000;
/** Consecutive healthy polls that count as healthy (a dead server can look alive for a moment). */
export const STABLE_POLLS = 2;
const REFRESH_POLL_MS = 15_000;
/** The routing group has two nodes: replace one at a time. */
const ROUTING_MIN_HEALTHY = 50;

/** Every name `--only` accepts. */
export function rebuildTargets(cluster: Cluster): string[] {
  return [...cluster.coreNodes.map((n) => n.name), cluster.monitoringNode.name, "routing", ...cluster.clientGroups.map((g) => g.name)];
}

function findInstance(stacks: ReadonlyMap<string, SynthesizedStack>, name: string, preferred: string): { stack: SynthesizedStack; address: string } | undefined {
  const ordered = [...stacks.values()].sort((a, b) => Number(b.id === preferred) - Number(a.id === preferred));
  for (const stack of ordered) {
    const address = instanceAddresses(stack).get(name);
    if (address) return { stack, address };
  }
  return undefined;
}

/**
 * The steps, in order: core nodes (one at a time), monitoring, routing, client groups. Nothing
 * selected means everything. Pure: reads only its arguments.
 */
export function planRebuild(cluster: Cluster, selection: RebuildSelection, stacks: ReadonlyMap<string, SynthesizedStack>, minHealthyPercentage = 90): RebuildStep[] {
  const known = rebuildTargets(cluster);
  const unknown = selection.only.filter((n) => !known.includes(n));
  if (unknown.length > 0) throw new CliError(`Nothing to rebuild is named ${unknown.map((u) => JSON.stringify(u)).join(", ")} in cluster ${cluster.name}.`, `--only takes: ${known.join(", ")}.`);
  const classes = selection.classes;
  const knownClasses = [...new Set(cluster.clientGroups.map((g) => g.nodeClass))];
  const badClasses = classes.filter((c) => !knownClasses.includes(c));
  if (badClasses.length > 0) throw new CliError(`No client group of cluster ${cluster.name} has node class ${badClasses.join(", ")}.`, `--class takes: ${knownClasses.join(", ")}.`);

  const everything = selection.only.length === 0 && !selection.clients && classes.length === 0;
  const chosen = (name: string) => everything || selection.only.includes(name);
  const clientChosen = (group: Cluster["clientGroups"][number]) =>
    everything || selection.only.includes(group.name) || ((selection.clients || classes.length > 0) && (classes.length === 0 || classes.includes(group.nodeClass)));

  const steps: RebuildStep[] = [];
  for (const node of [...cluster.coreNodes, cluster.monitoringNode]) {
    if (!chosen(node.name)) continue;
    const found = findInstance(stacks, node.name, CORE_STACK);
    if (!found) {
      throw new CliError(
        `No aws_instance tagged Name=${node.name} in the synthesized stacks${stacks.size ? ` (${[...stacks.keys()].join(", ")})` : ""}.`,
        `Run \`${cdktfCommand(cluster.name, "synth")}\` first; rebuild replaces the instance through Terraform in ${synthDir(cluster.name)}/stacks/${CORE_STACK}.`,
      );
    }
    const isCore = cluster.coreNodes.some((c) => c.name === node.name);
    steps.push({ kind: "instance", name: node.name, stackDir: found.stack.dir, address: found.address, json: found.stack.json, quorumIp: isCore ? node.privateIp : undefined });
  }
  if (chosen("routing")) steps.push({ kind: "refresh", name: "routing", region: cluster.coreRegion, asgName: routingAsgName(cluster), minHealthyPercentage: ROUTING_MIN_HEALTHY });
  for (const group of cluster.clientGroups) {
    if (clientChosen(group)) steps.push({ kind: "refresh", name: group.name, region: group.region, asgName: clientGroupAsgName(cluster, group.name), minHealthyPercentage });
  }
  if (steps.length === 0) throw new CliError("Nothing selected to rebuild.", `Name nodes with --only (${known.join(", ")}), or use --clients.`);
  return steps;
}

/** One line per step, as `--dry-run` prints it. */
export function describePlan(cluster: Cluster, steps: readonly RebuildStep[], options: { readonly timeoutMinutes: number; readonly projectDir: string }): string {
  const lines = [`Rebuild plan for cluster ${cluster.name} (${steps.length} steps, stops at the first failure):`];
  steps.forEach((s, i) => {
    const n = `${i + 1}.`.padEnd(4);
    if (s.kind === "instance") {
      const dir = relative(options.projectDir, s.stackDir) || ".";
      lines.push(`  ${n}${s.name}: terraform apply -replace=${s.address} in ${dir} (keeps its network interface and data volume)`);
      if (s.quorumIp) lines.push(`      then wait up to ${options.timeoutMinutes} min for Consul, Nomad and Vault to report a healthy quorum with ${s.quorumIp} back`);
    } else {
      lines.push(`  ${n}${s.name}: instance refresh of ${s.asgName} in ${s.region} (min healthy ${s.minHealthyPercentage}%, skips instances already on the current launch template)`);
    }
  });
  return lines.join("\n") + "\n";
}

interface PlanJson {
  readonly resource_changes?: ReadonlyArray<{ readonly address: string; readonly type: string; readonly change: { readonly actions: readonly string[] } }>;
}

/** Resource addresses whose configuration references `address` (they are replaced with it). */
export function dependentsOf(json: TfJson, address: string): Set<string> {
  const ref = new RegExp(`\\b${address.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\b`);
  const out = new Set<string>();
  for (const [type, resources] of Object.entries(json.resource ?? {})) {
    for (const [id, config] of Object.entries(resources)) {
      const a = `${type}.${id}`;
      if (a !== address && ref.test(JSON.stringify(config))) out.add(a);
    }
  }
  return out;
}

/**
 * Refuses a plan that does more than replace the instance and what references it, or that would
 * destroy a network interface or volume (the node's address and raft data).
 */
export function checkReplacePlan(plan: PlanJson, step: InstanceStep): string[] {
  const allowed = dependentsOf(step.json, step.address);
  allowed.add(step.address);
  const problems: string[] = [];
  let replaced = false;
  for (const rc of plan.resource_changes ?? []) {
    const actions = rc.change.actions;
    if (actions.every((a) => a === "no-op" || a === "read")) continue;
    const base = rc.address.replace(/\[[^\]]*\]$/, "");
    if (base === step.address && actions.includes("delete") && actions.includes("create")) replaced = true;
    if ((rc.type === "aws_ebs_volume" || rc.type === "aws_network_interface") && actions.includes("delete")) {
      problems.push(`${rc.address} would be ${actions.join("/")}d: the node must keep its network interface and data volume`);
    } else if (!allowed.has(base)) {
      problems.push(`${rc.address}: ${actions.join(", ")} (a pending change unrelated to ${step.name})`);
    }
  }
  if (!replaced) problems.push(`the plan does not replace ${step.address}`);
  return problems;
}

function summarize(health: readonly ServiceHealth[]): string {
  return health.map((h) => `${h.service}: ${h.healthy ? "ok" : h.detail}`).join("; ");
}

async function terraform(ctx: Context, step: InstanceStep, args: string[], stdio: "pipe" | "stderr"): Promise<string> {
  let result;
  try {
    result = await ctx.run("terraform", args, { cwd: step.stackDir, stdio });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new CliError("terraform is not on PATH.", "Install Terraform ≥ 1.10 (https://developer.hashicorp.com/terraform/install) and retry.");
    throw err;
  }
  if (result.code !== 0) {
    throw new CliError(`terraform ${args[0]} for ${step.name} failed (exit ${result.code}) in ${step.stackDir}:\n${(result.stderr || result.stdout).trim().slice(-4000)}`, "Fix what Terraform reports, then rerun `bitte rebuild --only " + step.name + "`.");
  }
  return result.stdout;
}

/** Waits until every service is healthy with `ip` back, STABLE_POLLS times in a row. */
export async function waitForQuorum(ctx: Context, cluster: Cluster, tokens: Readonly<Record<string, string>>, step: InstanceStep, timeoutMinutes: number): Promise<void> {
  const deadline = ctx.now() + timeoutMinutes * 60_000;
  let streak = 0;
  for (;;) {
    const health = await checkQuorum(ctx.http, cluster, tokens, step.quorumIp);
    const fatal = health.find((h) => h.fatal);
    if (fatal) throw new CliError(`${step.name}: cannot check ${fatal.service} quorum: ${fatal.detail}.`, "Fix the token, then check the quorum and continue with `bitte rebuild --only <next node>`.");
    streak = health.every((h) => h.healthy) ? streak + 1 : 0;
    if (streak >= STABLE_POLLS) return;
    ctx.progress.update(`${step.name}: waiting for quorum — ${summarize(health)}`);
    if (ctx.now() >= deadline) {
      throw new CliError(
        `${step.name}: quorum not healthy after ${timeoutMinutes} minutes — ${summarize(health)}.`,
        `Inspect the node: \`bitte ssh ${step.name} -- journalctl -u consul -u nomad -u vault -n 200 --no-pager\`. When all three report healthy, continue with the next node (\`bitte rebuild --only …\`); raise --timeout if the node is just slow.`,
      );
    }
    await ctx.sleep(QUORUM_POLL_MS);
  }
}

async function replaceInstance(ctx: Context, cluster: Cluster, step: InstanceStep, options: RebuildOptions, tokens: Readonly<Record<string, string>>): Promise<void> {
  if (step.quorumIp) {
    ctx.progress.start(`${step.name}: checking quorum before replacing it`);
    const before = await checkQuorum(ctx.http, cluster, tokens);
    if (!before.every((h) => h.healthy)) {
      ctx.progress.fail();
      throw new CliError(`${step.name}: the cluster is not healthy before the roll — ${summarize(before)}.`, "Replacing a core node now could lose quorum. Bring the cluster back to health first (`bitte info`, `bitte ssh core-N -- …`).");
    }
    ctx.progress.succeed(`${step.name}: quorum healthy before the roll — ${summarize(before)}`);
  }
  if (!existsSync(join(step.stackDir, ".terraform"))) {
    ctx.progress.start(`${step.name}: terraform init`);
    await terraform(ctx, step, ["init", "-input=false"], "pipe");
    ctx.progress.succeed();
  }
  const planFile = `bitte-rebuild-${step.name}.tfplan`;
  ctx.progress.start(`${step.name}: terraform plan -replace=${step.address}`);
  await terraform(ctx, step, ["plan", "-input=false", "-lock-timeout=60s", `-replace=${step.address}`, `-out=${planFile}`], "pipe");
  const plan = JSON.parse(await terraform(ctx, step, ["show", "-json", planFile], "pipe")) as PlanJson;
  const problems = checkReplacePlan(plan, step);
  if (problems.length > 0) {
    ctx.progress.fail();
    throw new CliError(
      `${step.name}: the replacement plan does more than roll the node:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
      `Deploy the pending changes first (\`bitte deploy --cluster ${cluster.name} ${CORE_STACK}\`, after \`${cdktfCommand(cluster.name, "diff", CORE_STACK)}\`), or resynthesize (\`${cdktfCommand(cluster.name, "synth")}\`) if ${synthDir(cluster.name)} is stale; then rerun the rebuild.`,
    );
  }
  ctx.progress.succeed(`${step.name}: plan replaces ${step.address} and nothing unrelated`);
  ctx.progress.start(`${step.name}: terraform apply`);
  await terraform(ctx, step, ["apply", "-input=false", "-lock-timeout=60s", planFile], "stderr");
  ctx.progress.succeed(`${step.name}: instance replaced`);
  if (step.quorumIp) {
    ctx.progress.start(`${step.name}: waiting for Consul, Nomad and Vault quorum with ${step.quorumIp} back`);
    await waitForQuorum(ctx, cluster, tokens, step, options.timeoutMinutes);
    ctx.progress.succeed(`${step.name}: back in a healthy quorum`);
  }
}

const REFRESH_DONE = new Set(["Successful"]);
const REFRESH_FAILED = new Set(["Failed", "Cancelled", "RollbackSuccessful", "RollbackFailed"]);

async function refreshGroup(ctx: Context, step: RefreshStep, timeoutMinutes: number): Promise<void> {
  const asg = ctx.aws.autoScaling(step.region);
  ctx.progress.start(`${step.name}: starting instance refresh of ${step.asgName}`);
  const groups = await awsCall(`autoscaling:DescribeAutoScalingGroups ${step.asgName} in ${step.region}`, () => asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [step.asgName] })));
  if (!groups.AutoScalingGroups?.length) {
    ctx.progress.fail();
    throw new CliError(`No auto-scaling group ${step.asgName} in ${step.region}.`, "Deploy the stack that creates it (`bitte deploy`), or check --cluster.");
  }
  const started = await awsCall(`autoscaling:StartInstanceRefresh ${step.asgName}`, () =>
    asg.send(new StartInstanceRefreshCommand({ AutoScalingGroupName: step.asgName, Strategy: "Rolling", Preferences: { MinHealthyPercentage: step.minHealthyPercentage, SkipMatching: true } })),
  ).catch((err: Error) => {
    ctx.progress.fail();
    if (/InstanceRefreshInProgress/.test(err.message)) {
      throw new CliError(`An instance refresh of ${step.asgName} is already running.`, `Let it finish (aws autoscaling describe-instance-refreshes --auto-scaling-group-name ${step.asgName} --region ${step.region}) or cancel it, then rerun.`);
    }
    throw err;
  });
  const id = started.InstanceRefreshId;
  const deadline = ctx.now() + timeoutMinutes * 60_000;
  for (;;) {
    const res = await awsCall(`autoscaling:DescribeInstanceRefreshes ${step.asgName}`, () =>
      asg.send(new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: step.asgName, InstanceRefreshIds: id ? [id] : undefined })),
    );
    const refresh = res.InstanceRefreshes?.[0];
    const status = refresh?.Status ?? "Pending";
    if (REFRESH_DONE.has(status)) {
      ctx.progress.succeed(`${step.name}: ${step.asgName} refreshed`);
      return;
    }
    if (REFRESH_FAILED.has(status)) {
      ctx.progress.fail();
      throw new CliError(`${step.name}: instance refresh ${id} of ${step.asgName} ended ${status}: ${refresh?.StatusReason ?? "no reason given"}.`, `See the group's activity: aws autoscaling describe-scaling-activities --auto-scaling-group-name ${step.asgName} --region ${step.region}.`);
    }
    ctx.progress.update(`${step.name}: ${step.asgName} ${bar(refresh?.PercentageComplete ?? 0)} ${status}${refresh?.InstancesToUpdate !== undefined ? `, ${refresh.InstancesToUpdate} to update` : ""}`);
    if (ctx.now() >= deadline) {
      ctx.progress.fail();
      throw new CliError(`${step.name}: instance refresh ${id} of ${step.asgName} still ${status} after ${timeoutMinutes} minutes.`, "It keeps running in AWS; watch it with `aws autoscaling describe-instance-refreshes`, or raise --timeout.");
    }
    await ctx.sleep(REFRESH_POLL_MS);
  }
}

export async function rebuild(ctx: Context, cluster: Cluster, options: RebuildOptions): Promise<number> {
  const needsSynth = planRebuildNeedsSynth(cluster, options);
  const stacks = new Map<string, SynthesizedStack>();
  if (needsSynth) {
    const outdir = join(ctx.projectDir, synthDir(cluster.name));
    stacks.set(CORE_STACK, synthesizedStack(outdir, CORE_STACK, cluster));
    // Other stacks (monitoring may live elsewhere) are read as they are.
    for (const [id, s] of readSynthesized(outdir)) if (!stacks.has(id)) stacks.set(id, s);
  }
  const steps = planRebuild(cluster, options, stacks, options.minHealthyPercentage);
  const text = describePlan(cluster, steps, { timeoutMinutes: options.timeoutMinutes, projectDir: ctx.projectDir });
  if (options.dryRun) {
    ctx.stdout.write(text);
    return 0;
  }
  ctx.progress.info(text.trimEnd());
  const tokens = steps.some((s) => s.kind === "instance" && s.quorumIp) ? (await resolveTokens(ctx, cluster)).env : {};
  const done: string[] = [];
  for (const [i, step] of steps.entries()) {
    try {
      if (step.kind === "instance") await replaceInstance(ctx, cluster, step, options, tokens);
      else await refreshGroup(ctx, step, options.timeoutMinutes);
      done.push(step.name);
    } catch (err) {
      const rest = steps.slice(i + 1).map((s) => s.name);
      const e = err instanceof CliError ? err : new CliError(`${step.name}: ${(err as Error).message}`);
      throw new CliError(
        `Rebuild stopped at ${step.name}. ${e.message}\nDone: ${done.join(", ") || "nothing"}. Not started: ${rest.join(", ") || "nothing"}.`,
        e.hint,
        e.exitCode,
      );
    }
  }
  ctx.progress.info(`Rebuilt ${done.join(", ")}.`);
  return 0;
}

/** Whether the selection includes a node replaced through Terraform. */
function planRebuildNeedsSynth(cluster: Cluster, selection: RebuildSelection): boolean {
  const fixed = [...cluster.coreNodes, cluster.monitoringNode].map((n) => n.name);
  const everything = selection.only.length === 0 && !selection.clients && selection.classes.length === 0;
  return everything || selection.only.some((n) => fixed.includes(n));
}
