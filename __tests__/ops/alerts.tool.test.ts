/**
 * The monitoring node's alerting, through the products' own programs: the rules through
 * `vmalert -dryRun` and, rule by rule, `promtool test rules` against recorded series (a case
 * that fires and one that must not); Alertmanager's configuration, as bitte-alertmanager-config
 * renders it at boot from the user data's template, through `amtool check-config`.
 */
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { userInfo } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { defineCluster } from "../../clusters/spec";
import example from "../../clusters/example";
import { renderNodeFiles, type NodeFile } from "../../constructs/node-config";
import { ALERTING_PATHS, alertRules, type AlertRule } from "../../constructs/node-config/alerting";
import { CLIENT_DRAIN_DEADLINE_SECONDS } from "../../constructs/node-config/nomad";
import { describeWithTools, run } from "../harness/tools";
import { envWith, OPS_CLUSTER, place, runScript, tempRoot } from "./harness";

const monitoringFiles = (cluster = OPS_CLUSTER): readonly NodeFile[] => renderNodeFiles({ cluster, role: "monitoring" });
const fileAt = (files: readonly NodeFile[], path: string): NodeFile => {
  const f = files.find((x) => x.path === path);
  if (!f) throw new Error(`no ${path} among the monitoring node's files`);
  return f;
};

describeWithTools(["vmalert"], "alert rules through vmalert -dryRun", () => {
  test.each([
    ["example", example],
    ["every operations field", OPS_CLUSTER],
  ])("%s", (_n, cluster) => {
    const dir = tempRoot("vmalert");
    const rules = place(dir, fileAt(monitoringFiles(cluster), ALERTING_PATHS.rules));
    const r = run("vmalert", ["-dryRun", `-rule=${rules}`], { timeoutMs: 60_000 });
    expect({ status: r.status, out: r.stdout + r.stderr }).toEqual({ status: 0, out: expect.any(String) });
  });

  test("vmalert is not a rubber stamp: a broken expression is refused", () => {
    const dir = tempRoot("vmalert-bad");
    const bad = join(dir, "bad.yml");
    writeFileSync(bad, stringify({ groups: [{ name: "x", rules: [{ alert: "Broken", expr: "sum(up" }] }] }));
    expect(run("vmalert", ["-dryRun", `-rule=${bad}`]).status).not.toBe(0);
  });
});

/** A recorded-series case for one alert: the series, when to evaluate, and the labels it fires with. */
interface Case {
  readonly series: Record<string, string>;
  readonly at: string;
  /** Labels of the firing alert besides severity; undefined: it must not fire. */
  readonly fires?: Record<string, string>;
}

const snapshotAge = 2 * OPS_CLUSTER.operations.snapshots.intervalMinutes * 60;
const late = (forDuration: string) => `${Math.ceil(Number(forDuration.replace(/[sm]$/, "")) * (forDuration.endsWith("m") ? 1 : 1 / 60)) + 5}m`;

/** Every rule has a case that fires and one that must not. */
const CASES: Record<string, readonly Case[]> = {
  ConsulNoLeader: [
    { series: { 'consul_server_isLeader{instance="core-1",job="consul"}': "0x20", 'consul_server_isLeader{instance="core-2",job="consul"}': "0x20" }, at: "10m", fires: {} },
    { series: { 'consul_server_isLeader{instance="core-1",job="consul"}': "0x20", 'consul_server_isLeader{instance="core-2",job="consul"}': "1x20" }, at: "10m" },
  ],
  ConsulBelowQuorum: [
    { series: { 'consul_autopilot_healthy{instance="core-1",job="consul"}': "0x20" }, at: "10m", fires: {} },
    { series: { 'consul_autopilot_healthy{instance="core-1",job="consul"}': "1x20" }, at: "10m" },
  ],
  NomadNoLeader: [
    { series: { 'up{instance="core-1",job="nomad",role="core"}': "1x20" }, at: "10m", fires: {} },
    { series: { 'nomad_nomad_broker_total_pending{instance="core-2",job="nomad"}': "0x20" }, at: "10m" },
  ],
  NomadBelowQuorum: [
    { series: { 'up{instance="core-1",job="nomad",role="core"}': "1x20", 'up{instance="core-2",job="nomad",role="core"}': "0x20", 'up{instance="core-3",job="nomad",role="core"}': "0x20" }, at: "10m", fires: {} },
    { series: { 'up{instance="core-1",job="nomad",role="core"}': "1x20", 'up{instance="core-2",job="nomad",role="core"}': "1x20", 'up{instance="core-3",job="nomad",role="core"}': "0x20" }, at: "10m" },
  ],
  VaultNoActive: [
    { series: { 'vault_core_active{instance="core-1",job="vault"}': "0x20" }, at: "10m", fires: {} },
    { series: { 'vault_core_active{instance="core-1",job="vault"}': "0x20", 'vault_core_active{instance="core-3",job="vault"}': "1x20" }, at: "10m" },
  ],
  VaultBelowQuorum: [
    { series: { 'vault_autopilot_healthy{instance="core-1",job="vault"}': "0x20" }, at: "10m", fires: {} },
    { series: { 'vault_autopilot_healthy{instance="core-1",job="vault"}': "1x20" }, at: "10m" },
  ],
  VaultSealed: [
    { series: { 'vault_core_unsealed{instance="core-2",job="vault"}': "0x20" }, at: "10m", fires: { instance: "core-2", job: "vault" } },
    { series: { 'vault_core_unsealed{instance="core-2",job="vault"}': "1x20" }, at: "10m" },
  ],
  RaftCommitSlow: [
    { series: { 'nomad_raft_commitTime{instance="core-1",job="nomad",quantile="0.99"}': "450x20" }, at: "10m", fires: { instance: "core-1", job: "nomad" } },
    { series: { 'nomad_raft_commitTime{instance="core-1",job="nomad",quantile="0.99"}': "20x20", 'nomad_raft_commitTime{instance="core-1",job="nomad",quantile="0.5"}': "900x20" }, at: "10m" },
  ],
  NodeDown: [
    { series: { 'up{instance="ip-10-0-3-7",job="node",role="client"}': "0x20" }, at: "10m", fires: { instance: "ip-10-0-3-7", job: "node", role: "client" } },
    { series: { 'up{instance="ip-10-0-3-7",job="node",role="client"}': "1x20" }, at: "10m" },
  ],
  AgentDown: [
    { series: { 'up{instance="core-3",job="vault",role="core"}': "0x20" }, at: "10m", fires: { instance: "core-3", job: "vault", role: "core" } },
    { series: { 'up{instance="core-3",job="node",role="core"}': "0x20" }, at: "10m" },
  ],
  DiskAlmostFull: [
    {
      series: { 'node_filesystem_avail_bytes{fstype="ext4",instance="core-1",job="node",mountpoint="/data"}': "15x30", 'node_filesystem_size_bytes{fstype="ext4",instance="core-1",job="node",mountpoint="/data"}': "100x30" },
      at: "20m",
      fires: { fstype: "ext4", instance: "core-1", job: "node", mountpoint: "/data" },
    },
    { series: { 'node_filesystem_avail_bytes{fstype="tmpfs",instance="core-1",job="node",mountpoint="/run"}': "1x30", 'node_filesystem_size_bytes{fstype="tmpfs",instance="core-1",job="node",mountpoint="/run"}': "100x30" }, at: "20m" },
  ],
  TlsCertificateExpiring: [
    { series: { 'consul_agent_tls_cert_expiry{instance="core-1",job="consul"}': `${13 * 86400}x30` }, at: "20m", fires: { instance: "core-1", job: "consul" } },
    { series: { 'consul_agent_tls_cert_expiry{instance="core-1",job="consul"}': `${15 * 86400}x30` }, at: "20m" },
  ],
  // time() in a rule test is the evaluation time; a fresh series keeps pace with it (60 s a minute).
  SnapshotTooOldVault: [
    { series: { 'bitte_snapshot_last_success_timestamp_seconds{instance="core-2",job="node",product="vault"}': `0x${(2 * snapshotAge) / 60 + 30}` }, at: `${(2 * snapshotAge) / 60 + 10}m`, fires: {} },
    { series: { 'bitte_snapshot_last_success_timestamp_seconds{instance="core-2",job="node",product="vault"}': `0+60x${(2 * snapshotAge) / 60 + 30}` }, at: `${(2 * snapshotAge) / 60 + 10}m` },
  ],
  ClientGroupAtMaximum: [
    {
      series: { 'bitte_client_group_max_size{group="fixed",instance="c1",job="node"}': "2x30", 'bitte_client_group_max_size{group="fixed",instance="c2",job="node"}': "2x30", 'bitte_client_group_max_size{group="workers",instance="c3",job="node"}': "6x30" },
      at: "20m",
      fires: { group: "fixed" },
    },
    { series: { 'bitte_client_group_max_size{group="fixed",instance="c1",job="node"}': "2x30" }, at: "20m" },
  ],
  DrainHookTimingOut: [
    { series: { 'nomad_client_allocations_running{instance="c1",job="nomad",node_scheduling_eligibility="ineligible",node_status="ready"}': "3x30" }, at: late(`${CLIENT_DRAIN_DEADLINE_SECONDS}s`), fires: { instance: "c1" } },
    // Allocations gone before the deadline: the drain finished in time.
    { series: { 'nomad_client_allocations_running{instance="c1",job="nomad",node_scheduling_eligibility="ineligible",node_status="ready"}': "3x5 0x25" }, at: late(`${CLIENT_DRAIN_DEADLINE_SECONDS}s`) },
  ],
};

const expand = (template: string, labels: Record<string, string>) => template.replace(/\{\{ \$labels\.(\w+) \}\}/g, (_m, name: string) => labels[name] ?? "");

describeWithTools(["promtool"], "each alert rule against recorded series (promtool test rules)", () => {
  const rules: AlertRule[] = alertRules(OPS_CLUSTER).flatMap((g) => g.rules);

  test("every rule has a firing and a quiet case here", () => {
    const alerts = [...new Set(rules.map((r) => r.alert))];
    // The three SnapshotTooOld rules share one expression shape; Vault's stands for them.
    expect(alerts.filter((a) => !/^SnapshotTooOld(Consul|Nomad)$/.test(a)).sort()).toEqual(Object.keys(CASES).sort());
  });

  test.each(Object.entries(CASES))("%s", (alert, cases) => {
    const dir = tempRoot("promtool");
    const ruleFile = place(dir, fileAt(monitoringFiles(), ALERTING_PATHS.rules));
    const rule = rules.find((r) => r.alert === alert)!;
    const tests = cases.map((c) => {
      const labels = { ...c.fires };
      return {
        interval: "1m",
        input_series: Object.entries(c.series).map(([series, values]) => ({ series, values })),
        alert_rule_test: [
          {
            eval_time: c.at,
            alertname: alert,
            exp_alerts:
              c.fires === undefined
                ? []
                : [{ exp_labels: { ...labels, severity: rule.labels.severity }, exp_annotations: Object.fromEntries(Object.entries(rule.annotations).map(([k, v]) => [k, expand(v, labels)])) }],
          },
        ],
      };
    });
    const testFile = join(dir, "test.yml");
    writeFileSync(testFile, stringify({ rule_files: [ruleFile], evaluation_interval: "30s", tests }));
    const r = run("promtool", ["test", "rules", testFile], { timeoutMs: 60_000 });
    expect({ status: r.status, out: r.stdout + r.stderr }).toEqual({ status: 0, out: expect.stringContaining("SUCCESS") });
  });
});

describeWithTools(["amtool", "jq", "bash"], "Alertmanager's configuration as rendered at boot, through amtool check-config", () => {
  const me = userInfo().username;
  const group = run("id", ["-gn"]).stdout.trim();

  async function render(cluster: typeof OPS_CLUSTER, token: string | undefined) {
    const dir = tempRoot("alertmanager");
    const files = monitoringFiles(cluster);
    const script = place(dir, fileAt(files, ALERTING_PATHS.configScript));
    const template = place(dir, fileAt(files, ALERTING_PATHS.alertmanagerTemplate));
    const shared = join(dir, "shared");
    mkdirSync(join(shared, "ssm"), { recursive: true });
    writeFileSync(join(shared, "account"), "123456789012");
    if (token !== undefined) writeFileSync(join(shared, "ssm", "%bitte%ops%alerts%webhook-token"), `${token}\n`);
    const env = join(dir, "alerting.env");
    const config = join(dir, "alertmanager.yml");
    const tokenFile = join(dir, "webhook-token");
    envWith(env, fileAt(files, "/etc/bitte/alerting.env").content, {
      BITTE_ALERTMANAGER_TEMPLATE: template,
      BITTE_ALERTMANAGER_CONFIG: config,
      BITTE_WEBHOOK_TOKEN_FILE: tokenFile,
      BITTE_ALERTMANAGER_USER: me,
      BITTE_ALERTMANAGER_GROUP: group,
      BITTE_CONFIG_OWNER: me,
    });
    // The config names the token file; point it at this test's copy.
    writeFileSync(template, readFileSync(template, "utf8").replaceAll(ALERTING_PATHS.webhookTokenFile, tokenFile));
    const r = await runScript(script, { BITTE_ALERTING_ENV: env, STUB_STATE: shared, STUB_SHARED: shared, TMPDIR: dir });
    return { r, config, tokenFile, template };
  }

  test("SNS with the account id from IMDS, and the webhook with its token from SSM in a file only Alertmanager's user reads", async () => {
    const { r, config, tokenFile, template } = await render(OPS_CLUSTER, "s3cr3t-webhook-token");
    expect(r.status).toBe(0);
    const parsed = parse(readFileSync(config, "utf8")) as { receivers: { sns_configs: { topic_arn: string }[]; webhook_configs?: { http_config: { authorization: { credentials_file: string } } }[] }[] };
    expect(parsed.receivers[0].sns_configs[0].topic_arn).toBe("arn:aws:sns:eu-central-1:123456789012:bitte-ops-alerts");
    expect(parsed.receivers[0].webhook_configs?.[0].http_config.authorization.credentials_file).toBe(tokenFile);
    expect(readFileSync(tokenFile, "utf8").trim()).toBe("s3cr3t-webhook-token");
    expect(statSync(tokenFile).mode & 0o777).toBe(0o400);
    expect(statSync(config).mode & 0o777).toBe(0o640);
    // The token is in neither the template (user data) nor the rendered config nor the output.
    expect(readFileSync(template, "utf8") + readFileSync(config, "utf8") + r.stdout + r.stderr).not.toContain("s3cr3t");
    const check = run("amtool", ["check-config", config]);
    expect({ status: check.status, out: check.stdout + check.stderr }).toEqual({ status: 0, out: expect.stringContaining("SUCCESS") });
  });

  test("the webhook's token not written yet: SNS only, with a warning that says how to add it, still valid", async () => {
    const { r, config } = await render(OPS_CLUSTER, undefined);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/alerts\/webhook-token is missing: sending to SNS only\. Write it with aws ssm put-parameter/);
    const parsed = parse(readFileSync(config, "utf8")) as { receivers: Record<string, unknown>[] };
    expect(parsed.receivers[0].webhook_configs).toBeUndefined();
    expect(run("amtool", ["check-config", config]).status).toBe(0);
  });

  test("no webhook in the spec: SNS only, valid", async () => {
    const noWebhook = defineCluster({ ...specOf(OPS_CLUSTER), alerts: { email: ["oncall@example.com"] } });
    const { r, config } = await render(noWebhook, undefined);
    expect(r.status).toBe(0);
    expect(readFileSync(config, "utf8")).not.toContain("webhook");
    expect(run("amtool", ["check-config", config]).status).toBe(0);
  });

  test("amtool is not a rubber stamp: a receiver that does not exist is refused", () => {
    const dir = tempRoot("amtool-bad");
    const bad = join(dir, "bad.yml");
    writeFileSync(bad, stringify({ route: { receiver: "nobody" }, receivers: [{ name: "bitte" }] }));
    expect(run("amtool", ["check-config", bad]).status).not.toBe(0);
  });
});

/** The spec fields of a resolved cluster, to derive variants. */
function specOf(c: typeof OPS_CLUSTER) {
  return {
    name: c.name,
    domain: c.domain,
    coreRegion: c.coreRegion,
    coreZones: [...c.coreZones],
    clientGroups: c.clientGroups.map((g) => ({ name: g.name, region: g.region, instanceType: [...g.instanceTypes], min: g.min, desired: g.desired, max: g.max, nodeClass: g.nodeClass })),
  };
}
