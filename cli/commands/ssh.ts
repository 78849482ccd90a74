/**
 * `bitte ssh`: a Session Manager shell on a node, or one command through SSM Run Command with
 * its output and exit code. No SSH keys, no open port.
 */
import { GetCommandInvocationCommand, SendCommandCommand, type GetCommandInvocationCommandOutput } from "@aws-sdk/client-ssm";
import type { Cluster } from "../../clusters/spec/types";
import type { Context } from "../context";
import { CliError, awsCall, explainAwsError } from "../errors";
import { listNodes, resolveNode, type Node } from "../nodes";

export interface SshOptions {
  /** Name, instance id or private IP. */
  readonly target: string;
  /** Run this (joined with spaces, like ssh) instead of opening a shell. */
  readonly command: readonly string[];
  /** Give up on a command after this many minutes. */
  readonly timeoutMinutes: number;
}

/** SSM truncates StandardOutputContent at this many characters. */
const SSM_OUTPUT_LIMIT = 24000;
const POLL_MS = 1000;
const RUNNING = new Set(["Pending", "InProgress", "Delayed"]);

export async function ssh(ctx: Context, cluster: Cluster, options: SshOptions): Promise<number> {
  ctx.progress.start(`Finding ${options.target} in cluster ${cluster.name}`);
  let node: Node;
  try {
    node = resolveNode(cluster, await listNodes(cluster, ctx.aws), options.target);
  } catch (err) {
    ctx.progress.fail();
    throw err;
  }
  if (node.state !== "running") {
    ctx.progress.fail();
    throw new CliError(`${node.name} (${node.instanceId}) is ${node.state}, not running.`, "Start it, or pick a running node (`bitte info`).");
  }
  ctx.progress.succeed(`${node.name} is ${node.instanceId} (${node.privateIp ?? "no private IP"}) in ${node.zone}`);
  return options.command.length === 0 ? startSession(ctx, node) : runCommand(ctx, node, options.command.join(" "), options.timeoutMinutes);
}

/** `aws ssm start-session`: the AWS CLI with the Session Manager plugin owns the terminal. */
export async function startSession(ctx: Context, node: Node): Promise<number> {
  let result;
  try {
    result = await ctx.run("aws", ["ssm", "start-session", "--target", node.instanceId, "--region", node.region], { stdio: "inherit" });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") {
      throw new CliError(
        "The AWS CLI (`aws`) is not on PATH; an interactive session needs it and the Session Manager plugin.",
        "Install AWS CLI v2 and the session-manager-plugin (https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-working-with-install-plugin.html), or run one command with `bitte ssh <node> -- <command>`.",
      );
    }
    throw err;
  }
  if (result.code === 254 || result.code === 255) {
    throw new CliError(
      `aws ssm start-session --target ${node.instanceId} failed (exit ${result.code}).`,
      "Check that the session-manager-plugin is installed, that the instance's SSM agent is online (`aws ssm describe-instance-information`), and that you may call ssm:StartSession.",
      result.code,
    );
  }
  return result.code;
}

/** SendCommand AWS-RunShellScript, poll GetCommandInvocation, print the output, return its exit code. */
export async function runCommand(ctx: Context, node: Node, command: string, timeoutMinutes: number): Promise<number> {
  const client = ctx.aws.ssm(node.region);
  ctx.progress.start(`Running on ${node.name}: ${command}`);
  const sent = await awsCall(`ssm:SendCommand to ${node.instanceId} in ${node.region}`, () =>
    client.send(
      new SendCommandCommand({
        InstanceIds: [node.instanceId],
        DocumentName: "AWS-RunShellScript",
        Comment: `bitte ssh ${node.name}`.slice(0, 100),
        Parameters: { commands: [command], executionTimeout: [String(Math.max(1, Math.round(timeoutMinutes * 60)))] },
        TimeoutSeconds: 60,
      }),
    ),
  ).catch((err: Error) => {
    ctx.progress.fail();
    if (/InvalidInstanceId/.test(err.message)) {
      throw new CliError(`SSM cannot reach ${node.name} (${node.instanceId}): its agent is not online.`, "Wait for the node to finish booting, or check its instance profile allows SSM (AmazonSSMManagedInstanceCore).");
    }
    throw err;
  });
  const commandId = sent.Command?.CommandId;
  if (!commandId) throw new CliError("ssm:SendCommand returned no command id.");

  const deadline = ctx.now() + timeoutMinutes * 60_000;
  let invocation: GetCommandInvocationCommandOutput | undefined;
  for (;;) {
    await ctx.sleep(POLL_MS);
    try {
      invocation = await client.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: node.instanceId }));
    } catch (err) {
      // The invocation appears a moment after SendCommand returns.
      if ((err as Error).name !== "InvocationDoesNotExist") throw explainAwsError(err, `ssm:GetCommandInvocation ${commandId}`);
      invocation = undefined;
    }
    if (invocation?.Status && !RUNNING.has(invocation.Status)) break;
    ctx.progress.update(`Running on ${node.name}: ${command} (${invocation?.Status ?? "Pending"})`);
    if (ctx.now() > deadline) {
      ctx.progress.fail();
      throw new CliError(
        `The command on ${node.name} did not finish within ${timeoutMinutes} minutes (command id ${commandId}).`,
        `Raise --timeout, or follow it with \`aws ssm get-command-invocation --command-id ${commandId} --instance-id ${node.instanceId} --region ${node.region}\`.`,
      );
    }
  }
  const code = invocation.ResponseCode !== undefined && invocation.ResponseCode >= 0 ? invocation.ResponseCode : 1;
  if (invocation.Status === "Success") ctx.progress.succeed(`${node.name}: exit ${code}`);
  else ctx.progress.fail(`${node.name}: ${invocation.Status}${invocation.StatusDetails && invocation.StatusDetails !== invocation.Status ? ` (${invocation.StatusDetails})` : ""}, exit ${code}`);
  const out = invocation.StandardOutputContent ?? "";
  const err = invocation.StandardErrorContent ?? "";
  ctx.stdout.write(out);
  if (err) ctx.progress.info(err.trimEnd());
  if (out.length >= SSM_OUTPUT_LIMIT) ctx.progress.info(`(output truncated by SSM at ${SSM_OUTPUT_LIMIT} characters; open a shell with \`bitte ssh ${node.name}\` for the rest)`);
  return code;
}
