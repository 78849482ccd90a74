import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { CliError } from "../../cli/errors";
import { DATA_SOURCE_PERMISSIONS, RESOURCE_PERMISSIONS } from "../../cli/policy/permissions";
import { MANAGED_POLICY_LIMIT, deployerPolicy, policySize, resourceGrants, splitPolicy, type DeployerPolicy, type PolicyStatement } from "../../cli/policy/policy";
import { synthesize, type SynthesizedStack } from "../../cli/synth";
import { cluster } from "./helpers";

const ACTION = /^[a-z0-9-]+:[A-Za-z0-9]+$/;
const actionsOf = (statements: readonly PolicyStatement[]) => new Set(statements.flatMap((s) => s.Action));

describe("deployer policy of the example cluster's synthesized stacks", () => {
  let stacks: Map<string, SynthesizedStack>;
  let policy: DeployerPolicy;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), "bitte-policy-test-"));
    try {
      stacks = await synthesize(cluster, dir, resolve(__dirname, "../.."));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    policy = deployerPolicy(cluster, stacks);
  });

  test("covers every AWS resource and data source type in every stack", () => {
    const granted = actionsOf(policy.document.Statement);
    const seen: string[] = [];
    for (const stack of stacks.values()) {
      for (const type of Object.keys(stack.json.resource ?? {}).filter((t) => t.startsWith("aws_"))) {
        seen.push(type);
        for (const grant of resourceGrants(type) ?? []) for (const a of grant.actions) expect(granted).toContain(a);
      }
      for (const type of Object.keys(stack.json.data ?? {}).filter((t) => t.startsWith("aws_"))) {
        for (const grant of DATA_SOURCE_PERMISSIONS[type]) for (const a of grant.actions) expect(granted).toContain(a);
      }
    }
    expect(seen.length).toBeGreaterThan(0);
    expect(policy.resourceTypes).toEqual([...new Set(seen)].sort());
  });

  test("grants no wildcard action, only well-formed service:Action names", () => {
    for (const s of policy.document.Statement) {
      expect(s.Effect).toBe("Allow");
      for (const a of s.Action) {
        expect(a).not.toContain("*");
        expect(a).toMatch(ACTION);
      }
    }
  });

  test("scopes IAM writes to the cluster's roles, profiles and policies, and regional services to its regions", () => {
    for (const s of policy.document.Statement) {
      const iamWrites = s.Action.filter((a) => /^iam:(Create|Delete|Put|Attach|Detach|Update|Add|Remove|Tag|Untag|PassRole)/.test(a));
      if (iamWrites.length > 0) {
        expect(s.Resource).not.toBe("*");
        for (const r of [s.Resource].flat()) expect(r).toMatch(/^arn:aws:iam::\*:(role|instance-profile|policy)\/(bitte-example-|aws-service-role\/)/);
      }
      const service = s.Action[0].split(":")[0];
      if (s.Resource === "*" && ["ec2", "autoscaling", "elasticloadbalancing", "kms", "acm", "ssm", "logs"].includes(service)) {
        expect(s.Condition?.StringEquals?.["aws:RequestedRegion"]).toEqual(cluster.regions.map((r) => r.name).sort());
      }
    }
    const attach = policy.document.Statement.find((s) => s.Action.includes("iam:AttachRolePolicy"));
    if (attach) expect(attach.Condition?.ArnLike?.["iam:PolicyARN"]).toBeDefined();
  });

  test("--split documents each fit a managed policy and together grant the same", () => {
    const docs = splitPolicy(policy.document);
    for (const d of docs) expect(policySize(d)).toBeLessThanOrEqual(MANAGED_POLICY_LIMIT);
    expect(actionsOf(docs.flatMap((d) => d.Statement))).toEqual(actionsOf(policy.document.Statement));
  });
});

const stack = (id: string, json: SynthesizedStack["json"]): Map<string, SynthesizedStack> => new Map([[id, { id, dir: `/x/${id}`, json }]]);

describe("deployerPolicy", () => {
  test("an AWS type without a row fails, naming the type and the table", () => {
    const err = (() => {
      try {
        deployerPolicy(cluster, stack("core", { resource: { aws_instance: { a: {} }, aws_lambda_function: { drain: {} }, nomad_job: { j: {} } }, data: { aws_bogus_thing: { x: {} } } }));
      } catch (e) {
        return e as CliError;
      }
      throw new Error("no error");
    })();
    expect(err.message).toBe("No IAM permissions are known for resource aws_lambda_function (stack core), data source aws_bogus_thing (stack core).");
    expect(err.hint).toContain("cli/policy/permissions.ts");
  });

  test("non-AWS providers need no IAM", () => {
    const p = deployerPolicy(cluster, stack("jobs", { resource: { nomad_job: { j: {} }, consul_acl_policy: { p: {} } } }));
    expect(p.document.Statement).toEqual([]);
  });

  test("named roles, parameters and buckets scope their statements; --account fills the ARNs", () => {
    const p = deployerPolicy(
      cluster,
      stack("core", {
        resource: {
          aws_iam_role: { core: { name: "bitte-example-core" }, other: { name_prefix: "bitte-example-tmp-" } },
          aws_ssm_parameter: { marker: { name: "/bitte/example/ready" } },
          aws_s3_bucket: { logs: { bucket: "example-logs" } },
        },
        data: { aws_ssm_parameter: { ami: { name: "/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id" } } },
      }),
      { account: "123456789012" },
    );
    const by = (sid: string) => p.document.Statement.find((s) => s.Sid === sid)!;
    expect(by("IamClusterRoles").Resource).toEqual(["arn:aws:iam::123456789012:role/bitte-example-core", "arn:aws:iam::123456789012:role/bitte-example-tmp-*"]);
    expect(by("SsmClusterParameters").Resource).toEqual([
      "arn:aws:ssm:*:123456789012:parameter/bitte/example/*",
      "arn:aws:ssm:*:123456789012:parameter/bitte/example/ready",
      "arn:aws:ssm:*::parameter/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id",
    ]);
    expect(by("S3ClusterBuckets").Resource).toEqual(["arn:aws:s3:::example-logs", "arn:aws:s3:::example-logs/*"]);
  });

  test("an S3 backend adds the state objects, their lock files and the state key", () => {
    const p = deployerPolicy(
      cluster,
      stack("core", {
        terraform: { backend: { s3: { bucket: "tf-state", key: "bitte/example/core.tfstate", kms_key_id: "alias/bitte-example" } } },
        data: { terraform_remote_state: { network: { backend: "s3", config: { bucket: "tf-state", key: "bitte/example/network.tfstate" } } } },
      }),
    );
    const sids = Object.fromEntries(p.document.Statement.map((s) => [s.Sid, s]));
    expect(sids.TerraformStateList.Resource).toEqual(["arn:aws:s3:::tf-state"]);
    expect(sids.TerraformStateReadWrite.Resource).toEqual(["arn:aws:s3:::tf-state/bitte/example/core.tfstate", "arn:aws:s3:::tf-state/bitte/example/core.tfstate.tflock"]);
    expect(sids.TerraformRemoteStateRead.Resource).toEqual(["arn:aws:s3:::tf-state/bitte/example/network.tfstate"]);
    expect(sids.TerraformStateKeyByAlias.Condition).toEqual({ "ForAnyValue:StringEquals": { "kms:ResourceAliases": ["alias/bitte-example"] } });
  });

  test("every row of the table is well-formed", () => {
    for (const [type, grants] of Object.entries({ ...RESOURCE_PERMISSIONS, ...DATA_SOURCE_PERMISSIONS })) {
      expect(type).toMatch(/^aws_[a-z0-9_]+$/);
      for (const g of grants) for (const a of g.actions) expect(a).toMatch(ACTION);
    }
  });
});
