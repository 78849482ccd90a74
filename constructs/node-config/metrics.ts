/**
 * Every metric name the Grafana dashboards query, in one place, with where the product documents
 * it. Go-metrics names (Consul, Nomad, Vault) become Prometheus names by replacing dots with
 * underscores; their counters carry no `_total` suffix. A test checks every panel query against
 * this list.
 */
export const METRICS = Object.freeze({
  // Node exporter (prometheus/node_exporter collectors: cpu, meminfo, filesystem, netdev, loadavg).
  node: [
    "node_cpu_seconds_total",
    "node_load1",
    "node_memory_MemAvailable_bytes",
    "node_memory_MemTotal_bytes",
    "node_filesystem_avail_bytes",
    "node_filesystem_size_bytes",
    "node_network_receive_bytes_total",
    "node_network_transmit_bytes_total",
  ],
  // Consul agent telemetry (developer.hashicorp.com/consul/docs/reference/agent/telemetry):
  // consul.autopilot.healthy, consul.autopilot.failure_tolerance, consul.raft.apply,
  // consul.serf.lan.members, consul.rpc.request.
  consul: ["consul_autopilot_healthy", "consul_autopilot_failure_tolerance", "consul_raft_apply", "consul_serf_lan_members", "consul_rpc_request"],
  // Nomad metrics reference (developer.hashicorp.com/nomad/docs/reference/metrics):
  // nomad.client.allocations.running, nomad.client.allocated.{cpu,memory},
  // nomad.client.unallocated.memory, nomad.nomad.job_summary.running, nomad.nomad.broker.total_pending.
  nomad: [
    "nomad_client_allocations_running",
    "nomad_client_allocated_cpu",
    "nomad_client_allocated_memory",
    "nomad_client_unallocated_memory",
    "nomad_nomad_job_summary_running",
    "nomad_nomad_broker_total_pending",
  ],
  // Vault core system telemetry (developer.hashicorp.com/vault/docs/internals/telemetry/metrics):
  // vault.core.unsealed, vault.core.active, vault.core.handle_request (summary, ms),
  // vault.expire.num_leases, vault.token.count.
  vault: ["vault_core_unsealed", "vault_core_active", "vault_core_handle_request_count", "vault_core_handle_request_sum", "vault_expire_num_leases", "vault_token_count"],
  // Synthesized by every Prometheus-compatible scraper for each target.
  scrape: ["up"],
});

/** The flat list. */
export const METRIC_NAMES: readonly string[] = Object.freeze(Object.values(METRICS).flat());
