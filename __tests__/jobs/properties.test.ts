/**
 * Property tests over generated inputs (a seeded generator, so failures reproduce): escaping,
 * datacenters, selection, variables per cluster, and the rules of the ingress and count checks.
 */
import example from "../../clusters/example";
import { defineCluster } from "../../clusters/spec";
import { terraformLiteral, terraformUnescape } from "../../constructs/jobs/escape";
import { selectJobFiles } from "../../constructs/jobs/loader";
import { clientDatacenters, suppliedVariables } from "../../constructs/jobs/variables";
import { checkSource, jobText } from "./helpers";
import { rng } from "../harness/rng";

const RUNS = 200;
const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
const subset = <T>(r: () => number, xs: readonly T[]): T[] => xs.filter(() => r() < 0.5);

/**
 * Where Terraform's template scanner would start an interpolation or directive: left to right,
 * `$${` and `%%{` are literal, a `${` or `%{` otherwise opens one (the tool tier checks this
 * model against terraform itself).
 */
function templateSequences(text: string): number[] {
  const at: number[] = [];
  for (let i = 0; i < text.length; i++) {
    if ((text.startsWith("$${", i) || text.startsWith("%%{", i))) i += 2;
    else if (text.startsWith("${", i) || text.startsWith("%{", i)) at.push(i);
  }
  return at;
}

describe("properties", () => {
  test("escaping for Terraform round-trips any text and leaves no bare interpolation", () => {
    const r = rng(1);
    for (let i = 0; i < RUNS * 5; i++) {
      const s = Array.from({ length: Math.floor(r() * 24) }, () => pick(r, ["$", "%", "{", "}", "a", " ", "\n", '"'])).join("");
      const escaped = terraformLiteral(s);
      expect(terraformUnescape(escaped)).toBe(s);
      expect(templateSequences(escaped)).toEqual([]);
    }
  });

  test("a literal datacenters list passes iff every entry is a region with clients", async () => {
    const r = rng(2);
    const clients = clientDatacenters(example);
    const others = ["eu-west-1", "ap-south-1", "us-west-2", "sa-east-1"];
    for (let i = 0; i < 40; i++) {
      const dcs = [...subset(r, clients), ...(r() < 0.4 ? [pick(r, others)] : [])];
      const result = await checkSource("app", jobText("app", { job: `  datacenters = ${JSON.stringify(dcs)}` }), example);
      const bad = dcs.filter((d) => !clients.includes(d));
      if (dcs.length === 0) expect(result.problems.map((p) => p.problem)).toEqual(["the job has no datacenters after variables are applied"]);
      else if (bad.length > 0) expect(result.problems.map((p) => p.problem)).toEqual(bad.map((d) => expect.stringContaining(`datacenter "${d}" has no Nomad clients`)));
      else expect(result.job?.datacenters).toEqual(dcs);
    }
  });

  test("selection by job names selects exactly those files, in directory order", () => {
    const r = rng(3);
    const names = ["alpha", "beta", "gamma", "delta", "web", "web-v2"];
    const files = names.map((n) => `${n}.nomad.hcl`).sort();
    for (let i = 0; i < RUNS; i++) {
      const chosen = subset(r, names);
      if (chosen.length === 0) continue;
      const { selected, unmatched } = selectJobFiles(files, chosen);
      expect(selected).toEqual(files.filter((f) => chosen.includes(f.replace(".nomad.hcl", ""))));
      expect(unmatched).toEqual([]);
    }
    expect(selectJobFiles(files, ["*"]).selected).toEqual(files);
  });

  test("supplied datacenters are the client groups' regions, once each, in the cluster's region order", () => {
    const r = rng(4);
    const regions = ["eu-central-1", "us-east-2", "us-west-2", "eu-west-1", "ap-southeast-1"];
    for (let i = 0; i < 50; i++) {
      const groupRegions = Array.from({ length: 1 + Math.floor(r() * 4) }, () => pick(r, regions));
      const cluster = defineCluster({
        name: "prop",
        domain: "prop.example.com",
        coreRegion: "eu-central-1",
        coreZones: ["eu-central-1a", "eu-central-1b", "eu-central-1c"],
        clientGroups: groupRegions.map((region, n) => ({ name: `g${n}`, region, instanceType: "m6i.large", min: 0, desired: 1, max: 2, nodeClass: pick(r, ["workers", "gpu"]) })),
      });
      const dcs = suppliedVariables(cluster).datacenters as readonly string[];
      expect(new Set(dcs)).toEqual(new Set(groupRegions));
      expect(dcs).toHaveLength(new Set(groupRegions).size);
      expect(dcs).toEqual(cluster.regions.map((x) => x.name).filter((x) => dcs.includes(x)));
      expect(new Set(suppliedVariables(cluster).node_classes)).toEqual(new Set(cluster.clientGroups.map((g) => g.nodeClass)));
    }
  });

  test("a service fails iff it is tagged ingress and has no check", async () => {
    const r = rng(5);
    for (let i = 0; i < 24; i++) {
      const tags = subset(r, ["ingress", "http", "public"]);
      const check = r() < 0.5;
      const group = [
        "    count = 1",
        "    service {",
        '      name = "svc"',
        `      tags = ${JSON.stringify(tags)}`,
        check ? '      check {\n        type     = "tcp"\n        interval = "10s"\n        timeout  = "2s"\n      }' : "",
        "    }",
        '    task "app" {\n      driver = "docker"\n      config {\n        image = "busybox:1.36"\n      }\n    }',
      ].join("\n");
      const { problems } = await checkSource("app", jobText("app", { group }), example);
      expect(problems.length).toBe(tags.includes("ingress") && !check ? 1 : 0);
    }
  });

  test("a group needs count or scaling unless the job places one allocation per node", async () => {
    const task = '    task "app" {\n      driver = "docker"\n      config {\n        image = "busybox:1.36"\n      }\n    }';
    for (const type of ["service", "batch", "system", "sysbatch"]) {
      for (const sizing of ["", "    count = 2", "    scaling {\n      min = 1\n      max = 4\n    }"]) {
        const { problems } = await checkSource("app", jobText("app", { job: `  datacenters = var.datacenters\n  type = "${type}"`, group: `${sizing}\n${task}` }), example);
        const expectProblem = sizing === "" && (type === "service" || type === "batch");
        expect(problems.length).toBe(expectProblem ? 1 : 0);
      }
    }
  });
});
