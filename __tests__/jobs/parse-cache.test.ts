import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import example from "../../clusters/example";
import { directoryParseCache, loadJobs, type CheckedJob } from "../../constructs/jobs";

const JOBS_DIR = join(__dirname, "../../jobs");
const FIXTURES = join(__dirname, "../fixtures/jobs");

describe("the parse cache", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "bitte-hcl-cache-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const strip = (jobs: readonly CheckedJob[]) => JSON.parse(JSON.stringify(jobs));

  test("a synth with the cache gives exactly what the parser gives, and stores one entry per file", async () => {
    const parsed = await loadJobs({ dir: JOBS_DIR, cluster: example });
    const first = await loadJobs({ dir: JOBS_DIR, cluster: example, cache: directoryParseCache(dir) });
    const second = await loadJobs({ dir: JOBS_DIR, cluster: example, cache: directoryParseCache(dir) });
    expect(strip(first)).toEqual(strip(parsed));
    expect(strip(second)).toEqual(strip(parsed));
    expect(readdirSync(dir).filter((f) => f.endsWith(".json"))).toHaveLength(parsed.length);
  });

  test("a hit is used instead of parsing: an entry for this very text is what the checks see", async () => {
    const cache = directoryParseCache(dir);
    const [web] = await loadJobs({ dir: JOBS_DIR, cluster: example, select: ["web"], cache });
    // Plant a different body under the same key: the checks must now reject what they are given.
    cache.set(web.file, web.source, { job: { other: [{}] } } as never);
    await expect(loadJobs({ dir: JOBS_DIR, cluster: example, select: ["web"], cache })).rejects.toThrow(/web/);
  });

  test("a file with a syntax error is never cached: its message is always the parser's", async () => {
    const cache = directoryParseCache(dir);
    await expect(loadJobs({ dir: join(FIXTURES, "syntax"), cluster: example, cache })).rejects.toThrow(/HCL syntax error/);
    expect(readdirSync(dir)).toEqual([]);
  });

  test("an unwritable cache directory only costs a parse", async () => {
    // A directory below a regular file can never be created.
    const blocker = join(dir, "file");
    writeFileSync(blocker, "");
    const jobs = await loadJobs({ dir: JOBS_DIR, cluster: example, cache: directoryParseCache(join(blocker, "cache")) });
    expect(jobs.length).toBeGreaterThan(0);
  });
});
