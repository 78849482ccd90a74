/** The clients stack of a cluster and its upstream stacks, synthesized once per cluster. */
import type { Cluster } from "../../clusters/spec";
import { terraformUnescape } from "../../constructs/jobs/escape";
import { ref, regionOf, resources, type StackJson, type TfResource } from "../harness/synth";
import { upstreamOutputs as sharedUpstreamOutputs } from "../harness/stacks";

export { clientsStack } from "../harness/stacks";
export { userDataOf } from "../harness/synth";

/** `override_data` values for `network` and `core`: every output those stacks declare, mocked. */
export const upstreamOutputs = (cluster: Cluster) => sharedUpstreamOutputs(cluster, ["network", "core"]);

/** A remote-state reference as the clients stack writes it. */
export const remote = (from: "network" | "core", name: string): string => `\${data.terraform_remote_state.${from}.outputs.${name}}`;

/** A client group's resources: its launch template, group and hook, found through the group's name. */
export interface GroupResources {
  readonly lt: TfResource;
  readonly asg: TfResource;
  readonly hook: TfResource;
}

export function groupResources(json: StackJson, cluster: Cluster, name: string): GroupResources {
  const full = `bitte-${cluster.name}-${name}`;
  const asg = resources(json, "aws_autoscaling_group").find((g) => g.config.name === full);
  const lt = resources(json, "aws_launch_template").find((t) => t.config.name === full);
  if (!asg || !lt) throw new Error(`no group or launch template named ${full}`);
  const hook = resources(json, "aws_autoscaling_lifecycle_hook").find((h) => ref(h.config.autoscaling_group_name) === `${asg.address}.name`);
  if (!hook) throw new Error(`no lifecycle hook on ${asg.address}`);
  return { lt, asg, hook };
}

/** A region's drain resources. */
export interface DrainResources {
  readonly document: TfResource;
  readonly rule: TfResource;
  readonly target: TfResource;
}

export function drainResources(json: StackJson, region: string): DrainResources {
  const inRegion = (type: string) => {
    const found = resources(json, type).filter((r) => regionOf(r) === region);
    if (found.length !== 1) throw new Error(`${found.length} ${type} in ${region}, expected 1`);
    return found[0];
  };
  return { document: inRegion("aws_ssm_document"), rule: inRegion("aws_cloudwatch_event_rule"), target: inRegion("aws_cloudwatch_event_target") };
}

/** The document content as Terraform passes it to AWS (the synthesized string, unescaped). */
export function documentContent(document: TfResource): string {
  return terraformUnescape(String(document.config.content));
}

