/**
 * Two clusters synthesized into one checkout, each into the output directory the app accepts
 * for it, share no state file, no S3 state object and no output directory.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { App } from "cdktf";
import example from "../../clusters/example";
import { defineCluster, type Cluster } from "../../clusters/spec";
import { addStacks } from "../../stacks";
import { checkOutdir, synthDir } from "../../stacks/layout";
import { s3Spec } from "../fixtures/s3-cluster";

interface Json {
  readonly terraform?: { readonly backend?: { readonly local?: { path: string }; readonly s3?: { bucket: string; key: string } } };
  readonly data?: { readonly terraform_remote_state?: Record<string, { backend: string; config: { path?: string; bucket?: string; key?: string } }> };
}

/** Synthesizes `cluster` into `<checkout>/<its synth dir>`; returns the state it writes and reads, by stack. */
function synthInto(checkout: string, cluster: Cluster): { outdir: string; writes: Map<string, string>; reads: string[] } {
  const outdir = join(checkout, synthDir(cluster.name));
  checkOutdir(cluster.name, outdir, checkout);
  const app = new App({ outdir, stackTraces: false });
  addStacks(app, cluster, { jobs: [] });
  app.synth();
  const writes = new Map<string, string>();
  const reads: string[] = [];
  for (const id of readdirSync(join(outdir, "stacks"))) {
    const cwd = join(outdir, "stacks", id);
    const json = JSON.parse(readFileSync(join(cwd, "cdk.tf.json"), "utf8")) as Json;
    const b = json.terraform?.backend;
    // Local paths as Terraform resolves them: from the stack's directory, where it runs.
    writes.set(id, b?.local ? resolve(cwd, b.local.path) : `s3://${b?.s3?.bucket}/${b?.s3?.key}`);
    for (const rs of Object.values(json.data?.terraform_remote_state ?? {})) reads.push(rs.backend === "local" ? resolve(cwd, rs.config.path ?? "") : `s3://${rs.config.bucket}/${rs.config.key}`);
  }
  return { outdir, writes, reads };
}

const staging = defineCluster({ ...s3Spec, name: "staging", domain: "staging.example.com", backend: { type: "local" } });
const prod = defineCluster(s3Spec);
const prod2 = defineCluster({ ...s3Spec, name: "prod2", domain: "prod2.example.com" });

test.each([
  ["two local clusters", example, staging],
  ["two S3 clusters in one bucket", prod, prod2],
  ["a local and an S3 cluster", example, prod],
])("%s: no shared state path or output directory", (_what, a, b) => {
  const checkout = mkdtempSync(join(tmpdir(), "bitte-checkout-"));
  try {
    const first = synthInto(checkout, a);
    const second = synthInto(checkout, b);
    expect(first.outdir).not.toBe(second.outdir);
    const firstWrites = [...first.writes.values()];
    const secondWrites = [...second.writes.values()];
    expect(new Set(firstWrites).size).toBe(firstWrites.length);
    expect(secondWrites.filter((p) => firstWrites.includes(p))).toEqual([]);
    // Remote state reads stay inside the cluster's own states, and local state stays in the checkout.
    for (const r of first.reads) expect(firstWrites).toContain(r);
    for (const r of second.reads) expect(secondWrites).toContain(r);
    for (const p of [...firstWrites, ...secondWrites].filter((w) => !w.startsWith("s3://"))) expect(p.startsWith(checkout + "/")).toBe(true);
  } finally {
    rmSync(checkout, { recursive: true, force: true });
  }
});

test("the default cluster keeps cdktf.out; any other cluster is refused there with the fix", () => {
  expect(synthDir("example")).toBe("cdktf.out");
  expect(synthDir("staging")).toBe("cdktf.out-staging");
  const project = "/project";
  expect(() => checkOutdir("example", "/project/cdktf.out", project)).not.toThrow();
  expect(() => checkOutdir("staging", "/project/cdktf.out-staging", project)).not.toThrow();
  expect(() => checkOutdir("staging", "/project/cdktf.out", project)).toThrow(
    "Cluster staging synthesizes into cdktf.out-staging/, not cdktf.out/ (one output directory per cluster, so two clusters never share Terraform's working directory). Pass it to cdktf: `BITTE_CLUSTER=staging npx cdktf <synth|deploy|diff> --output cdktf.out-staging …`, or use `npx bitte deploy --cluster staging`.",
  );
  expect(() => checkOutdir("example", "/project/cdktf.out-staging", project)).toThrow(/Cluster example synthesizes into cdktf.out\//);
  // Elsewhere (a temporary directory of a test or of bitte deployer-policy) anything goes.
  expect(() => checkOutdir("staging", "/tmp/x/cdktf.out", project)).not.toThrow();
});
