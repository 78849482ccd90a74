/** BITTE_JOBS: which job files one synth deploys. */
import example from "../../clusters/example";
import { JobCheckError } from "../../constructs/jobs/checks";
import { loadJobs, parseJobSelection, patternSelects, selectJobFiles } from "../../constructs/jobs/loader";
import { JOBS_DIR, solo } from "./helpers";

describe("BITTE_JOBS", () => {
  test("unset or blank selects every file", () => {
    expect(parseJobSelection(undefined)).toBeUndefined();
    expect(parseJobSelection("")).toBeUndefined();
    expect(parseJobSelection(" , ")).toBeUndefined();
  });

  test("comma-separated patterns, blanks trimmed", () => {
    expect(parseJobSelection(" web , count*,,jobs/disk-report.nomad.hcl ")).toEqual(["web", "count*", "jobs/disk-report.nomad.hcl"]);
  });

  test("a pattern selects by file name, job name or * glob", () => {
    expect(patternSelects("web", "web.nomad.hcl")).toBe(true);
    expect(patternSelects("web.nomad.hcl", "web.nomad.hcl")).toBe(true);
    expect(patternSelects("jobs/web.nomad.hcl", "web.nomad.hcl")).toBe(true);
    expect(patternSelects("w*", "web.nomad.hcl")).toBe(true);
    expect(patternSelects("we", "web.nomad.hcl")).toBe(false);
    expect(patternSelects("web", "web-v2.nomad.hcl")).toBe(false);
    expect(patternSelects("web.*", "web-v2.nomad.hcl")).toBe(false);
  });

  test("selectJobFiles keeps order and reports patterns that select nothing", () => {
    const files = ["a.nomad.hcl", "b.nomad.hcl", "c.nomad.hcl"];
    expect(selectJobFiles(files, ["c", "a", "zzz"])).toEqual({ selected: ["a.nomad.hcl", "c.nomad.hcl"], unmatched: ["zzz"] });
    expect(selectJobFiles(files, undefined)).toEqual({ selected: files, unmatched: [] });
  });

  test("a pattern that matches no file fails with the files there are", async () => {
    await expect(loadJobs({ dir: JOBS_DIR, cluster: solo, select: ["web", "wbe"] })).rejects.toThrow(
      'jobs: BITTE_JOBS pattern "wbe" matches no job file. Fix: use a file name, job name or * glob of countdash.nomad.hcl, disk-report.nomad.hcl, web.nomad.hcl',
    );
  });

  test("leaving out the job behind a spec route fails and names the selection", async () => {
    const err = (await loadJobs({ dir: JOBS_DIR, cluster: example, select: ["countdash", "disk-report"] }).catch((e: unknown) => e)) as JobCheckError;
    expect(err).toBeInstanceOf(JobCheckError);
    expect(err.message).toContain("no job defines that service among the selected job files (BITTE_JOBS=countdash,disk-report)");
    expect(err.message).toContain("include its file in BITTE_JOBS");
  });

  test("a selection deploys only its files", async () => {
    const jobs = await loadJobs({ dir: JOBS_DIR, cluster: example, select: parseJobSelection("web,disk-*") });
    expect(jobs.map((j) => j.name)).toEqual(["disk-report", "web"]);
  });
});
