/** Which KMS key encrypts a bootstrap parameter, as the on-node script names it (an alias or an ARN). */
import type { Cluster } from "../../clusters/spec";
import { clusterKeyId } from "../../stacks/base";
import type { BootstrapParameter } from "./parameters";

/** Alias of the recovery key, which encrypts Vault's recovery keys and root token. */
export function recoveryKeyAlias(cluster: Cluster): string {
  return `alias/bitte-${cluster.name}-recovery`;
}

export function parameterKeyId(cluster: Cluster, p: BootstrapParameter): string {
  return p.key === "recovery" ? recoveryKeyAlias(cluster) : clusterKeyId(cluster);
}
