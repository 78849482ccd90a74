import { clusterKeyId } from "../../stacks/base";
import { NOMAD_DYNAMIC_PORTS, PORTS } from "../ports";
import { autoJoin } from "./join";
import { PATHS } from "./paths";
import type { NodeContext } from "./types";

/**
 * Names the policy layer (the `consul` stack) must create for Nomad's workload identities:
 * Consul's auth method, Vault's JWT auth mount, and the audiences the tokens carry.
 */
export const WORKLOAD_IDENTITY = Object.freeze({
  consulAuthMethod: "nomad-workloads",
  consulAudience: "consul.io",
  vaultJwtPath: "jwt-nomad",
  vaultAudience: "vault.io",
});

/**
 * How long a Nomad client drains when its agent stops (`client.drain_on_shutdown.deadline`), in
 * seconds: allocations still on the node then are stopped. The one source of the drain's timings:
 * the client unit's stop timeout and, in the `clients` stack, the lifecycle hook's heartbeat and
 * the drain command's timeout derive from it.
 */
export const CLIENT_DRAIN_DEADLINE_SECONDS = 900;

/**
 * Seconds after the drain deadline for the last tasks to stop (their kill timeouts) and the agent
 * to exit, before systemd (and the drain command's `timeout`) give up on it.
 */
export const CLIENT_DRAIN_GRACE_SECONDS = 120;

/** Nomad's go-sockaddr template for the private address of auto-scaling nodes. */
const PRIVATE_IP_TEMPLATE = "{{ GetPrivateIP }}";

/**
 * The agent configuration. The gossip key comes from `gossip.json` (bootstrap script) and the
 * agent's Consul token from the environment (`CONSUL_HTTP_TOKEN` in a root-only file), so no
 * secret is in this file; workloads get Consul and Vault tokens through workload identity.
 */
export function nomadConfig(ctx: NodeContext): Record<string, unknown> {
  const ip = ctx.privateIp ?? PRIVATE_IP_TEMPLATE;
  const identity = (aud: string) => ({ aud: [aud], ttl: "1h" });
  const consul = {
    address: `127.0.0.1:${PORTS.consulHttps}`,
    ssl: true,
    ca_file: PATHS.caFile,
    grpc_address: `127.0.0.1:${PORTS.consulGrpcTls}`,
    grpc_ca_file: PATHS.caFile,
    ...(ctx.isServer
      ? { service_identity: identity(WORKLOAD_IDENTITY.consulAudience), task_identity: identity(WORKLOAD_IDENTITY.consulAudience) }
      : {}),
  };
  const vault = {
    enabled: true,
    address: `https://vault.service.consul:${PORTS.vaultApi}`,
    ca_file: PATHS.caFile,
    ...(ctx.isServer ? { default_identity: identity(WORKLOAD_IDENTITY.vaultAudience) } : { jwt_auth_backend_path: WORKLOAD_IDENTITY.vaultJwtPath }),
  };
  const tlsFiles = ctx.isServer
    ? { cert_file: PATHS.serverCert, key_file: `${PATHS.nomadDir}/tls/server-key.pem` }
    : { cert_file: `${PATHS.nomadDir}/tls/client.pem`, key_file: `${PATHS.nomadDir}/tls/client-key.pem` };
  const common = {
    region: "global",
    datacenter: ctx.nomadDatacenter,
    ...(ctx.nodeName ? { name: ctx.nodeName } : {}),
    data_dir: PATHS.nomadData,
    // Core and client nodes live in private subnets only; advertise the private address.
    bind_addr: "0.0.0.0",
    advertise: { http: ip, rpc: ip, serf: ip },
    ports: { http: PORTS.nomadHttp, rpc: PORTS.nomadRpc, serf: PORTS.nomadSerf },
    acl: { enabled: true },
    tls: {
      http: true,
      rpc: true,
      ca_file: PATHS.caFile,
      ...tlsFiles,
      verify_server_hostname: true,
      // The UI and CLI reach the HTTP API without client certificates; ACL tokens guard it.
      verify_https_client: false,
    },
    consul,
    vault,
    telemetry: { prometheus_metrics: true, publish_allocation_metrics: true, publish_node_metrics: true, disable_hostname: true, collection_interval: "10s" },
    log_level: "INFO",
  };
  if (ctx.isServer) {
    return {
      ...common,
      server: {
        enabled: true,
        bootstrap_expect: 3,
        server_join: { retry_join: [autoJoin(ctx.cluster)], retry_interval: "15s" },
      },
      keyring: { awskms: { active: true, region: ctx.cluster.coreRegion, kms_key_id: clusterKeyId(ctx.cluster) } },
    };
  }
  return {
    ...common,
    // SIGTERM (the client unit's stop signal) leaves gracefully, which drains the node first with
    // the agent's own identity (`drain_on_shutdown`): no token needed.
    leave_on_terminate: true,
    client: {
      enabled: true,
      node_class: ctx.nodeClass,
      server_join: { retry_join: [autoJoin(ctx.cluster)], retry_interval: "15s" },
      cni_path: PATHS.cniBin,
      min_dynamic_port: NOMAD_DYNAMIC_PORTS.from,
      max_dynamic_port: NOMAD_DYNAMIC_PORTS.to,
      // Migrates allocations by their `migrate` blocks; system jobs stop last. The node stays
      // ineligible afterwards.
      drain_on_shutdown: { deadline: `${CLIENT_DRAIN_DEADLINE_SECONDS}s`, force: false, ignore_system_jobs: false },
    },
    plugin: {
      docker: { config: { allow_privileged: false, volumes: { enabled: false }, extra_labels: ["job_name", "task_group_name", "task_name", "namespace"] } },
      // Runs commands as root without isolation: off.
      raw_exec: { config: { enabled: false } },
    },
  };
}
