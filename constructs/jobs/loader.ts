/**
 * Loading the job files of a cluster: list `*.nomad.hcl`, apply the selection (`BITTE_JOBS`),
 * parse each with the HCL parser of `@cdktf/hcl2json` and check it. Async because the parser
 * is; `main.ts` awaits it before building the `jobs` stack, which stays synchronous and pure.
 */
import { readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import type { Cluster } from "../../clusters/spec";
import { checkJob, checkRoutes, JOB_FILE_SUFFIX, JobCheckError, type CheckedJob, type JobProblem, type ParsedJobFile } from "./checks";
import type { HclBody } from "./hcl";
import { escapeRegExp } from "./locate";
import type { ParseCache } from "./parse-cache";

export interface LoadJobsOptions {
  /** Directory holding the `*.nomad.hcl` files (not searched recursively). */
  readonly dir: string;
  /** The cluster the jobs are checked against and receive variables from. */
  readonly cluster: Cluster;
  /**
   * Which files to deploy: file names (`web.nomad.hcl`), job names (`web`) or `*` globs
   * (`count*`), as `parseJobSelection` reads them from `BITTE_JOBS`. A pattern that matches no
   * file is an error.
   * @default every job file in `dir`
   */
  readonly select?: readonly string[];
  /**
   * Parsed files from earlier synths (`directoryParseCache`).
   * @default none: every file is parsed
   */
  readonly cache?: ParseCache;
}

/**
 * The `BITTE_JOBS` value as a selection: comma-separated patterns, blanks ignored; undefined
 * (every file) when unset or empty.
 */
export function parseJobSelection(value: string | undefined): readonly string[] | undefined {
  const patterns = (value ?? "")
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p !== "");
  return patterns.length === 0 ? undefined : patterns;
}

/** The job name a file name gives, or undefined when it is not a job file. */
export function jobNameOf(fileName: string): string | undefined {
  return fileName.endsWith(JOB_FILE_SUFFIX) && fileName.length > JOB_FILE_SUFFIX.length ? fileName.slice(0, -JOB_FILE_SUFFIX.length) : undefined;
}

/** Whether `pattern` selects `fileName`: by file name or job name, `*` matching any run of characters. */
export function patternSelects(pattern: string, fileName: string): boolean {
  const p = basename(pattern);
  const re = new RegExp(`^${p.split("*").map(escapeRegExp).join(".*")}$`);
  return re.test(fileName) || re.test(jobNameOf(fileName) ?? "");
}

/** The selected files, and the patterns that selected nothing. */
export function selectJobFiles(fileNames: readonly string[], select: readonly string[] | undefined): { readonly selected: string[]; readonly unmatched: string[] } {
  if (select === undefined) return { selected: [...fileNames], unmatched: [] };
  return {
    selected: fileNames.filter((f) => select.some((p) => patternSelects(p, f))),
    unmatched: select.filter((p) => !fileNames.some((f) => patternSelects(p, f))),
  };
}

/** The job files in `dir`, sorted. */
export function listJobFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => jobNameOf(f) !== undefined)
    .sort();
}

/**
 * Parses one job file's text. A syntax error becomes a problem with the parser's line.
 * `file` is the display path the messages use.
 */
export async function parseJobFile(file: string, source: string, cache?: ParseCache): Promise<{ readonly parsed?: ParsedJobFile; readonly problems: readonly JobProblem[] }> {
  const name = jobNameOf(basename(file)) ?? basename(file);
  const cached = cache?.get(file, source);
  if (cached) return { parsed: { file, name, source, hcl: cached }, problems: [] };
  try {
    // Loaded on first use: the parser is a WebAssembly module that a cache hit never needs.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { parse } = require("@cdktf/hcl2json") as typeof import("@cdktf/hcl2json");
    const hcl = (await parse(file, source)) as HclBody;
    cache?.set(file, source, hcl);
    return { parsed: { file, name, source, hcl }, problems: [] };
  } catch (e) {
    return { problems: [syntaxProblem(file, e instanceof Error ? e.message : String(e))] };
  }
}

/**
 * hcl2json reports `parse config: [<file>:<line>,<col>-<col>: <summary>; <detail>]`; the problem
 * keeps the parser's text without the wrapper and the position.
 */
export function syntaxProblem(file: string, message: string): JobProblem {
  const inner = message.replace(/^parse config: \[/, "").replace(/\]$/, "");
  const pos = new RegExp(`^${escapeRegExp(file)}:(\\d+),\\d+(?:-\\d+(?:,\\d+)?)?: `).exec(inner);
  return {
    file,
    line: pos ? Number(pos[1]) : undefined,
    problem: `HCL syntax error: ${pos ? inner.slice(pos[0].length) : inner}`,
    fix: "correct the syntax at that line (each nested block on its own line, `=` between an argument and its value, balanced braces and quotes), then run `npx cdktf synth` again",
  };
}

/**
 * Loads, parses and checks the selected job files of `dir` against the cluster. Throws a
 * `JobCheckError` listing every problem of every file, so one synth shows them all.
 */
export async function loadJobs(options: LoadJobsOptions): Promise<readonly CheckedJob[]> {
  const display = basename(options.dir);
  const all = listJobFiles(options.dir);
  const { selected, unmatched } = selectJobFiles(all, options.select);
  const problems: JobProblem[] = unmatched.map((p) => ({
    file: display,
    problem: `BITTE_JOBS pattern "${p}" matches no job file`,
    fix: `use a file name, job name or * glob of ${all.length > 0 ? all.join(", ") : `a *${JOB_FILE_SUFFIX} file (there are none)`}`,
  }));
  const jobs: CheckedJob[] = [];
  for (const fileName of selected) {
    const file = `${display}/${fileName}`;
    const { parsed, problems: syntax } = await parseJobFile(file, readFileSync(join(options.dir, fileName), "utf8"), options.cache);
    problems.push(...syntax);
    if (!parsed) continue;
    const result = checkJob(parsed, options.cluster);
    problems.push(...result.problems);
    if (result.job) jobs.push(result.job);
  }
  // Route problems are only meaningful once every selected file is known to be sound.
  if (problems.length === 0) problems.push(...checkRoutes(jobs, options.cluster, options.select));
  if (problems.length > 0) throw new JobCheckError(problems);
  return jobs;
}
