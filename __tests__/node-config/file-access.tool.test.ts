/**
 * Defect 2 (issue 11): what the bootstrap writes must be readable by the user of the unit that
 * reads it, through every path component, and by no other service user. The script runs as root
 * with real system users created for the test; each file a rendered configuration names is read
 * as that user (setpriv), the way the service would open it.
 */
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PATHS } from "../../constructs/node-config";
import { describeIf, missingTools, run } from "../harness/tools";
import { makeNode, runBootstrap, type TestNode } from "./bootstrap-harness";
import { cluster, jsonOf, type Json } from "./render-helpers";

const SUFFIX = `t${process.pid % 100000}`;
const USERS = { consul: `bitte-consul-${SUFFIX}`, nomad: `bitte-nomad-${SUFFIX}`, vault: `bitte-vault-${SUFFIX}`, victoriametrics: `bitte-vm-${SUFFIX}` };

function unavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "needs root to create system users and read as them";
  return missingTools(["bash", "openssl", "jq", "setpriv", "useradd", "userdel"]);
}

/** A rendered path on the node, as laid out under the test node's directory. */
function onNode(n: TestNode, path: string): string {
  const map: [string, string][] = [[PATHS.tlsDir, "tls"], [PATHS.consulDir, "consul.d"], [PATHS.nomadDir, "nomad.d"], [PATHS.vaultDir, "vault.d"], [PATHS.secretsDir, "secrets"]];
  for (const [prod, local] of map) if (path.startsWith(prod + "/")) return join(n.dir, local, path.slice(prod.length + 1));
  throw new Error(`no test layout for ${path}`);
}

const readsAs = (user: string, path: string) => run("setpriv", ["--reuid", user, "--regid", user, "--clear-groups", "--", "cat", path]).status === 0;

/** Files each service opens, from the rendered configurations of a core node. */
function coreReads(): Record<keyof typeof USERS, string[]> {
  const props = { cluster, role: "core" as const, nodeName: "core-1" };
  const consul: Json = jsonOf(props, `${PATHS.consulDir}/consul.json`);
  const nomad: Json = jsonOf(props, `${PATHS.nomadDir}/nomad.json`);
  const vault: Json = jsonOf(props, `${PATHS.vaultDir}/vault.json`);
  return {
    consul: [consul.tls.defaults.ca_file, consul.tls.defaults.cert_file, consul.tls.defaults.key_file, `${PATHS.consulDir}/gossip.json`, `${PATHS.consulDir}/tokens.json`],
    nomad: [nomad.tls.ca_file, nomad.tls.cert_file, nomad.tls.key_file, nomad.consul.ca_file, `${PATHS.nomadDir}/gossip.json`],
    vault: [vault.listener[0].tcp.tls_cert_file, vault.listener[0].tcp.tls_key_file, vault.storage.raft.retry_join[0].leader_ca_cert_file, vault.service_registration.consul.tls_ca_file],
    victoriametrics: [],
  };
}

describeIf(unavailable(), "bootstrap output is readable by the services' own users (real users, as root)", () => {
  let root: string;
  beforeAll(() => {
    for (const u of Object.values(USERS)) run("useradd", ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "--user-group", u]);
    root = mkdtempSync(join(tmpdir(), "bitte-access-"));
    // The node's filesystem root: as world-traversable as / and /etc are.
    chmodSync(root, 0o755);
  });
  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
    for (const u of Object.values(USERS)) run("userdel", [u]);
  });

  test("core nodes: each product reads its CA, certificate, key and secrets; none reads another's key or the root-only env files", async () => {
    const state = join(root, "state");
    const users = { BITTE_CONSUL_USER: USERS.consul, BITTE_NOMAD_USER: USERS.nomad, BITTE_VAULT_USER: USERS.vault };
    const nodes = [1, 2, 3].map((i) => makeNode(root, "core", `core-${i}`, `10.0.${i}.10`, users));
    for (const n of nodes) chmodSync(n.dir, 0o755);
    const results = await Promise.all(nodes.map((n) => runBootstrap(n, state)));
    results.forEach((r) => expect({ status: r.status, stderr: r.status === 0 ? "" : r.stderr }).toEqual({ status: 0, stderr: "" }));
    const reads = coreReads();
    for (const n of nodes) {
      const unreadable: string[] = [];
      for (const product of ["consul", "nomad", "vault"] as const) {
        for (const path of reads[product]) if (!readsAs(USERS[product], onNode(n, path))) unreadable.push(`${product} cannot read ${path}`);
      }
      expect(unreadable).toEqual([]);
      const leaks: string[] = [];
      for (const [product, key] of [["consul", reads.vault[1]], ["vault", reads.consul[2]], ["nomad", reads.consul[2]], ["consul", reads.nomad[2]]] as const) {
        if (readsAs(USERS[product], onNode(n, key))) leaks.push(`${product} reads ${key}`);
      }
      for (const env of ["vault.env", "nomad.env"]) for (const u of Object.values(USERS)) if (readsAs(u, onNode(n, `${PATHS.secretsDir}/${env}`))) leaks.push(`${u} reads ${env}`);
      expect(leaks).toEqual([]);
    }

    // Other roles: Consul reads its CA and secrets everywhere; VictoriaMetrics reads the CA it verifies scrapes with.
    const member = { BITTE_CONSUL_USER: USERS.consul, BITTE_NOMAD_USER: "root" };
    const others = [makeNode(root, "client", "client-a", undefined, member), makeNode(root, "monitoring", "monitoring", "10.0.1.20", member), makeNode(root, "routing", "routing-a", undefined, member)];
    for (const n of others) chmodSync(n.dir, 0o755);
    const r2 = await Promise.all(others.map((n) => runBootstrap(n, state)));
    r2.forEach((r) => expect({ status: r.status, stderr: r.status === 0 ? "" : r.stderr }).toEqual({ status: 0, stderr: "" }));
    for (const n of others) {
      const unreadable = [PATHS.caFile, `${PATHS.consulDir}/gossip.json`, `${PATHS.consulDir}/tokens.json`].filter((p) => !readsAs(USERS.consul, onNode(n, p)));
      if (n.role === "monitoring" && !readsAs(USERS.victoriametrics, onNode(n, PATHS.caFile))) unreadable.push(`victoriametrics cannot read ${PATHS.caFile}`);
      expect({ node: n.name, unreadable }).toEqual({ node: n.name, unreadable: [] });
    }
  });
});
