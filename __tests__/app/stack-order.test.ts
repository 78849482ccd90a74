/**
 * The deploy order is what the synthesized `manifest.json` says, the file `cdktf deploy` reads to
 * order the stacks it runs (cdktf-cli 0.21 runs stacks whose dependencies are done, in parallel).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "cdktf";
import example from "../../clusters/example";
import { defineCluster, type Cluster } from "../../clusters/spec";
import { addStacks } from "../../stacks";
import { s3Spec } from "../fixtures/s3-cluster";

interface Manifest {
  readonly stacks: Record<string, { readonly name: string; readonly dependencies: string[] }>;
}

function manifestOf(cluster: Cluster): Manifest {
  const dir = mkdtempSync(join(tmpdir(), "bitte-manifest-"));
  try {
    const app = new App({ outdir: dir, stackTraces: false });
    addStacks(app, cluster, { jobs: [] });
    app.synth();
    return JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as Manifest;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const graph = (m: Manifest) => Object.fromEntries(Object.values(m.stacks).map((s) => [s.name, [...s.dependencies].sort()]));

// Clients after consul: a client's first boot issues its own Nomad certificate through the Vault
// AWS auth roles and the node PKI role the consul stack configures (issue 12, finding 3).
test("local backend: network → core → consul → clients → jobs, from the manifest", () => {
  expect(graph(manifestOf(example))).toEqual({
    network: [],
    core: ["network"],
    consul: ["core"],
    clients: ["consul", "core", "network"],
    jobs: ["clients", "consul"],
  });
});

test("S3 backend: the state stack comes before network (its bucket holds every other state)", () => {
  expect(graph(manifestOf(defineCluster(s3Spec)))).toEqual({
    state: [],
    network: ["state"],
    core: ["network"],
    consul: ["core"],
    clients: ["consul", "core", "network"],
    jobs: ["clients", "consul"],
  });
});
