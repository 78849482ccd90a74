import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Cluster } from "../../clusters/spec";
import example from "../../clusters/example";
import large from "../../scripts/large-cluster";
import { coreStack, upstreamOutputs } from "../harness/stacks";
import { resources, userDataOf, type StackJson } from "../harness/synth";
import { terraformTest, terraformUnavailable, type TfAssert } from "../harness/terraform";
import { describeIf, describeWithTools, run } from "../harness/tools";

/**
 * What Terraform must see after a mocked apply of core: the fixed nodes on their own interfaces
 * and addresses with their data volumes attached, IMDSv2, the routing group in the target group,
 * HTTPS on the validated certificate, the bucket encrypted with the cluster key.
 */
function coreAsserts(cluster: Cluster, json: StackJson): TfAssert[] {
  const asserts: TfAssert[] = [];
  const enis = resources(json, "aws_network_interface");
  const instances = resources(json, "aws_instance");
  for (const node of [...cluster.coreNodes, cluster.monitoringNode]) {
    const named = <T extends { config: Record<string, unknown> }>(xs: T[]) => xs.find((x) => (x.config.tags as Record<string, string>).Name === node.name);
    const eni = named(enis);
    const instance = named(instances);
    if (!eni || !instance) throw new Error(`no ${node.name}`);
    asserts.push(
      { condition: `${eni.address}.private_ips == toset(["${node.privateIp}"])`, message: `${node.name} keeps ${node.privateIp}` },
      { condition: `one(${instance.address}.network_interface).network_interface_id == ${eni.address}.id`, message: `${node.name} runs on its own interface` },
      { condition: `${instance.address}.metadata_options[0].http_tokens == "required"`, message: `${node.name} requires IMDSv2` },
      { condition: `${instance.address}.root_block_device[0].encrypted`, message: `${node.name}'s root volume is encrypted` },
    );
  }
  for (const a of resources(json, "aws_volume_attachment")) {
    const volume = String(a.config.volume_id).replace(/^\$\{|\}$/g, "");
    const instance = String(a.config.instance_id).replace(/^\$\{|\}$/g, "");
    asserts.push({ condition: `${a.address}.volume_id == ${volume} && ${a.address}.instance_id == ${instance}`, message: `${a.address} attaches its data volume` });
  }
  for (const v of resources(json, "aws_ebs_volume")) asserts.push({ condition: `${v.address}.encrypted && ${v.address}.kms_key_id != ""`, message: `${v.address} is encrypted with the cluster key` });
  const [asg] = resources(json, "aws_autoscaling_group");
  const [tg] = resources(json, "aws_lb_target_group");
  asserts.push({ condition: `contains(${asg.address}.target_group_arns, ${tg.address}.arn)`, message: "the routing group is in the target group" });
  const https = resources(json, "aws_lb_listener").find((l) => l.config.port === 443);
  const [validation] = resources(json, "aws_acm_certificate_validation");
  asserts.push({ condition: `${https?.address}.certificate_arn == ${validation.address}.certificate_arn`, message: "HTTPS serves the validated certificate" });
  const [sse] = resources(json, "aws_s3_bucket_server_side_encryption_configuration");
  asserts.push({ condition: `one(${sse.address}.rule).apply_server_side_encryption_by_default[0].sse_algorithm == "aws:kms"`, message: "the bucket is KMS-encrypted" });
  return asserts;
}

describeIf(terraformUnavailable(), "core stack under terraform (validate + mocked apply)", () => {
  test.each([
    ["example", example],
    ["16-region", large],
  ])("%s cluster", (_name, cluster) => {
    const { text, json } = coreStack(cluster);
    const result = terraformTest({
      stackJson: text,
      remoteStates: upstreamOutputs(cluster, ["network"]),
      asserts: coreAsserts(cluster, json),
      mockDefaults: {
        // ACM answers with one shared CNAME for the apex and the wildcard.
        aws_acm_certificate: {
          domain_validation_options: [{ domain_name: cluster.domain, resource_record_name: `_x1.${cluster.domain}.`, resource_record_type: "CNAME", resource_record_value: "_x2.acm-validations.aws." }],
        },
      },
      mockDataDefaults: { aws_caller_identity: { account_id: "123456789012" } },
    });
    expect(result.validate).toMatch(/The configuration is valid/);
    expect(result.test).toMatch(/1 passed, 0 failed/);
  });
});

describeWithTools(["cloud-init"], "core user data as it lands in the JSON", () => {
  const { json } = coreStack(example);
  const dir = mkdtempSync(join(tmpdir(), "bitte-core-ud-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const carriers = [...resources(json, "aws_instance"), ...resources(json, "aws_launch_template")];

  test.each(carriers.map((r) => [r.address, r] as const))("cloud-init schema accepts %s", (address, r) => {
    const path = join(dir, `${r.name}.yaml`);
    writeFileSync(path, userDataOf(r));
    const out = run("cloud-init", ["schema", "--config-file", path]);
    expect({ address, status: out.status, out: out.stdout + out.stderr }).toEqual({ address, status: 0, out: expect.stringContaining("Valid cloud-config") });
  });
});
