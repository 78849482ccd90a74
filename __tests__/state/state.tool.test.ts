import { defineCluster } from "../../clusters/spec";
import { StateStack } from "../../stacks/state";
import { resources, synth } from "../harness/synth";
import { terraformTest, terraformUnavailable } from "../harness/terraform";
import { describeIf } from "../harness/tools";
import { s3Spec } from "../fixtures/s3-cluster";

describeIf(terraformUnavailable(), "state stack under terraform (validate + mocked apply)", () => {
  test("creates the bucket on the cluster key", () => {
    const { text, json } = synth((app) => new StateStack(app, "state", { cluster: defineCluster(s3Spec) }));
    const [bucket] = resources(json, "aws_s3_bucket");
    const [key] = resources(json, "aws_kms_key");
    const [sse] = resources(json, "aws_s3_bucket_server_side_encryption_configuration");
    const result = terraformTest({
      stackJson: text,
      asserts: [
        { condition: `${bucket.address}.bucket == "acme-bitte-prod-state"`, message: "the bucket has the spec's name" },
        { condition: `one(${sse.address}.rule).apply_server_side_encryption_by_default[0].kms_master_key_id == ${key.address}.arn`, message: "the state is encrypted with the cluster key" },
        { condition: `output.state_key_arn == ${key.address}.arn`, message: "the key's ARN is an output" },
      ],
      mockDataDefaults: { aws_caller_identity: { account_id: "123456789012" } },
    });
    expect(result.test).toMatch(/1 passed, 0 failed/);
  });
});
