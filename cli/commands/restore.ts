/**
 * `bitte restore <product> <snapshot>`: restore a Consul, Nomad or Vault snapshot from the
 * cluster bucket through the product's own snapshot API on the admin endpoint, with the
 * operator's token from the environment. Refuses a snapshot of another cluster (its key and its
 * `bitte-cluster` metadata must both name this cluster) or of another product, and any bucket but
 * this cluster's.
 *
 * APIs: Consul `PUT /v1/snapshot`; Nomad `PUT /v1/operator/snapshot`; Vault
 * `POST /v1/sys/storage/raft/snapshot`, or `.../snapshot-force` into a rebuilt cluster (a new
 * Vault has a new keyring; the awskms seal with the same cluster key unseals the restored data).
 */
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import type { Cluster } from "../../clusters/spec/types";
import { adminEndpoint } from "../../clusters/spec";
import { SNAPSHOT_PREFIX, SNAPSHOT_PRODUCTS, snapshotKeyPattern, type SnapshotProduct } from "../../constructs/node-config/snapshots";
import type { Context } from "../context";
import { CliError, awsCall } from "../errors";
import { clusterBucket } from "./snapshot";

/** What restore needs besides the context: S3 and an HTTP call with a body. */
export interface RestoreDeps {
  readonly s3: (region: string) => Pick<S3Client, "send">;
  readonly send: (url: string, init: { readonly method: "PUT" | "POST"; readonly headers: Record<string, string>; readonly body: Uint8Array }) => Promise<{ readonly status: number; text(): Promise<string> }>;
}

export interface RestoreOptions {
  readonly product: string;
  /** `snapshots/<product>/<cluster>-<stamp>.snap`, `s3://<bucket>/<that key>`, the file name alone, or `latest`. */
  readonly snapshot: string;
  /** Restore into a rebuilt cluster (Vault: force past the keyring check). */
  readonly rebuilt: boolean;
  /** Without it, only say what would be done. */
  readonly yes: boolean;
}

const TOKENS: Record<SnapshotProduct, { env: string; header: string; path: (rebuilt: boolean) => string; method: "PUT" | "POST"; host: "consul" | "nomad" | "vault" }> = {
  consul: { env: "CONSUL_HTTP_TOKEN", header: "X-Consul-Token", path: () => "/v1/snapshot", method: "PUT", host: "consul" },
  nomad: { env: "NOMAD_TOKEN", header: "X-Nomad-Token", path: () => "/v1/operator/snapshot", method: "PUT", host: "nomad" },
  vault: { env: "VAULT_TOKEN", header: "X-Vault-Token", path: (rebuilt) => (rebuilt ? "/v1/sys/storage/raft/snapshot-force" : "/v1/sys/storage/raft/snapshot"), method: "POST", host: "vault" },
};

export function isProduct(p: string): p is SnapshotProduct {
  return (SNAPSHOT_PRODUCTS as readonly string[]).includes(p);
}

/** The object key the operator means, checked to be this cluster's snapshot of this product. */
export function resolveKey(cluster: Cluster, product: SnapshotProduct, bucket: string, snapshot: string): string {
  let key = snapshot;
  const uri = /^s3:\/\/([^/]+)\/(.+)$/.exec(snapshot);
  if (uri) {
    if (uri[1] !== bucket) throw new CliError(`${snapshot} is in bucket ${uri[1]}, not cluster ${cluster.name}'s bucket ${bucket}.`, `Restore only snapshots of ${cluster.name}; \`aws s3 ls s3://${bucket}/${SNAPSHOT_PREFIX}/${product}/\` lists them.`, 2);
    key = uri[2];
  }
  if (!key.includes("/")) key = `${SNAPSHOT_PREFIX}/${product}/${key}`;
  if (!snapshotKeyPattern(cluster.name, product).test(key)) {
    const other = new RegExp(`^${SNAPSHOT_PREFIX}/([a-z]+)/([a-z][a-z0-9-]*)-\\d{8}T\\d{6}Z\\.snap$`).exec(key);
    const why = other
      ? other[1] !== product
        ? `it is a ${other[1]} snapshot, not ${product}`
        : `it is a snapshot of cluster ${other[2]}, not ${cluster.name}`
      : `it is not a snapshot key (${SNAPSHOT_PREFIX}/${product}/${cluster.name}-<YYYYMMDDTHHMMSSZ>.snap)`;
    throw new CliError(`Refusing ${snapshot}: ${why}.`, `Pass one of ${cluster.name}'s ${product} snapshots (\`bitte restore ${product} latest\` takes the newest), or --cluster for the cluster it belongs to.`, 2);
  }
  return key;
}

export async function restore(ctx: Context, cluster: Cluster, deps: RestoreDeps, options: RestoreOptions): Promise<number> {
  const { product } = options;
  if (!isProduct(product)) throw new CliError(`Unknown product ${JSON.stringify(product)}.`, `Use one of ${SNAPSHOT_PRODUCTS.join(", ")}.`, 2);
  const api = TOKENS[product];
  const token = ctx.env[api.env];
  if (!token) throw new CliError(`${api.env} is not set: restoring ${product} needs a management token.`, 'eval "$(bitte tokens --export)" sets it from SSM (operator credentials).', 2);

  const region = cluster.coreRegion;
  const bucket = await clusterBucket(ctx, cluster);
  const s3 = deps.s3(region);
  let key: string;
  if (options.snapshot === "latest") {
    const prefix = `${SNAPSHOT_PREFIX}/${product}/${cluster.name}-`;
    const listed = await awsCall(`s3:ListBucket ${bucket}/${prefix}`, () => s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix })));
    const keys = (listed.Contents ?? []).map((o) => o.Key ?? "").filter((k) => snapshotKeyPattern(cluster.name, product).test(k)).sort();
    if (keys.length === 0) throw new CliError(`No ${product} snapshot of ${cluster.name} in s3://${bucket}/${prefix}*.`, "Take one with `bitte snapshot`.", 1);
    key = keys[keys.length - 1];
  } else {
    key = resolveKey(cluster, product, bucket, options.snapshot);
  }

  // The metadata the core node wrote must agree: a renamed or copied object is refused too.
  const head = await awsCall(`s3:GetObject s3://${bucket}/${key}`, () => s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })));
  const meta = head.Metadata ?? {};
  if (meta["bitte-cluster"] !== cluster.name || meta["bitte-product"] !== product) {
    throw new CliError(
      `Refusing s3://${bucket}/${key}: its metadata says cluster ${JSON.stringify(meta["bitte-cluster"] ?? null)}, product ${JSON.stringify(meta["bitte-product"] ?? null)}; this is cluster ${cluster.name}, product ${product}.`,
      "Only restore snapshots bitte-snapshot took for this cluster.",
      2,
    );
  }
  const url = adminEndpoint(cluster, api.host) + api.path(options.rebuilt);
  if (!options.yes) {
    ctx.stdout.write(`Would restore s3://${bucket}/${key} (${head.ContentLength ?? "?"} bytes) into ${product} of ${cluster.name}: ${api.method} ${url}\n`);
    throw new CliError(`Restoring replaces ${product}'s whole state; nothing was changed.`, `Run again with --yes${product === "vault" && !options.rebuilt ? " (add --rebuilt for a cluster rebuilt since the snapshot)" : ""}.`, 1);
  }

  ctx.progress.start(`Downloading s3://${bucket}/${key}`);
  const object = await awsCall(`s3:GetObject s3://${bucket}/${key}`, () => s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })));
  const body = await object.Body?.transformToByteArray();
  if (!body || body.length === 0) {
    ctx.progress.fail();
    throw new CliError(`s3://${bucket}/${key} is empty.`);
  }
  ctx.progress.succeed(`Downloaded ${body.length} bytes`);
  ctx.progress.start(`Restoring ${product}: ${api.method} ${url}`);
  const res = await deps.send(url, { method: api.method, headers: { [api.header]: token, "Content-Type": "application/octet-stream" }, body });
  if (res.status < 200 || res.status >= 300) {
    ctx.progress.fail();
    const text = (await res.text()).slice(0, 500);
    const hint =
      product === "vault" && !options.rebuilt && /keyring|unseal/i.test(text)
        ? "The snapshot comes from an earlier Vault (rebuilt cluster): run again with --rebuilt."
        : `Check that ${api.env} is a management token and that ${adminEndpoint(cluster, api.host)} answers from here (adminCidrs).`;
    throw new CliError(`${product} refused the snapshot: HTTP ${res.status}: ${text}`, hint);
  }
  ctx.progress.succeed(`${product} restored from ${key}`);
  ctx.stdout.write(`restored s3://${bucket}/${key}\n`);
  return 0;
}
