/**
 * The machine tier: every role's user data, exactly as synthesized, booted under real systemd and
 * cloud-init in systemd-nspawn containers on a test-only network, against the stand-in vendor
 * packages and AWS endpoints (see README, "How the machine tier works"). The scenarios share one
 * world and run in order: each builds on the cluster the previous one left.
 *
 * The nodes boot under throttled SSM, as a fleet booting at once sees it (defect 8): the race and
 * the other roles' boots converge through it, and "throttled SSM during the race" checks what it
 * threw at them. A race without injected SSM faults is the other two files' (their holds aside).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { bootstrapParameters } from "../../constructs/hashistack-bootstrap/parameters";
import { snapshotKeyPattern, SNAPSHOT_PRODUCTS, type SnapshotProduct } from "../../constructs/node-config/snapshots";
import { clusterKeyId } from "../../stacks/base";
import { describeIf } from "../harness/tools";
import { protocolViolations, readEvents } from "./harness/checks";
import { machineTierUnavailable } from "./harness/env";
import { until } from "./harness/exec";
import type { Machine } from "./harness/machine";
import { expectCoreConverged } from "./harness/races";
import { CORE_UNITS, CORES, journal, logFailure, settled } from "./harness/scenario";
import { createWorld, type World } from "./harness/world";

const log = (m: string) => process.stderr.write(`[machines] ${m}\n`);
/** How long a settled unit must go without a restart to count as running, not crash-looping. */
const CRASH_LOOP_WINDOW_MS = 15_000;
/** SSM throttling during the boots (stand-in faults.json): every 3rd write and 4th read throttled, the first two writes TooManyUpdates. */
const THROTTLED_SSM = { ssm: { everyNth: { PutParameter: 3, GetParameter: 4 }, tooManyUpdates: { PutParameter: 2 } } } as const;

/**
 * Unit states once none is still starting or restarting (bounded). One sample is not enough: a
 * crash-looping unit (Restart=on-failure, RestartSec=2 as Loki's) reads `active` for a moment
 * after each restart. So a unit whose systemd restart counter grows over CRASH_LOOP_WINDOW_MS is
 * reported as crash-looping, whatever it reads at the end.
 */
async function settledUnits(m: Machine, units: readonly string[]): Promise<Record<string, string>> {
  let last: Record<string, string> = {};
  try {
    await until(`${m.props.name}: units to settle`, async () => {
      last = await m.unitStates(units);
      return Object.values(last).some((st) => st === "activating" || st === "reloading" || st === "deactivating") ? undefined : last;
    }, 120, 1_000);
  } catch {
    return last;
  }
  const before = await m.unitRestarts(units);
  await new Promise((r) => setTimeout(r, CRASH_LOOP_WINDOW_MS));
  const [after, states] = [await m.unitRestarts(units), await m.unitStates(units)];
  return Object.fromEntries(units.map((u) => [u, after[u] > before[u] ? `crash-looping (${after[u] - before[u]} restarts in ${CRASH_LOOP_WINDOW_MS / 1000} s)` : states[u]]));
}

/** Boots machines at once and waits for cloud-init and the bootstrap on each; returns failures with their logs. */
async function bootAll(world: World, names: readonly string[], opts: { keepRoot?: boolean } = {}): Promise<string[]> {
  await Promise.all(names.map((n) => world.machine(n).boot(opts)));
  return settled(world, names, 600);
}

/** `openssl s_client` from one machine to host:port, verifying the chain against the machine's CA file. */
async function verifiedTls(from: Machine, hostPort: string, serverName: string, caFile = "/etc/bitte/tls/ca.pem"): Promise<string> {
  const r = await from.exec(["openssl", "s_client", "-connect", hostPort, "-servername", serverName, "-CAfile", caFile, "-verify_return_error", "-brief"], { check: false, input: "", timeoutMs: 30_000 });
  return r.status === 0 ? "verified" : `${hostPort}: ${(r.stderr + r.stdout).trim().split("\n").slice(-3).join(" | ")}`;
}

describeIf(machineTierUnavailable(), "machine tier", () => {
  let world: World;

  beforeAll(async () => {
    world = await createWorld(log);
    world.faults(THROTTLED_SSM);
  }, 30 * 60_000);

  afterAll(async () => {
    await world?.teardown();
  }, 5 * 60_000);

  afterEach(() => logFailure(world, log));

  test("three core nodes boot at once (SSM throttled) and converge: one CA, one gossip key each, one ACL bootstrap each, Vault initialised once, units active, TLS verified", async () => {
    const problems = await bootAll(world, CORES, { keepRoot: false });
    expect(problems).toEqual([]);
    const cores = CORES.map((n) => world.machine(n));
    for (const m of cores) expect(await m.unitStates(CORE_UNITS)).toEqual({ consul: "active", vault: "active", nomad: "active" });
    // One CA: every core holds the same certificate.
    const cas = await Promise.all(cores.map(async (m) => (await m.exec(["sha256sum", "/etc/bitte/tls/ca.pem"])).stdout.split(" ")[0]));
    expect(new Set(cas).size).toBe(1);
    expect(protocolViolations(readEvents(join(world.stateDir, "events.jsonl")), world.plan.cluster.ssmPrefix)).toEqual([]);
    // TLS between the stand-ins, verified against the Bitte CA, as the products' peers verify it.
    const [c1, c2, c3] = world.plan.machines.filter((m) => m.role === "core");
    const checks = await Promise.all([
      verifiedTls(cores[0], `${c2.ip}:8501`, "server.eu-central-1.consul"),
      verifiedTls(cores[1], `${c3.ip}:8200`, "vault.service.consul"),
      verifiedTls(cores[2], `${c1.ip}:4646`, "server.global.nomad"),
    ]);
    expect(checks).toEqual(["verified", "verified", "verified"]);
  }, 30 * 60_000);

  test("throttled SSM during the race (ThrottlingException, TooManyUpdates): every core node still converges", async () => {
    await ensureBooted(CORES);
    const throttled = readEvents(join(world.stateDir, "events.jsonl")).filter((e) => e.source === "ssm" && (e.outcome === "ThrottlingException" || e.outcome === "TooManyUpdates"));
    // Both kinds reached the race: without them this proves nothing (the first race ran with them on).
    expect([...new Set(throttled.map((e) => e.outcome))].sort()).toEqual(["ThrottlingException", "TooManyUpdates"]);
    await expectCoreConverged(world);
  }, 30 * 60_000);

  /**
   * The scenarios build on each other; run alone (`jest -t`), one boots what the earlier ones
   * would have left running, the core first.
   */
  async function ensureBooted(names: readonly string[]): Promise<void> {
    for (const group of [names.filter((n) => n.startsWith("core-")), names.filter((n) => !n.startsWith("core-"))]) {
      const down = group.filter((n) => !world.machine(n).running);
      if (down.length > 0) expect(await bootAll(world, down, { keepRoot: false })).toEqual([]);
    }
  }

  /** The units each role's user data enables (user-data.ts ENABLED_UNITS), as systemd must report them. */
  const ROLE_UNITS: Record<string, readonly string[]> = {
    monitoring: ["consul", "victoria-metrics", "loki", "grafana-server", "vmalert", "prometheus-alertmanager", "promtail", "prometheus-node-exporter"],
    "routing-1": ["consul", "haproxy", "promtail", "prometheus-node-exporter"],
    "workers-1": ["bitte-imds-guard", "consul", "docker", "nomad", "promtail", "prometheus-node-exporter"],
  };
  const OTHERS = Object.keys(ROLE_UNITS);

  test("then monitoring, routing and one client of each group boot and reach active units, with verified TLS to their local agent", async () => {
    await ensureBooted(CORES);
    expect(await bootAll(world, OTHERS, { keepRoot: false })).toEqual([]);
    // Each machine's crash-loop window runs at the same time as the others'.
    const settledStates = await Promise.all(OTHERS.map((n) => settledUnits(world.machine(n), ROLE_UNITS[n])));
    for (const [i, n] of OTHERS.entries()) {
      const m = world.machine(n);
      const states = settledStates[i];
      const journals = await Promise.all(Object.entries(states).filter(([, st]) => st !== "active").map(async ([u]) => `${u}: ${(await journal(m, u)).slice(-1500)}`));
      expect({ [n]: states, journals }).toEqual({ [n]: Object.fromEntries(ROLE_UNITS[n].map((u) => [u, "active"])), journals: [] });
      // The local Consul agent's HTTPS (auto_encrypt certificate, signed by the Bitte CA since
      // defect 4) verifies against the CA file every local client of it is configured with.
      expect({ [n]: await verifiedTls(m, "127.0.0.1:8501", "localhost") }).toEqual({ [n]: "verified" });
    }
    // The Nomad client's own HTTPS, as the local CLI and the drain reach it.
    expect(await verifiedTls(world.machine("workers-1"), "127.0.0.1:4646", "client.global.nomad")).toBe("verified");
    expect(protocolViolations(readEvents(join(world.stateDir, "events.jsonl")), world.plan.cluster.ssmPrefix)).toEqual([]);
    // The checks that follow read SSM themselves: they see no injected faults.
    world.faults({});
  }, 30 * 60_000);

  // Read on the machines the scenarios above booted: no boot of its own (it cost the tier one).
  test("each machine got exactly its synthesized user data in the NoCloud seed, and runs systemd as PID 1", async () => {
    const names = [...CORES, ...OTHERS];
    await ensureBooted(names);
    for (const name of names) {
      const m = world.machine(name);
      const plan = world.plan.machines.find((p) => p.name === name);
      expect([name, (await m.exec(["cat", "/var/lib/cloud/seed/nocloud/user-data"])).stdout === plan?.userData]).toEqual([name, true]);
      expect([name, (await m.exec(["cat", "/proc/1/comm"])).stdout.trim()]).toEqual([name, "systemd"]);
    }
  }, 30 * 60_000);

  test("the client has its own Nomad certificate from Vault (issue 12, finding 3): its instance's name, its own key, chained to the Bitte CA, its serial known to Vault; another instance's name is refused", async () => {
    await ensureBooted([...CORES, "workers-1"]);
    const client = world.machine("workers-1");
    const own = `${client.props.instanceId}.client.global.nomad`;
    const cert = "/etc/nomad.d/tls/client.pem";
    const sans = (await client.exec(["openssl", "x509", "-in", cert, "-noout", "-ext", "subjectAltName"])).stdout;
    expect(sans).toContain(`DNS:${own}`);
    expect(sans).toContain("DNS:client.global.nomad");
    expect((await client.exec(["openssl", "verify", "-CAfile", "/etc/bitte/tls/ca.pem", "-untrusted", cert, cert], { check: false })).status).toBe(0);
    // Its key is the certificate's, and it was made for this one request (no parameter holds a Nomad client key any more).
    const pub = (await client.exec(["openssl", "x509", "-in", cert, "-noout", "-pubkey"])).stdout;
    expect((await client.exec(["openssl", "pkey", "-in", "/etc/nomad.d/tls/client-key.pem", "-pubout"])).stdout).toBe(pub);
    expect(bootstrapParameters().map((p) => p.name)).not.toContain("nomad/client-tls");
    const serial = (await client.exec(["openssl", "x509", "-in", cert, "-noout", "-serial"])).stdout.trim().split("=")[1].toLowerCase().replace(/^0+/, "");
    const events = readEvents(join(world.stateDir, "events.jsonl"));
    const issued = events.filter((e) => e.source === "vault" && e.event === "pki-issue" && e.outcome === "ok");
    expect(issued.map((e) => ({ cn: e.cn, serial: e.serial, stored: e.stored }))).toContainEqual({ cn: own, serial, stored: true });
    const state = JSON.parse(readFileSync(join(world.stateDir, "cluster.json"), "utf8")) as { vault: { clusters: { mounts?: Record<string, { certs: Record<string, { cn: string }> }> }[] } };
    expect(state.vault.clusters.flatMap((c) => Object.entries(c.mounts?.pki_nodes?.certs ?? {})).find(([s]) => s === serial)?.[1].cn).toBe(own);
    // Vault verified the instance with its own role (ec2:DescribeInstances of the core role's policy).
    expect(events.some((e) => e.source === "ec2" && e.event === "DescribeInstances" && e.outcome === "ok" && e.instanceId === client.props.instanceId)).toBe(true);
    // Nomad serves it: TLS to the client's HTTPS verifies with its own name.
    expect(await verifiedTls(client, "127.0.0.1:4646", own)).toBe("verified");
    // The same login may not take another instance's name.
    const other = await client.exec(["bash", "-c", [
      ". /etc/bitte/nomad-cert.env",
      "export VAULT_CACERT=/etc/bitte/tls/ca.pem VAULT_ADDR=https://${BITTE_VAULT_ADDRS%% *}:8200",
      'VAULT_TOKEN=$(vault login -method=aws -token-only -no-store "role=$BITTE_VAULT_AUTH_ROLE" "header_value=$BITTE_VAULT_SERVER_ID") vault write -format=json "$BITTE_PKI_ISSUE_PATH" common_name=i-0ffffffffffffffff.client.global.nomad',
    ].join("\n")], { check: false, timeoutMs: 120_000 });
    expect({ status: other.status, refused: /common name i-0ffffffffffffffff\.client\.global\.nomad not allowed by this role/.test(other.stderr) }).toEqual({ status: 2, refused: true });
  }, 30 * 60_000);

  test("every agent runs with a Consul token of its own (issue 12, finding 3): clients and routing by login, named by their instance; the monitoring node's for its name; each writes its own node only", async () => {
    await ensureBooted([...CORES, ...OTHERS]);
    type Self = { AccessorID: string; AuthMethod?: string; NodeIdentities?: { NodeName: string; Datacenter: string }[]; Roles?: { Name: string }[]; Policies?: { Name: string }[] };
    /** `consul acl token read -self` on the node with the token a file holds (jq path into it). */
    const self = async (m: Machine, file: string, jqPath: string): Promise<Self> => {
      const r = await m.exec(["bash", "-c", [
        "set -euo pipefail; umask 077; t=$(mktemp)",
        `jq -r '${jqPath}' ${file} >"$t" 2>/dev/null || sed -n 's/^CONSUL_HTTP_TOKEN=//p' ${file} >"$t"`,
        "CONSUL_HTTP_ADDR=https://127.0.0.1:8501 CONSUL_CACERT=/etc/bitte/tls/ca.pem CONSUL_HTTP_TOKEN_FILE=$t consul acl token read -self -format=json; rm -f \"$t\"",
      ].join("\n")], { timeoutMs: 60_000 });
      return JSON.parse(r.stdout) as Self;
    };
    const dc = world.plan.cluster.coreRegion;
    const events = () => readEvents(join(world.stateDir, "events.jsonl"));
    const accessors: string[] = [];
    for (const n of OTHERS) {
      const m = world.machine(n);
      const name = n === "monitoring" ? "monitoring" : m.props.instanceId;
      const agent = await self(m, "/etc/consul.d/tokens.json", ".acl.tokens.agent");
      accessors.push(agent.AccessorID);
      // Its node identity names this node alone; a login token comes from the bitte-nodes method.
      expect({ n, nodes: agent.NodeIdentities, method: agent.AuthMethod ?? "" }).toEqual({ n, nodes: [{ NodeName: name, Datacenter: dc }], method: n === "monitoring" ? "" : "bitte-nodes" });
      // The servers accepted its node and its services with that token (the stand-in checks node:write / service:write).
      await until(`${n}'s node registered with its own token`, () => (events().some((e) => e.source === "consul" && e.event === "node-register" && e.node === name && e.outcome === "ok" && e.accessor === agent.AccessorID) ? true : undefined), 120, 1000);
      const denied = events().filter((e) => e.source === "consul" && (e.event === "node-register" || e.event === "service-register") && e.node === name && e.outcome !== "ok" && e.accessor === agent.AccessorID);
      expect({ n, denied }).toEqual({ n, denied: [] });
    }
    // The Nomad client's token is its own login too, with the Nomad clients' role and no node write.
    const nomad = await self(world.machine("workers-1"), "/etc/bitte/secrets/nomad.env", ".");
    expect({ method: nomad.AuthMethod, roles: (nomad.Roles ?? []).map((r) => r.Name), nodes: nomad.NodeIdentities ?? [] }).toEqual({ method: "bitte-nodes", roles: ["bitte-nomad-client"], nodes: [] });
    accessors.push(nomad.AccessorID);
    expect(new Set(accessors).size).toBe(accessors.length);
    // A client's Vault login may read its own rows' identity tokens and not a routing node's (its node policy).
    const other = await world.machine("workers-1").exec(["bash", "-c", [
      ". /etc/bitte/consul-token.env",
      "export VAULT_CACERT=/etc/bitte/tls/ca.pem VAULT_ADDR=https://${BITTE_VAULT_ADDRS%% *}:8200",
      'VAULT_TOKEN=$(vault login -method=aws -token-only -no-store "role=$BITTE_VAULT_AUTH_ROLE" "header_value=$BITTE_VAULT_SERVER_ID") vault read -field=token identity/oidc/token/consul-agent-routing',
    ].join("\n")], { check: false, timeoutMs: 120_000 });
    expect({ status: other.status, denied: /permission denied/.test(other.stderr) }).toEqual({ status: 2, denied: true });
  }, 30 * 60_000);

  test("a client reads exactly the bootstrap parameters the table gives it: every other one is AccessDenied by its IAM policy", async () => {
    await ensureBooted([...CORES, "workers-1"]);
    const client = world.machine("workers-1");
    const prefix = world.plan.cluster.ssmPrefix;
    const outcomes: Record<string, string> = {};
    const expected: Record<string, string> = {};
    for (const p of bootstrapParameters()) {
      const r = await client.exec(["bitte-aws", "--region", world.plan.cluster.coreRegion, "ssm-get", `${prefix}/${p.name}`, "/run/bitte-read-probe"], { check: false, timeoutMs: 60_000 });
      // 0 read, 3 ParameterNotFound (only what an operator writes is absent here), 1 the error.
      outcomes[p.name] = r.status === 0 ? "read" : r.status === 3 ? "absent" : /AccessDenied/.test(r.stderr) ? "AccessDenied" : `exit ${r.status}: ${r.stderr.trim()}`;
      expected[p.name] = p.readers.includes("client") ? (p.writer === "operator" ? "absent" : "read") : "AccessDenied";
    }
    await client.exec(["rm", "-f", "/run/bitte-read-probe"]);
    expect(outcomes).toEqual(expected);
  }, 10 * 60_000);

  test("a snapshot is taken once for the cluster, by the Consul leader, and lands in the bucket under snapshots/ with the cluster key", async () => {
    await ensureBooted(CORES);
    type Stored = Record<string, { data: string; writer: string; sse: string; kmsKeyId: string; metadata: Record<string, string> }>;
    const snapshots = (): Stored => {
      const file = join(world.stateDir, "s3.json");
      const all = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as Record<string, Stored>) : {};
      return Object.fromEntries(Object.entries(all[`bitte-${world.plan.cluster.name}`] ?? {}).filter(([k]) => k.startsWith("snapshots/")));
    };
    // The timer (OnBootSec) may have taken a set already: this run's are the new keys.
    const before = new Set(Object.keys(snapshots()));
    // What the timer runs, on all three at once.
    const runs = await Promise.all(CORES.map(async (n) => {
      const m = world.machine(n);
      const r = await m.exec(["systemctl", "start", "bitte-snapshot.service"], { check: false, timeoutMs: 5 * 60_000 });
      return { n, status: r.status, log: r.status === 0 ? "" : (await journal(m, "bitte-snapshot")).slice(-3000) };
    }));
    expect(runs.filter((r) => r.status !== 0)).toEqual([]);
    const stored = Object.entries(snapshots()).filter(([k]) => !before.has(k));
    const leader = readEvents(join(world.stateDir, "events.jsonl")).find((e) => e.source === "consul" && e.event === "leader")?.leader;
    expect(stored.map(([k, o]) => ({ product: k.split("/")[1], key: snapshotKeyPattern(world.plan.cluster.name, k.split("/")[1] as SnapshotProduct).test(k), writer: o.writer, sse: o.sse, kmsKeyId: o.kmsKeyId, cluster: o.metadata["bitte-cluster"] })).sort((a, b) => a.product.localeCompare(b.product)))
      .toEqual(SNAPSHOT_PRODUCTS.map((product) => ({ product, key: true, writer: leader, sse: "aws:kms", kmsKeyId: clusterKeyId(world.plan.cluster), cluster: world.plan.cluster.name })).sort((a, b) => a.product.localeCompare(b.product)));
    // Each is a snapshot archive the product's restore would take: gzip, and a tar holding meta.json.
    for (const [k, o] of stored) expect({ [k]: gunzipSync(Buffer.from(o.data, "base64")).subarray(0, 100).toString("latin1").replace(/\0.*$/s, "") }).toEqual({ [k]: expect.stringMatching(/^(meta\.json|state\.bin|SHA256SUMS)$/) });
    expect(protocolViolations(readEvents(join(world.stateDir, "events.jsonl")), world.plan.cluster.ssmPrefix)).toEqual([]);
  }, 20 * 60_000);
});
