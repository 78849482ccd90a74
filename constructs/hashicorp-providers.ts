import { ConsulProvider } from "@cdktf/provider-consul/lib/provider";
import { NomadProvider } from "@cdktf/provider-nomad/lib/provider";
import { VaultProvider } from "@cdktf/provider-vault/lib/provider";
import type { Construct } from "constructs";
import { adminEndpoint, type Cluster } from "../clusters/spec";

/**
 * Providers for the in-cluster APIs. Addresses come from the spec (the load balancer's admin
 * hosts, reachable from `adminCidrs`); tokens only from the environment (`CONSUL_HTTP_TOKEN`,
 * `VAULT_TOKEN`, `NOMAD_TOKEN`), so none is ever in synthesized JSON or state.
 */
export function consulProvider(scope: Construct, cluster: Cluster): ConsulProvider {
  return new ConsulProvider(scope, "consul", { address: `consul.${cluster.domain}:443`, scheme: "https", datacenter: cluster.coreRegion });
}

export function nomadProvider(scope: Construct, cluster: Cluster): NomadProvider {
  return new NomadProvider(scope, "nomad", { address: adminEndpoint(cluster, "nomad"), region: "global" });
}

export function vaultProvider(scope: Construct, cluster: Cluster): VaultProvider {


  return new VaultProvider(scope, "vault", { address: adminEndpoint(cluster, "vault") });
}
