/**
 * The rendered configuration through the products' own checkers: cloud-init's schema, shellcheck
 * on every script (also the ones extracted from user data), `haproxy -c` and
 * `victoria-metrics -dryRun`.
 */
import { CONSUL_TOKEN_PATHS } from "../../constructs/node-config/consul-token";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { defineCluster, type ClusterSpec } from "../../clusters/spec";
import { PATHS } from "../../constructs/node-config";
import { ALERTING_PATHS } from "../../constructs/node-config/alerting";
import { NOMAD_CERT_PATHS } from "../../constructs/node-config/nomad-cert";
import { SNAPSHOT_PATHS } from "../../constructs/node-config/snapshots";
import { describeWithTools, run } from "../harness/tools";
import { NODES, cluster, fileOf, renderUserData } from "./render-helpers";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "bitte-node-config-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The example cluster's spec, for variants of it. */
const exampleSpec: ClusterSpec = {
  name: cluster.name,
  domain: cluster.domain,
  coreRegion: cluster.coreRegion,
  coreZones: cluster.coreZones,
  clientGroups: [{ name: "workers", region: cluster.coreRegion, instanceType: "m6i.large", min: 1, desired: 1, max: 2 }],
};

/** The configs name the node's CA file, which the checkers open: a throwaway one stands in. */
function throwawayCa(): string {
  const ca = join(dir, "ca.pem");
  run("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", join(dir, "ca-key.pem"), "-out", ca, "-subj", "/CN=test", "-days", "1"]);
  return ca;
}

describeWithTools(["cloud-init"], "cloud-init schema", () => {
  test.each(NODES.map((n) => [n.label, n] as const))("accepts the user data of %s", (label, props) => {
    const path = join(dir, `${label.replace(/\W/g, "_")}.yaml`);
    writeFileSync(path, renderUserData(props));
    const r = run("cloud-init", ["schema", "--config-file", path]);
    expect({ status: r.status, out: r.stdout + r.stderr }).toEqual({ status: 0, out: expect.stringContaining("Valid cloud-config") });
  });

  test.each(["core", "client", "monitoring", "routing"] as const)("accepts the user data of a %s node with every package mirror set", (role) => {
    const key = readFileSync(join(__dirname, "../fixtures/mirror-signing-key.asc"), "utf8");
    const mirrored = defineCluster({ ...exampleSpec, packageMirror: { hashicorp: "http://10.9.0.1/hashicorp", grafana: "http://10.9.0.1/grafana", os: "http://10.9.0.1/ubuntu", signingKey: key } });
    const path = join(dir, `mirror-${role}.yaml`);
    writeFileSync(path, renderUserData({ cluster: mirrored, role, ...(role === "core" ? { nodeName: "core-1" } : {}) }));
    const r = run("cloud-init", ["schema", "--config-file", path]);
    expect({ status: r.status, out: r.stdout + r.stderr }).toEqual({ status: 0, out: expect.stringContaining("Valid cloud-config") });
  });
});

describeWithTools(["shellcheck"], "shellcheck", () => {
  test("passes every shipped script and the stand-in CLIs", () => {
    const scripts = join(__dirname, "../../constructs/node-config/scripts");
    const stubs = join(__dirname, "stubs");
    const files = [...readdirSync(scripts).map((f) => join(scripts, f)), ...readdirSync(stubs).map((f) => join(stubs, f))];
    const r = run("shellcheck", ["--severity=style", ...files]);
    expect(r.stdout + r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  test.each(NODES.map((n) => [n.label, n] as const))("passes every script embedded in the user data of %s", (label, props) => {
    const doc = parse(renderUserData(props)) as { write_files: { path: string; content: string }[] };
    // Shell scripts only: the AWS client is Python (py_compile below), the IMDS guard an nft script.
    const scripts = doc.write_files.filter((f) => /^#!.*\b(bash|sh)\b/.test(f.content.split("\n")[0]));
    // Role scripts of the operations layer: snapshots and the node PKI setup on core, Alertmanager's
    // config on monitoring, the client's own Nomad certificate on clients, and the Consul logins
    // (with their Vault login) on clients and routing nodes.
    const logins = [CONSUL_TOKEN_PATHS.script, CONSUL_TOKEN_PATHS.vaultLogin];
    const roleScripts = { core: [SNAPSHOT_PATHS.script, PATHS.nodePkiScript], monitoring: [ALERTING_PATHS.configScript], client: [NOMAD_CERT_PATHS.script, ...logins], routing: logins }[props.role as string] ?? [];
    expect(scripts.map((s) => s.path).sort()).toEqual([PATHS.bootstrapScript, PATHS.dataVolumeScript, PATHS.nodeEnvScript, ...roleScripts].sort());
    for (const s of scripts) {
      const path = join(dir, `${label.replace(/\W/g, "_")}-${s.path.split("/").pop()}`);
      writeFileSync(path, s.content);
      const r = run("shellcheck", ["--severity=style", path]);
      expect(r.stdout + r.stderr).toBe("");
    }
    // The environment file the script sources is shell too.
    const env = join(dir, `${label.replace(/\W/g, "_")}.env`);
    writeFileSync(env, `#!/usr/bin/env bash\n# shellcheck disable=SC2034\n${fileOf(props, PATHS.bootstrapEnv)}`);
    expect(run("shellcheck", [env]).stdout).toBe("");
  });
});

describeWithTools(["python3"], "python3 -m py_compile", () => {
  test.each(NODES.map((n) => [n.label, n] as const))("compiles every Python program embedded in the user data of %s", (label, props) => {
    const doc = parse(renderUserData(props)) as { write_files: { path: string; content: string }[] };
    const programs = doc.write_files.filter((f) => f.content.startsWith("#!/usr/bin/python3"));
    expect(programs.map((p) => p.path)).toEqual([PATHS.awsClient]);
    for (const p of programs) {
      const path = join(dir, `${label.replace(/\W/g, "_")}-${p.path.split("/").pop()}.py`);
      writeFileSync(path, p.content);
      const r = run("python3", ["-m", "py_compile", path], { env: { ...process.env, PYTHONPYCACHEPREFIX: join(dir, "pycache") } });
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
    }
  });
});

describeWithTools(["haproxy", "openssl"], "haproxy -c", () => {
  test("accepts the routing node's configuration", () => {
    const ca = throwawayCa();
    const cfg = join(dir, "haproxy.cfg");
    writeFileSync(cfg, fileOf({ cluster, role: "routing" }, PATHS.haproxyConfig).replaceAll(PATHS.caFile, ca));
    const r = run("haproxy", ["-c", "-f", cfg], { env: { ...process.env, BITTE_PRIVATE_IP: "127.0.0.1" } });
    expect({ status: r.status, out: r.stdout + r.stderr }).toEqual({ status: 0, out: expect.stringContaining("Configuration file is valid") });
    expect(r.stdout + r.stderr).not.toMatch(/\[WARNING\]/);
  });
});

describeWithTools(["victoria-metrics", "openssl"], "victoria-metrics -dryRun", () => {
  test("accepts the scrape configuration (strict parsing)", () => {
    const cfg = join(dir, "scrape.yml");
    writeFileSync(cfg, fileOf({ cluster, role: "monitoring" }, PATHS.victoriaMetricsConfig).replaceAll(PATHS.caFile, throwawayCa()));
    const r = run("victoria-metrics", ["-dryRun", `-promscrape.config=${cfg}`], { env: { ...process.env, CONSUL_TOKEN: "test" } });
    expect({ status: r.status, out: r.stdout + r.stderr }).toEqual({ status: 0, out: expect.stringContaining("-promscrape.config is ok") });
  });
});

describe("the bootstrap script each role ships", () => {
  test("keeps every function it calls but the other kind's main, and none of the other kind's sections", () => {
    const full = readFileSync(join(__dirname, "../../constructs/node-config/scripts/bitte-bootstrap.sh"), "utf8");
    const defined = (text: string) => new Set([...text.matchAll(/^([a-z_]+)\(\) \{/gm)].map((m) => m[1]));
    const all = defined(full);
    for (const props of NODES) {
      const shipped = fileOf(props, PATHS.bootstrapScript);
      const kept = defined(shipped);
      // main() dispatches on the role: the other kind's entry point is named there, never run.
      const [gones, other] = props.role === "core" ? [["member_main"], "member_main"] : [["core_tls", "acl_bootstrap", "vault_init", "vault_node_pki", "core_main"], "core_main"];
      for (const gone of gones) expect([props.role, gone, kept.has(gone)]).toEqual([props.role, gone, false]);
      const called = [...all].filter((f) => new RegExp(`(^|[\\s;|&(])${f}($|[\\s;)])`, "m").test(shipped.replace(new RegExp(`^${f}\\(\\) \\{`, "m"), "")));
      expect([props.role, called.filter((f) => !kept.has(f) && f !== other)]).toEqual([props.role, []]);
    }
  });
});
