/**
 * Synth-time checks of Nomad job files. Each problem names the file, the line where one is
 * known, what is wrong and how to fix it; all problems of all files are reported together.
 */
import type { Cluster } from "../../clusters/spec";
import { blocks, evaluateString, evaluateStringList, labeledBlocks, type HclBody, type VarValue, type VarValues } from "./hcl";
import { escapeRegExp, SourceLines } from "./locate";
import { clientDatacenters, declaredVariables, serializeVar, SUPPLIED_VARIABLES, suppliedVariables, typeAccepts, type SuppliedVariable } from "./variables";

/** The suffix every job file has; the rest of the file name is the job name. */
export const JOB_FILE_SUFFIX = ".nomad.hcl";

/** Nomad job types; `system` and `sysbatch` place one allocation per eligible node. */
export const JOB_TYPES = ["service", "batch", "system", "sysbatch"] as const;
const PER_NODE_TYPES: readonly string[] = ["system", "sysbatch"];

/** One problem in one job file (or in the spec, for routes). */
export interface JobProblem {
  /** `jobs/<name>.nomad.hcl`, or the cluster spec for route problems. */
  readonly file: string;
  /** 1-based line, when the parser gives one or the source search finds the block. */
  readonly line?: number;
  /** What is wrong. */
  readonly problem: string;
  /** How to fix it. */
  readonly fix: string;
}

export function formatProblem(p: JobProblem): string {
  return `${p.file}${p.line !== undefined ? `:${p.line}` : ""}: ${p.problem.replace(/\.+$/, "")}. Fix: ${p.fix}`;
}

/** Synthesis stops with every problem found in the job files. */
export class JobCheckError extends Error {
  constructor(readonly problems: readonly JobProblem[]) {
    super(`${problems.length} problem${problems.length === 1 ? "" : "s"} in Nomad job files:\n${problems.map((p) => `  - ${formatProblem(p)}`).join("\n")}`);
    this.name = "JobCheckError";
  }
}

/** A job file read and parsed by hcl2json. */
export interface ParsedJobFile {
  /** Display path, `jobs/<name>.nomad.hcl`. */
  readonly file: string;
  /** The job name the file name gives: the file name without `.nomad.hcl`. */
  readonly name: string;
  /** The file's text, deployed as the jobspec. */
  readonly source: string;
  /** hcl2json's output. */
  readonly hcl: HclBody;
}

/** A Consul service a job registers. */
export interface JobService {
  readonly name: string;
  readonly tags: readonly string[];
  readonly hasCheck: boolean;
  readonly line?: number;
}

/** A job file that passed every check, ready for the `jobs` stack. */
export interface CheckedJob {
  readonly file: string;
  readonly name: string;
  /** The cluster the job was checked against; the stack refuses another. */
  readonly cluster: string;
  readonly source: string;
  /** `service`, `batch`, `system` or `sysbatch`. */
  readonly type: string;
  readonly namespace: string;
  /** Datacenters after variables are applied. */
  readonly datacenters: readonly string[];
  /** The `hcl2.vars` of the `nomad_job`: the supplied variables the job declares, serialized. */
  readonly vars: Readonly<Record<string, string>>;
  readonly services: readonly JobService[];
}

export interface JobCheckResult {
  /** Present when the file has no problems. */
  readonly job?: CheckedJob;
  readonly problems: readonly JobProblem[];
}

/** Checks one parsed job file against the cluster. */
export function checkJob(parsed: ParsedJobFile, cluster: Cluster): JobCheckResult {
  const problems: JobProblem[] = [];
  const src = new SourceLines(parsed.source);
  const add = (problem: string, fix: string, line?: number): void => {
    problems.push({ file: parsed.file, line, problem, fix });
  };

  const jobs = labeledBlocks(parsed.hcl, "job");
  if (jobs.length !== 1) {
    add(
      jobs.length === 0 ? "no job block" : `${jobs.length} job blocks (${jobs.map(([n]) => n).join(", ")})`,
      `write exactly one \`job "${parsed.name}" { ... }\` block per file`,
      jobs.length > 1 ? src.block("job", jobs[1][0]) : undefined,
    );
    return { problems };
  }
  const [jobName, job] = jobs[0];
  const jobLine = src.block("job", jobName);
  if (jobName !== parsed.name) {
    add(`job name "${jobName}" differs from the file name`, `rename the job to "${parsed.name}" or the file to ${jobName}${JOB_FILE_SUFFIX}`, jobLine);
  }

  const { values, hcl2Vars } = applyVariables(parsed, cluster, src, add);

  const type = evaluateString(job.type, values) ?? "service";
  if (!(JOB_TYPES as readonly string[]).includes(type)) {
    add(`job type "${type}" is not a Nomad job type`, `use one of ${JOB_TYPES.join(", ")}`, src.attribute("type", jobLine));
  }

  const namespace = evaluateString(job.namespace, values) ?? "default";
  const namespaces = ["default", ...cluster.namespaces];
  if (!namespaces.includes(namespace)) {
    add(`namespace "${namespace}" is not a namespace of cluster ${cluster.name}`, `use one of ${namespaces.join(", ")}, or add it to the spec's namespaces`, src.attribute("namespace", jobLine));
  }

  const datacenters = checkDatacenters(job, values, cluster, src.attribute("datacenters", jobLine) ?? jobLine, add);
  const services = checkGroups(parsed.name, job, type, values, src, jobLine, add);

  if (problems.length > 0) return { problems };
  return {
    problems,
    job: { file: parsed.file, name: parsed.name, cluster: cluster.name, source: parsed.source, type, namespace, datacenters, vars: hcl2Vars, services },
  };
}

type Report = (problem: string, fix: string, line?: number) => void;

/**
 * The job's variable values (defaults overridden by what Bitte supplies) and the `hcl2.vars` to
 * deploy: only supplied variables the job declares, since Nomad refuses undeclared ones.
 */
function applyVariables(parsed: ParsedJobFile, cluster: Cluster, src: SourceLines, add: Report): { values: VarValues; hcl2Vars: Record<string, string> } {
  const supplied = suppliedVariables(cluster);
  const values: Record<string, VarValue> = {};
  const hcl2Vars: Record<string, string> = {};
  for (const v of declaredVariables(parsed.hcl)) {
    const line = src.block("variable", v.name);
    if (v.name in supplied) {
      const name = v.name as SuppliedVariable;
      if (!typeAccepts(v.type, supplied[name])) {
        add(`variable "${v.name}" has type ${v.type ?? "(none)"}, but Bitte supplies a ${SUPPLIED_VARIABLES[name]}`, `declare it with \`type = ${SUPPLIED_VARIABLES[name]}\``, line);
        continue;
      }
      values[v.name] = supplied[name];
      hcl2Vars[v.name] = serializeVar(supplied[name]);
    } else if (v.default !== undefined) {
      values[v.name] = v.default;
    } else if (!v.hasDefault) {
      add(
        `variable "${v.name}" has no default and Bitte does not supply it`,
        `give it a default, or use one of the variables Bitte supplies: ${Object.keys(SUPPLIED_VARIABLES).join(", ")}`,
        line,
      );
    }
  }
  return { values, hcl2Vars };
}

function checkDatacenters(job: HclBody, values: VarValues, cluster: Cluster, line: number | undefined, add: Report): readonly string[] {
  const known = clientDatacenters(cluster);
  const fix = `set \`datacenters = var.datacenters\` (with \`variable "datacenters" { type = list(string) }\`) for every region with clients, or list regions of the cluster: ${known.join(", ")}`;
  const r = evaluateStringList(job.datacenters, values);
  if (!r.ok) {
    add(`datacenters cannot be evaluated: ${r.reason}`, fix, line);
    return [];
  }
  if (r.value.length === 0) {
    add("the job has no datacenters after variables are applied", fix, line);
    return [];
  }
  for (const dc of r.value) {
    const re = globRegExp(dc);
    if (!known.some((k) => re.test(k))) {
      add(`datacenter "${dc}" has no Nomad clients in cluster ${cluster.name}, so nothing would be placed there`, `use one of ${known.join(", ")}, or add a client group in that region to the spec`, line);
    }
  }
  return r.value;
}

/** Checks groups and tasks; returns the services the job registers. */
function checkGroups(jobName: string, job: HclBody, type: string, values: VarValues, src: SourceLines, jobLine: number | undefined, add: Report): JobService[] {
  const groups = labeledBlocks(job, "group");
  if (groups.length === 0) add("the job has no group", 'add a `group "<name>" { ... }` block with at least one task', jobLine);
  const services: JobService[] = [];
  for (const [groupName, group] of groups) {
    const groupLine = src.block("group", groupName, jobLine);
    if (!PER_NODE_TYPES.includes(type) && !("count" in group) && blocks(group, "scaling").length === 0) {
      add(
        `group "${groupName}" has neither count nor a scaling block`,
        "set `count = <n>` for a fixed size, or add a `scaling` block with `min` and `max` for autoscaling; Bitte does not rely on Nomad's implicit count of 1",
        groupLine,
      );
    }
    services.push(...collectServices(blocks(group, "service"), `${jobName}-${groupName}`, values, src, groupLine, add));
    for (const [taskName, task] of labeledBlocks(group, "task")) {
      const taskLine = src.block("task", taskName, groupLine);
      const driver = evaluateString(task.driver, values);
      if (driver === "raw_exec") {
        add(
          `task "${taskName}" in group "${groupName}" uses the raw_exec driver`,
          "use the docker driver (or exec, which isolates the task); raw_exec runs unisolated with the Nomad agent's privileges and is disabled on Nomad clients by default",
          src.attribute("driver", taskLine) ?? taskLine,
        );
      }
      services.push(...collectServices(blocks(task, "service"), `${jobName}-${groupName}-${taskName}`, values, src, taskLine, add));
    }
  }
  return services;
}

function collectServices(bodies: readonly HclBody[], defaultName: string, values: VarValues, src: SourceLines, from: number | undefined, add: Report): JobService[] {
  return bodies.map((service) => {
    const name = evaluateString(service.name, values) ?? defaultName;
    const tags = evaluateStringList(service.tags, values);
    const rawName = typeof service.name === "string" ? service.name : undefined;
    const line = (rawName !== undefined ? src.find(new RegExp(`^\\s*name\\s*=\\s*"${escapeRegExp(rawName)}"`), from) : undefined) ?? src.find(/^\s*service\s*\{/, from);
    const hasCheck = blocks(service, "check").length > 0;
    const svc: JobService = { name, tags: tags.ok ? tags.value : [], hasCheck, line };
    if (svc.tags.includes("ingress") && !hasCheck) {
      add(
        `service "${name}" is tagged ingress but has no health check, so the load balancer would send traffic to instances that are not ready`,
        'add a `check` block to the service, e.g. type = "http", path = "/health", interval = "10s", timeout = "2s" (or type = "tcp")',
        line,
      );
    }
    return svc;
  });
}

/**
 * Every spec route needs a deployed job that registers its Consul service, tagged `ingress`
 * (so the health-check rule covers it).
 */
export function checkRoutes(jobs: readonly CheckedJob[], cluster: Cluster, selection?: readonly string[]): JobProblem[] {
  const problems: JobProblem[] = [];
  const spec = `cluster ${cluster.name} (spec routes)`;
  const filtered = selection !== undefined ? ` among the selected job files (BITTE_JOBS=${selection.join(",")})` : "";
  for (const route of cluster.routes) {
    const host = `${route.host}.${cluster.domain}`;
    const defining = jobs.flatMap((j) => j.services.filter((s) => s.name === route.service).map((s) => ({ job: j, service: s })));
    if (defining.length === 0) {
      problems.push({
        file: spec,
        problem: `route ${host} → Consul service "${route.service}": no job defines that service${filtered}`,
        fix: `add a job under jobs/ with a service named "${route.service}", tagged ingress, with a check${selection !== undefined ? ", include its file in BITTE_JOBS" : ""}, or remove the route from the spec`,
      });
    } else if (!defining.some((d) => d.service.tags.includes("ingress"))) {
      const d = defining[0];
      problems.push({
        file: d.job.file,
        line: d.service.line,
        problem: `service "${route.service}" serves route ${host} but is not tagged ingress`,
        fix: 'add `tags = ["ingress"]` and a health check to the service',
      });
    }
  }
  return problems;
}

/** A Nomad datacenter pattern (`*` wildcards) as a regular expression. */
function globRegExp(pattern: string): RegExp {
  return new RegExp(`^${pattern.split("*").map(escapeRegExp).join(".*")}$`);
}
