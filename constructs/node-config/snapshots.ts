/**
 * Raft snapshots on the core nodes: a timer runs bitte-snapshot every `snapshots.intervalMinutes`
 * on each core node; only the Consul leader takes the snapshots (see the script), so the cluster
 * stores one Consul, one Nomad and one Vault snapshot per interval under `snapshots/<product>/`.
 */
import { clusterKeyId } from "../../stacks/base";
import { PATHS } from "./paths";
import { timedScriptFiles } from "./timed-script";
import type { NodeContext, NodeFile } from "./types";

/** Key prefix of every snapshot in the cluster bucket (IAM, lifecycle and the CLI use it too). */
export const SNAPSHOT_PREFIX = "snapshots";
/** The products snapshotted, in the order they are taken. */
export const SNAPSHOT_PRODUCTS = Object.freeze(["consul", "nomad", "vault"] as const);
export type SnapshotProduct = (typeof SNAPSHOT_PRODUCTS)[number];
/** Instance tag of the core nodes carrying the cluster bucket's name (set by the core stack). */
export const SNAPSHOT_BUCKET_TAG = "BitteBucket";
/** Node exporter's textfile collector directory (Debian's default for the package). */
export const TEXTFILE_DIR = "/var/lib/prometheus/node-exporter";

export const SNAPSHOT_PATHS = Object.freeze({
  script: "/usr/local/sbin/bitte-snapshot",
  env: "/etc/bitte/snapshot.env",
});

/** The timer and the units the bootstrap starts after the first boot. */
export const SNAPSHOT_UNITS = Object.freeze(["bitte-snapshot.timer"]);

/** `s3://…/snapshots/<product>/<cluster>-<stamp>.snap`: the key a snapshot of this cluster gets. */
export function snapshotKeyPattern(cluster: string, product: SnapshotProduct): RegExp {
  return new RegExp(`^${SNAPSHOT_PREFIX}/${product}/${cluster}-\\d{8}T\\d{6}Z\\.snap$`);
}

function env(ctx: NodeContext): Record<string, string> {
  return {
    BITTE_CLUSTER: ctx.cluster.name,
    BITTE_NODE_NAME: ctx.nodeName ?? "",
    BITTE_NODE_ENV: PATHS.nodeEnv,
    BITTE_SSM_PREFIX: ctx.cluster.ssmPrefix,
    BITTE_SSM_REGION: ctx.cluster.coreRegion,
    BITTE_KMS_KEY_ID: clusterKeyId(ctx.cluster),
    BITTE_TLS_DIR: PATHS.tlsDir,
    BITTE_TEXTFILE_DIR: TEXTFILE_DIR,
    BITTE_BUCKET_TAG: SNAPSHOT_BUCKET_TAG,
    // Vault's AWS auth checks this header (stacks/consul.ts, VaultAwsAuth serverIdHeader).
    BITTE_VAULT_SERVER_ID: `vault.${ctx.cluster.domain}`,
    BITTE_SNAPSHOT_PRODUCTS: SNAPSHOT_PRODUCTS.join(" "),
  };
}

/** The core node's snapshot files. */
export function snapshotFiles(ctx: NodeContext): NodeFile[] {
  const intervalMinutes = ctx.cluster.operations.snapshots.intervalMinutes;
  return timedScriptFiles({
    name: "bitte-snapshot",
    scriptPath: SNAPSHOT_PATHS.script,
    scriptAsset: "scripts/bitte-snapshot.sh",
    envPath: SNAPSHOT_PATHS.env,
    env: env(ctx),
    service: {
      description: "Bitte raft snapshots to the cluster bucket (the Consul leader only)",
      after: ["consul.service", "nomad.service", "vault.service", "bitte-bootstrap.service"],
      readWritePaths: TEXTFILE_DIR,
      timeoutStart: "30min",
    },
    timer: { description: `Bitte raft snapshots every ${intervalMinutes} minutes`, lines: ["OnBootSec=15min", `OnUnitActiveSec=${intervalMinutes}min`, "AccuracySec=1min"] },
  });
}
