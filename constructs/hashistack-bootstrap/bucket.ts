/**
 * The cluster bucket's prefixes and who reads and writes objects under them: the node roles' S3
 * statements and their use of the cluster key through S3 are derived from it. Snapshots (issue 15)
 * and any later prefix are added here.
 */
import { NODE_ROLES, type NodeRole } from "../node-config/types";

export interface BucketPrefix {
  /** Key prefix, with its trailing slash. */
  readonly prefix: string;
  readonly readers: readonly NodeRole[];
  readonly writers: readonly NodeRole[];
  readonly description: string;
}

export const BUCKET_PREFIXES: readonly BucketPrefix[] = Object.freeze([
  { prefix: "artifacts/", readers: NODE_ROLES, writers: [], description: "files the nodes fetch at boot; written by operators" },
  { prefix: "snapshots/", readers: ["core"], writers: ["core"], description: "Consul, Vault and Nomad raft snapshots, taken and restored by core nodes" },
]);
