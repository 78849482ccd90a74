/**
 * Crashes between the bootstrap's steps (SIGKILL of the script, injected by the `install` stand-in
 * at a chosen write), then a re-run: the node must converge with nothing lost.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeWithTools, run } from "../harness/tools";
import { makeNode, runBootstrap } from "./bootstrap-harness";

describeWithTools(["bash", "openssl", "jq"], "a crash between bootstrap steps, then a re-run", () => {
  let root: string;
  beforeAll(() => (root = mkdtempSync(join(tmpdir(), "bitte-crash-"))));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const samePublicKey = (cert: string, key: string) => run("bash", ["-c", `cmp <(openssl x509 -in "$1" -noout -pubkey) <(openssl pkey -in "$2" -pubout)`, "_", cert, key]).status === 0;

  // Defect 9 (issue 11): "the server certificate is current" ignored the key files.
  test.each(["tls/server.pem", "consul.d/tls/server-key.pem", "nomad.d/tls/server-key.pem", "vault.d/tls/server-key.pem"])("killed while writing %s: the re-run leaves a certificate and all three keys that match", async (step) => {
    const scenario = join(root, step.replace(/\W/g, "_"));
    const state = join(scenario, "state");
    const node = makeNode(scenario, "core", "core-1", "10.0.1.10");
    const crashed = await runBootstrap(node, state, { STUB_CRASH_AT: `${step}.tmp` });
    expect(crashed.status).not.toBe(0);
    const again = await runBootstrap(node, state);
    expect({ status: again.status, stderr: again.status === 0 ? "" : again.stderr }).toEqual({ status: 0, stderr: "" });
    const cert = join(node.dir, "tls/server.pem");
    for (const key of ["consul.d/tls/server-key.pem", "nomad.d/tls/server-key.pem", "vault.d/tls/server-key.pem"]) {
      expect({ key, matches: samePublicKey(cert, join(node.dir, key)) }).toEqual({ key, matches: true });
    }
  });
});
