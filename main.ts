/**
 * The CDKTF app: reads the cluster named by BITTE_CLUSTER (default `example`) and wires its
 * stacks. Nothing else happens here; tests build stacks directly.
 */
import { App } from "cdktf";
import { loadCluster } from "./clusters/spec/load";
import { addStacks } from "./stacks";

const app = new App();
addStacks(app, loadCluster(process.env.BITTE_CLUSTER || "example"));
app.synth();
