import { defineCluster } from "../../clusters/spec";
import { s3Spec } from "../fixtures/s3-cluster";
import example from "../../clusters/example";
import { StateStack } from "../../stacks/state";
import { regionOf, resources, synth } from "../harness/synth";


describe("state stack (S3 backend)", () => {
  const { json } = synth((app) => new StateStack(app, "state", { cluster: defineCluster(s3Spec) }));

  test("snapshot", () => {
    expect(json).toMatchSnapshot();
  });

  test("keeps its own state locally: it creates what the S3 backend needs", () => {
    expect(json.terraform?.backend).toEqual({ local: { path: "../../../terraform.prod.state.tfstate" } });
  });

  test("the bucket has the spec's exact name, is private, versioned and encrypted with the cluster key", () => {
    const [bucket] = resources(json, "aws_s3_bucket");
    expect(bucket.config).toMatchObject({ bucket: "acme-bitte-prod-state", force_destroy: false, provider: "aws.eu-central-1" });
    expect(resources(json, "aws_s3_bucket_public_access_block")).toHaveLength(1);
    expect(resources(json, "aws_s3_bucket_versioning")[0].config).toMatchObject({ versioning_configuration: { status: "Enabled" } });
    const sse = JSON.stringify(resources(json, "aws_s3_bucket_server_side_encryption_configuration")[0].config);
    expect(sse).toMatch(/"kms_master_key_id":"\$\{aws_kms_key\.[^"]+\.arn\}","sse_algorithm":"aws:kms"/);
  });

  test("creates the cluster key (with its replicas) before any other stack exists", () => {
    expect(resources(json, "aws_kms_key")[0].config).toMatchObject({ enable_key_rotation: true, multi_region: true });
    expect(resources(json, "aws_kms_replica_key").map(regionOf)).toEqual(["us-east-2"]);
  });

  test("with an existing key nothing but the bucket is created", () => {
    const { json: j } = synth((app) => new StateStack(app, "state", { cluster: defineCluster({ ...s3Spec, kms: { create: false, keyArn: "arn:aws:kms:eu-central-1:123456789012:key/mrk-0123456789abcdef0123456789abcdef" } }) }));
    expect(resources(j, "aws_kms_key")).toHaveLength(0);
    expect(JSON.stringify(resources(j, "aws_s3_bucket_server_side_encryption_configuration")[0].config)).toContain("arn:aws:kms:eu-central-1:123456789012:key/mrk-0123456789abcdef0123456789abcdef");
  });

  test("a cluster on local state has no state stack", () => {
    expect(() => synth((app) => new StateStack(app, "state", { cluster: example }))).toThrow(/only for the S3 backend/);
  });

  test("the state bucket's region must be one of the cluster's regions", () => {
    expect(() => defineCluster({ ...s3Spec, backend: { type: "s3", bucket: "acme-bitte-prod-state", region: "ap-south-1" } })).toThrow(/backend.region = "ap-south-1": the state is encrypted with the cluster key/);
  });
});
