import type { Cluster } from "../../clusters/spec";

/** Tag key the core instances carry; Consul, Nomad and Vault find the servers by it. */
export const AUTO_JOIN_TAG_KEY = "bitte-auto-join";

/** Tag value of the core instances of a cluster. */
export function autoJoinTagValue(cluster: Cluster): string {
  return `bitte-${cluster.name}-core`;
}

/**
 * go-discover's AWS provider string (Consul `retry_join`, Nomad `server_join`, Vault raft
 * `auto_join`). The region is explicit because clients in other regions join the core region's
 * servers over VPC peering.
 */
export function autoJoin(cluster: Cluster): string {
  return `provider=aws region=${cluster.coreRegion} tag_key=${AUTO_JOIN_TAG_KEY} tag_value=${autoJoinTagValue(cluster)} addr_type=private_v4`;
}
