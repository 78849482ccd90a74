import { AcmCertificate } from "@cdktf/provider-aws/lib/acm-certificate";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { Lb } from "@cdktf/provider-aws/lib/lb";
import { Testing } from "cdktf";
import { defineCluster, type ClusterSpec } from "../../clusters/spec";
import example from "../../clusters/example";
import { AUTO_JOIN_TAG_KEY, autoJoinTagValue } from "../../constructs/node-config";
import { CoreStack } from "../../stacks/core";
import { coreOutputs, networkOutputs } from "../../stacks/outputs";
import { coreStack } from "../harness/stacks";
import { ref, regionOf, resources, synth, userDataOf, type StackJson } from "../harness/synth";
import { testClusterSpec, testGroup } from "../harness/specs";

const { text, json } = coreStack(example);


describe("core stack", () => {
  test("snapshot", () => {
    expect(json).toMatchSnapshot();
  });

  test("three core nodes, one per core zone, and the monitoring node, each on its fixed address", () => {
    const enis = resources(json, "aws_network_interface");
    for (const node of [...example.coreNodes, example.monitoringNode]) {
      const eni = enis.find((e) => (e.config.tags as Record<string, string>).Name === node.name);
      expect(eni?.config).toMatchObject({ private_ips: [node.privateIp], subnet_id: `\${data.terraform_remote_state.network.outputs.${networkOutputs.privateSubnetId(node.zone)}}` });
      const instance = resources(json, "aws_instance").find((i) => (i.config.tags as Record<string, string>).Name === node.name);
      expect(instance?.config.network_interface).toEqual([{ device_index: 0, network_interface_id: `\${${ref(`\${aws_network_interface.${eni?.name}.id}`)}}` }]);
    }
  });

  test("core instances carry the auto-join tag; ami and user data changes do not replace them", () => {
    const cores = resources(json, "aws_instance").filter((i) => (i.config.tags as Record<string, string>).Role === "core");
    expect(cores).toHaveLength(3);
    for (const c of cores) {
      expect(c.config.tags).toMatchObject({ [AUTO_JOIN_TAG_KEY]: autoJoinTagValue(example) });
      expect(c.config.lifecycle).toEqual({ ignore_changes: ["ami", "user_data", "user_data_base64"] });
      expect(c.config).toMatchObject({ monitoring: true, metadata_options: { http_tokens: "required", http_put_response_hop_limit: 1 } });
    }
  });

  test("each fixed node has a separate encrypted data volume in its zone, attached", () => {
    const volumes = resources(json, "aws_ebs_volume");
    const attachments = resources(json, "aws_volume_attachment");
    expect(volumes).toHaveLength(4);
    for (const v of volumes) {
      expect(v.config).toMatchObject({ encrypted: true, type: "gp3" });
      expect(attachments.some((a) => ref(a.config.volume_id) === `${v.address}.id`)).toBe(true);
    }
  });

  test("user data renders each node's own configuration, compressed under EC2's limit", () => {
    for (const i of resources(json, "aws_instance")) {
      const data = userDataOf(i);
      expect(data.startsWith("#cloud-config\n")).toBe(true);
      // Each fixed node carries its own name, and the role's configuration.
      const { Name: name, Role: role } = i.config.tags as Record<string, string>;
      expect(data).toContain(`BITTE_NODE_NAME="${name}"`);
      expect(data).toContain(role === "core" ? "bootstrap_expect" : "victoria-metrics");
      expect(Buffer.from(i.config.user_data_base64 as string, "base64").length).toBeLessThan(16384);
    }
    const [lt] = resources(json, "aws_launch_template");
    expect(userDataOf(lt)).toMatch(/haproxy/);
  });

  test("the cluster key rotates, is replicated to every client region, and has the cluster alias", () => {
    expect(text).toHaveResourceWithProperties(KmsKey, { enable_key_rotation: true, multi_region: true });
    const replicas = resources(json, "aws_kms_replica_key");
    expect(replicas.map(regionOf)).toEqual(["us-east-2"]);
    expect(resources(json, "aws_kms_alias").map((a) => [regionOf(a), a.config.name]).sort()).toEqual([
      ["eu-central-1", "alias/bitte-example"],
      ["eu-central-1", "alias/bitte-example-recovery"],
      ["us-east-2", "alias/bitte-example"],
    ]);
  });

  // The only key the core stack then makes is HashiStackBootstrap's recovery key (issue 12).
  const clusterKeys = (j: Parameters<typeof resources>[0]) => resources(j, "aws_kms_key").filter((k) => !k.address.includes("recovery-key"));

  test("a given key ARN is used everywhere and no key is created", () => {
    const spec: ClusterSpec = { ...baseSpec(), kms: { create: false, keyArn: "arn:aws:kms:eu-central-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab" } };
    const { json: j } = synth((app) => new CoreStack(app, "core", { cluster: defineCluster(spec) }));
    expect(clusterKeys(j)).toHaveLength(0);
    expect(j.output?.[coreOutputs.kmsKeyArn("us-east-2")]?.value).toBe("arn:aws:kms:us-east-2:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab");
    for (const v of resources(j, "aws_ebs_volume")) expect(v.config.kms_key_id).toBe("arn:aws:kms:eu-central-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab");
  });

  test("with the S3 backend the key made by the state stack is looked up by alias", () => {
    const { json: j } = synth((app) => new CoreStack(app, "core", { cluster: defineCluster({ ...baseSpec(), backend: { type: "s3", bucket: "acme-state" } }) }));
    expect(clusterKeys(j)).toHaveLength(0);
    expect(resources(j, "aws_kms_key", "data").map((d) => d.config.key_id)).toEqual(["alias/bitte-demo", "alias/bitte-demo"]);
  });

  test("one role and instance profile per node role, with Session Manager and a cluster-scoped policy", () => {
    const roles = resources(json, "aws_iam_role");
    expect(roles.map((r) => r.config.name).sort()).toEqual(["bitte-example-client", "bitte-example-core", "bitte-example-monitoring", "bitte-example-routing"]);
    // No managed policy: AmazonSSMManagedInstanceCore would let every node read every parameter (issue 12).
    expect(resources(json, "aws_iam_role_policy_attachment")).toEqual([]);
    for (const p of resources(json, "aws_iam_role_policy")) {
      const doc = JSON.parse(p.config.policy as string) as { Statement: Array<{ Sid: string; Resource: string | string[] }> };
      const ssm = doc.Statement.find((s) => s.Sid === "ReadBootstrapParameters");
      for (const arn of [ssm?.Resource].flat()) expect(arn).toMatch(/^arn:aws:ssm:eu-central-1:\$\{data\.aws_caller_identity\.[^}]+\}:parameter\/bitte\/example\//);
      // Whoever may create bootstrap parameters may never overwrite them.
      const put = doc.Statement.find((s) => s.Sid === "CreateBootstrapParameters");
      const deny = doc.Statement.find((s) => s.Sid === "NeverOverwriteBootstrapParameters") as { Effect?: string; Resource?: unknown; Condition?: unknown } | undefined;
      if (put) expect(deny).toEqual({ Sid: "NeverOverwriteBootstrapParameters", Effect: "Deny", Action: ["ssm:PutParameter"], Resource: put.Resource, Condition: { StringEquals: { "ssm:Overwrite": "true" } } });
      else expect(deny).toBeUndefined();
    }
  });

  test("the load balancer is public, redirects HTTP, serves TLS 1.2+ with a validated certificate", () => {
    expect(text).toHaveResourceWithProperties(Lb, { internal: false, load_balancer_type: "application", drop_invalid_header_fields: true });
    expect(text).toHaveResourceWithProperties(AcmCertificate, { domain_name: "example.bitte.dev", subject_alternative_names: ["*.example.bitte.dev"], validation_method: "DNS" });
    const listeners = resources(json, "aws_lb_listener").map((l) => l.config);
    expect(listeners).toEqual(expect.arrayContaining([
      expect.objectContaining({ port: 80, default_action: [expect.objectContaining({ type: "redirect" })] }),
      expect.objectContaining({ port: 443, protocol: "HTTPS", ssl_policy: "ELBSecurityPolicy-TLS13-1-2-2021-06" }),
    ]));
    const https = listeners.find((l) => l.port === 443);
    expect(https?.certificate_arn).toMatch(/aws_acm_certificate_validation/);
  });

  test("admin hosts are forwarded only from adminCidrs; public routes from anywhere", () => {
    const rules = resources(json, "aws_lb_listener_rule").map((r) => r.config.condition as Array<Record<string, { values: string[] }>>);
    for (const host of ["consul", "nomad", "vault", "monitoring"]) {
      const admin = rules.filter((c) => c.some((x) => x.host_header?.values[0] === `${host}.example.bitte.dev`) && !c.some((x) => x.path_pattern));
      expect(admin).toHaveLength(1);
      expect(admin[0].find((x) => x.source_ip)?.source_ip.values).toEqual(example.adminCidrs);
    }
    const www = rules.find((c) => c.some((x) => x.host_header?.values[0] === "www.example.bitte.dev"));
    expect(www?.some((x) => x.source_ip)).toBe(false);
    // Nomad's public keys only, for Vault and Consul to verify workload identities.
    const jwks = rules.find((c) => c.some((x) => x.path_pattern));
    expect(jwks).toEqual([{ host_header: { values: ["nomad.example.bitte.dev"] } }, { path_pattern: { values: ["/.well-known/jwks.json"] } }]);
  });

  test("no adminCidrs: no admin rule at all", () => {
    const { json: j } = synth((app) => new CoreStack(app, "core", { cluster: defineCluster({ ...baseSpec(), adminCidrs: [] }) }));
    const rules = resources(j, "aws_lb_listener_rule").map((r) => JSON.stringify(r.config.condition));
    expect(rules.filter((r) => r.includes("source_ip"))).toHaveLength(0);
  });

  test("more admin networks than one rule holds are split over several rules", () => {
    const cidrs = ["198.51.100.0/24", "203.0.113.0/24", "192.0.2.0/24", "100.64.0.0/16", "100.65.0.0/16"];
    const { json: j } = synth((app) => new CoreStack(app, "core", { cluster: defineCluster({ ...baseSpec(), adminCidrs: cidrs }) }));
    const consul = resources(j, "aws_lb_listener_rule").filter((r) => JSON.stringify(r.config.condition).includes("consul.demo"));
    expect(consul.flatMap((r) => (r.config.condition as Array<{ source_ip?: { values: string[] } }>).flatMap((c) => c.source_ip?.values ?? []))).toEqual(cidrs);
  });

  test("the routing group: two HAProxy instances in two zones' private subnets, in the target group, rolled by instance refresh", () => {
    const [asg] = resources(json, "aws_autoscaling_group");
    expect(asg.config).toMatchObject({ min_size: 2, max_size: 2, health_check_type: "ELB", instance_refresh: { strategy: "Rolling" } });
    expect(asg.config.vpc_zone_identifier).toEqual(example.coreZones.slice(0, 2).map((z) => `\${data.terraform_remote_state.network.outputs.${networkOutputs.privateSubnetId(z)}}`));
    expect((asg.config.target_group_arns as string[])[0]).toMatch(/aws_lb_target_group/);
  });

  test("the bucket is private, versioned, encrypted with the cluster key, TLS only", () => {
    expect(resources(json, "aws_s3_bucket_public_access_block")[0].config).toMatchObject({ block_public_acls: true, block_public_policy: true, ignore_public_acls: true, restrict_public_buckets: true });
    expect(resources(json, "aws_s3_bucket_versioning")[0].config).toMatchObject({ versioning_configuration: { status: "Enabled" } });
    const sse = resources(json, "aws_s3_bucket_server_side_encryption_configuration")[0].config as { rule: Array<{ apply_server_side_encryption_by_default: { sse_algorithm: string; kms_master_key_id: string } }> };
    expect(sse.rule[0].apply_server_side_encryption_by_default).toEqual({ sse_algorithm: "aws:kms", kms_master_key_id: expect.stringMatching(/aws_kms_key\./) });
    const policy = JSON.parse(resources(json, "aws_s3_bucket_policy")[0].config.policy as string);
    expect(policy.Statement[0]).toMatchObject({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": false } } });
  });

  test("every output of the contract is there", () => {
    for (const role of ["core", "client", "monitoring", "routing"]) {
      expect(json.output).toHaveProperty([coreOutputs.iamRoleArn(role)]);
      expect(json.output).toHaveProperty([coreOutputs.instanceProfileArn(role)]);
    }
    for (const r of example.regions) expect(json.output).toHaveProperty([coreOutputs.kmsKeyArn(r.name)]);
    expect(json.output).toHaveProperty([coreOutputs.securityGroupId("client")]);
  });

  test("a 16-region cluster warns that the core group needs a raised rule quota", () => {
    const app = Testing.app();
    const stack = new CoreStack(app, "core", { cluster: defineCluster({ ...baseSpec(), clientGroups: manyRegions() }) });
    const warnings = stack.node.findAll().flatMap((c) => c.node.metadata.filter((m) => m.type === "@cdktf/warn").map((m) => String(m.data)));
    expect(warnings.some((w) => /security group core uses \d+ inbound rules of its quota/.test(w))).toBe(true);
  });
});

function baseSpec(): ClusterSpec {
  return testClusterSpec("demo", { clientGroups: [testGroup({ name: "w", region: "us-east-2", min: 0, desired: 0, max: 1 })], adminCidrs: ["198.51.100.0/24"] });
}

function manyRegions(): ClusterSpec["clientGroups"] {
  return ["us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-west-2", "eu-west-3", "ap-south-1"].map((region, i) => ({
    name: `g${i}`,
    region,
    // us-west-1's zone names differ per account, so it has no default zones.
    ...(region === "us-west-1" ? { zones: ["us-west-1a", "us-west-1b"] } : {}),
    instanceType: "m6i.large",
    min: 0,
    desired: 0,
    max: 1,
  }));
}

export type { StackJson };
