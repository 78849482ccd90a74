/**
 * Content of the rendered node configuration: the settings the issue lists, for every role; no
 * secret anywhere; user data small enough for EC2 after gzip; deterministic; dashboards query
 * only metrics from the one list.
 */
import { NOMAD_JWKS_PATH, ROUTING_HEALTH_PATH } from "../../constructs/node-config/haproxy";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { defineCluster } from "../../clusters/spec";
import { USER_DATA_LIMIT, userDataBase64 } from "../../constructs/user-data";
import {
  AUTO_JOIN_TAG_KEY,
  CLIENT_DRAIN_DEADLINE_SECONDS,
  CLIENT_DRAIN_GRACE_SECONDS,
  DASHBOARD_FILES,
  DATA_VOLUME_MOUNT,
  METRIC_NAMES,
  NODE_ROLES,
  PATHS,
  SSM_PARAMETERS,
  autoJoinTagValue,
  ssmAccess,
} from "../../constructs/node-config";
import { allConsulServiceNames, CONSUL_SERVICES, consulServiceInputs } from "../../constructs/node-config/consul";
import { consulPolicies, renderConsulRules, type ConsulPolicyDoc } from "../../constructs/policy/consul";
import { CONSUL_POLICIES, consulAgentPolicy } from "../../constructs/policy/names";
import { serviceUnit } from "../../constructs/node-config/systemd";
import { PORTS } from "../../constructs/ports";
import { clusterKeyId } from "../../stacks/base";
import { NODES, cluster, fileOf, jsonOf, renderNodeFiles, renderUserData, type Json } from "./render-helpers";

const core = { cluster, role: "core" as const, nodeName: "core-1" };
const client = { cluster, role: "client" as const, region: "us-east-2", nodeClass: "workers" };
const monitoring = { cluster, role: "monitoring" as const };
const routing = { cluster, role: "routing" as const };
const autoJoin = `provider=aws region=eu-central-1 tag_key=${AUTO_JOIN_TAG_KEY} tag_value=${autoJoinTagValue(cluster)} addr_type=private_v4`;

describe("user data", () => {
  // What EC2 receives: the bytes userDataBase64 compresses (pako, zlib level 9), not another
  // gzip's. EC2 takes 16 KiB; 384 bytes of headroom keep a spec's longer names and lists inside.
  test.each(NODES.map((n) => [n.label, n] as const))("%s: compressed user data under EC2's 16 KiB with headroom", (_label, props) => {
    expect(Buffer.from(userDataBase64(renderUserData(props)), "base64").length).toBeLessThan(USER_DATA_LIMIT - 384);
  });

  test("is deterministic and starts with #cloud-config", () => {
    for (const n of NODES) {
      const a = renderUserData(n);
      expect(a.startsWith("#cloud-config\n")).toBe(true);
      expect(renderUserData(n)).toBe(a);
    }
  });

  test("adds HashiCorp's and Grafana's apt repositories with signing keys and pins the versions", () => {
    const doc = parse(renderUserData(core));
    expect(doc.apt.sources["hashicorp.list"]).toMatchObject({ keyid: "798AEC654E5C15428C8E42EEAA16FCBCA621E701", source: expect.stringContaining("signed-by=$KEY_FILE] https://apt.releases.hashicorp.com") });
    expect(doc.apt.sources["grafana.list"].source).toContain("https://apt.grafana.com");
    expect(doc.packages).toEqual(expect.arrayContaining([`consul=${cluster.versions.consul}-1`, `nomad=${cluster.versions.nomad}-1`, `vault=${cluster.versions.vault}-1`, "prometheus-node-exporter", expect.stringMatching(/^promtail=/)]));
    expect(parse(renderUserData(client)).packages).toEqual(expect.arrayContaining(["docker.io", "containernetworking-plugins"]));
    expect(parse(renderUserData(monitoring)).packages).toEqual(expect.arrayContaining(["victoria-metrics", expect.stringMatching(/^grafana=/), expect.stringMatching(/^loki=/)]));
    expect(parse(renderUserData(routing)).packages).toContain("haproxy");
  });

  test("mounts the data volume before data directories are made, and starts the bootstrap last", () => {
    const cmds: string[][] = parse(renderUserData(core)).runcmd;
    const mount = cmds.findIndex((c) => c[0] === PATHS.dataVolumeScript);
    expect(cmds[mount]).toEqual([PATHS.dataVolumeScript, DATA_VOLUME_MOUNT]);
    expect(cmds.findIndex((c) => c.includes(PATHS.vaultData))).toBeGreaterThan(mount);
    expect(cmds.at(-1)).toEqual(["systemctl", "start", "--no-block", "bitte-bootstrap"]);
    expect(parse(renderUserData(routing)).runcmd.some((c: string[]) => c[0] === PATHS.dataVolumeScript)).toBe(false);
  });
});

describe("no secret in any rendered file", () => {
  const PEM_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;
  const UUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/i;
  const BASE64_32 = /(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{43}=(?![A-Za-z0-9+/=])/;
  test.each(NODES.map((n) => [n.label, n] as const))("%s", (_label, props) => {
    for (const text of [renderUserData(props), ...renderNodeFiles(props).map((f) => f.content)]) {
      expect(text).not.toMatch(PEM_KEY);
      expect(text).not.toMatch(UUID);
      expect(text).not.toMatch(BASE64_32);
    }
  });
  test("the patterns catch what they are meant to catch", () => {
    expect("-----BEGIN EC PRIVATE KEY-----").toMatch(PEM_KEY);
    expect("86cddfb9-2760-d947-358d-a2811156bf31").toMatch(UUID);
    expect(`"encrypt": "${Buffer.alloc(32, 7).toString("base64")}"`).toMatch(BASE64_32);
  });
  test("files are root-owned; nothing secret means world-readable configs are fine, scripts are executable", () => {
    for (const n of NODES) for (const f of renderNodeFiles(n)) {
      expect(f.owner).toBe("root:root");
      expect(["0644", "0755"]).toContain(f.permissions);
    }
  });
});

describe("Consul", () => {
  test("servers: TLS verification, gossip verification, ACL deny, bootstrap_expect 3, autopilot, raft multiplier, telemetry", () => {
    const c = jsonOf(core, `${PATHS.consulDir}/consul.json`);
    expect(c).toMatchObject({
      datacenter: "eu-central-1",
      server: true,
      bootstrap_expect: 3,
      performance: { raft_multiplier: 1 },
      autopilot: { cleanup_dead_servers: true },
      encrypt_verify_incoming: true,
      encrypt_verify_outgoing: true,
      acl: { enabled: true, default_policy: "deny", down_policy: "extend-cache", enable_token_persistence: true },
      tls: { defaults: { verify_incoming: true, verify_outgoing: true, ca_file: PATHS.caFile }, internal_rpc: { verify_server_hostname: true } },
      ports: { https: 8501, grpc_tls: 8503, grpc: -1 },
      addresses: { http: "127.0.0.1" },
      connect: { enabled: true },
      retry_join: [autoJoin],
      telemetry: { prometheus_retention_time: expect.any(String) },
      auto_encrypt: { allow_tls: true },
    });
    expect(c.bind_addr).toBe(cluster.coreNodes[0].privateIp);
    expect(c.encrypt).toBeUndefined();
  });

  test.each([client, monitoring, routing].map((p) => [p.role, p] as const))("%s: client agent with auto_encrypt, same datacenter, same hardening", (_r, props) => {
    const c = jsonOf(props, `${PATHS.consulDir}/consul.json`);
    expect(c).toMatchObject({ server: false, datacenter: "eu-central-1", auto_encrypt: { tls: true }, acl: { default_policy: "deny" }, retry_join: [autoJoin], encrypt_verify_incoming: true });
    expect(c.tls.defaults.key_file).toBeUndefined();
  });

  test("every node forwards .consul to the agent through systemd-resolved; clients also for Docker", () => {
    for (const n of NODES) expect(fileOf(n, "/etc/systemd/resolved.conf.d/consul.conf")).toContain("DNS=127.0.0.1:8600\nDNSSEC=false\nDomains=~consul");
    expect(fileOf(client, "/etc/systemd/resolved.conf.d/consul.conf")).toContain("DNSStubListenerExtra=172.17.0.1");
    expect(jsonOf(client, "/etc/docker/daemon.json").dns).toEqual(["172.17.0.1"]);
  });

  test("each role's agent policy may register that role's config-file services and no other role's", () => {
    for (const n of NODES) for (const s of jsonOf(n, `${PATHS.consulDir}/services.json`).services) expect(allConsulServiceNames()).toContain(s.name);
    const docs = consulPolicies({ namespaces: ["default", ...cluster.namespaces], routedServices: cluster.routes.map((r) => r.service), ...consulServiceInputs() });
    for (const role of NODE_ROLES) {
      const rules = renderConsulRules(docs.find((d) => d.name === (role === "core" ? CONSUL_POLICIES.agent : consulAgentPolicy(role))) as ConsulPolicyDoc);
      const own = CONSUL_SERVICES[role].map((s) => s.name);
      for (const s of allConsulServiceNames()) expect([role, s, rules.includes(`service "${s}" {\n  policy = "write"\n}`)]).toEqual([role, s, own.includes(s)]);
    }
    // The cores make the core's and the monitoring node's agent tokens at first boot.
    const acl = jsonOf(core, PATHS.consulAcl);
    expect(acl.tokens[SSM_PARAMETERS.consulMonitoringAgentToken]).toBe(consulAgentPolicy("monitoring"));
    expect(acl.nodeIdentities[SSM_PARAMETERS.consulMonitoringAgentToken]).toBe(`${cluster.monitoringNode.name}:${cluster.coreRegion}`);
  });
});

describe("Vault", () => {
  test("raft with auto_join over https, awskms seal with the cluster key, TLS listener, addresses, mlock, registration, telemetry", () => {
    const v = jsonOf(core, `${PATHS.vaultDir}/vault.json`);
    const ip = cluster.coreNodes[0].privateIp;
    expect(v.storage.raft).toMatchObject({ path: PATHS.vaultData, node_id: "core-1", retry_join: [{ auto_join: autoJoin, auto_join_scheme: "https", leader_tls_servername: "vault.service.consul", leader_ca_cert_file: PATHS.caFile }] });
    expect(v.seal).toEqual({ awskms: { region: "eu-central-1", kms_key_id: clusterKeyId(cluster) } });
    expect(v).toMatchObject({ api_addr: `https://${ip}:8200`, cluster_addr: `https://${ip}:8201`, disable_mlock: true });
    expect(v.listener).toHaveLength(2);
    for (const l of v.listener) expect(l.tcp).toMatchObject({ tls_cert_file: PATHS.serverCert, tls_min_version: "tls12" });
    expect(v.listener[0].tcp).not.toHaveProperty("tls_disable");
    expect(v.service_registration.consul).toMatchObject({ scheme: "https", service: "vault" });
    expect(v.telemetry.prometheus_retention_time).toBeDefined();
  });
  test("autopilot dead-server cleanup with min quorum 3 is applied by the bootstrap (an API setting)", () => {
    expect(fileOf(core, PATHS.bootstrapScript)).toContain("-cleanup-dead-servers=true -min-quorum=3");
  });
});

describe("Nomad", () => {
  test("servers: bootstrap_expect 3, AWS server_join, TLS with hostname verification, ACLs, KMS keyring, workload identity", () => {
    const n = jsonOf(core, `${PATHS.nomadDir}/nomad.json`);
    expect(n).toMatchObject({
      datacenter: "eu-central-1",
      server: { enabled: true, bootstrap_expect: 3, server_join: { retry_join: [autoJoin] } },
      tls: { http: true, rpc: true, verify_server_hostname: true, ca_file: PATHS.caFile },
      acl: { enabled: true },
      keyring: { awskms: { active: true, kms_key_id: clusterKeyId(cluster), region: "eu-central-1" } },
      consul: { ssl: true, service_identity: { aud: ["consul.io"] }, task_identity: { aud: ["consul.io"] } },
      vault: { enabled: true, default_identity: { aud: ["vault.io"] } },
      telemetry: { prometheus_metrics: true },
    });
    expect(JSON.stringify(n)).not.toMatch(/"token"/);
  });
  test("clients: datacenter = region, node class, Docker, raw_exec off, TLS, workload identity, no tokens", () => {
    const n = jsonOf(client, `${PATHS.nomadDir}/nomad.json`);
    expect(n).toMatchObject({
      datacenter: "us-east-2",
      client: { enabled: true, node_class: "workers", server_join: { retry_join: [autoJoin] } },
      plugin: { docker: { config: { allow_privileged: false } }, raw_exec: { config: { enabled: false } } },
      tls: { http: true, rpc: true, verify_server_hostname: true },
      vault: { enabled: true, jwt_auth_backend_path: "jwt-nomad" },
    });
    expect(JSON.stringify(n)).not.toMatch(/"token"/);
  });
  test("clients drain themselves when their agent stops: leave_on_terminate and drain_on_shutdown with the one deadline", () => {
    const n = jsonOf(client, `${PATHS.nomadDir}/nomad.json`) as { leave_on_terminate: boolean; client: Record<string, unknown> };
    expect(n.leave_on_terminate).toBe(true);
    expect(n.client.drain_on_shutdown).toEqual({ deadline: `${CLIENT_DRAIN_DEADLINE_SECONDS}s`, force: false, ignore_system_jobs: false });
    // Servers neither leave on SIGTERM (the agent's default) nor drain.
    const server = jsonOf(core, `${PATHS.nomadDir}/nomad.json`) as Record<string, unknown>;
    expect(server).not.toHaveProperty("leave_on_terminate");
    expect(JSON.stringify(server)).not.toContain("drain_on_shutdown");
  });
  test("the client unit stops the agent with SIGTERM (leave_on_terminate), only the agent, and waits out the drain", () => {
    const unit = fileOf(client, "/etc/systemd/system/nomad.service");
    expect(unit).toMatch(/^KillSignal=SIGTERM$/m);
    expect(unit).toMatch(/^KillMode=process$/m);
    // Longer than systemd's 90 s default: the drain deadline plus the grace for the last tasks.
    expect(unit).toMatch(new RegExp(`^TimeoutStopSec=${CLIENT_DRAIN_DEADLINE_SECONDS + CLIENT_DRAIN_GRACE_SECONDS}$`, "m"));
    expect(CLIENT_DRAIN_DEADLINE_SECONDS + CLIENT_DRAIN_GRACE_SECONDS).toBeGreaterThan(90);
    // The server unit keeps systemd's defaults.
    const server = fileOf(core, "/etc/systemd/system/nomad.service");
    expect(server).not.toMatch(/^(TimeoutStopSec|KillMode)=/m);
    expect(server).toMatch(/^KillSignal=SIGINT$/m);
  });
});

describe("systemd units", () => {
  test("dedicated users, sandboxing and restart on failure", () => {
    for (const [props, unit, user] of [[core, "consul", "consul"], [core, "vault", "vault"], [core, "nomad", "nomad"], [monitoring, "victoria-metrics", "victoriametrics"]] as const) {
      const text = fileOf(props, `/etc/systemd/system/${unit}.service`);
      for (const line of [`User=${user}`, "NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes", "Restart=on-failure", "LimitCORE=0"]) expect(text).toContain(line);
    }
    for (const [props, unit] of [[monitoring, "grafana-server"], [monitoring, "loki"], [routing, "haproxy"], [core, "promtail"], [core, "prometheus-node-exporter"]] as const) {
      expect(fileOf(props, `/etc/systemd/system/${unit}.service.d/bitte.conf`)).toContain("NoNewPrivileges=yes\nProtectSystem=strict");
    }
    // The Nomad client runs as root (Docker, task mounts) but still gains no privileges.
    expect(fileOf(client, "/etc/systemd/system/nomad.service")).toMatch(/User=root[\s\S]*NoNewPrivileges=yes[\s\S]*Restart=on-failure/);
  });
  test("serviceUnit: a stop timeout and kill mode only when asked, whole seconds only", () => {
    const base = { description: "x", user: "x", execStart: "/bin/x" };
    expect(serviceUnit(base)).not.toMatch(/^(TimeoutStopSec|KillMode)=/m);
    expect(serviceUnit({ ...base, timeoutStopSec: 600, killMode: "process" })).toMatch(/^KillMode=process\nTimeoutStopSec=600$/m);
    for (const bad of [0, -1, 1.5, Number.NaN]) expect(() => serviceUnit({ ...base, timeoutStopSec: bad })).toThrow(/whole seconds/);
  });
  test("services bind to localhost or the private address, never every interface", () => {
    expect(fileOf(core, "/etc/systemd/system/prometheus-node-exporter.service.d/bitte.conf")).toContain("--web.listen-address=${BITTE_PRIVATE_IP}:9100");
    expect(fileOf(monitoring, "/etc/systemd/system/victoria-metrics.service")).toContain(`-httpListenAddr=${cluster.monitoringNode.privateIp}:8428`);
    expect(fileOf(core, PATHS.promtailConfig)).toContain("http_listen_address: 127.0.0.1");
  });
});

describe("monitoring", () => {
  test("VictoriaMetrics finds Consul, Nomad, Vault, node exporters, HAProxy and itself through Consul", () => {
    const cfg = parse(fileOf(monitoring, PATHS.victoriaMetricsConfig));
    const jobs = Object.fromEntries(cfg.scrape_configs.map((j: Json) => [j.job_name, j]));
    expect(Object.keys(jobs).sort()).toEqual(["consul", "haproxy", "node", "nomad", "vault", "victoria-metrics"]);
    for (const j of Object.values<Json>(jobs)) expect(j.consul_sd_configs[0]).toMatchObject({ server: "127.0.0.1:8501", scheme: "https", token: "%{CONSUL_TOKEN}" });
    expect(jobs.vault).toMatchObject({ scheme: "https", metrics_path: "/v1/sys/metrics", tls_config: { server_name: "vault.service.consul" } });
  });
  test("Grafana provisions VictoriaMetrics and Loki, and every dashboard file", () => {
    const ds = parse(fileOf(monitoring, `${PATHS.grafanaProvisioning}/datasources/bitte.yaml`));
    expect(ds.datasources.map((d: Json) => d.type)).toEqual(["prometheus", "loki"]);
    const prov = parse(fileOf(monitoring, `${PATHS.grafanaProvisioning}/dashboards/bitte.yaml`));
    expect(prov.providers[0].options.path).toBe(PATHS.grafanaDashboards);
    for (const f of DASHBOARD_FILES) expect(JSON.parse(fileOf(monitoring, `${PATHS.grafanaDashboards}/${f}`)).uid).toMatch(/^bitte-/);
  });
  test("every panel query names only metrics from the one list, and each listed metric is used", () => {
    const used = new Set<string>();
    for (const f of DASHBOARD_FILES) {
      const dash = JSON.parse(readFileSync(join(__dirname, "../../constructs/node-config/dashboards", f), "utf8"));
      expect(dash.panels.length).toBeGreaterThan(0);
      for (const p of dash.panels) for (const t of p.targets) {
        expect(t.datasource?.uid ?? p.datasource.uid).toBe("victoriametrics");
        const names = (t.expr as string).replace(/\{[^}]*\}/g, "").replace(/\[[^\]]*\]/g, "").match(/[a-zA-Z_][a-zA-Z0-9_]*/g) ?? [];
        const keywords = new Set(["sum", "by", "max", "avg", "rate", "instance", "job", "datacenter", "node_class", "namespace", "mode", "idle"]);
        for (const n of names.filter((x) => !keywords.has(x))) {
          expect(METRIC_NAMES).toContain(n);
          used.add(n);
        }
      }
    }
    expect([...used].sort()).toEqual([...METRIC_NAMES].sort());
  });
  test("Loki keeps logs with retention; Promtail ships the journal with host, unit and role labels", () => {
    const loki = parse(fileOf(monitoring, PATHS.lokiConfig));
    expect(loki.compactor.retention_enabled).toBe(true);
    expect(loki.limits_config.retention_period).toMatch(/^\d+h$/);
    expect(loki.common.path_prefix.startsWith(DATA_VOLUME_MOUNT)).toBe(true);
    for (const n of NODES) {
      const p = parse(fileOf(n, PATHS.promtailConfig));
      const job = p.scrape_configs[0];
      expect(job.journal.labels.role).toBe(n.role);
      expect(job.relabel_configs.map((r: Json) => r.target_label)).toEqual(expect.arrayContaining(["host", "unit"]));
      expect(p.clients[0].url).toBe(`http://${cluster.monitoringNode.privateIp}:${PORTS.loki}/loki/api/v1/push`);
    }
  });
});

describe("HAProxy", () => {
  const cfg = fileOf(routing, PATHS.haproxyConfig);
  test("one backend per public route and admin endpoint, from Consul DNS SRV through the local agent", () => {
    expect(cfg).toContain("resolvers consul\n    nameserver consul 127.0.0.1:8600");
    expect(cfg).toMatch(/backend route_www\n[\s\S]*server-template www 10 _web\._tcp\.service\.consul resolvers consul .* check/);
    for (const b of ["admin_consul", "admin_nomad", "admin_vault", "admin_monitoring"]) expect(cfg).toContain(`backend ${b}\n    option httpchk`);
    expect(cfg).toMatch(/server-template vault 1 _vault\._active\.service\.consul .* ssl verify required ca-file \/etc\/bitte\/tls\/ca\.pem verifyhost active\.vault\.service\.consul/);
  });
  // Issue 12, finding 3: operators' admin traffic goes only to a Consul server, whose certificate
  // (the Bitte CA's, issued at first boot) names server.<dc>.consul; every agent's auto_encrypt
  // certificate names localhost, so `verifyhost localhost` let any node that registered
  // consul-https receive it.
  test("the Consul admin backend verifies the servers' name, which no agent certificate carries", () => {
    expect(cfg).toMatch(new RegExp(`server-template consul 3 _consul-https\\._tcp\\.service\\.consul .* verifyhost server\\.${cluster.coreRegion}\\.consul sni str\\(server\\.${cluster.coreRegion}\\.consul\\)`));
    expect(cfg).not.toMatch(/verifyhost localhost/);
  });
  test("admin endpoints only from adminCidrs; stats on localhost", () => {
    expect(cfg).toContain(`acl from_admin req.hdr_ip(x-forwarded-for,-1) ${cluster.adminCidrs.join(" ")}`);
    expect(cfg).toContain("http-request deny deny_status 403 if host_admin_vault !from_admin");
    expect(cfg).toContain(`bind 127.0.0.1:${PORTS.haproxyStats}\n    stats enable`);
    const closed = defineCluster({ name: "closed", domain: "c.example.com", coreRegion: "eu-central-1", coreZones: ["eu-central-1a", "eu-central-1b", "eu-central-1c"], clientGroups: [{ name: "w", region: "eu-central-1", instanceType: "m6i.large", min: 1, desired: 1, max: 1 }] });
    expect(fileOf({ cluster: closed, role: "routing" }, PATHS.haproxyConfig)).toContain("http-request deny deny_status 403 if host_admin_consul\n");
  });
  test("answers the load balancer's health check itself, and serves Nomad's public keys to anyone", () => {
    expect(cfg).toContain(`monitor-uri ${ROUTING_HEALTH_PATH}`);
    expect(cfg).toContain(`acl public_keys path ${NOMAD_JWKS_PATH}`);
    expect(cfg).toContain("http-request deny deny_status 403 if host_admin_nomad !from_admin !public_keys\n");
    expect(cfg).toContain("http-request deny deny_status 403 if host_admin_consul !from_admin\n");
  });
});

describe("contract", () => {
  test("ssmAccess: least privilege per role", () => {
    expect(ssmAccess("core").read).toContain(SSM_PARAMETERS.ca);
    for (const role of ["client", "monitoring", "routing"] as const) {
      const a = ssmAccess(role);
      expect(a.read).not.toContain(SSM_PARAMETERS.ca);
      expect(a.read).not.toContain(SSM_PARAMETERS.consulManagementToken);
      expect(a.read).not.toContain(SSM_PARAMETERS.nomadGossipKey);
      expect(a.read).toEqual(expect.arrayContaining([SSM_PARAMETERS.caCert, SSM_PARAMETERS.consulGossipKey, SSM_PARAMETERS.consulDnsToken]));
      // No shared agent token (the monitoring node has its own), and not the servers' Nomad token (acl write).
      expect(a.read.filter((n) => n.startsWith("consul/agent-token"))).toEqual(role === "monitoring" ? [SSM_PARAMETERS.consulMonitoringAgentToken] : []);
      expect(a.read).not.toContain(SSM_PARAMETERS.consulNomadToken);
    }
    expect(ssmAccess("client").write).toEqual([]);
    expect(ssmAccess("routing").write).toEqual([]);
    expect(ssmAccess("core").read).not.toContain(SSM_PARAMETERS.vaultRootToken);
  });
  test("every parameter the script touches is granted to some role, and nothing else is", () => {
    const script = readFileSync(join(__dirname, "../../constructs/node-config/scripts/bitte-bootstrap.sh"), "utf8");
    const touched = new Set([...script.matchAll(/(?:agree|ssm_create|ssm_get|ssm_wait|consul_token) ([a-z-]+\/[a-z-]+)/g)].map((m) => m[1]));
    // acl_bootstrap agrees on "$product/management-token" for consul and nomad.
    expect(script).toContain('agree "$product/management-token"');
    ["consul", "nomad"].forEach((p) => touched.add(`${p}/management-token`));
    // bitte-alertmanager-config reads the webhook token that the monitoring node's alerting.env names.
    const alerting = renderNodeFiles({ cluster, role: "monitoring" }).find((f) => f.path === "/etc/bitte/alerting.env");
    expect(alerting?.content).toContain(`BITTE_WEBHOOK_PARAMETER=${JSON.stringify(SSM_PARAMETERS.alertsWebhookToken)}`);
    touched.add(SSM_PARAMETERS.alertsWebhookToken);
    // Tokens the cores make for a node by its name (consul-acl.json nodeIdentities); that node reads its own, named in its bootstrap.env.
    const acl = jsonOf(core, PATHS.consulAcl);
    expect(Object.keys(acl.nodeIdentities)).toEqual([SSM_PARAMETERS.consulMonitoringAgentToken]);
    for (const name of Object.keys(acl.nodeIdentities)) touched.add(name);
    for (const role of ["client", "monitoring", "routing"] as const) {
      const env = renderNodeFiles({ cluster, role }).find((f) => f.path === PATHS.bootstrapEnv)?.content ?? "";
      for (const m of env.matchAll(/^BITTE_CONSUL_AGENT_TOKEN_PARAMETER="([^"]+)"$/gm)) expect(Object.keys(acl.nodeIdentities)).toContain(m[1]);
    }
    const granted = new Set(NODE_ROLES.flatMap((r) => [...ssmAccess(r).read, ...ssmAccess(r).write]));
    expect([...touched].sort()).toEqual([...granted].sort());
  });
  test("invalid props fail with a fix", () => {
    expect(() => renderUserData({ cluster, role: "core" })).toThrow(/nodeName, one of core-1, core-2, core-3/);
    expect(() => renderUserData({ cluster, role: "client", nodeClass: "gpu" })).toThrow(/no client group in eu-central-1 has node class "gpu"/);
    expect(() => renderUserData({ cluster, role: "routing", region: "us-east-2" })).toThrow(/core region/);
  });
});
