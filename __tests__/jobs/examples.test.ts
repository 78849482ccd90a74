import { readFileSync } from "node:fs";
import { join } from "node:path";
import example from "../../clusters/example";
import { listJobFiles, loadJobs, parseJobFile } from "../../constructs/jobs/loader";
import { checkJob } from "../../constructs/jobs/checks";
import { JOBS_DIR, solo } from "./helpers";

describe("example jobs", () => {
  test("jobs/ holds the three examples", () => {
    expect(listJobFiles(JOBS_DIR)).toEqual(["countdash.nomad.hcl", "disk-report.nomad.hcl", "web.nomad.hcl"]);
  });

  test.each(listJobFiles(JOBS_DIR))("%s parses with the HCL parser and passes every check", async (file) => {
    const { parsed, problems } = await parseJobFile(`jobs/${file}`, readFileSync(join(JOBS_DIR, file), "utf8"));
    expect(problems).toEqual([]);
    const result = checkJob(parsed!, example);
    expect(result.problems).toEqual([]);
    expect(result.job?.name).toBe(file.replace(/\.nomad\.hcl$/, ""));
  });

  test("the example cluster loads them all, its route www → web satisfied", async () => {
    const jobs = await loadJobs({ dir: JOBS_DIR, cluster: example });
    expect(jobs.map((j) => j.name)).toEqual(["countdash", "disk-report", "web"]);
  });

  test("countdash: two Connect services, the dashboard reaching the API through an upstream", async () => {
    const { parsed } = await parseJobFile("jobs/countdash.nomad.hcl", readFileSync(join(JOBS_DIR, "countdash.nomad.hcl"), "utf8"));
    const job = checkJob(parsed!, example).job!;
    expect(job.services.map((s) => s.name)).toEqual(["count-api", "count-dashboard"]);
    expect(job.source).toMatch(/destination_name\s*=\s*"count-api"/);
    expect(job.source).toMatch(/mode\s*=\s*"bridge"/);
    expect(job.datacenters).toEqual(["eu-central-1", "us-east-2"]);
  });

  test("web: ingress-tagged, health-checked, update and scaling blocks, spec variables", async () => {
    const [web] = await loadJobs({ dir: JOBS_DIR, cluster: example, select: ["web"] });
    expect(web.services).toEqual([expect.objectContaining({ name: "web", tags: ["ingress"], hasCheck: true })]);
    expect(web.source).toMatch(/^\s*update \{/m);
    expect(web.source).toMatch(/^\s*scaling \{/m);
    expect(web.vars).toEqual({ datacenters: '["eu-central-1","us-east-2"]', domain: "example.bitte.dev" });
  });

  test("disk-report: sysbatch in the core datacenter, constrained by node class", async () => {
    const [job] = await loadJobs({ dir: JOBS_DIR, cluster: solo, select: ["disk-*"] });
    expect(job.type).toBe("sysbatch");
    expect(job.datacenters).toEqual(["us-east-2"]);
    expect(job.vars).toEqual({ core_datacenter: "us-east-2" });
    expect(job.source).toMatch(/attribute = "\$\{node\.class\}"/);
  });

  test("the same files check against another cluster with its own variables", async () => {
    const jobs = await loadJobs({ dir: JOBS_DIR, cluster: solo });
    expect(jobs.map((j) => [j.name, j.datacenters])).toEqual([
      ["countdash", ["us-east-2"]],
      ["disk-report", ["us-east-2"]],
      ["web", ["us-east-2"]],
    ]);
    expect(jobs.find((j) => j.name === "web")?.vars.domain).toBe("solo.example.org");
  });
});
