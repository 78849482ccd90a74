/**
 * What the SSM agent needs for Session Manager and Run Command (the drain, `bitte ssh`), in place
 * of the managed AmazonSSMManagedInstanceCore: that policy also allows `ssm:GetParameter(s)` on
 * every parameter of the account, which with the nodes' key grants would open every bootstrap
 * secret to every node (issue 12, finding 1). These are exactly its agent actions without the
 * parameter reads, associations, inventory, patching and compliance that Bitte does not use.
 * Sources: Systems Manager User Guide, "Reference: ec2messages, ssmmessages, and other API
 * operations" and "Create a custom IAM role for Session Manager"; AmazonSSMManagedInstanceCore v2
 * (vendored in ./managed for the tests).
 * These actions take no resource but "*" (Service Authorization Reference), except
 * UpdateInstanceInformation, which the agent calls for its own instance id: it is scoped to the
 * account's instances.
 */
import type { PolicyStatement } from "./documents";

export const SESSION_MANAGER_ACTIONS = Object.freeze({
  /** The agent's heartbeat: registers the instance as online, so sessions and commands can target it. */
  registration: ["ssm:UpdateInstanceInformation"],
  /** Session Manager's control and data channels (and Run Command on agents 3.3.40+). */
  sessions: ["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"],
  /** Run Command's message delivery on older agents. */
  commands: ["ec2messages:AcknowledgeMessage", "ec2messages:DeleteMessage", "ec2messages:FailMessage", "ec2messages:GetEndpoint", "ec2messages:GetMessages", "ec2messages:SendReply"],
});

export function sessionManagerStatements(accountId: string): PolicyStatement[] {
  return [
    { Sid: "SsmAgentRegistration", Effect: "Allow", Action: [...SESSION_MANAGER_ACTIONS.registration], Resource: `arn:aws:ec2:*:${accountId}:instance/*` },
    { Sid: "SsmAgentChannels", Effect: "Allow", Action: [...SESSION_MANAGER_ACTIONS.sessions, ...SESSION_MANAGER_ACTIONS.commands], Resource: "*" },
  ];
}
