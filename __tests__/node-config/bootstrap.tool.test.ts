/**
 * The bootstrap race: three core nodes run the real script at once against a create-only
 * parameter store and CLIs that allow ACL bootstrap and Vault init exactly once. Repeated to
 * shake out ordering bugs. Then the other roles read what they need, a re-run changes nothing,
 * and a node with nothing to read gives up with a clear log line.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeWithTools, run } from "../harness/tools";
import example from "../../clusters/example";
import { consulServiceInputs } from "../../constructs/node-config/consul";
import { consulPolicies, renderConsulRules } from "../../constructs/policy/consul";
import { CONSUL_POLICIES } from "../../constructs/policy/names";
import { resources, synthConsul } from "../consul/helpers";
import { instanceIdOf, makeNode, paramPath, runBootstrap, stubOidcPolicy, type RunResult, type TestNode } from "./bootstrap-harness";

/**
 * Each iteration starts the three nodes with random jitter, so orderings vary. Every process
 * spawn is slow in some sandboxes (one iteration takes 15 s there), hence a modest default; CI or a
 * developer can raise it: BITTE_RACE_ITERATIONS=20.
 */
const ITERATIONS = Number(process.env.BITTE_RACE_ITERATIONS ?? 3);
const read = (path: string) => readFileSync(path, "utf8");
const trim = (s: string) => s.replace(/\s+$/, "");
const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);

const REQUIRED_SANS = ["DNS:server.eu-central-1.consul", "DNS:server.global.nomad", "DNS:vault.service.consul", "DNS:active.vault.service.consul", "DNS:localhost", "IP Address:127.0.0.1"];

function certOf(bundle: string): string {
  return bundle.slice(0, bundle.indexOf("-----END CERTIFICATE-----") + "-----END CERTIFICATE-----".length) + "\n";
}

function lines(path: string): string[] {
  try {
    return read(path).split("\n").filter(Boolean);
  } catch {
    return [];
  }
}

async function raceOnce(root: string, extra: Record<string, string> = {}): Promise<{ state: string; nodes: TestNode[]; results: RunResult[] }> {
  const state = join(root, "state");
  const nodes = [1, 2, 3].map((i) => makeNode(root, "core", `core-${i}`, `10.0.${i}.10`, extra));
  const jitter = () => new Promise((r) => setTimeout(r, Math.floor(Math.random() * 300)));
  const results = await Promise.all(nodes.map(async (n) => (await jitter(), runBootstrap(n, state))));
  return { state, nodes, results };
}

function checkRace(state: string, nodes: readonly TestNode[], results: readonly RunResult[]): void {
  results.forEach((r, i) => expect({ node: nodes[i].name, status: r.status, stderr: r.status === 0 ? "" : r.stderr }).toEqual({ node: nodes[i].name, status: 0, stderr: "" }));

  // One value per parameter, each created once, nothing overwritten.
  const created = lines(join(state, "ssm-created.log"));
  expect(new Set(created).size).toBe(created.length);
  for (const name of ["tls/ca", "tls/ca-cert", "consul/gossip-key", "nomad/gossip-key", "consul/management-token", "nomad/management-token", "vault/init-lock", "vault/recovery-keys", "vault/root-token"]) {
    expect(created).toContain(`/bitte/race/${name}`);
  }

  // Exactly one ACL bootstrap per product, with the token stored before it.
  expect(lines(join(state, "consul/bootstrap.log"))).toHaveLength(1);
  expect(lines(join(state, "nomad/bootstrap.log"))).toHaveLength(1);
  expect(trim(read(paramPath(state, "consul/management-token")))).toBe(read(join(state, "consul/management")));
  expect(trim(read(paramPath(state, "nomad/management-token")))).toBe(read(join(state, "nomad/management")));

  // Exactly one Vault init, by the lock's owner, its output stored, autopilot configured.
  expect(lines(join(state, "vault/init-calls.log"))).toHaveLength(1);
  expect(lines(join(state, "vault/init.log"))).toHaveLength(1);
  expect(trim(read(paramPath(state, "vault/root-token")))).toBe(read(join(state, "vault/root")));
  expect(JSON.parse(read(paramPath(state, "vault/recovery-keys")))).toHaveLength(5);
  expect(read(join(state, "vault/autopilot.log"))).toContain("-cleanup-dead-servers=true -min-quorum=3");

  // One Consul token per purpose survives; redundant ones were deleted again.
  const tokens = readdirSync(join(state, "consul/tokens")).map((a) => read(join(state, "consul/tokens", a)));
  const stored = ["agent-token", "dns-token", "nomad-token", "vault-token", "monitoring-token", "agent-token-monitoring"].map((t) => trim(read(paramPath(state, `consul/${t}`))));
  expect(tokens.sort()).toEqual([...stored].sort());

  // Every node holds the one CA and the one gossip key per product.
  const ca = certOf(read(paramPath(state, "tls/ca")));
  const consulKey = trim(read(paramPath(state, "consul/gossip-key")));
  const nomadKey = trim(read(paramPath(state, "nomad/gossip-key")));
  expect(Buffer.from(consulKey, "base64")).toHaveLength(32);
  for (const n of nodes) {
    expect(read(join(n.dir, "tls/ca.pem"))).toBe(ca);
    expect(JSON.parse(read(join(n.dir, "consul.d/gossip.json")))).toEqual({ encrypt: consulKey });
    expect(JSON.parse(read(join(n.dir, "nomad.d/gossip.json")))).toEqual({ server: { encrypt: nomadKey } });
    const tokensJson = JSON.parse(read(join(n.dir, "consul.d/tokens.json")));
    expect(tokensJson.acl.tokens.agent).toBe(stored[0]);
    expect(tokensJson.acl.tokens.dns).toBe(stored[1]);

    // The node's own certificate verifies against the CA and carries the SANs the products check.
    const cert = join(n.dir, "tls/server.pem");
    const verify = run("openssl", ["verify", "-CAfile", join(n.dir, "tls/ca.pem"), cert]);
    expect(verify.stdout.trim()).toBe(`${cert}: OK`);
    const sans = run("openssl", ["x509", "-in", cert, "-noout", "-ext", "subjectAltName"]).stdout;
    for (const san of [...REQUIRED_SANS, `IP Address:${n.ip}`]) expect(sans).toContain(san);
    const keyMatches = run("bash", ["-c", `cmp <(openssl x509 -in "$1" -noout -pubkey) <(openssl pkey -in "$2" -pubout)`, "_", cert, join(n.dir, "consul.d/tls/server-key.pem")]);
    expect(keyMatches.status).toBe(0);

    // Secrets are readable by their owner only.
    for (const p of ["consul.d/tls/server-key.pem", "nomad.d/tls/server-key.pem", "vault.d/tls/server-key.pem", "secrets/nomad.env", "secrets/vault.env"]) expect(mode(join(n.dir, p))).toBe("600");
    for (const p of ["consul.d/gossip.json", "nomad.d/gossip.json", "consul.d/tokens.json"]) expect(mode(join(n.dir, p))).toBe("640");
    // Vault's init output is removed once stored.
    expect(run("find", [n.dir, "-name", "vault-init.json*"]).stdout).toBe("");
  }

  // Nothing secret in any node's output (the journal).
  const output = results.map((r) => r.stdout + r.stderr).join("\n");
  for (const secret of [consulKey, nomadKey, ...stored, read(join(state, "consul/management")), read(join(state, "vault/root"))]) expect(output).not.toContain(secret);
  expect(output).not.toMatch(/PRIVATE KEY/);
}

describeWithTools(["bash", "openssl", "jq"], "bootstrap protocol (real script, stand-in parameter store and CLIs)", () => {
  let root: string;
  /** The last race, kept for the tests that build on a bootstrapped cluster. */
  let last: { state: string; nodes: TestNode[] };
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "bitte-race-"));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  test(`three core nodes race (${ITERATIONS}×) and agree on one CA, one gossip key per product, one bootstrap each`, async () => {
    for (let i = 0; i < ITERATIONS; i++) {
      const iteration = join(root, `run-${i}`);
      const { state, nodes, results } = await raceOnce(iteration);
      checkRace(state, nodes, results);
      if (i < ITERATIONS - 1) rmSync(iteration, { recursive: true, force: true });
      else last = { state, nodes };
    }
  });

  // Defect 8 (issue 11): throttling that outlasts the client's own retries during the three-node
  // race (ThrottlingException, TooManyUpdates) must not leave a node un-bootstrapped.
  test("throttled SSM during the race: every node still converges, bounded retries", async () => {
    const iteration = join(root, "throttled");
    const { state, nodes, results } = await raceOnce(iteration, { STUB_SSM_FAULT_PERCENT: "15", BITTE_AWS_RETRIES: "40" });
    checkRace(state, nodes, results);
    expect(lines(join(state, "ssm-faults.log")).length).toBeGreaterThan(0);
    expect(results.map((r) => r.stderr).join("\n")).toMatch(/SSM call failed \(attempt \d+\/40\): .*(ThrottlingException|TooManyUpdates)/);
  });

  test("running again changes nothing: no new parameter, no second bootstrap or init", async () => {
    const { state, nodes } = last;
    const before = lines(join(state, "ssm-created.log"));
    const unitsBefore = lines(join(state, "systemctl.log"));
    const again = await runBootstrap(nodes[0], state);
    expect(again.status).toBe(0);
    expect(lines(join(state, "ssm-created.log"))).toEqual(before);
    // The first boot restarted the services; a later one only starts them (a restart would drain a Nomad client).
    expect(unitsBefore.some((l) => l.startsWith("restart "))).toBe(true);
    const rerun = lines(join(state, "systemctl.log")).slice(unitsBefore.length);
    expect(rerun.filter((l) => !l.startsWith("start "))).toEqual([]);
    expect(lines(join(state, "consul/bootstrap.log"))).toHaveLength(1);
    expect(lines(join(state, "nomad/bootstrap.log"))).toHaveLength(1);
    expect(lines(join(state, "vault/init-calls.log"))).toHaveLength(1);
  });

  test("client, monitoring and routing nodes read what their role needs", async () => {
    const { state } = last;
    const client = makeNode(root, "client", "client-a");
    const monitoring = makeNode(root, "monitoring", "monitoring", "10.0.1.20");
    const routing = makeNode(root, "routing", "routing-a");
    const results = await Promise.all([client, monitoring, routing].map((n) => runBootstrap(n, state)));
    results.forEach((r) => expect({ status: r.status, stderr: r.status === 0 ? "" : r.stderr }).toEqual({ status: 0, stderr: "" }));
    const ca = certOf(read(paramPath(state, "tls/ca")));
    for (const n of [client, monitoring, routing]) {
      expect(read(join(n.dir, "tls/ca.pem"))).toBe(ca);
      expect(JSON.parse(read(join(n.dir, "consul.d/gossip.json"))).encrypt).toBe(trim(read(paramPath(state, "consul/gossip-key"))));
    }
    // Issue 12, finding 3: the client's own certificate from Vault's node PKI, whose intermediate
    // the Vault init-lock owner signed with the Bitte CA (pathlen 0, names under global.nomad).
    const clientCert = join(client.dir, "nomad.d/tls/client.pem");
    expect(run("openssl", ["verify", "-CAfile", join(client.dir, "tls/ca.pem"), "-untrusted", clientCert, clientCert]).status).toBe(0);
    const sans = run("openssl", ["x509", "-in", clientCert, "-noout", "-ext", "subjectAltName"]).stdout;
    expect(sans).toContain(`DNS:${instanceIdOf("client-a")}.client.global.nomad`);
    expect(sans).toContain("DNS:client.global.nomad");
    expect(mode(join(client.dir, "nomad.d/tls/client-key.pem"))).toBe("600");
    const intermediate = run("sh", ["-c", `awk 'n>0{print} /END CERTIFICATE/{n++}' ${clientCert} | openssl x509 -noout -text`]).stdout;
    expect(intermediate).toMatch(/CA:TRUE, pathlen:0/);
    expect(intermediate).toMatch(/Permitted:\s+DNS:global\.nomad\s+DNS:localhost/);
    expect(lines(join(state, "vault/pki.log"))).toEqual(["pki-enable", "generate", "set-signed"]);
    expect(existsSync(paramPath(state, "nomad/client-tls"))).toBe(false);
    // Issue 12, finding 3: clients and routing nodes log in for their own Consul tokens, named by
    // their instance; the monitoring node runs with the token the cores made for its name.
    const logins = readdirSync(join(state, "consul/logins")).map((a) => JSON.parse(read(join(state, "consul/logins", a))) as { SecretID: string; VaultRole: string; NodeIdentities: { NodeName: string }[] });
    const loginOf = (secret: string) => logins.find((l) => l.SecretID === trim(secret));
    for (const [n, role] of [[client, "client"], [routing, "routing"]] as const) {
      expect(JSON.parse(read(join(n.dir, "consul.d/node.json")))).toEqual({ node_name: instanceIdOf(n.name) });
      const agent = loginOf(JSON.parse(read(join(n.dir, "consul.d/tokens.json"))).acl.tokens.agent);
      expect({ role: agent?.VaultRole, nodes: agent?.NodeIdentities }).toEqual({ role: `consul-agent-${role}`, nodes: [{ NodeName: instanceIdOf(n.name) }] });
    }
    const nomadToken = read(join(client.dir, "secrets/nomad.env")).replace(/^CONSUL_HTTP_TOKEN=/, "");
    expect({ role: loginOf(nomadToken)?.VaultRole, nodes: loginOf(nomadToken)?.NodeIdentities }).toEqual({ role: "consul-nomad-client", nodes: [] });
    expect(trim(nomadToken)).not.toBe(trim(read(paramPath(state, "consul/nomad-token"))));
    expect(JSON.parse(read(join(monitoring.dir, "consul.d/tokens.json"))).acl.tokens.agent).toBe(trim(read(paramPath(state, "consul/agent-token-monitoring"))));
    const made = readdirSync(join(state, "consul/node-identities"));
    expect(made.map((a) => [trim(read(join(state, "consul/tokens", a))), trim(read(join(state, "consul/node-identities", a)))])).toEqual([[trim(read(paramPath(state, "consul/agent-token-monitoring"))), "monitoring:eu-central-1"]]);
    // A reboot keeps the tokens: no second login.
    const before = logins.length;
    const again = await runBootstrap(routing, state);
    expect({ status: again.status, stderr: again.status === 0 ? "" : again.stderr }).toEqual({ status: 0, stderr: "" });
    expect(readdirSync(join(state, "consul/logins"))).toHaveLength(before);
    expect(read(join(monitoring.dir, "secrets/victoria-metrics.env"))).toBe(`CONSUL_TOKEN=${trim(read(paramPath(state, "consul/monitoring-token")))}\n`);
    expect(read(join(monitoring.dir, "secrets/grafana.env"))).toMatch(/^GF_SECURITY_ADMIN_PASSWORD=\S{16,}\n$/);
    // Non-core roles never hold the CA key: only the core-only bundle parameter has it.
    for (const n of [client, monitoring, routing]) expect(run("grep", ["-rl", "BEGIN EC PRIVATE KEY\\|BEGIN PRIVATE KEY", join(n.dir, "tls")]).stdout).toBe("");
    const output = results.map((r) => r.stdout + r.stderr).join("\n");
    expect(output).not.toContain(trim(read(paramPath(state, "consul/agent-token"))));
    for (const l of logins) expect(output).not.toContain(l.SecretID);
    // The stand-ins refuse what Vault and Consul would: a client's login reading a routing node's
    // identity token (its node policy), and a login with an identity token Vault never signed.
    const stub = (program: string, args: string[], env: Record<string, string>) =>
      run(join(client.bin, program), args, { env: { ...process.env, PATH: client.bin, STUB_STATE: state, STUB_INSTANCE_ID: instanceIdOf("client-a"), STUB_OIDC_POLICY: stubOidcPolicy(), BITTE_ENV_FILE: client.envFile, ...env } });
    const vaultToken = stub("vault", ["login", "-method=aws", "-token-only", "-no-store", "role=client-eu-central-1", "header_value=vault.race.bitte.dev"], {}).stdout.trim();
    const other = stub("vault", ["read", "-field=token", "identity/oidc/token/consul-agent-routing"], { VAULT_TOKEN: vaultToken });
    expect({ status: other.status, denied: /permission denied/.test(other.stderr) }).toEqual({ status: 2, denied: true });
    const own = stub("vault", ["read", "-field=token", "identity/oidc/token/consul-agent-client"], { VAULT_TOKEN: vaultToken });
    expect(own.status).toBe(0);
    const forged = join(client.dir, "forged.jwt");
    writeFileSync(forged, own.stdout.trim().replace(/\.[^.]+$/, ".forged"));
    const login = stub("consul", ["login", "-method=bitte-nodes", `-bearer-token-file=${forged}`, `-token-sink-file=${join(client.dir, "forged.token")}`], {});
    expect({ status: login.status, refused: /failed to verify id token signature/.test(login.stderr) }).toEqual({ status: 1, refused: true });
  });

  // Defect 5 (issue 11): a core node rebuilt with its data volume kept (a new root volume: /etc is
  // fresh, /data/bitte/bootstrapped survives) must not leave Consul running without its tokens.
  test("a core node rebuilt with its data volume kept runs Consul with its agent and DNS tokens", async () => {
    const { state, nodes } = last;
    const n = nodes[1];
    for (const d of ["tls", "consul.d", "nomad.d", "vault.d", "secrets"]) rmSync(join(n.dir, d), { recursive: true, force: true });
    const log = join(state, `consul-starts-${n.name}.log`);
    rmSync(log, { force: true });
    const r = await runBootstrap(n, state);
    expect({ status: r.status, stderr: r.status === 0 ? "" : r.stderr }).toEqual({ status: 0, stderr: "" });
    const starts = lines(log);
    expect(starts.length).toBeGreaterThan(0);
    expect(starts[starts.length - 1]).toMatch(/tokens=yes$/);
  });

  // Defect 10 (issue 11): one definition of each Consul policy, one creator of each name.
  test("the first boot creates each Consul policy exactly as constructs/policy/consul.ts defines it, and the consul stack creates none of them", () => {
    const { state } = last;
    const created = readdirSync(join(state, "consul/policies")).sort();
    const docs = consulPolicies({ namespaces: ["default", ...example.namespaces], routedServices: example.routes.map((r) => r.service), ...consulServiceInputs() });
    for (const name of created) {
      const doc = docs.find((d) => d.name === name);
      expect({ name, defined: doc !== undefined }).toEqual({ name, defined: true });
      if (doc) expect(trim(read(join(state, "consul/policies", name, "rules.hcl")))).toBe(trim(renderConsulRules(doc)));
    }
    const nomad = docs.find((d) => d.name === CONSUL_POLICIES.nomadServer);
    expect(nomad?.global).toMatchObject({ acl: "write", mesh: "write" });
    expect(created).toContain(CONSUL_POLICIES.nomadServer);
    const stackPolicies = Object.values(resources(synthConsul().parsed, "consul_acl_policy")).map((p) => p.name);
    expect(created.filter((name) => stackPolicies.includes(name))).toEqual([]);
  });

  // Defect 6 (issue 11): the init-lock owner replaced with a new data volume must not take its own
  // "not initialised" (before its raft join completes) for the cluster's and found a second Vault.
  test("the init-lock owner rebuilt with a fresh data volume joins the cluster instead of initialising a second one", async () => {
    const { state, nodes } = last;
    const owner = nodes.find((n) => trim(read(paramPath(state, "vault/init-lock"))) === n.name) as TestNode;
    rmSync(join(owner.dir, "state"), { recursive: true, force: true });
    // The new volume holds no raft data: the node is no member until its join completes.
    rmSync(join(state, `vault/founded-${owner.ip}`), { force: true });
    writeFileSync(join(state, `vault/fresh-${owner.ip}`), "5");
    const r = await runBootstrap(owner, state);
    expect({ status: r.status, stderr: r.status === 0 ? "" : r.stderr }).toEqual({ status: 0, stderr: "" });
    expect(lines(join(state, "vault/init.log"))).toHaveLength(1);
  });

  test("a node with nothing to read waits, bounded, and says what it waits for", async () => {
    const client = makeNode(root, "client", "client-b", undefined, { BITTE_RETRIES: "3", BITTE_RETRY_DELAY: "0" });
    const r = await runBootstrap(client, join(root, "empty"));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("waiting for /bitte/race/tls/ca-cert (attempt 3/3)");
    expect(r.stderr).toContain("gave up waiting for /bitte/race/tls/ca-cert");
  });
});
