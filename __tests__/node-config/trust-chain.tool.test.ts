/**
 * Defect 4 (issue 11): a Consul agent with `auto_encrypt` serves HTTPS and gRPC with a certificate
 * from Consul's Connect CA. Consul's built-in provider signs with `connect.ca_config.private_key` /
 * `root_cert` when configured, else with a key and root it generates itself ("If this is blank, a
 * private key is automatically generated", developer.hashicorp.com/consul/docs/secure-mesh/certificate/built-in).
 * The certificate such an agent would serve must verify against the CA file the Nomad client and
 * VictoriaMetrics are configured with.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeWithTools, run } from "../harness/tools";
import { makeNode, runBootstrap } from "./bootstrap-harness";

/** What Consul's built-in CA would sign with: the configured Bitte CA, or a root of its own. */
function connectCa(consulDir: string, work: string): { key: string; cert: string } {
  const config = join(consulDir, "connect-ca.json");
  const key = join(work, "connect-ca-key.pem");
  const cert = join(work, "connect-ca.pem");
  if (existsSync(config)) {
    const ca = JSON.parse(readFileSync(config, "utf8")).connect.ca_config;
    writeFileSync(key, ca.private_key);
    writeFileSync(cert, ca.root_cert);
  } else {
    run("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert, "-subj", "/CN=Consul CA 7", "-days", "3650", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
  }
  return { key, cert };
}

describeWithTools(["bash", "openssl", "jq"], "one trust chain: auto_encrypt certificates verify against the Bitte CA", () => {
  let root: string;
  beforeAll(() => (root = mkdtempSync(join(tmpdir(), "bitte-trust-"))));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  test("a client agent's auto_encrypt certificate (HTTPS, gRPC) verifies against the CA its Nomad client and VictoriaMetrics trust", async () => {
    const state = join(root, "state");
    const core = makeNode(root, "core", "core-1", "10.0.1.10", { BITTE_CORE_PEERS: "" });
    const c = await runBootstrap(core, state);
    expect({ status: c.status, stderr: c.status === 0 ? "" : c.stderr }).toEqual({ status: 0, stderr: "" });
    const client = makeNode(root, "client", "client-a");
    const r = await runBootstrap(client, state);
    expect({ status: r.status, stderr: r.status === 0 ? "" : r.stderr }).toEqual({ status: 0, stderr: "" });

    // The leaf a Consul server signs for the client agent (SPIFFE agent URI, localhost SANs).
    const ca = connectCa(join(core.dir, "consul.d"), root);
    const leafKey = join(root, "leaf-key.pem");
    const csr = join(root, "leaf.csr");
    const leaf = join(root, "leaf.pem");
    run("openssl", ["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", leafKey, "-out", csr, "-subj", "/CN=client-a"]);
    writeFileSync(join(root, "ext.cnf"), "subjectAltName=URI:spiffe://11111111-2222-3333-4444-555555555555.consul/agent/client/dc/eu-central-1/id/client-a,DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n");
    const signed = run("openssl", ["x509", "-req", "-in", csr, "-CA", ca.cert, "-CAkey", ca.key, "-set_serial", "0x1234", "-days", "3", "-extfile", join(root, "ext.cnf"), "-out", leaf]);
    expect(signed.status).toBe(0);
    const verify = run("openssl", ["verify", "-CAfile", join(client.dir, "tls/ca.pem"), leaf]);
    expect(verify.stdout.trim()).toBe(`${leaf}: OK`);

    // The CA key reaches Consul only, on core nodes only.
    expect(statSync(join(core.dir, "consul.d/connect-ca.json")).mode & 0o777).toBe(0o600);
    expect(existsSync(join(client.dir, "consul.d/connect-ca.json"))).toBe(false);
  });
});
