import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CloudwatchEventRule } from "@cdktf/provider-aws/lib/cloudwatch-event-rule";
import { CloudwatchEventTarget } from "@cdktf/provider-aws/lib/cloudwatch-event-target";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import type { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { SsmDocument } from "@cdktf/provider-aws/lib/ssm-document";
import { Construct } from "constructs";
import { policy, type PolicyDocument } from "../iam/documents";
import { terraformLiteral } from "../jobs/escape";
import { CLIENT_DRAIN_GRACE_SECONDS } from "../node-config/nomad";

/** The drain script shipped next to this file; the SSM document embeds it verbatim. */
export const DRAIN_SCRIPT = readFileSync(join(__dirname, "scripts", "bitte-drain.sh"), "utf8");

/** The event AWS Auto Scaling sends to EventBridge when a termination hook holds an instance. */
export const TERMINATE_ACTION_DETAIL_TYPE = "EC2 Instance-terminate Lifecycle Action";

/** Run Command takes at most this many values in its one target. */
export const MAX_RUN_COMMAND_TARGET_VALUES = 50;

/** Seconds after the drain deadline for tasks to stop (kill timeouts): the client unit's, so the stop and its `timeout` end together. */
export const DRAIN_GRACE_SECONDS = CLIENT_DRAIN_GRACE_SECONDS;
/** The longest heartbeat timeout of a lifecycle hook (two hours). */
export const MAX_HOOK_HEARTBEAT_SECONDS = 7200;

/** Every timeout of the drain, derived from the Nomad drain deadline so they nest. */
export interface DrainTimings {
  /** The Nomad client's `drain_on_shutdown` deadline. */
  readonly deadlineSeconds: number;
  /** The Run Command's execution timeout: the deadline, the grace for tasks to stop, and a minute to complete the action. */
  readonly commandTimeoutSeconds: number;
  /** The lifecycle hook's heartbeat timeout: longer than the command may run. */
  readonly heartbeatSeconds: number;
}

export function drainTimings(deadlineSeconds: number): DrainTimings {
  const commandTimeoutSeconds = deadlineSeconds + DRAIN_GRACE_SECONDS + 60;
  const heartbeatSeconds = commandTimeoutSeconds + 120;
  if (!Number.isInteger(deadlineSeconds) || deadlineSeconds < 30 || heartbeatSeconds > MAX_HOOK_HEARTBEAT_SECONDS) {
    throw new Error(
      `drain deadline ${deadlineSeconds}s: give whole seconds from 30 to ${MAX_HOOK_HEARTBEAT_SECONDS - (heartbeatSeconds - deadlineSeconds)} (the lifecycle hook holds an instance for at most ${MAX_HOOK_HEARTBEAT_SECONDS}s)`,
    );
  }
  return { deadlineSeconds, commandTimeoutSeconds, heartbeatSeconds };
}

export interface DrainDocumentProps {
  readonly clusterName: string;
  /** Region of the document and its instances (for the Auto Scaling call). */
  readonly region: string;
  readonly timings: DrainTimings;
}

/** Parameters of the document, filled by EventBridge's input transformer from the event. */
export const DRAIN_PARAMETERS = Object.freeze({
  instanceId: "InstanceId",
  groupName: "AutoScalingGroupName",
  hookName: "LifecycleHookName",
});

const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * The Run Command document (schema 2.2, `aws:runShellScript`), as the JSON object AWS reads.
 * Parameters are constrained by patterns before SSM substitutes them into the commands; the
 * commands export them with the region's constants and run the embedded script under bash
 * (Run Command itself runs `sh`).
 */
export function drainDocument(props: DrainDocumentProps): Record<string, unknown> {
  const P = DRAIN_PARAMETERS;
  const env: Record<string, string> = {
    BITTE_INSTANCE_ID: `{{ ${P.instanceId} }}`,
    BITTE_GROUP: `{{ ${P.groupName} }}`,
    BITTE_HOOK: `{{ ${P.hookName} }}`,
    BITTE_REGION: props.region,
    BITTE_DRAIN_DEADLINE: String(props.timings.deadlineSeconds),
    BITTE_DRAIN_GRACE: String(DRAIN_GRACE_SECONDS),
  };
  const runCommand = [
    "set -eu",
    ...Object.entries(env).map(([k, v]) => `export ${k}=${shellQuote(v)}`),
    'script=$(mktemp)',
    'trap \'rm -f "$script"\' EXIT',
    "cat >\"$script\" <<'BITTE_DRAIN_SCRIPT'",
    ...DRAIN_SCRIPT.replace(/\n$/, "").split("\n"),
    "BITTE_DRAIN_SCRIPT",
    'bash "$script"',
  ];
  return {
    schemaVersion: "2.2",
    description: `Drains the Nomad client of a terminating instance of ${props.clusterName} and completes its lifecycle action`,
    parameters: {
      [P.instanceId]: { type: "String", description: "The terminating instance", allowedPattern: "^i-[0-9a-f]{8,17}$" },
      [P.groupName]: { type: "String", description: "Its auto-scaling group", allowedPattern: `^bitte-${props.clusterName}-[a-z0-9-]+$` },
      [P.hookName]: { type: "String", description: "The lifecycle hook holding it", allowedPattern: "^[A-Za-z0-9_.-]{1,255}$" },
    },
    mainSteps: [{ action: "aws:runShellScript", name: "drainNomadClient", inputs: { timeoutSeconds: String(props.timings.commandTimeoutSeconds), runCommand } }],
  };
}

/** The document's name in every region. */
export function drainDocumentName(clusterName: string): string {
  return `bitte-${clusterName}-nomad-drain`;
}

export interface RegionDrainProps extends DrainDocumentProps {
  /** The region's provider. */
  readonly provider: AwsProvider;
  /** Names of the cluster's client groups in this region. */
  readonly groupNames: readonly string[];
  /** The termination hook's name on those groups. */
  readonly hookName: string;
  /** The role EventBridge sends the command with (see `DrainRole`). */
  readonly roleArn: string;
}

/**
 * Draining in one region: the Run Command document, an EventBridge rule matching the termination
 * lifecycle action of the region's client groups, and a target that sends the document to the
 * group's instances with the event's instance, group and hook as parameters.
 *
 * Run Command targets are static (the event cannot name the instance there), so the command goes
 * to the group's instances by their `aws:autoscaling:groupName` tag and only the instance whose
 * id is the event's drains; the others exit at once.
 */
export class RegionDrain extends Construct {
  readonly document: SsmDocument;
  readonly rule: CloudwatchEventRule;
  readonly target: CloudwatchEventTarget;

  constructor(scope: Construct, id: string, props: RegionDrainProps) {
    super(scope, id);
    const { provider } = props;
    if (props.groupNames.length === 0) throw new Error(`RegionDrain ${props.region}: no client groups`);
    if (props.groupNames.length > MAX_RUN_COMMAND_TARGET_VALUES) {
      throw new Error(`${props.groupNames.length} client groups in ${props.region}: Run Command targets take at most ${MAX_RUN_COMMAND_TARGET_VALUES}; merge groups or split them over regions`);
    }
    const name = drainDocumentName(props.clusterName);
    this.document = new SsmDocument(this, "document", {
      provider,
      name,
      documentType: "Command",
      documentFormat: "JSON",
      targetType: "/AWS::EC2::Instance",
      // Terraform would read `${…}` in the script as interpolation: pass it through literally.
      content: terraformLiteral(JSON.stringify(drainDocument(props), null, 1)),
    });
    this.rule = new CloudwatchEventRule(this, "rule", {
      provider,
      name,
      description: `Drain the Nomad client of a terminating instance of ${props.clusterName} in ${props.region}`,
      eventPattern: JSON.stringify({
        source: ["aws.autoscaling"],
        "detail-type": [TERMINATE_ACTION_DETAIL_TYPE],
        detail: { AutoScalingGroupName: [...props.groupNames], LifecycleHookName: [props.hookName] },
      }),
    });
    const P = DRAIN_PARAMETERS;
    this.target = new CloudwatchEventTarget(this, "target", {
      provider,
      rule: this.rule.name,
      targetId: "nomad-drain",
      arn: this.document.arn,
      roleArn: props.roleArn,
      runCommandTargets: [{ key: "tag:aws:autoscaling:groupName", values: [...props.groupNames] }],
      inputTransformer: {
        inputPaths: { instance: "$.detail.EC2InstanceId", group: "$.detail.AutoScalingGroupName", hook: "$.detail.LifecycleHookName" },
        inputTemplate: JSON.stringify({ [P.instanceId]: ["<instance>"], [P.groupName]: ["<group>"], [P.hookName]: ["<hook>"] }),
      },
      // A missed event leaves the instance to the hook's timeout: retry within that window.
      retryPolicy: { maximumEventAgeInSeconds: Math.min(props.timings.heartbeatSeconds, 86400), maximumRetryAttempts: 20 },
    });
  }
}

/** What the EventBridge role may do: send exactly the drain documents, only to the cluster's instances. */
export function drainRolePolicy(props: { readonly clusterName: string; readonly accountId: string; readonly documentArns: readonly string[]; readonly regions: readonly string[] }): PolicyDocument {
  return policy(
    { Sid: "SendDrainDocument", Effect: "Allow", Action: ["ssm:SendCommand"], Resource: [...props.documentArns] },
    {
      Sid: "ToClusterInstances",
      Effect: "Allow",
      Action: ["ssm:SendCommand"],
      Resource: props.regions.map((r) => `arn:aws:ec2:${r}:${props.accountId}:instance/*`),
      Condition: { StringEquals: { "ssm:resourceTag/Cluster": props.clusterName } },
    },
  );
}

export interface DrainRoleProps {
  /** Any provider: IAM is global. */
  readonly provider: AwsProvider;
  readonly clusterName: string;
  readonly accountId: string;
}

/** The role EventBridge assumes to send the drain document (its policy is attached by `allow`). */
export class DrainRole extends Construct {
  readonly role: IamRole;

  constructor(scope: Construct, id: string, private readonly props: DrainRoleProps) {
    super(scope, id);
    this.role = new IamRole(this, "role", {
      provider: props.provider,
      name: `bitte-${props.clusterName}-nomad-drain-events`,
      description: `EventBridge sends the Nomad drain document to terminating clients of ${props.clusterName}`,
      assumeRolePolicy: JSON.stringify(
        policy({ Sid: "EventBridgeAssumes", Effect: "Allow", Principal: { Service: "events.amazonaws.com" }, Action: ["sts:AssumeRole"], Condition: { StringEquals: { "aws:SourceAccount": props.accountId } } }),
      ),
    });
  }

  /** Lets the role send the given documents to the cluster's instances in the given regions. */
  allow(documentArns: readonly string[], regions: readonly string[]): IamRolePolicy {
    return new IamRolePolicy(this, "policy", {
      provider: this.props.provider,
      name: "send-drain-command",
      role: this.role.name,
      policy: JSON.stringify(drainRolePolicy({ clusterName: this.props.clusterName, accountId: this.props.accountId, documentArns, regions })),
    });
  }
}
