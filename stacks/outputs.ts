/**
 * Names of the outputs stacks hand to each other through remote state: the contract between
 * workspaces. A producer writes them with `output(...)`, a consumer reads them by the same name.
 * All are strings, so a consumer needs no knowledge of the producer's resources.
 */
import { TerraformOutput } from "cdktf";
import type { Construct } from "constructs";

export const networkOutputs = Object.freeze({
  vpcId: (region: string) => `vpc_id_${region}`,
  publicSubnetId: (zone: string) => `public_subnet_id_${zone}`,
  privateSubnetId: (zone: string) => `private_subnet_id_${zone}`,
  zoneId: "zone_id",
  zoneNameServers: "zone_name_servers",
});

export const coreOutputs = Object.freeze({
  iamRoleArn: (role: string) => `iam_role_arn_${role}`,
  instanceProfileArn: (role: string) => `instance_profile_arn_${role}`,
  securityGroupId: (role: string) => `security_group_id_${role}`,
  /** The cluster key in a region (the primary in the core region, a replica elsewhere). */
  kmsKeyArn: (region: string) => `kms_key_arn_${region}`,
  bucket: "bucket",
});

/** Declares an output under exactly `name` (no construct-path prefix or hash). */
export function output(scope: Construct, name: string, value: string | string[], description: string, sensitive = false): TerraformOutput {
  const o = new TerraformOutput(scope, `output-${name}`, { value, description, sensitive });
  o.overrideLogicalId(name);
  return o;
}
