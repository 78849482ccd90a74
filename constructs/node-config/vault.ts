import { clusterKeyId } from "../../stacks/base";
import { PORTS } from "../ports";
import { autoJoin } from "./join";
import { PATHS } from "./paths";
import type { NodeContext } from "./types";

/** The name every core node's certificate carries for Vault, checked by raft joins and clients. */
export const VAULT_TLS_SERVER_NAME = "vault.service.consul";

/**
 * Vault server configuration for a core node. Auto-unsealed by the cluster's KMS key; raft
 * peers found by the same tag as Consul and Nomad. Consul's token for service registration comes
 * from `CONSUL_HTTP_TOKEN` in a root-only environment file. Autopilot's dead-server cleanup is an
 * API setting, applied once by the bootstrap script after init.
 */
export function vaultConfig(ctx: NodeContext): Record<string, unknown> {
  const ip = ctx.privateIp as string;
  const listener = (address: string) => ({
    tcp: {
      address,
      tls_cert_file: PATHS.serverCert,
      tls_key_file: `${PATHS.vaultDir}/tls/server-key.pem`,
      tls_min_version: "tls12",
      // Scrapes carry no token; metrics reveal no secret.
      telemetry: { unauthenticated_metrics_access: true },
    },
  });
  return {
    ui: true,
    cluster_name: `bitte-${ctx.cluster.name}`,
    api_addr: `https://${ip}:${PORTS.vaultApi}`,
    cluster_addr: `https://${ip}:${PORTS.vaultCluster}`,
    // Raft storage on an encrypted volume, swap off on cloud images: HashiCorp's recommendation for raft.
    disable_mlock: true,
    listener: [
      { tcp: { ...listener(`${ip}:${PORTS.vaultApi}`).tcp, cluster_address: `${ip}:${PORTS.vaultCluster}` } },
      listener(`127.0.0.1:${PORTS.vaultApi}`),
    ],
    storage: {
      raft: {
        path: PATHS.vaultData,
        node_id: ctx.nodeName,
        retry_join: [
          { auto_join: autoJoin(ctx.cluster), auto_join_scheme: "https", leader_tls_servername: VAULT_TLS_SERVER_NAME, leader_ca_cert_file: PATHS.caFile },
        ],
      },
    },
    seal: { awskms: { region: ctx.cluster.coreRegion, kms_key_id: clusterKeyId(ctx.cluster) } },
    service_registration: {
      consul: { address: `127.0.0.1:${PORTS.consulHttps}`, scheme: "https", tls_ca_file: PATHS.caFile, service: "vault" },
    },
    telemetry: { prometheus_retention_time: "60s", disable_hostname: true },
    log_level: "info",
  };
}
