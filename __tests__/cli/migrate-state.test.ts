/** `bitte migrate-state` on a project directory holding the single-cluster layout's state. */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { migrateState } from "../../cli/commands/migrate-state";
import { CliError } from "../../cli/errors";
import { cluster, testContext } from "./helpers";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A Terraform state whose resources carry `Cluster=<name>` in tags_all (none for untagged). */
const state = (clusterName?: string) =>
  JSON.stringify({ version: 4, resources: [{ type: "aws_vpc", instances: [{ attributes: clusterName ? { tags_all: { Cluster: clusterName, ManagedBy: "bitte" } } : {} }] }] });

function project(files: Record<string, string>): string {
  const d = mkdtempSync(join(tmpdir(), "bitte-migrate-"));
  dirs.push(d);
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(join(d, f, ".."), { recursive: true });
    writeFileSync(join(d, f), text);
  }
  return d;
}
const backendRecord = (path: string) => JSON.stringify({ version: 3, backend: { type: "local", config: { path, workspace_dir: null }, hash: 1 } });

test("moves the cluster's files (and backups), and removes the working directory's record of the old path", async () => {
  const dir = project({
    "terraform.network.tfstate": state("example"),
    "terraform.network.tfstate.backup": state("example"),
    "terraform.consul.tfstate": state(),
    "cdktf.out/stacks/network/.terraform/terraform.tfstate": backendRecord("../../../terraform.network.tfstate"),
  });
  const ctx = testContext({ projectDir: dir });
  expect(await migrateState(ctx, cluster, { dryRun: false })).toBe(0);
  for (const f of ["terraform.example.network.tfstate", "terraform.example.network.tfstate.backup", "terraform.example.consul.tfstate"]) expect(existsSync(join(dir, f))).toBe(true);
  for (const f of ["terraform.network.tfstate", "terraform.network.tfstate.backup", "terraform.consul.tfstate", "cdktf.out/stacks/network/.terraform/terraform.tfstate"]) expect(existsSync(join(dir, f))).toBe(false);
  expect(readFileSync(join(dir, "terraform.example.network.tfstate"), "utf8")).toBe(state("example"));
});

test.each([
  ["another cluster's resources", { "terraform.network.tfstate": state("prod") }, "terraform.network.tfstate holds resources of cluster prod, not example"],
  ["a running Terraform's lock", { "terraform.core.tfstate": state("example"), ".terraform.core.tfstate.lock.info": "{}" }, "terraform.core.tfstate is locked by a running Terraform"],
  ["an existing target", { "terraform.core.tfstate": state("example"), "terraform.example.core.tfstate": state("example") }, "terraform.example.core.tfstate exists already"],
  ["no evidence of the cluster", { "terraform.jobs.tfstate": state() }, "nothing shows they are this cluster's"],
])("refuses %s and moves nothing", async (_what, files, message) => {
  const dir = project({ ...files, "terraform.consul.tfstate": state() });
  const err = (await migrateState(testContext({ projectDir: dir }), cluster, { dryRun: false }).catch((e) => e)) as CliError;
  expect(err).toBeInstanceOf(CliError);
  expect(err.message).toContain(message);
  for (const f of Object.keys(files)) expect(existsSync(join(dir, f))).toBe(true);
  expect(existsSync(join(dir, "terraform.consul.tfstate"))).toBe(true);
});

test("--dry-run prints the moves and changes nothing", async () => {
  const dir = project({ "terraform.network.tfstate": state("example") });
  const ctx = testContext({ projectDir: dir });
  await migrateState(ctx, cluster, { dryRun: true });
  expect(ctx.out.join("")).toBe("would move terraform.network.tfstate → terraform.example.network.tfstate\n");
  expect(existsSync(join(dir, "terraform.network.tfstate"))).toBe(true);
});
