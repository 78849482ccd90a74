/** Which KMS key encrypts a bootstrap parameter, as the on-node script names it (an alias or an ARN). */
import type { Cluster } from "../../clusters/spec";
import { clusterKeyId } from "../../stacks/base";
import { bootstrapParameters, type BootstrapParameter } from "./parameters";

/** Alias of the recovery key, which encrypts Vault's recovery keys and root token. */
export function recoveryKeyAlias(cluster: Cluster): string {
  return `alias/bitte-${cluster.name}-recovery`;
}

export function parameterKeyId(cluster: Cluster, p: BootstrapParameter): string {
  return p.key === "recovery" ? recoveryKeyAlias(cluster) : clusterKeyId(cluster);
}

/**
 * The keys part of the bootstrap script's environment: the cluster key, the recovery key and the
 * parameters the recovery key encrypts (the script picks the key by name).
 */
export function bootstrapKeyEnvironment(cluster: Cluster): Record<string, string> {
  return {
    BITTE_KMS_KEY_ID: clusterKeyId(cluster),
    BITTE_RECOVERY_KMS_KEY_ID: recoveryKeyAlias(cluster),
    BITTE_RECOVERY_PARAMETERS: bootstrapParameters().filter((p) => p.key === "recovery").map((p) => p.name).join(" "),
  };
}
