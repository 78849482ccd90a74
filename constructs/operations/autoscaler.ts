/**
 * The Nomad Autoscaler as a job of the cluster, generated from the spec: one `aws-asg` target per
 * region with autoscaled groups, the Prometheus APM pointed at VictoriaMetrics, and one cluster
 * scaling policy per autoscaled group (bounds from the group, targets and cooldown from
 * `autoscaling`). Pure renderers; the jobs stack deploys the job and its ACL policy.
 *
 * Sources, hashicorp/nomad-autoscaler at v0.5.0: agent/config/config.go (agent keys),
 * sdk/policy.go (file policy keys), sdk/target.go (target keys), plugins/builtin/target/aws-asg
 * (what it calls), plugins/builtin/strategy/{target-value,threshold} (strategy keys and the
 * scale-from-zero arithmetic: from a count of 0, target-value asks for ceil(metric / target)).
 *
 * One drain path. The aws-asg plugin always drains the nodes it picks through the Nomad API
 * (`node_drain_deadline`, the same deadline as the clients' `drain_on_shutdown`) before it calls
 * TerminateInstanceInAutoScalingGroup. The termination lifecycle hook then stops the agent on an
 * ineligible node with no allocations left, so its drain ends at once: nothing is drained twice,
 * neither waits on the other, and a node is terminated only after its allocations are gone.
 * Instance refreshes and lifetime replacements, which the autoscaler does not start, drain
 * through the hook alone. The autoscaler never scales during an instance refresh (plugin.go).
 *
 * Scale from zero. With no nodes there is no utilisation to divide, and Nomad cannot attribute a
 * blocked evaluation to a class it has never seen (blocked evals are counted by the classes of
 * existing nodes). So: the utilisation checks answer 0 for an empty group (`or vector(0)`, never
 * "no data"), and a `demand` check adds one node while evaluations for the group's
 * datacenter and class are blocked — or, for an empty group, while any evaluation is blocked.
 * Every check is a target-value check that always answers a number, because the autoscaler ranks
 * "up" over "none" over "down" across checks: a check that answered "none" would veto scale-in.
 * The Nomad APM cannot do this (it refuses min = 0, hashicorp/nomad-autoscaler#534), which is
 * one reason to query VictoriaMetrics.
 */
import type { Cluster, ResolvedClientGroup } from "../../clusters/spec";
import { PORTS } from "../ports";
import { CLIENT_DRAIN_DEADLINE_SECONDS } from "../node-config/nomad";

/** The pinned release (Docker Hub hashicorp/nomad-autoscaler). */
export const AUTOSCALER_VERSION = "0.5.0";
export const AUTOSCALER_JOB = "nomad-autoscaler";
/** The autoscaler's own HTTP port (health and metrics), inside its allocation. */
const AUTOSCALER_HTTP_PORT = 8080;

/** Keys each block of the agent configuration accepts at the pinned version (agent/config/config.go). */
export const AGENT_CONFIG_SCHEMA: Readonly<Record<string, readonly string[]>> = Object.freeze({
  "": ["log_level", "log_json", "log_include_location", "enable_debug", "plugin_dir", "http", "nomad", "policy", "policy_eval", "telemetry", "high_availability", "apm", "target", "strategy", "dynamic_application_sizing"],
  http: ["bind_address", "bind_port"],
  nomad: ["address", "region", "namespace", "token", "http_auth", "ca_cert", "ca_path", "client_cert", "client_key", "tls_server_name", "skip_verify", "block_query_wait_time"],
  policy: ["dir", "default_cooldown", "default_evaluation_interval", "source"],
  telemetry: ["prometheus_retention_time", "prometheus_metrics", "disable_hostname", "enable_hostname_label", "collection_interval"],
  plugin: ["driver", "args", "config"],
});

/** Keys of a file scaling policy at the pinned version (sdk/policy.go, FileDecode*). */
export const POLICY_SCHEMA: Readonly<Record<string, readonly string[]>> = Object.freeze({
  scaling: ["enabled", "type", "min", "max", "policy"],
  policy: ["cooldown", "cooldown_on_scale_up", "evaluation_interval", "schedule", "on_check_error", "check", "target"],
  check: ["group", "source", "query", "query_window", "query_window_offset", "schedule", "on_error", "strategy"],
});

/** Target keys the aws-asg plugin and the cluster scale utilities read (plugin.go, sdk/target.go). */
export const AWS_ASG_TARGET_KEYS = Object.freeze(["aws_asg_name", "aws_region", "node_class", "datacenter", "node_pool", "node_drain_deadline", "node_drain_ignore_system_jobs", "node_purge", "node_selector_strategy", "scale_in_protection"]);
/** Strategy keys (target-value and threshold plugins). */
export const STRATEGY_KEYS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  "target-value": ["target", "threshold", "max_scale_up", "max_scale_down"],
  threshold: ["upper_bound", "lower_bound", "delta", "percentage", "value", "within_bounds_trigger"],
});

const q = (s: string) => JSON.stringify(s);

/** The groups the spec marks autoscaled, with their policies. */
export function autoscaledGroups(cluster: Cluster): { group: ResolvedClientGroup; policy: Cluster["operations"]["autoscaling"][string] }[] {
  return cluster.clientGroups.flatMap((group) => {
    const policy = cluster.operations.autoscaling[group.name];
    return policy ? [{ group, policy }] : [];
  });
}

/** Where the autoscaler runs: a client group in the core region (it reaches VictoriaMetrics there), preferring one it does not scale. */
export function autoscalerPlacement(cluster: Cluster): ResolvedClientGroup {
  const local = cluster.clientGroups.filter((g) => g.region === cluster.coreRegion);
  const group = local.find((g) => cluster.operations.autoscaling[g.name] === undefined) ?? local[0];
  if (!group) {
    throw new Error(`autoscaling: the Nomad Autoscaler runs on a client in the core region ${cluster.coreRegion}, and cluster ${cluster.name} has none. Fix: add a client group in ${cluster.coreRegion}.`);
  }
  return group;
}

const targetName = (region: string) => `aws-asg-${region}`;
const asgName = (cluster: Cluster, g: ResolvedClientGroup) => `bitte-${cluster.name}-${g.name}`;

/** The group's pool in PromQL: Nomad client metrics carry datacenter and node_class. */
function pool(g: ResolvedClientGroup): string {
  return `datacenter="${g.region}",node_class="${g.nodeClass}"`;
}

/** PromQL of each check (VictoriaMetrics answers the Prometheus query API). */
export function checkQueries(g: ResolvedClientGroup): { cpu: string; memory: string; demand: string } {
  const p = pool(g);
  const share = (r: "cpu" | "memory") =>
    `(sum(nomad_client_allocated_${r}{${p}}) / (sum(nomad_client_allocated_${r}{${p}}) + sum(nomad_client_unallocated_${r}{${p}})) * 100) or vector(0)`;
  return {
    cpu: share("cpu"),
    memory: share("memory"),
    // target-value with target 1: from 0 nodes ceil(1 / 1) = 1; from n nodes ceil(n × (n + 1) / n) = n + 1.
    // Never "no action" while nothing waits (0 reads as "down to 0"), because a check answering
    // "none" outranks every scale-in (sdk/strategy.go PreemptScalingAction: up > none > down).
    demand:
      `((count(nomad_client_allocated_cpu{${p}}) + 1) / count(nomad_client_allocated_cpu{${p}}) and on() sum(nomad_nomad_blocked_evals_cpu{${p}}) > 0)` +
      ` or (vector(1) and on() sum(nomad_nomad_blocked_evals_total_blocked) > 0 and on() absent(nomad_client_allocated_cpu{${p}}))` +
      " or vector(0)",
  };
}

/** The agent configuration (HCL). */
export function autoscalerAgentConfig(cluster: Cluster): string {
  const regions = [...new Set(autoscaledGroups(cluster).map((a) => a.group.region))];
  const vm = `http://${cluster.monitoringNode.privateIp}:${PORTS.victoriaMetrics}`;
  return [
    `log_level = "info"`,
    `plugin_dir = "/plugins"`,
    "",
    "http {",
    `  bind_address = "0.0.0.0"`,
    `  bind_port = ${AUTOSCALER_HTTP_PORT}`,
    "}",
    "",
    // Address and token come from the environment: the Task API socket and the workload identity.
    "nomad {",
    `  namespace = ["default"]`,
    "}",
    "",
    "policy {",
    `  dir = "/local/policies"`,
    `  default_cooldown = "5m"`,
    `  default_evaluation_interval = "1m"`,
    "}",
    "",
    "telemetry {",
    "  prometheus_metrics = true",
    "  disable_hostname = true",
    "}",
    "",
    `apm "prometheus" {`,
    `  driver = "prometheus"`,
    `  config = {`,
    `    address = ${q(vm)}`,
    "  }",
    "}",
    "",
    ...regions.flatMap((r) => [`target ${q(targetName(r))} {`, `  driver = "aws-asg"`, "  config = {", `    aws_region = ${q(r)}`, "  }", "}", ""]),
    `strategy "target-value" {`,
    `  driver = "target-value"`,
    "}",
    "",
  ].join("\n");
}

/** One cluster scaling policy per autoscaled group (HCL file policies). */
export function autoscalerPolicies(cluster: Cluster): { file: string; content: string }[] {
  return autoscaledGroups(cluster).map(({ group: g, policy }) => {
    const queries = checkQueries(g);
    const check = (name: string, query: string, strategy: string, config: Record<string, string | number>) => [
      `    check ${q(name)} {`,
      `      source = "prometheus"`,
      `      query = ${q(query)}`,
      `      query_window = "2m"`,
      `      strategy ${q(strategy)} {`,
      ...Object.entries(config).map(([k, v]) => `        ${k} = ${typeof v === "number" ? v : q(v)}`),
      "      }",
      "    }",
    ];
    const content = [
      `scaling ${q(asgName(cluster, g))} {`,
      "  enabled = true",
      `  type = "cluster"`,
      `  min = ${g.min}`,
      `  max = ${g.max}`,
      "",
      "  policy {",
      `    cooldown = "${policy.cooldownMinutes}m"`,
      `    evaluation_interval = "1m"`,
      // A failing query stops the evaluation (no action), so an outage never reads as "scale in".
      `    on_check_error = "fail"`,
      "",
      ...check("cpu", queries.cpu, "target-value", { target: policy.cpuTargetPercent }),
      ...check("memory", queries.memory, "target-value", { target: policy.memoryTargetPercent }),
      ...check("demand", queries.demand, "target-value", { target: 1 }),
      "",
      `    target ${q(targetName(g.region))} {`,
      `      aws_asg_name = ${q(asgName(cluster, g))}`,
      `      datacenter = ${q(g.region)}`,
      `      node_class = ${q(g.nodeClass)}`,
      `      node_drain_deadline = "${CLIENT_DRAIN_DEADLINE_SECONDS}s"`,
      `      node_drain_ignore_system_jobs = "false"`,
      `      node_purge = "true"`,
      `      node_selector_strategy = "least_busy"`,
      "    }",
      "  }",
      "}",
      "",
    ].join("\n");
    return { file: `${g.name}.hcl`, content };
  });
}

/** The Nomad ACL policy the job's workload identity gets (attached to the job by `job_acl`). */
export function autoscalerAclRules(): string {
  return [
    // Cluster policies: list nodes, drain and purge them (node:write), read jobs to find allocations.
    `namespace "*" {`,
    `  policy = "read"`,
    `  capabilities = ["read-job", "list-jobs", "read-job-scaling", "scale-job"]`,
    "}",
    "",
    `node {`,
    `  policy = "write"`,
    "}",
    "",
    `operator {`,
    `  policy = "read"`,
    "}",
    "",
  ].join("\n");
}

/** The jobspec (HCL2), text as Nomad parses it. */
export function autoscalerJobspec(cluster: Cluster): string {
  const at = autoscalerPlacement(cluster);
  const heredoc = (name: string, body: string) => {
    if (body.includes("${") || body.includes("%{") || body.includes("{{")) throw new Error(`autoscaler: ${name} must not contain HCL or template interpolation`);
    return ["<<EOT", body.trimEnd(), "EOT"].join("\n");
  };
  const policyTemplates = autoscalerPolicies(cluster).flatMap((p) => [
    "      template {",
    `        destination = "local/policies/${p.file}"`,
    `        data = ${heredoc(p.file, p.content)}`,
    "      }",
  ]);
  return [
    `job "${AUTOSCALER_JOB}" {`,
    `  type = "service"`,
    `  datacenters = [${q(at.region)}]`,
    "",
    `  group "autoscaler" {`,
    "    count = 1",
    "",
    "    constraint {",
    "      attribute = \"${node.class}\"",
    `      value = ${q(at.nodeClass)}`,
    "    }",
    "",
    "    network {",
    `      port "http" {`,
    `        to = ${AUTOSCALER_HTTP_PORT}`,
    "      }",
    "    }",
    "",
    `    task "autoscaler" {`,
    `      driver = "docker"`,
    "",
    "      config {",
    `        image = "hashicorp/nomad-autoscaler:${AUTOSCALER_VERSION}"`,
    `        command = "nomad-autoscaler"`,
    `        args = ["agent", "-config", "local/config.hcl"]`,
    `        ports = ["http"]`,
    "      }",
    "",
    // The workload identity's token in NOMAD_TOKEN; the Task API socket needs no TLS material.
    "      identity {",
    "        env = true",
    "      }",
    "",
    "      env {",
    "        NOMAD_ADDR = \"unix://${NOMAD_SECRETS_DIR}/api.sock\"",
    "      }",
    "",
    "      template {",
    `        destination = "local/config.hcl"`,
    `        data = ${heredoc("agent config", autoscalerAgentConfig(cluster))}`,
    "      }",
    ...policyTemplates,
    "",
    "      resources {",
    "        cpu = 200",
    "        memory = 256",
    "      }",
    "",
    "      service {",
    `        name = "nomad-autoscaler"`,
    `        port = "http"`,
    `        provider = "nomad"`,
    "        check {",
    `          type = "http"`,
    `          path = "/v1/health"`,
    `          interval = "10s"`,
    `          timeout = "2s"`,
    "        }",
    "      }",
    "    }",
    "  }",
    "}",
    "",
  ].join("\n");
}
