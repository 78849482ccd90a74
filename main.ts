/**
 * The CDKTF app: reads the cluster named by BITTE_CLUSTER (default `example`) and the job files
 * selected by BITTE_JOBS (default all of `jobs/`), and wires the stacks. Nothing else happens
 * here; tests build stacks directly.
 */
import "./stacks/startup"; // before cdktf: trims its start-up (see there)
import { join } from "node:path";
import { App } from "cdktf";
import { loadCluster } from "./clusters/spec/load";
import { directoryParseCache, loadJobs, parseJobSelection } from "./constructs/jobs";
import { directoryUserDataStore, useUserDataStore } from "./constructs/user-data";
import { addStacks } from "./stacks";
import { checkOutdir, DEFAULT_CLUSTER, DEFAULT_SYNTH_DIR } from "./stacks/layout";

async function main(): Promise<void> {
  const cluster = loadCluster(process.env.BITTE_CLUSTER || DEFAULT_CLUSTER);
  // The cdktf CLI passes its output directory (cdktf.json `output`, or `--output`).
  checkOutdir(cluster.name, process.env.CDKTF_OUTDIR || DEFAULT_SYNTH_DIR, __dirname);
  const jobs = await loadJobs({
    dir: join(__dirname, "jobs"),
    cluster,
    select: parseJobSelection(process.env.BITTE_JOBS),
    cache: directoryParseCache(join(__dirname, "node_modules", ".cache", "bitte-hcl")),
  });
  useUserDataStore(directoryUserDataStore(join(__dirname, "node_modules", ".cache", "bitte-user-data")));
  // Construct stack traces only help debugging cdktf itself, and cost a tenth of the synth.
  const app = new App({ stackTraces: false });
  addStacks(app, cluster, { jobs });
  app.synth();
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
