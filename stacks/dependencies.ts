import type { StackId } from "./base";

/**
 * What each stack needs deployed before it: the one table of deploy order. `addStacks` declares
 * these with `addDependency`, so `cdktf.out/manifest.json` lists them, `cdktf deploy` orders the
 * stacks it runs by them, and `bitte deploy` reads its order from that manifest.
 *
 * - network: with the S3 backend its state lives in the `state` stack's bucket.
 * - core: reads network's outputs (VPC, subnets, zone); with S3 it finds the cluster key `state` made.
 * - consul: talks to the servers core runs and reads core's role ARNs.
 * - clients: reads network's subnets and core's security group, instance profile and keys; its
 *   nodes' first boot logs in to Vault and issues their own Nomad certificates through the AWS
 *   auth roles and the node PKI role that consul configures.
 * - jobs: Nomad namespaces and ACLs come from consul, and allocations need client nodes.
 */
export const STACK_DEPENDENCIES: Readonly<Record<StackId, readonly StackId[]>> = Object.freeze({
  state: [],
  network: ["state"],
  core: ["network"],
  consul: ["core"],
  clients: ["network", "core", "consul"],
  jobs: ["consul", "clients"],
});
