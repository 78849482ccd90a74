/**
 * `bitte snapshot` and `bitte restore` against mocked AWS (EC2 tags, S3, SSM Run Command) and a
 * recorded HTTP call: the restore refuses another cluster's snapshot (by key and by metadata),
 * another product's and another bucket's; it needs the token and --yes; it calls each product's
 * own snapshot API, and Vault's force variant for a rebuilt cluster.
 */
import { DescribeInstancesCommand } from "@aws-sdk/client-ec2";
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { GetCommandInvocationCommand, SendCommandCommand } from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import { CliError } from "../../cli/errors";
import { restore, type RestoreDeps } from "../../cli/commands/restore";
import { snapshot } from "../../cli/commands/snapshot";
import { regionalClients, testContext } from "../cli/helpers";
import { OPS_CLUSTER } from "./harness";

const cluster = OPS_CLUSTER;
const BUCKET = "bitte-ops-2026";
const KEY = "snapshots/vault/ops-20261201T200000Z.snap";

function core(n: number, bucket = BUCKET) {
  return { InstanceId: `i-00c${n}`, PrivateIpAddress: `10.0.${n}.10`, State: { Name: "running" as const }, Placement: { AvailabilityZone: `eu-central-1${"abc"[n - 1]}` }, Tags: [{ Key: "Cluster", Value: "ops" }, { Key: "Role", Value: "core" }, { Key: "Name", Value: `core-${n}` }, { Key: "BitteBucket", Value: bucket }] };
}

function setup(meta: Record<string, string> = { "bitte-cluster": "ops", "bitte-product": "vault" }) {
  const aws = regionalClients();
  const ec2 = mockClient(aws.ec2("eu-central-1"));
  ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [core(1), core(2), core(3)] }] });
  for (const r of cluster.regions.slice(1)) mockClient(aws.ec2(r.name)).on(DescribeInstancesCommand).resolves({ Reservations: [] });
  const s3Client = new S3Client({ region: "eu-central-1", credentials: { accessKeyId: "AKIATEST", secretAccessKey: "test" } });
  const s3 = mockClient(s3Client);
  s3.on(HeadObjectCommand).resolves({ Metadata: meta, ContentLength: 5 });
  // The SDK's streaming body, as far as restore uses it.
  s3.on(GetObjectCommand).callsFake(() => ({ Body: { transformToByteArray: async () => new Uint8Array(Buffer.from("SNAP!")) } }));
  s3.on(ListObjectsV2Command).resolves({ Contents: [{ Key: "snapshots/vault/ops-20261130T200000Z.snap" }, { Key: KEY }, { Key: "snapshots/vault/ops-notes.txt" }] });
  const sent: { url: string; method: string; headers: Record<string, string>; body: string }[] = [];
  let status = 200;
  let answer = "";
  const deps: RestoreDeps = {
    s3: () => s3Client,
    send: async (url, init) => {
      sent.push({ url, method: init.method, headers: init.headers, body: Buffer.from(init.body).toString() });
      return { status, text: async () => answer };
    },
  };
  const ctx = testContext({ aws, env: { VAULT_TOKEN: "hvs.operator", CONSUL_HTTP_TOKEN: "c-op", NOMAD_TOKEN: "n-op" } });
  return { ctx, deps, sent, s3, aws, setStatus: (s: number, a = "") => ((status = s), (answer = a)) };
}

const refused = async (p: Promise<unknown>, message: RegExp) => {
  await expect(p).rejects.toBeInstanceOf(CliError);
  await expect(p).rejects.toThrow(message);
};

describe("bitte restore", () => {
  test("restores this cluster's Vault snapshot through Vault's raft snapshot API with the operator's token", async () => {
    const { ctx, deps, sent } = setup();
    expect(await restore(ctx, cluster, deps, { product: "vault", snapshot: KEY, rebuilt: false, yes: true })).toBe(0);
    expect(sent).toEqual([{ url: "https://vault.ops.example.com/v1/sys/storage/raft/snapshot", method: "POST", headers: { "X-Vault-Token": "hvs.operator", "Content-Type": "application/octet-stream" }, body: "SNAP!" }]);
  });

  test("into a rebuilt cluster Vault's restore is forced; Consul and Nomad use their own APIs", async () => {
    const a = setup();
    await restore(a.ctx, cluster, a.deps, { product: "vault", snapshot: `s3://${BUCKET}/${KEY}`, rebuilt: true, yes: true });
    expect(a.sent[0].url).toBe("https://vault.ops.example.com/v1/sys/storage/raft/snapshot-force");
    const c = setup({ "bitte-cluster": "ops", "bitte-product": "consul" });
    await restore(c.ctx, cluster, c.deps, { product: "consul", snapshot: "ops-20261201T200000Z.snap", rebuilt: false, yes: true });
    expect(c.sent[0]).toMatchObject({ url: "https://consul.ops.example.com/v1/snapshot", method: "PUT", headers: { "X-Consul-Token": "c-op" } });
    const n = setup({ "bitte-cluster": "ops", "bitte-product": "nomad" });
    await restore(n.ctx, cluster, n.deps, { product: "nomad", snapshot: "snapshots/nomad/ops-20261201T200000Z.snap", rebuilt: false, yes: true });
    expect(n.sent[0]).toMatchObject({ url: "https://nomad.ops.example.com/v1/operator/snapshot", method: "PUT", headers: { "X-Nomad-Token": "n-op" } });
  });

  test("latest is the newest of this cluster's snapshots", async () => {
    const { ctx, deps, s3 } = setup();
    await restore(ctx, cluster, deps, { product: "vault", snapshot: "latest", rebuilt: false, yes: true });
    expect(s3.commandCalls(ListObjectsV2Command)[0].args[0].input).toEqual({ Bucket: BUCKET, Prefix: "snapshots/vault/ops-" });
    expect(s3.commandCalls(GetObjectCommand)[0].args[0].input).toEqual({ Bucket: BUCKET, Key: KEY });
  });

  test("refuses another cluster's snapshot by its key, before downloading anything", async () => {
    const { ctx, deps, sent, s3 } = setup();
    await refused(restore(ctx, cluster, deps, { product: "vault", snapshot: "snapshots/vault/prod-20261201T200000Z.snap", rebuilt: false, yes: true }), /it is a snapshot of cluster prod, not ops/);
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(0);
    expect(sent).toEqual([]);
  });

  test("refuses an object whose metadata names another cluster, even under this cluster's key", async () => {
    const { ctx, deps, sent } = setup({ "bitte-cluster": "prod", "bitte-product": "vault" });
    await refused(restore(ctx, cluster, deps, { product: "vault", snapshot: KEY, rebuilt: false, yes: true }), /metadata says cluster "prod".*this is cluster ops/);
    expect(sent).toEqual([]);
  });

  test("refuses another product's snapshot, another bucket, and an unknown product", async () => {
    const { ctx, deps } = setup();
    await refused(restore(ctx, cluster, deps, { product: "consul", snapshot: KEY, rebuilt: false, yes: true }), /it is a vault snapshot, not consul/);
    await refused(restore(ctx, cluster, deps, { product: "vault", snapshot: `s3://other-bucket/${KEY}`, rebuilt: false, yes: true }), /in bucket other-bucket, not cluster ops's bucket/);
    await refused(restore(ctx, cluster, deps, { product: "etcd", snapshot: KEY, rebuilt: false, yes: true }), /Unknown product "etcd"/);
  });

  test("needs the product's token and --yes; without --yes nothing changes", async () => {
    const { deps, sent, aws } = setup();
    const noToken = testContext({ aws, env: {} });
    await refused(restore(noToken, cluster, deps, { product: "vault", snapshot: KEY, rebuilt: false, yes: true }), /VAULT_TOKEN is not set/);
    const ctx = testContext({ aws, env: { VAULT_TOKEN: "t" } });
    await refused(restore(ctx, cluster, deps, { product: "vault", snapshot: KEY, rebuilt: false, yes: false }), /nothing was changed/);
    expect(ctx.out.join("")).toMatch(/Would restore s3:\/\/bitte-ops-2026\/snapshots\/vault\/ops-20261201T200000Z\.snap/);
    expect(sent).toEqual([]);
  });

  test("a refused restore says what the product said and, for Vault's keyring, to pass --rebuilt", async () => {
    const { ctx, deps, setStatus } = setup();
    setStatus(400, '{"errors":["failed to verify hash: keyring does not match"]}');
    await refused(restore(ctx, cluster, deps, { product: "vault", snapshot: KEY, rebuilt: false, yes: true }), /vault refused the snapshot: HTTP 400/);
    await expect(restore(ctx, cluster, deps, { product: "vault", snapshot: KEY, rebuilt: false, yes: true })).rejects.toMatchObject({ hint: expect.stringMatching(/--rebuilt/) });
  });
});

describe("bitte snapshot", () => {
  test("runs bitte-snapshot on every running core node; a failure on one fails the command", async () => {
    const { aws } = setup();
    const ssm = mockClient(aws.ssm("eu-central-1"));
    ssm.on(SendCommandCommand).callsFake((input: { InstanceIds: string[] }) => ({ Command: { CommandId: `cmd-${input.InstanceIds[0]}` } }));
    ssm.on(GetCommandInvocationCommand).callsFake((input: { InstanceId: string }) =>
      input.InstanceId === "i-00c2"
        ? { Status: "Success", ResponseCode: 0, StandardOutputContent: `s3://${BUCKET}/snapshots/consul/ops-20261201T200000Z.snap\n` }
        : { Status: "Success", ResponseCode: 0, StandardOutputContent: "", StandardErrorContent: "not the Consul leader" },
    );
    const ctx = testContext({ aws });
    expect(await snapshot(ctx, cluster, { timeoutMinutes: 5 })).toBe(0);
    const sentTo = ssm.commandCalls(SendCommandCommand).map((c) => [c.args[0].input.InstanceIds, c.args[0].input.Parameters?.commands]);
    expect(sentTo).toEqual([[["i-00c1"], ["/usr/local/sbin/bitte-snapshot"]], [["i-00c2"], ["/usr/local/sbin/bitte-snapshot"]], [["i-00c3"], ["/usr/local/sbin/bitte-snapshot"]]]);
    expect(ctx.out.join("")).toBe(`s3://${BUCKET}/snapshots/consul/ops-20261201T200000Z.snap\n`);

    ssm.on(GetCommandInvocationCommand).resolves({ Status: "Failed", ResponseCode: 1, StandardErrorContent: "vault: snapshot failed" });
    await refused(snapshot(testContext({ aws }), cluster, { timeoutMinutes: 5 }), /bitte-snapshot failed on 3 core node/);
  });
});
