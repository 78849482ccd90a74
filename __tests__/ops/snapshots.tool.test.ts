/**
 * bitte-snapshot on three core nodes at once, against the stand-ins: exactly one set of
 * snapshots per run for the cluster (the Consul leader's), in the bucket under snapshots/ with
 * SSE-KMS and the cluster in the metadata, and the freshness metric only where one succeeded.
 * Faults production sees: Vault down, S3 throttling, Consul unreachable, no bucket tag.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { renderNodeFiles } from "../../constructs/node-config";
import { SNAPSHOT_BUCKET_TAG, SNAPSHOT_PATHS, SNAPSHOT_PRODUCTS, snapshotKeyPattern } from "../../constructs/node-config/snapshots";
import { describeWithTools } from "../harness/tools";
import { envWith, OPS_CLUSTER, place, runScript, tempRoot } from "./harness";

const cluster = OPS_CLUSTER;
const BUCKET = "bitte-ops-20260101000000000000000001";

interface Cluster3 {
  readonly shared: string;
  readonly nodes: { name: string; ip: string; state: string; script: string; env: string; textfile: string }[];
}

/** Three core nodes as rendered: their own script, env file and textfile directory; one SSM, S3 and tag store. */
function setup(leader: number): Cluster3 {
  const root = tempRoot("snap");
  const shared = join(root, "shared");
  for (const d of ["ssm", `s3/${BUCKET}`, "tags"]) mkdirSync(join(shared, d), { recursive: true });
  writeFileSync(join(shared, "ssm", "%bitte%ops%consul%management-token"), "consul-mgmt\n");
  writeFileSync(join(shared, "ssm", "%bitte%ops%nomad%management-token"), "nomad-mgmt\n");
  writeFileSync(join(shared, "kms-key"), "alias/bitte-ops");
  const nodes = cluster.coreNodes.map((n, i) => {
    const files = renderNodeFiles({ cluster, role: "core", nodeName: n.name });
    const dir = join(root, n.name);
    const state = join(dir, "stub");
    mkdirSync(join(dir, "tls"), { recursive: true });
    mkdirSync(state, { recursive: true });
    writeFileSync(join(dir, "tls", "ca.pem"), "CA\n");
    writeFileSync(join(state, "instance-id"), `i-00000000000000c0${i + 1}`);
    writeFileSync(join(state, "account"), "123456789012");
    mkdirSync(join(shared, "tags", `i-00000000000000c0${i + 1}`), { recursive: true });
    writeFileSync(join(shared, "tags", `i-00000000000000c0${i + 1}`, SNAPSHOT_BUCKET_TAG), `${BUCKET}\n`);
    const script = place(dir, files.find((f) => f.path === SNAPSHOT_PATHS.script)!);
    const envFile = files.find((f) => f.path === SNAPSHOT_PATHS.env)!;
    const env = join(dir, "snapshot.env");
    const textfile = join(dir, "textfile");
    envWith(env, envFile.content, { BITTE_TLS_DIR: join(dir, "tls"), BITTE_TEXTFILE_DIR: textfile, BITTE_PRIVATE_IP: n.privateIp, BITTE_INSTANCE_ID: `i-00000000000000c0${i + 1}`, BITTE_NODE_ENV: "" });
    return { name: n.name, ip: n.privateIp, state, script, env, textfile };
  });
  writeFileSync(join(shared, "leader"), `${nodes[leader].ip}:8300`);
  return { shared, nodes };
}

function run(c: Cluster3, i: number, extra: Record<string, string> = {}) {
  const n = c.nodes[i];
  return runScript(n.script, { BITTE_SNAPSHOT_ENV: n.env, STUB_STATE: n.state, STUB_SHARED: c.shared, STUB_NODE: n.name, TMPDIR: n.state, ...extra });
}

function objects(c: Cluster3): string[] {
  const out: string[] = [];
  const walk = (dir: string, prefix: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name), `${prefix}${e.name}/`);
      else if (!e.name.endsWith(".metadata")) out.push(`${prefix}${e.name}`);
    }
  };
  walk(join(c.shared, "s3", BUCKET), "");
  return out.sort();
}

describeWithTools(["bash", "jq"], "bitte-snapshot on three core nodes (stand-ins)", () => {
  test("all three run at once: only the Consul leader snapshots, once per product, into snapshots/<product>/ with SSE-KMS and the cluster", async () => {
    const c = setup(1);
    const results = await Promise.all([0, 1, 2].map((i) => run(c, i)));
    results.forEach((r) => expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: expect.any(String) }));
    const keys = objects(c);
    expect(keys).toHaveLength(SNAPSHOT_PRODUCTS.length);
    for (const product of SNAPSHOT_PRODUCTS) {
      const key = keys.find((k) => k.startsWith(`snapshots/${product}/`));
      expect(key).toMatch(snapshotKeyPattern("ops", product));
      const body = readFileSync(join(c.shared, "s3", BUCKET, key!), "utf8");
      expect(body).toBe(`${product}-raft-snapshot core-2\n`);
      expect(readFileSync(join(c.shared, "s3", BUCKET, `${key}.metadata`), "utf8")).toContain("bitte-cluster=ops");
    }
    // The leader prints what it stored; the others say why they did nothing.
    expect(results[1].stdout.trim().split("\n")).toEqual(keys.map((k) => `s3://${BUCKET}/${k}`));
    for (const i of [0, 2]) expect(results[i].stderr).toMatch(/not the Consul leader/);
    // Freshness metric: only on the node that took the snapshots, one file per product.
    expect(readdirSync(c.nodes[1].textfile).sort()).toEqual(SNAPSHOT_PRODUCTS.map((p) => `bitte_snapshot_${p}.prom`));
    expect(readFileSync(join(c.nodes[1].textfile, "bitte_snapshot_vault.prom"), "utf8")).toMatch(/^bitte_snapshot_last_success_timestamp_seconds\{product="vault"\} \d+$/m);
    for (const i of [0, 2]) expect(existsSync(c.nodes[i].textfile)).toBe(false);
  });

  test("no token reaches a command line or the output", async () => {
    const c = setup(0);
    const r = await run(c, 0);
    expect(r.status).toBe(0);
    const argv = readFileSync(join(c.shared, "argv.log"), "utf8");
    expect(argv).toMatch(/^nomad operator snapshot save /m);
    expect(argv + r.stdout + r.stderr).not.toMatch(/consul-mgmt|nomad-mgmt|hvs\.snapshot-token/);
  });

  test("Vault down: Consul and Nomad are still stored, the run fails, and Vault's freshness metric is not touched", async () => {
    const c = setup(0);
    const r = await run(c, 0, { STUB_VAULT_DOWN: "1" });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/vault: snapshot failed/);
    expect(r.stderr).toMatch(/FAILED: vault/);
    expect(objects(c).map((k) => k.split("/")[1])).toEqual(["consul", "nomad"]);
    expect(readdirSync(c.nodes[0].textfile).sort()).toEqual(["bitte_snapshot_consul.prom", "bitte_snapshot_nomad.prom"]);
  });

  test("S3 throttling: nothing stored, no metric written (so the SnapshotTooOld alerts fire), exit 1", async () => {
    const c = setup(2);
    const r = await run(c, 2, { STUB_FAIL_S3: "1" });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/upload to s3:\/\/.* failed/);
    expect(objects(c)).toEqual([]);
    expect(existsSync(c.nodes[2].textfile)).toBe(false);
  });

  test("Consul unreachable: no node can tell it leads, so nothing is taken and the run fails", async () => {
    const c = setup(0);
    writeFileSync(join(c.nodes[0].state, "consul-down"), "");
    const r = await run(c, 0);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/cannot ask Consul for its leader/);
    expect(objects(c)).toEqual([]);
  });

  test("an instance without the bucket tag says how to fix it", async () => {
    const c = setup(0);
    rmSync(join(c.shared, "tags", "i-00000000000000c01", SNAPSHOT_BUCKET_TAG));
    const r = await run(c, 0);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`has no ${SNAPSHOT_BUCKET_TAG} tag: deploy the core stack again`));
  });

  test("the stand-in bucket refuses keys outside snapshots/ and unencrypted writes, as IAM and the bucket do", () => {
    const c = setup(0);
    const body = join(c.nodes[0].state, "x");
    writeFileSync(body, "x");
    const put = (key: string, sse: string[]) =>
      spawnSync(join(__dirname, "stubs", "bitte-aws"), ["--region", "eu-central-1", "s3-put", "--bucket", BUCKET, "--key", key, "--file", body, ...sse], { env: { ...process.env, STUB_SHARED: c.shared }, encoding: "utf8" });
    const kms = ["--kms-key-id", "alias/bitte-ops"];
    expect(put("artifacts/x", kms)).toMatchObject({ status: 1, stderr: expect.stringMatching(/AccessDenied.*s3:PutObject/) });
    expect(put("snapshots/consul/x", ["--kms-key-id", "alias/other"])).toMatchObject({ status: 1, stderr: expect.stringMatching(/SSE-KMS/) });
    expect(put("snapshots/consul/x", kms).status).toBe(0);
  });
});
