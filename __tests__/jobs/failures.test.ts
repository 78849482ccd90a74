/**
 * Every check that fails synthesis: a broken job file in __tests__/fixtures/jobs/<case>/ per case
 * of the issue, loaded as the stack would load jobs/, with the message asserted (file, line,
 * problem, fix); then the further checks on inline job text.
 */
import { join } from "node:path";
import example from "../../clusters/example";
import { checkRoutes, formatProblem, JobCheckError } from "../../constructs/jobs/checks";
import { loadJobs } from "../../constructs/jobs/loader";
import { checkSource, FIXTURES, jobText, solo } from "./helpers";

/** The JobCheckError message of loading one fixture directory against the example cluster. */
async function failure(dir: string, cluster = example): Promise<string> {
  const err = await loadJobs({ dir: join(FIXTURES, dir), cluster }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(JobCheckError);
  return (err as JobCheckError).message;
}

describe("broken job files fail synthesis with file, line and fix", () => {
  test("syntax error: the parser's line and message", async () => {
    const msg = await failure("syntax");
    expect(msg).toContain("syntax/broken.nomad.hcl:6: HCL syntax error: Invalid expression; Expected the start of an expression");
    expect(msg).toContain("Fix: correct the syntax at that line");
  });

  test("job name differs from the file name", async () => {
    expect(await failure("name-mismatch")).toContain(
      'name-mismatch/web-v2.nomad.hcl:2: job name "web" differs from the file name. Fix: rename the job to "web-v2" or the file to web.nomad.hcl',
    );
  });

  test("no datacenters after variables are applied", async () => {
    const msg = await failure("no-datacenters");
    expect(msg).toContain("no-datacenters/nodc.nomad.hcl:2: the job has no datacenters after variables are applied. Fix: set `datacenters = var.datacenters`");
    expect(msg).toContain("eu-central-1, us-east-2");
  });

  test("group without count or scaling", async () => {
    expect(await failure("no-count")).toContain('no-count/nocount.nomad.hcl:9: group "app" has neither count nor a scaling block. Fix: set `count = <n>`');
  });

  test("task using raw_exec", async () => {
    expect(await failure("raw-exec")).toContain('raw-exec/rawexec.nomad.hcl:14: task "shell" in group "app" uses the raw_exec driver. Fix: use the docker driver');
  });

  test("service tagged ingress without a health check", async () => {
    expect(await failure("ingress-no-check")).toContain('ingress-no-check/unchecked.nomad.hcl:19: service "web" is tagged ingress but has no health check');
  });

  test("a spec route whose Consul service no job defines", async () => {
    const msg = await failure("missing-route");
    expect(msg).toContain('cluster example (spec routes): route www.example.bitte.dev → Consul service "web": no job defines that service. Fix: add a job under jobs/ with a service named "web"');
    // The same directory is fine for a cluster without routes.
    await expect(loadJobs({ dir: join(FIXTURES, "missing-route"), cluster: solo })).resolves.toHaveLength(1);
  });

  test("every problem of every file is reported at once", async () => {
    const err = (await loadJobs({ dir: join(FIXTURES, "raw-exec"), cluster: example }).catch((e: unknown) => e)) as JobCheckError;
    // raw_exec and the missing route are independent, but routes are checked only once the files are sound.
    expect(err.problems).toHaveLength(1);
    expect(err.message).toMatch(/^1 problem in Nomad job files:\n {2}- /);
  });
});

describe("further checks on job text", () => {
  const problems = async (source: string, name = "app", cluster = example) => (await checkSource(name, source, cluster)).problems.map(formatProblem);

  test("a sound minimal job passes", async () => {
    expect(await problems(jobText("app"))).toEqual([]);
  });

  test("a datacenter without clients", async () => {
    expect(await problems(jobText("app", { job: '  datacenters = ["eu-west-1"]' }))).toEqual([
      expect.stringContaining('jobs/app.nomad.hcl:5: datacenter "eu-west-1" has no Nomad clients in cluster example'),
    ]);
    expect(await problems(jobText("app", { job: '  datacenters = ["eu-*"]' }))).toEqual([]);
  });

  test("an empty datacenters list", async () => {
    expect(await problems(jobText("app", { job: "  datacenters = []" }))).toEqual([expect.stringContaining("no datacenters after variables are applied")]);
  });

  test("datacenters from an undeclared variable or an expression Bitte does not evaluate", async () => {
    expect(await problems(jobText("app", { head: "" }))).toEqual([expect.stringContaining("datacenters cannot be evaluated: var.datacenters is not declared")]);
    expect(await problems(jobText("app", { job: '  datacenters = concat(var.datacenters, ["x"])' }))).toEqual([expect.stringContaining("datacenters cannot be evaluated")]);
  });

  test("a supplied variable declared with the wrong type", async () => {
    const head = 'variable "datacenters" {\n  type = string\n}';
    expect(await problems(jobText("app", { head }))).toContainEqual(
      expect.stringContaining('jobs/app.nomad.hcl:1: variable "datacenters" has type string, but Bitte supplies a list(string). Fix: declare it with `type = list(string)`'),
    );
  });

  test("a variable with no default that Bitte does not supply", async () => {
    const head = 'variable "datacenters" {\n  type = list(string)\n}\nvariable "image" {\n  type = string\n}';
    expect(await problems(jobText("app", { head }))).toEqual([expect.stringContaining('jobs/app.nomad.hcl:4: variable "image" has no default and Bitte does not supply it')]);
  });

  test("defaults apply where Bitte supplies nothing; supplied values override defaults", async () => {
    const head = 'variable "datacenters" {\n  type    = list(string)\n  default = ["nowhere"]\n}\nvariable "dc" {\n  default = "us-east-2"\n}';
    const r = await checkSource("app", jobText("app", { head, job: "  datacenters = [var.dc]" }), example);
    expect(r.problems).toEqual([]);
    expect(r.job?.datacenters).toEqual(["us-east-2"]);
    // Only supplied variables the job declares go to Nomad; `dc` keeps its default there.
    expect(r.job?.vars).toEqual({ datacenters: '["eu-central-1","us-east-2"]' });
  });

  test("two job blocks in one file", async () => {
    const text = `${jobText("app")}\njob "other" {\n}\n`;
    expect(await problems(text)).toEqual([expect.stringContaining('2 job blocks (app, other). Fix: write exactly one `job "app" { ... }` block per file')]);
  });

  test("a namespace the spec does not create", async () => {
    expect(await problems(jobText("app", { job: '  datacenters = var.datacenters\n  namespace = "team-x"' }))).toEqual([
      expect.stringContaining('namespace "team-x" is not a namespace of cluster example. Fix: use one of default, apps'),
    ]);
    expect(await problems(jobText("app", { job: '  datacenters = var.datacenters\n  namespace = "apps"' }))).toEqual([]);
  });

  test("system and sysbatch groups place one allocation per node and need no count", async () => {
    const group = '    task "app" {\n      driver = "docker"\n      config {\n        image = "busybox:1.36"\n      }\n    }';
    expect(await problems(jobText("app", { job: '  datacenters = var.datacenters\n  type = "system"', group }))).toEqual([]);
    expect(await problems(jobText("app", { job: '  datacenters = var.datacenters\n  type = "batch"', group }))).toEqual([expect.stringContaining("neither count nor a scaling block")]);
  });

  test("a scaling block stands in for count", async () => {
    const group = '    scaling {\n      min = 1\n      max = 3\n    }\n    task "app" {\n      driver = "docker"\n      config {\n        image = "busybox:1.36"\n      }\n    }';
    expect(await problems(jobText("app", { group }))).toEqual([]);
  });

  test("task-level services are checked too, with the default service name", async () => {
    const group = '    count = 1\n    task "app" {\n      driver = "docker"\n      service {\n        tags = ["ingress"]\n      }\n      config {\n        image = "busybox:1.36"\n      }\n    }';
    expect(await problems(jobText("app", { group }))).toEqual([expect.stringContaining('jobs/app.nomad.hcl:10: service "app-app-app" is tagged ingress but has no health check')]);
  });

  test("a route's service defined but not tagged ingress", async () => {
    const group = '    count = 1\n    service {\n      name = "web"\n      port = "http"\n    }\n    task "app" {\n      driver = "docker"\n      config {\n        image = "busybox:1.36"\n      }\n    }';
    const r = await checkSource("app", jobText("app", { group }), example);
    expect(checkRoutes([r.job!], example).map(formatProblem)).toEqual([
      'jobs/app.nomad.hcl:9: service "web" serves route www.example.bitte.dev but is not tagged ingress. Fix: add `tags = ["ingress"]` and a health check to the service',
    ]);
  });
});
