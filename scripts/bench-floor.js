"use strict";
// The bench's floor (DESIGN.md, Performance): node loading cdktf and one deep-imported AWS
// resource, and synthesizing it. Plain JavaScript and plain cdktf: none of the app's loader or trims.
const { App, TerraformStack } = require("cdktf");
const { AwsProvider } = require("@cdktf/provider-aws/lib/provider");
const { Vpc } = require("@cdktf/provider-aws/lib/vpc");

const app = new App();
const stack = new TerraformStack(app, "floor");
new AwsProvider(stack, "aws", { region: "eu-central-1" });
new Vpc(stack, "vpc", { cidrBlock: "10.0.0.0/16" });
app.synth();
