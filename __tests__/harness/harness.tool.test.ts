import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Vpc } from "@cdktf/provider-aws/lib/vpc";
import { TerraformStack } from "cdktf";
import { synth } from "./synth";
import { renderTestFile, terraformTest, terraformUnavailable } from "./terraform";
import { describeIf } from "./tools";

const tiny = () =>
  synth((app) => {
    const stack = new TerraformStack(app, "tiny");
    const provider = new AwsProvider(stack, "aws", { alias: "eu-west-1", region: "eu-west-1" });
    new Vpc(stack, "vpc", { provider, cidrBlock: "10.9.0.0/16" });
    return stack;
  });

test("the generated test file mocks every provider alias and overrides remote state", () => {
  const file = renderTestFile({ provider: { aws: [{ alias: "a" }, { alias: "b" }] } }, { stackJson: "{}", remoteStates: { network: { "vpc_id_a": "vpc-1" } }, asserts: [{ condition: "true", message: "m" }] });
  expect(file).toContain('mock_provider "aws" {\n  alias = "a"\n}');
  expect(file).toContain('mock_provider "aws" {\n  alias = "b"\n}');
  expect(file).toContain("target = data.terraform_remote_state.network");
  expect(file).toContain('"vpc_id_a" = "vpc-1"');
});

describeIf(terraformUnavailable(), "terraform harness", () => {
  test("a true assertion passes and a false one fails the run", () => {
    const { text, json } = tiny();
    const vpc = `aws_vpc.${Object.keys(json.resource?.aws_vpc ?? {})[0]}`;
    expect(terraformTest({ stackJson: text, asserts: [{ condition: `${vpc}.cidr_block == "10.9.0.0/16"`, message: "cidr" }] }).test).toMatch(/1 passed/);
    expect(() => terraformTest({ stackJson: text, asserts: [{ condition: `${vpc}.cidr_block == "10.8.0.0/16"`, message: "wrong cidr must fail" }] })).toThrow(/wrong cidr must fail/);
  });
});
