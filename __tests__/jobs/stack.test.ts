/** The `jobs` stack: snapshot and the properties Terraform and Nomad rely on. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Testing } from "cdktf";
import example from "../../clusters/example";
import type { CheckedJob } from "../../constructs/jobs/checks";
import { terraformUnescape } from "../../constructs/jobs/escape";
import { loadJobs } from "../../constructs/jobs/loader";
import { JobsStack } from "../../stacks/jobs";
import { resources, synth } from "../harness/synth";
import { JOBS_DIR, solo } from "./helpers";

describe("jobs stack", () => {
  let jobs: readonly CheckedJob[];
  beforeAll(async () => {
    jobs = await loadJobs({ dir: JOBS_DIR, cluster: example });
  });
  const build = (props: Partial<ConstructorParameters<typeof JobsStack>[2]> = {}) => synth((app) => new JobsStack(app, "jobs", { cluster: example, jobs, ...props }));

  test("snapshot", () => {
    expect(build().json).toMatchSnapshot();
  });

  test("one nomad_job per job file, named by the job", () => {
    const r = resources(build().json, "nomad_job");
    expect(r.map((x) => x.name)).toEqual(["countdash", "disk-report", "web"]);
  });

  test("each jobspec is the file's text once Terraform has read its escapes", () => {
    for (const r of resources(build().json, "nomad_job")) {
      const source = readFileSync(join(JOBS_DIR, `${r.name}.nomad.hcl`), "utf8");
      expect(terraformUnescape(r.config.jobspec as string)).toBe(source);
      // No unescaped interpolation is left for Terraform to evaluate.
      expect(r.config.jobspec as string).not.toMatch(/(^|[^$])\$\{/);
    }
  });

  test("hcl2 vars: only the supplied variables each job declares, file functions off", () => {
    const byName = Object.fromEntries(resources(build().json, "nomad_job").map((r) => [r.name, r.config.hcl2]));
    expect(byName.web).toEqual({ allow_fs: false, vars: { datacenters: '["eu-central-1","us-east-2"]', domain: "example.bitte.dev" } });
    expect(byName.countdash).toEqual({ allow_fs: false, vars: { datacenters: '["eu-central-1","us-east-2"]' } });
    expect(byName["disk-report"]).toEqual({ allow_fs: false, vars: { core_datacenter: "eu-central-1" } });
  });

  test("defaults: wait for the deployment, 15m timeouts, deregister without purge", () => {
    for (const r of resources(build().json, "nomad_job")) {
      expect(r.config).toMatchObject({ detach: false, deregister_on_destroy: true, purge_on_destroy: false, timeouts: { create: "15m", update: "15m" } });
    }
    const fast = resources(build({ waitForDeployment: false, deployTimeout: "5m", purgeOnDestroy: true }).json, "nomad_job");
    for (const r of fast) expect(r.config).toMatchObject({ detach: true, purge_on_destroy: true, timeouts: { create: "5m", update: "5m" } });
  });

  test("the Nomad provider reaches the admin endpoint and holds no token", () => {
    const { json, text } = build();
    expect(json.provider?.nomad).toEqual([{ address: "https://nomad.example.bitte.dev", region: "global" }]);
    expect(text).not.toMatch(/secret_id|token/i);
  });

  test("state is local next to the other stacks, and the job names are an output", () => {
    const { json } = build();
    expect(json.terraform?.backend).toEqual({ local: { path: "../../../terraform.example.jobs.tfstate" } });
    expect(json.output?.job_names.value).toEqual(["countdash", "disk-report", "web"]);
  });

  test("no jobs: only the provider", () => {
    const { json } = build({ jobs: [] });
    expect(json.resource).toBeUndefined();
  });

  test("jobs checked against another cluster are refused", async () => {
    const other = await loadJobs({ dir: JOBS_DIR, cluster: solo });
    expect(() => new JobsStack(Testing.app(), "jobs", { cluster: example, jobs: other })).toThrow(
      "jobs/countdash.nomad.hcl: checked against cluster solo, but the jobs stack is for cluster example",
    );
  });

  test("a job given twice is refused", () => {
    expect(() => new JobsStack(Testing.app(), "jobs", { cluster: example, jobs: [jobs[0], jobs[0]] })).toThrow('Job "countdash" is given twice');
  });
});
