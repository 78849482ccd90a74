/**
 * The operations layer as synthesized: spec validation and defaults, the IAM statements each role
 * gets, the core stack's snapshot retention and alert topic, and the autoscaler job with its
 * policies checked against the autoscaler's own schema at the pinned version (parsed with the
 * HCL parser).
 */
import { parse } from "@cdktf/hcl2json";
import { Testing } from "cdktf";
import { ClusterSpecError, defineCluster, type ClusterSpec } from "../../clusters/spec";
import example from "../../clusters/example";
import { nodeRolePolicy, type PolicyStatement } from "../../constructs/iam/documents";
import { AUTOSCALER_READ_ACTIONS, AUTOSCALER_WRITE_ACTIONS } from "../../constructs/iam/operations";
import { CLIENT_DRAIN_DEADLINE_SECONDS } from "../../constructs/node-config";
import { AGENT_CONFIG_SCHEMA, autoscalerAgentConfig, autoscalerJobspec, autoscalerPolicies, AWS_ASG_TARGET_KEYS, POLICY_SCHEMA, STRATEGY_KEYS } from "../../constructs/operations/autoscaler";
import { JobsStack } from "../../stacks/jobs";
import { coreStack } from "../harness/stacks";
import { resources, type StackJson } from "../harness/synth";
import { OPS_CLUSTER } from "./harness";
import { testClusterSpec, testGroup } from "../harness/specs";

const base: ClusterSpec = testClusterSpec("ops", { clientGroups: [testGroup({ max: 5 })] });

function problems(spec: ClusterSpec): string[] {
  try {
    defineCluster(spec);
  } catch (e) {
    if (e instanceof ClusterSpecError) return e.problems.map((p) => `${p.field}: ${p.problem}. Fix: ${p.fix}`);
    throw e;
  }
  return [];
}

describe("spec: autoscaling, snapshots, alerts", () => {
  test("defaults", () => {
    const c = defineCluster({ ...base, clientGroups: [{ ...base.clientGroups[0], autoscaling: {} }] });
    expect(c.operations).toEqual({
      autoscaling: { workers: { cpuTargetPercent: 70, memoryTargetPercent: 70, cooldownMinutes: 5 } },
      snapshots: { intervalMinutes: 60, retentionDays: 30 },
      alerts: { email: [] },
    });
    expect(defineCluster(base).operations.autoscaling).toEqual({});
  });

  test("bad values name the field, the value and the fix", () => {
    // Bounds are the field table's (fields.ts), checked first; cross-field rules (operations.ts) after.
    expect(
      problems({
        ...base,
        clientGroups: [{ ...base.clientGroups[0], autoscaling: { cpuTargetPercent: 120, cooldownMinutes: 0 } }],
        snapshots: { intervalMinutes: 5, retentionDays: 0 },
      }),
    ).toEqual([
      expect.stringMatching(/^clientGroups\[0\]\.autoscaling\.cpuTargetPercent: must be a whole number from 10 to 95\. Fix: .*10–95/),
      expect.stringMatching(/^clientGroups\[0\]\.autoscaling\.cooldownMinutes: must be a whole number from 1 to 120\. Fix: .*1–120/),
      expect.stringMatching(/^snapshots\.intervalMinutes: must be a whole number from 15 to 1440/),
      expect.stringMatching(/^snapshots\.retentionDays: must be a whole number from 1 to 3650/),
    ]);
    expect(
      problems({
        ...base,
        clientGroups: [{ ...base.clientGroups[0], min: 3, desired: 3, max: 3, autoscaling: {} }],
        alerts: { email: ["not-an-address"], webhook: { url: "https://user:pw@hooks.example.com/x" } },
      }),
    ).toEqual([
      expect.stringMatching(/^clientGroups\[0\]\.max: an autoscaled group needs room to scale.*Fix: raise max/),
      expect.stringMatching(/^alerts\.email\[0\]: not an e-mail address/),
      expect.stringMatching(/^alerts\.webhook\.url: the URL carries credentials .*Fix: put the token in the SSM parameter/),
    ]);
    expect(problems({ ...base, alerts: { webhook: { url: "http://hooks.example.com" } } })).toEqual([expect.stringMatching(/^alerts\.webhook\.url: not an https URL/)]);
  });

  test("autoscaling needs a client group in the core region, where the autoscaler runs", () => {
    expect(problems({ ...base, clientGroups: [{ name: "far", region: "us-east-2", instanceType: "m6i.large", min: 0, desired: 0, max: 3, autoscaling: {} }] })).toEqual([
      expect.stringMatching(/^clientGroups\[0\]\.autoscaling: the Nomad Autoscaler runs on a client in the core region eu-central-1.*Fix: add a client group in eu-central-1/),
    ]);
  });
});

const ACCOUNT = "123456789012";
const policyOf = (cluster: typeof OPS_CLUSTER, role: "core" | "client" | "monitoring" | "routing") =>
  nodeRolePolicy(role, { cluster, accountId: ACCOUNT, coreKeyArn: "arn:aws:kms:eu-central-1:123456789012:key/k", bucketArn: "arn:aws:s3:::bucket", recoveryKeyArn: "arn:aws:kms:eu-central-1:123456789012:key/r" }).Statement;
const allowing = (statements: readonly PolicyStatement[], action: string) => statements.filter((s) => s.Effect === "Allow" && s.Action.includes(action));

describe("IAM for operations", () => {
  test("clients may scale only the autoscaled groups, with exactly the aws-asg plugin's calls", () => {
    const s = policyOf(OPS_CLUSTER, "client");
    for (const action of AUTOSCALER_WRITE_ACTIONS) {
      const st = allowing(s, action);
      expect(st).toHaveLength(1);
      expect(st[0].Resource).toEqual([
        `arn:aws:autoscaling:eu-central-1:${ACCOUNT}:autoScalingGroup:*:autoScalingGroupName/bitte-ops-workers`,
        `arn:aws:autoscaling:us-east-2:${ACCOUNT}:autoScalingGroup:*:autoScalingGroupName/bitte-ops-batch`,
      ]);
    }
    for (const action of AUTOSCALER_READ_ACTIONS) expect(allowing(s, action)[0].Resource).toBe("*");
    // A cluster without autoscaled groups grants none of it.
    expect(policyOf(example, "client").flatMap((st) => st.Action).filter((a) => [...AUTOSCALER_READ_ACTIONS, ...AUTOSCALER_WRITE_ACTIONS].includes(a))).toEqual([]);
    expect(policyOf(OPS_CLUSTER, "core").flatMap((st) => st.Action)).not.toContain("autoscaling:UpdateAutoScalingGroup");
  });

  test("core encrypts snapshots with the cluster key through S3 only; monitoring publishes to the alert topic only", () => {
    const core = allowing(policyOf(OPS_CLUSTER, "core"), "kms:GenerateDataKey").find((st) => JSON.stringify(st.Condition).includes("s3."));
    // From HashiStackBootstrap's bucket table: through S3, and only for this bucket's objects.
    expect(core?.Condition).toEqual({ StringEquals: { "kms:ViaService": "s3.eu-central-1.amazonaws.com", "kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::bucket" } });
    const mon = policyOf(OPS_CLUSTER, "monitoring");
    expect(allowing(mon, "sns:Publish").map((st) => st.Resource)).toEqual([`arn:aws:sns:eu-central-1:${ACCOUNT}:bitte-ops-alerts`]);
    expect(allowing(policyOf(OPS_CLUSTER, "routing"), "sns:Publish")).toEqual([]);
    // The webhook token parameter: the monitoring node reads it, nobody writes it but an operator.
    expect(JSON.stringify(allowing(mon, "ssm:GetParameter"))).toContain("parameter/bitte/ops/alerts/webhook-token");
    for (const role of ["core", "client", "monitoring", "routing"] as const) expect(JSON.stringify(allowing(policyOf(OPS_CLUSTER, role), "ssm:PutParameter"))).not.toContain("alerts/webhook-token");
  });
});

describe("core stack: snapshot retention, alert topic, bucket tag", () => {
  const { json, text } = coreStack(OPS_CLUSTER);

  test("snapshots/ expire after the spec's retention, noncurrent versions a day later", () => {
    const [lc] = resources(json, "aws_s3_bucket_lifecycle_configuration");
    expect(lc.config.rule).toEqual([
      expect.objectContaining({ id: "snapshot-retention", status: "Enabled", filter: [{ prefix: "snapshots/" }], expiration: [{ days: 14 }], noncurrent_version_expiration: [{ noncurrent_days: 1 }] }),
    ]);
  });

  test("the alert topic is encrypted with the cluster key and has the spec's e-mail subscription", () => {
    const [topic] = resources(json, "aws_sns_topic");
    expect(topic.config).toMatchObject({ name: "bitte-ops-alerts", kms_master_key_id: expect.stringContaining("aws_kms_key") });
    expect(resources(json, "aws_sns_topic_subscription").map((r) => r.config)).toEqual([expect.objectContaining({ protocol: "email", endpoint: "oncall@example.com" })]);
  });

  test("each core instance carries the bucket's name for bitte-snapshot", () => {
    const cores = resources(json, "aws_instance").filter((r) => (r.config.tags as Record<string, string>).Role === "core");
    expect(cores).toHaveLength(3);
    for (const c of cores) expect((c.config.tags as Record<string, string>).BitteBucket).toMatch(/^\$\{aws_s3_bucket\..*\.bucket\}$/);
  });

  test("the webhook's URL may appear, its token never can: nothing names the token's value", () => {
    expect(text).not.toMatch(/webhook-token"\s*:\s*"[^$]/);
    expect(resources(json, "aws_ssm_parameter")).toEqual([]);
  });
});

type Hcl = Record<string, unknown>;
const list = (v: unknown): Hcl[] => (Array.isArray(v) ? (v as Hcl[]) : v === undefined ? [] : [v as Hcl]);
/** hcl2json: labelled blocks are { label: [body] }. */
const labelled = (v: unknown): [string, Hcl][] => Object.entries((v ?? {}) as Record<string, Hcl[]>).flatMap(([k, bodies]) => bodies.map((b): [string, Hcl] => [k, b]));
const keysOutside = (body: Hcl, allowed: readonly string[]) => Object.keys(body).filter((k) => !allowed.includes(k));

describe("the Nomad Autoscaler job, from the spec", () => {
  const app = Testing.app();
  const stack = new JobsStack(app, "jobs", { cluster: OPS_CLUSTER, jobs: [] });
  const json = JSON.parse(Testing.synth(stack)) as StackJson;

  test("synth produces the job and an ACL policy bound to it by workload identity (no token)", () => {
    const [job] = resources(json, "nomad_job");
    const [acl] = resources(json, "nomad_acl_policy");
    expect(acl.config).toMatchObject({ name: "nomad-autoscaler", job_acl: { job_id: "nomad-autoscaler", namespace: "default" } });
    expect(String(acl.config.rules_hcl)).toMatch(/node \{\n  policy = "write"/);
    expect(job.config.depends_on).toEqual([expect.stringContaining("nomad_acl_policy")]);
    expect(String(job.config.jobspec)).toContain("identity {\n        env = true");
    expect(resources(json, "nomad_acl_token")).toEqual([]);
  });

  test("the example cluster, with no autoscaled group, gets no autoscaler", () => {
    const a = Testing.app();
    const j = JSON.parse(Testing.synth(new JobsStack(a, "jobs", { cluster: example, jobs: [] }))) as StackJson;
    expect(resources(j, "nomad_job")).toEqual([]);
  });

  test("the jobspec parses, runs on a core-region class it does not scale, with the pinned image", async () => {
    const job = (await parse("nomad-autoscaler.nomad.hcl", autoscalerJobspec(OPS_CLUSTER))) as Hcl;
    const [[name, body]] = labelled(job.job);
    expect(name).toBe("nomad-autoscaler");
    expect(body.datacenters).toEqual(["eu-central-1"]);
    const [[, group]] = labelled(body.group);
    expect(list(group.constraint)).toEqual([{ attribute: "${node.class}", value: "fixed" }]);
    const [[, task]] = labelled(group.task);
    expect(list(task.config)[0].image).toBe("hashicorp/nomad-autoscaler:0.5.0");
    expect(list(task.template).map((t) => t.destination)).toEqual(["local/config.hcl", "local/policies/workers.hcl", "local/policies/batch.hcl"]);
  });

  test("agent configuration: only keys the agent accepts at 0.5.0 (agent/config/config.go)", async () => {
    const cfg = (await parse("config.hcl", autoscalerAgentConfig(OPS_CLUSTER))) as Hcl;
    expect(keysOutside(cfg, AGENT_CONFIG_SCHEMA[""])).toEqual([]);
    for (const block of ["http", "nomad", "policy", "telemetry"]) for (const b of list(cfg[block])) expect(keysOutside(b, AGENT_CONFIG_SCHEMA[block])).toEqual([]);
    const plugins = ["apm", "target", "strategy"].flatMap((k) => labelled(cfg[k]).map(([label, b]) => [k, label, b] as const));
    for (const [, , b] of plugins) expect(keysOutside(b, AGENT_CONFIG_SCHEMA.plugin)).toEqual([]);
    expect(plugins.map(([k, label, b]) => `${k}.${label}=${String(b.driver)}`)).toEqual([
      "apm.prometheus=prometheus",
      "target.aws-asg-eu-central-1=aws-asg",
      "target.aws-asg-us-east-2=aws-asg",
      "strategy.target-value=target-value",
    ]);
    expect(labelled(cfg.apm)[0][1].config).toEqual({ address: `http://${OPS_CLUSTER.monitoringNode.privateIp}:8428` });
    // A key the agent does not know is caught (the check is not vacuous).
    expect(keysOutside({ ...cfg, nomad_address: "x" }, AGENT_CONFIG_SCHEMA[""])).toEqual(["nomad_address"]);
  });

  test("policies: bounds from the group, targets and cooldown from the spec, the drain deadline of the clients", async () => {
    const policies = autoscalerPolicies(OPS_CLUSTER);
    expect(policies.map((p) => p.file)).toEqual(["workers.hcl", "batch.hcl"]);
    const byGroup = { workers: { min: 0, max: 6, cpu: 60, cooldown: "3m", region: "eu-central-1" }, batch: { min: 1, max: 4, cpu: 70, cooldown: "5m", region: "us-east-2" } };
    for (const p of policies) {
      const want = byGroup[p.file.replace(".hcl", "") as keyof typeof byGroup];
      const doc = (await parse(p.file, p.content)) as Hcl;
      const [[name, scaling]] = labelled(doc.scaling);
      expect(name).toBe(`bitte-ops-${p.file.replace(".hcl", "")}`);
      expect(keysOutside(scaling, POLICY_SCHEMA.scaling)).toEqual([]);
      expect(scaling).toMatchObject({ enabled: true, type: "cluster", min: want.min, max: want.max });
      const [policy] = list(scaling.policy);
      expect(keysOutside(policy, POLICY_SCHEMA.policy)).toEqual([]);
      expect(policy).toMatchObject({ cooldown: want.cooldown, on_check_error: "fail" });
      const checks = labelled(policy.check);
      expect(checks.map(([n]) => n).sort()).toEqual(["cpu", "demand", "memory"]);
      for (const [, check] of checks) {
        expect(keysOutside(check, POLICY_SCHEMA.check)).toEqual([]);
        expect(check.source).toBe("prometheus");
        for (const [strategy, cfg] of labelled(check.strategy)) expect(keysOutside(cfg, STRATEGY_KEYS[strategy])).toEqual([]);
      }
      expect(labelled(checks.find(([n]) => n === "cpu")?.[1].strategy)).toEqual([["target-value", { target: want.cpu }]]);
      const [[target, t]] = labelled(policy.target);
      expect(target).toBe(`aws-asg-${want.region}`);
      expect(keysOutside(t, AWS_ASG_TARGET_KEYS)).toEqual([]);
      expect(t).toMatchObject({ datacenter: want.region, node_class: "workers", node_drain_deadline: `${CLIENT_DRAIN_DEADLINE_SECONDS}s`, node_purge: "true" });
    }
  });
});
