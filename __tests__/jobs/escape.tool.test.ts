/**
 * Terraform itself reads the escaped jobspecs: each synthesized `jobspec` (and generated text
 * full of `${`, `%{` and `$`) goes through `terraform apply` as an output value of a config with
 * no providers, offline, and must come back as the original text.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import example from "../../clusters/example";
import { terraformLiteral } from "../../constructs/jobs/escape";
import { loadJobs } from "../../constructs/jobs/loader";
import { JobsStack } from "../../stacks/jobs";
import { resources, synth } from "../harness/synth";
import { describeWithTools, run } from "../harness/tools";
import { JOBS_DIR } from "./helpers";

describeWithTools(["terraform"], "jobspec escaping read by terraform", () => {
  test("terraform passes every jobspec and tricky text through unchanged", async () => {
    const jobs = await loadJobs({ dir: JOBS_DIR, cluster: example });
    const { json } = synth((app) => new JobsStack(app, "jobs", { cluster: example, jobs }));
    const expected: Record<string, string> = {};
    const outputs: Record<string, { value: string }> = {};
    for (const r of resources(json, "nomad_job")) {
      const key = r.name.replace(/-/g, "_");
      expected[key] = readFileSync(join(JOBS_DIR, `${r.name}.nomad.hcl`), "utf8");
      outputs[key] = { value: r.config.jobspec as string };
    }
    const tricky = ["${var.x}", "$${x}", "$$${x}", "%{ if a }b%{ endif }", "%%{x}", "$", "%", "a$", "${", "}${${}", '"\\${x}"'];
    // And generated text over the characters that matter (a fixed seed, so failures reproduce).
    let seed = 7;
    const next = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (let i = 0; i < 60; i++) tricky.push(Array.from({ length: 1 + Math.floor(next() * 16) }, () => "$%{}a\n"[Math.floor(next() * 6)]).join(""));
    tricky.forEach((t, i) => {
      expected[`tricky_${i}`] = t;
      outputs[`tricky_${i}`] = { value: terraformLiteral(t) };
    });

    const dir = mkdtempSync(join(tmpdir(), "bitte-jobs-escape-"));
    try {
      writeFileSync(join(dir, "main.tf.json"), JSON.stringify({ output: outputs }));
      writeFileSync(join(dir, "cli.tfrc"), "");
      const env = { ...process.env, TF_CLI_CONFIG_FILE: join(dir, "cli.tfrc"), TF_IN_AUTOMATION: "1", CHECKPOINT_DISABLE: "1" };
      for (const args of [["init", "-input=false", "-no-color"], ["apply", "-auto-approve", "-input=false", "-no-color"]]) {
        const r = run("terraform", args, { cwd: dir, env });
        expect({ args, status: r.status, stderr: r.stderr }).toEqual({ args, status: 0, stderr: "" });
      }
      const out = run("terraform", ["output", "-json"], { cwd: dir, env });
      const values = Object.fromEntries(Object.entries(JSON.parse(out.stdout) as Record<string, { value: string }>).map(([k, v]) => [k, v.value]));
      expect(values).toEqual(expected);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
