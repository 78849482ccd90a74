import { AutoscalingLifecycleHook } from "@cdktf/provider-aws/lib/autoscaling-lifecycle-hook";
import { LaunchTemplate } from "@cdktf/provider-aws/lib/launch-template";
import { defineCluster, type Cluster } from "../../clusters/spec";
import example from "../../clusters/example";
import { CLIENT_METADATA_OPTIONS, DRAIN_HOOK_NAME, DRAIN_SCRIPT, drainTimings, TERMINATE_ACTION_DETAIL_TYPE } from "../../constructs/client-group";
import { DRAIN_GRACE_SECONDS } from "../../constructs/client-group/drain";
import { CLIENT_DRAIN_DEADLINE_SECONDS, PATHS, renderNodeFiles, renderUserData } from "../../constructs/node-config";
import { clientPortsFrom, ingressRules } from "../../constructs/security/rules";
import large from "../../scripts/large-cluster";
import { coreOutputs, networkOutputs } from "../../stacks/outputs";
import { allResources, ref, regionOf, resources } from "../harness/synth";
import { clientsStack, documentContent, drainResources, groupResources, remote, userDataOf } from "./helpers";

const CLUSTERS: ReadonlyArray<readonly [string, Cluster]> = [
  ["example", example],
  ["16-region", large],
];
const clientRegions = (c: Cluster) => c.regions.filter((r) => c.clientGroups.some((g) => g.region === r.name));

describe("clients stack (example)", () => {
  const { text, json } = clientsStack(example);

  test("snapshot", () => {
    expect(json).toMatchSnapshot();
  });

  test("the launch template of each group has the image, first instance type, client profile and node class tags", () => {
    const g = example.clientGroups[0];
    expect(text).toHaveResourceWithProperties(LaunchTemplate, {
      name: `bitte-example-${g.name}`,
      instance_type: g.instanceTypes[0],
      image_id: "${data.aws_ami.image-eu-central-1.id}",
      iam_instance_profile: { arn: remote("core", coreOutputs.instanceProfileArn("client")) },
      vpc_security_group_ids: [remote("core", coreOutputs.securityGroupId("client"))],
      update_default_version: true,
      metadata_options: { http_endpoint: "enabled", http_tokens: "required", http_put_response_hop_limit: 2, instance_metadata_tags: "enabled" },
    });
    expect(text).toHaveResourceWithProperties(AutoscalingLifecycleHook, { name: DRAIN_HOOK_NAME, lifecycle_transition: "autoscaling:EC2_INSTANCE_TERMINATING", default_result: "CONTINUE" });
  });

  test("a group with several instance types is a mixed-instances group without a top-level launch template", () => {
    const mixed = example.clientGroups.find((g) => g.instanceTypes.length > 1);
    const single = example.clientGroups.find((g) => g.instanceTypes.length === 1);
    if (!mixed || !single) throw new Error("the example needs a mixed and a single-type group");
    const m = groupResources(json, example, mixed.name);
    expect(m.asg.config.launch_template).toBeUndefined();
    expect(m.asg.config.mixed_instances_policy).toEqual({
      instances_distribution: { on_demand_allocation_strategy: "prioritized", on_demand_base_capacity: 0, on_demand_percentage_above_base_capacity: 100 },
      launch_template: {
        launch_template_specification: { launch_template_id: `\${${m.lt.address}.id}`, version: `\${${m.lt.address}.latest_version}` },
        override: mixed.instanceTypes.map((instance_type) => ({ instance_type })),
      },
    });
    const s = groupResources(json, example, single.name);
    expect(s.asg.config.mixed_instances_policy).toBeUndefined();
    expect(s.asg.config.launch_template).toEqual({ id: `\${${s.lt.address}.id}`, version: `\${${s.lt.address}.latest_version}` });
  });

  test("the IAM role may only send the drain documents, only to the cluster's instances", () => {
    const [policy] = resources(json, "aws_iam_role_policy");
    const doc = JSON.parse(String(policy.config.policy)) as { Statement: Array<{ Action: string[]; Resource: string[]; Condition?: unknown }> };
    for (const s of doc.Statement) {
      expect(s.Action).toEqual(["ssm:SendCommand"]);
      for (const r of s.Resource) expect(r).not.toBe("*");
    }
    const documents = resources(json, "aws_ssm_document").map((d) => `\${${d.address}.arn}`);
    expect(doc.Statement[0].Resource.sort()).toEqual(documents.sort());
    expect(doc.Statement[1]).toMatchObject({ Condition: { StringEquals: { "ssm:resourceTag/Cluster": "example" } } });
    expect(doc.Statement[1].Resource.sort()).toEqual(clientRegions(example).map((r) => `arn:aws:ec2:${r.name}:\${data.aws_caller_identity.account.account_id}:instance/*`).sort());
    const [role] = resources(json, "aws_iam_role");
    expect(JSON.parse(String(role.config.assume_role_policy))).toMatchObject({ Statement: [{ Principal: { Service: "events.amazonaws.com" }, Action: ["sts:AssumeRole"] }] });
  });

  test("the drain document embeds the shipped script verbatim and takes the event's instance, group and hook", () => {
    for (const region of clientRegions(example)) {
      const { document } = drainResources(json, region.name);
      expect(document.config).toMatchObject({ document_type: "Command", document_format: "JSON" });
      const content = JSON.parse(documentContent(document)) as { schemaVersion: string; parameters: Record<string, unknown>; mainSteps: Array<{ action: string; inputs: { runCommand: string[]; timeoutSeconds: string } }> };
      expect(content.schemaVersion).toBe("2.2");
      expect(Object.keys(content.parameters).sort()).toEqual(["AutoScalingGroupName", "InstanceId", "LifecycleHookName"]);
      const [step] = content.mainSteps;
      expect(step.action).toBe("aws:runShellScript");
      const commands = step.inputs.runCommand.join("\n");
      expect(commands).toContain(`\n${DRAIN_SCRIPT}BITTE_DRAIN_SCRIPT\n`);
      expect(commands).toContain(`export BITTE_REGION='${region.name}'`);
      expect(commands).toContain(`export BITTE_DRAIN_DEADLINE='${CLIENT_DRAIN_DEADLINE_SECONDS}'`);
      // No shared token: the document passes no SSM parameter to read one from.
      expect(commands).not.toMatch(/BITTE_SSM_|TOKEN/);
      // The only `${` Terraform sees are escaped ones.
      expect(String(document.config.content)).not.toMatch(/(^|[^$])\$\{/);
    }
    // The agent drains itself on stop (drain_on_shutdown); the script calls neither the Nomad CLI nor SSM.
    expect(DRAIN_SCRIPT).toContain('timeout "$((BITTE_DRAIN_DEADLINE + BITTE_DRAIN_GRACE))" systemctl stop nomad');
    expect(DRAIN_SCRIPT).not.toMatch(/^\s*(nomad|aws ssm)\b|NOMAD_TOKEN|get-parameter/m);
    expect(DRAIN_SCRIPT).toMatch(/bitte-aws --region "\$BITTE_REGION" complete-lifecycle-action[^\n]*\\\n[^\n]*--hook "\$BITTE_HOOK" --group "\$BITTE_GROUP" --instance-id "\$BITTE_INSTANCE_ID" --result CONTINUE/);
  });

  test("the user data of each group is the client renderer's for its region and node class", () => {
    for (const g of example.clientGroups) {
      const { lt } = groupResources(json, example, g.name);
      expect(userDataOf(lt)).toBe(renderUserData({ cluster: example, role: "client", region: g.region, nodeClass: g.nodeClass }));
    }
  });

  test("instances and volumes carry Name, Role, NodeClass and the cluster's tags (default tags do not reach them)", () => {
    for (const g of example.clientGroups) {
      const { lt } = groupResources(json, example, g.name);
      const tags = { Name: `example-${g.name}`, Role: "client", NodeClass: g.nodeClass, Cluster: "example", ManagedBy: "bitte" };
      expect(lt.config.tag_specifications).toEqual([
        { resource_type: "instance", tags },
        { resource_type: "volume", tags },
      ]);
    }
  });

  test("a client region outside the core region gets a security group from the catalogue, without port 22 or the world", () => {
    const core = example.regions.find((r) => r.isCore);
    const remote = example.regions.filter((r) => !r.isCore);
    expect(resources(json, "aws_security_group").map(regionOf).sort()).toEqual(remote.map((r) => r.name).sort());
    const rules = resources(json, "aws_vpc_security_group_ingress_rule");
    for (const r of rules) {
      expect(r.config.cidr_ipv4).not.toBe("0.0.0.0/0");
      expect(Number(r.config.from_port) <= 22 && Number(r.config.to_port) >= 22).toBe(false);
    }
    const fromSelf = rules.filter((r) => r.config.referenced_security_group_id);
    for (const r of fromSelf) expect(r.config.referenced_security_group_id).toBe(r.config.security_group_id);
    const ports = (rs: typeof rules) => rs.map((r) => `${r.config.ip_protocol}/${r.config.from_port}-${r.config.to_port}`).sort();
    const specs = (ps: ReturnType<typeof clientPortsFrom>) => ps.map((p) => `${p.protocol}/${p.port}-${p.toPort ?? p.port}`).sort();
    expect(ports(fromSelf)).toEqual(specs(ingressRules().filter((r) => r.to === "client" && r.from === "client")));
    expect(ports(rules.filter((r) => r.config.cidr_ipv4 === core?.cidr))).toEqual(specs(clientPortsFrom(["core", "monitoring", "routing", "client"])));
    expect(resources(json, "aws_vpc_security_group_egress_rule").map((e) => e.config)).toEqual(remote.map(() => expect.objectContaining({ cidr_ipv4: "0.0.0.0/0", ip_protocol: "-1" })));
  });
});

describe.each(CLUSTERS)("clients stack properties (%s cluster)", (_name, cluster) => {
  const { json } = clientsStack(cluster);

  test("one launch template, group and termination hook per spec group, nothing else of them", () => {
    expect(resources(json, "aws_autoscaling_group")).toHaveLength(cluster.clientGroups.length);
    expect(resources(json, "aws_launch_template")).toHaveLength(cluster.clientGroups.length);
    expect(resources(json, "aws_autoscaling_lifecycle_hook")).toHaveLength(cluster.clientGroups.length);
  });

  test("every group's subnets are the private subnet outputs of its zones, all in its region", () => {
    for (const g of cluster.clientGroups) {
      for (const z of g.zones) expect(z.startsWith(g.region)).toBe(true);
      const { asg } = groupResources(json, cluster, g.name);
      expect(asg.config.vpc_zone_identifier).toEqual(g.zones.map((z) => remote("network", networkOutputs.privateSubnetId(z))));
    }
  });

  test("each group's resources use its region's provider; every resource names a client region's provider", () => {
    for (const g of cluster.clientGroups) {
      const { lt, asg, hook } = groupResources(json, cluster, g.name);
      expect([regionOf(lt), regionOf(asg), regionOf(hook)]).toEqual([g.region, g.region, g.region]);
      if (cluster.image.type === "name") expect(lt.config.image_id).toBe(`\${data.aws_ami.image-${g.region}.id}`);
    }
    const allowed = [cluster.coreRegion, ...clientRegions(cluster).map((r) => r.name)];
    for (const r of allResources(json)) expect(allowed).toContain(regionOf(r));
    for (const r of resources(json, "aws_ami", "data")) expect(clientRegions(cluster).map((c) => `image-${c.name}`)).toContain(r.name);
  });

  test("launch templates require IMDSv2 (hop limit 2) and encrypt every volume with their region's key", () => {
    for (const g of cluster.clientGroups) {
      const { lt } = groupResources(json, cluster, g.name);
      expect(lt.config.metadata_options).toEqual({ http_endpoint: "enabled", http_tokens: "required", http_put_response_hop_limit: CLIENT_METADATA_OPTIONS.httpPutResponseHopLimit, instance_metadata_tags: "enabled" });
      const devices = lt.config.block_device_mappings as Array<{ device_name: string; ebs: Record<string, unknown> }>;
      expect(devices.map((d) => d.ebs.volume_size)).toEqual([g.rootVolumeGb, g.dataVolumeGb]);
      for (const d of devices) expect(d.ebs).toMatchObject({ encrypted: "true", kms_key_id: remote("core", coreOutputs.kmsKeyArn(g.region)) });
    }
  });

  test("groups: sizes from the spec, rolling refresh, OldestLaunchTemplate first, capacity rebalance, desired capacity ignored", () => {
    for (const g of cluster.clientGroups) {
      const { asg } = groupResources(json, cluster, g.name);
      expect(asg.config).toMatchObject({
        min_size: g.min,
        desired_capacity: g.desired,
        max_size: g.max,
        capacity_rebalance: true,
        health_check_grace_period: 300,
        instance_refresh: { strategy: "Rolling", preferences: { min_healthy_percentage: 90 } },
        lifecycle: { ignore_changes: ["desired_capacity"] },
      });
      expect((asg.config.termination_policies as string[])[0]).toBe("OldestLaunchTemplate");
      expect(asg.config.max_instance_lifetime).toBe(g.maxInstanceLifetimeSeconds);
    }
  });

  test("hook, rule, document and target of each region are wired to exactly that region's groups", () => {
    const timings = drainTimings(CLIENT_DRAIN_DEADLINE_SECONDS);
    const [role] = resources(json, "aws_iam_role");
    for (const region of clientRegions(cluster)) {
      const groups = cluster.clientGroups.filter((g) => g.region === region.name);
      const names = groups.map((g) => `bitte-${cluster.name}-${g.name}`);
      const { document, rule, target } = drainResources(json, region.name);
      for (const g of groups) {
        const { hook } = groupResources(json, cluster, g.name);
        expect(hook.config).toMatchObject({ name: DRAIN_HOOK_NAME, heartbeat_timeout: timings.heartbeatSeconds, default_result: "CONTINUE" });
      }
      expect(JSON.parse(String(rule.config.event_pattern))).toEqual({
        source: ["aws.autoscaling"],
        "detail-type": [TERMINATE_ACTION_DETAIL_TYPE],
        detail: { AutoScalingGroupName: names, LifecycleHookName: [DRAIN_HOOK_NAME] },
      });
      expect(ref(target.config.rule)).toBe(`${rule.address}.name`);
      expect(ref(target.config.arn)).toBe(`${document.address}.arn`);
      expect(ref(target.config.role_arn)).toBe(`${role.address}.arn`);
      expect(target.config.run_command_targets).toEqual([{ key: "tag:aws:autoscaling:groupName", values: names }]);
      const transformer = target.config.input_transformer as { input_paths: Record<string, string>; input_template: string };
      expect(transformer.input_paths).toEqual({ instance: "$.detail.EC2InstanceId", group: "$.detail.AutoScalingGroupName", hook: "$.detail.LifecycleHookName" });
      const content = JSON.parse(documentContent(document)) as { parameters: Record<string, { allowedPattern: string }>; mainSteps: Array<{ inputs: { timeoutSeconds: string } }> };
      const input = JSON.parse(transformer.input_template) as Record<string, string[]>;
      expect(Object.keys(input).sort()).toEqual(Object.keys(content.parameters).sort());
      for (const n of names) expect(n).toMatch(new RegExp(content.parameters.AutoScalingGroupName.allowedPattern));
      expect(DRAIN_HOOK_NAME).toMatch(new RegExp(content.parameters.LifecycleHookName.allowedPattern));
      // The hook outlasts the command, which outlasts the drain deadline.
      expect(Number(content.mainSteps[0].inputs.timeoutSeconds)).toBeGreaterThan(timings.deadlineSeconds);
      expect(timings.heartbeatSeconds).toBeGreaterThan(Number(content.mainSteps[0].inputs.timeoutSeconds));
    }
  });

  test("client security groups stay within AWS's default 60 inbound rules (a prefix list counts its maximum entries)", () => {
    const lists = new Map(resources(json, "aws_ec2_managed_prefix_list").map((l) => [`\${${l.address}.id}`, Number(l.config.max_entries)]));
    const counts = new Map<string, number>();
    for (const r of resources(json, "aws_vpc_security_group_ingress_rule")) {
      const sg = String(r.config.security_group_id);
      counts.set(sg, (counts.get(sg) ?? 0) + (r.config.prefix_list_id ? (lists.get(String(r.config.prefix_list_id)) as number) : 1));
    }
    for (const n of counts.values()) expect(n).toBeLessThanOrEqual(60);
  });

  test("each client region outside the core admits the other client regions through its prefix list", () => {
    const remote = clientRegions(cluster).filter((r) => !r.isCore);
    for (const region of remote) {
      const lists = resources(json, "aws_ec2_managed_prefix_list").filter((l) => regionOf(l) === region.name);
      const others = remote.filter((r) => r !== region).map((r) => r.cidr);
      if (others.length === 0) {
        expect(lists).toEqual([]);
        continue;
      }
      expect(lists).toHaveLength(1);
      expect((lists[0].config.entry as Array<{ cidr: string }>).map((e) => e.cidr)).toEqual(others);
      expect(lists[0].config.max_entries).toBe(others.length);
      const rules = resources(json, "aws_vpc_security_group_ingress_rule").filter((r) => r.config.prefix_list_id === `\${${lists[0].address}.id}`);
      expect(rules.map((r) => `${r.config.ip_protocol}/${r.config.from_port}-${r.config.to_port}`).sort()).toEqual(clientPortsFrom(["client"]).map((p) => `${p.protocol}/${p.port}-${p.toPort ?? p.port}`).sort());
      for (const r of rules) expect(regionOf(r)).toBe(region.name);
    }
  });
});

describe("spec options", () => {
  const spec = {
    name: "opts",
    domain: "opts.example.net",
    coreRegion: "eu-central-1",
    coreZones: ["eu-central-1a", "eu-central-1b", "eu-central-1c"],
    adminCidrs: ["198.51.100.0/24"],
  };

  test("max instance lifetime is set when the spec asks for it, and only then", () => {
    const cluster = defineCluster({
      ...spec,
      clientGroups: [
        { name: "aged", region: "eu-central-1", instanceType: "m6i.large", min: 1, desired: 1, max: 2, maxInstanceLifetimeDays: 7 },
        { name: "forever", region: "eu-central-1", instanceType: "m6i.large", min: 1, desired: 1, max: 2 },
      ],
    });
    const { json } = clientsStack(cluster);
    expect(groupResources(json, cluster, "aged").asg.config.max_instance_lifetime).toBe(7 * 86400);
    expect(groupResources(json, cluster, "forever").asg.config).not.toHaveProperty("max_instance_lifetime");
  });

  test("clients only outside the core region: the role still lives on the core region's provider", () => {
    const cluster = defineCluster({ ...spec, clientGroups: [{ name: "far", region: "us-west-2", zones: ["us-west-2a"], instanceType: "m6i.large", min: 0, desired: 1, max: 2 }] });
    const { json } = clientsStack(cluster);
    expect(regionOf(resources(json, "aws_iam_role")[0])).toBe("eu-central-1");
    expect(regionOf(groupResources(json, cluster, "far").asg)).toBe("us-west-2");
    expect(resources(json, "aws_security_group").map(regionOf)).toEqual(["us-west-2"]);
    expect(resources(json, "aws_ssm_document").map(regionOf)).toEqual(["us-west-2"]);
  });

  test("the client agents' drain deadline sets the hook's heartbeat and the command's timeout, which outlast the agent's stop", () => {
    const { json } = clientsStack(example);
    const t = drainTimings(CLIENT_DRAIN_DEADLINE_SECONDS);
    for (const h of resources(json, "aws_autoscaling_lifecycle_hook")) expect(h.config.heartbeat_timeout).toBe(t.heartbeatSeconds);
    const content = JSON.parse(documentContent(drainResources(json, "eu-central-1").document)) as { mainSteps: Array<{ inputs: { timeoutSeconds: string; runCommand: string[] } }> };
    expect(content.mainSteps[0].inputs.timeoutSeconds).toBe(String(t.commandTimeoutSeconds));
    expect(content.mainSteps[0].inputs.runCommand).toContain(`export BITTE_DRAIN_DEADLINE='${CLIENT_DRAIN_DEADLINE_SECONDS}'`);
    expect(content.mainSteps[0].inputs.runCommand).toContain(`export BITTE_DRAIN_GRACE='${DRAIN_GRACE_SECONDS}'`);
    // One deadline: the one the client agents drain with (their user data is the renderer's, tested above).
    const g = example.clientGroups[0];
    const files = renderNodeFiles({ cluster: example, role: "client", region: g.region, nodeClass: g.nodeClass });
    const fileIn = (path: string) => files.find((f) => f.path === path)?.content ?? "";
    expect(JSON.parse(fileIn(`${PATHS.nomadDir}/nomad.json`)).client.drain_on_shutdown.deadline).toBe(`${t.deadlineSeconds}s`);
    // systemd waits as long as the script's `timeout`, and the command outlasts both.
    const stop = Number(/^TimeoutStopSec=(\d+)$/m.exec(fileIn("/etc/systemd/system/nomad.service"))?.[1]);
    expect(stop).toBe(t.deadlineSeconds + DRAIN_GRACE_SECONDS);
    expect(t.commandTimeoutSeconds).toBeGreaterThan(stop);
  });

  test("a deadline the hook cannot outlast is refused with the allowed range", () => {
    expect(() => drainTimings(7200)).toThrow(/give whole seconds from 30 to 6900/);
    expect(() => drainTimings(10)).toThrow(/from 30/);
  });
});

describe("clientPortsFrom", () => {
  test("is the catalogue's client rules from those roles, each port once", () => {
    const fromClients = clientPortsFrom(["client"]);
    expect(fromClients.map((p) => `${p.protocol}/${p.port}`)).toEqual(ingressRules().filter((r) => r.to === "client" && r.from === "client").map((p) => `${p.protocol}/${p.port}`));
    const all = clientPortsFrom(["core", "monitoring", "routing", "client"]);
    const expected = new Set(ingressRules().filter((r) => r.to === "client").map((r) => `${r.protocol}/${r.port}-${r.toPort ?? r.port}`));
    expect(all.map((p) => `${p.protocol}/${p.port}-${p.toPort ?? p.port}`).sort()).toEqual([...expected].sort());
    expect(all.some((p) => p.port <= 22 && (p.toPort ?? p.port) >= 22)).toBe(false);
  });
});

