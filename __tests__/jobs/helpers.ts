/** Shared helpers of the jobs tests: directories, a second cluster, checking inline HCL. */
import { join } from "node:path";
import { defineCluster, type Cluster } from "../../clusters/spec";
import { checkJob, type JobCheckResult } from "../../constructs/jobs/checks";
import { parseJobFile } from "../../constructs/jobs/loader";

export const JOBS_DIR = join(__dirname, "..", "..", "jobs");
export const FIXTURES = join(__dirname, "..", "fixtures", "jobs");

/** A one-region cluster with a different domain, class and no routes. */
export const solo: Cluster = defineCluster({
  name: "solo",
  domain: "solo.example.org",
  coreRegion: "us-east-2",
  coreZones: ["us-east-2a", "us-east-2b", "us-east-2c"],
  clientGroups: [{ name: "batch", region: "us-east-2", instanceType: "m6i.large", min: 0, desired: 1, max: 2 }],
});

/** Parses and checks job text as `jobs/<name>.nomad.hcl`. */
export async function checkSource(name: string, source: string, cluster: Cluster): Promise<JobCheckResult> {
  const { parsed, problems } = await parseJobFile(`jobs/${name}.nomad.hcl`, source);
  if (!parsed) return { problems };
  return checkJob(parsed, cluster);
}

/** A minimal sound job; `group` replaces the group body, `head` the lines before the job block. */
export function jobText(name: string, opts: { head?: string; job?: string; group?: string } = {}): string {
  return [
    opts.head ?? 'variable "datacenters" {\n  type = list(string)\n}',
    `job "${name}" {`,
    opts.job ?? "  datacenters = var.datacenters",
    '  group "app" {',
    opts.group ?? '    count = 1\n    task "app" {\n      driver = "docker"\n      config {\n        image = "traefik/whoami:v1.10.3"\n      }\n    }',
    "  }",
    "}",
    "",
  ].join("\n");
}
