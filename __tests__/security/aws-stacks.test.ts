/**
 * Security defaults, checked over the synthesized JSON of every AWS stack, for the example and
 * the 16-region cluster: IMDSv2, encrypted volumes on the cluster key, no SSH and nothing open
 * to the world but the load balancer's 80/443, no wildcard IAM, no secret material anywhere.
 */
import type { Cluster } from "../../clusters/spec";
import example from "../../clusters/example";
import { isReadOnlyAction } from "../../constructs/iam/documents";
import { SESSION_MANAGER_ACTIONS } from "../../constructs/iam/session-manager";
import large from "../../scripts/large-cluster";
import { clientsStack, coreStack, networkStack } from "../harness/stacks";
import { allResources, resources, userDataOf, type Synthesized } from "../harness/synth";

const STACKS: ReadonlyArray<[string, (c: Cluster) => Synthesized]> = [
  ["network", networkStack],
  ["core", coreStack],
  ["clients", clientsStack],
];
const CASES = [example, large].flatMap((cluster) => STACKS.map(([id, build]) => [`${cluster.name}/${id}`, cluster, build] as const));

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource?: string | string[];
}

/** Every IAM policy document in a stack, with where it came from. */
function policies(s: Synthesized): Array<{ where: string; kind: "identity" | "resource" | "key"; statements: Statement[] }> {
  const docs: Array<{ where: string; kind: "identity" | "resource" | "key"; text: unknown }> = [
    ...resources(s.json, "aws_iam_role_policy").map((r) => ({ where: r.address, kind: "identity" as const, text: r.config.policy })),
    ...resources(s.json, "aws_iam_policy").map((r) => ({ where: r.address, kind: "identity" as const, text: r.config.policy })),
    ...resources(s.json, "aws_iam_role").map((r) => ({ where: `${r.address} (trust)`, kind: "resource" as const, text: r.config.assume_role_policy })),
    ...resources(s.json, "aws_s3_bucket_policy").map((r) => ({ where: r.address, kind: "resource" as const, text: r.config.policy })),
    ...[...resources(s.json, "aws_kms_key"), ...resources(s.json, "aws_kms_replica_key")].map((r) => ({ where: r.address, kind: "key" as const, text: r.config.policy })),
  ];
  return docs.map((d) => ({ where: d.where, kind: d.kind, statements: (JSON.parse(String(d.text)) as { Statement: Statement[] }).Statement }));
}

/** Every string of the stack, with user data decoded, for the secrets scan. */
function allText(s: Synthesized): string {
  const decoded = [...resources(s.json, "aws_instance"), ...resources(s.json, "aws_launch_template")].map(userDataOf);
  return [s.text, ...decoded].join("\n");
}

const WILDCARD_ONLY_AGENT_ACTIONS = new Set([...SESSION_MANAGER_ACTIONS.sessions, ...SESSION_MANAGER_ACTIONS.commands]);

const list = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);

describe.each(CASES)("%s", (_name, cluster, build) => {
  const s = build(cluster);

  test("every instance and launch template requires IMDSv2", () => {
    for (const r of [...resources(s.json, "aws_instance"), ...resources(s.json, "aws_launch_template")]) {
      expect({ where: r.address, tokens: (r.config.metadata_options as { http_tokens?: string } | undefined)?.http_tokens }).toEqual({ where: r.address, tokens: "required" });
    }
  });

  test("every volume is encrypted with the cluster key", () => {
    // The key made here, the key looked up by alias, a given key, or the key the core stack hands on.
    const onClusterKey = (v: unknown) => typeof v === "string" && /aws_kms_(key|replica_key)\.|data\.aws_kms_key\.|^arn:aws:kms:|terraform_remote_state\.core\.outputs\.kms_key_arn_/.test(v);
    for (const v of resources(s.json, "aws_ebs_volume")) expect({ where: v.address, encrypted: v.config.encrypted, key: onClusterKey(v.config.kms_key_id) }).toEqual({ where: v.address, encrypted: true, key: true });
    for (const i of resources(s.json, "aws_instance")) {
      const root = i.config.root_block_device as { encrypted?: boolean; kms_key_id?: string };
      expect({ where: i.address, encrypted: root?.encrypted, key: onClusterKey(root?.kms_key_id) }).toEqual({ where: i.address, encrypted: true, key: true });
      expect(i.config.ebs_block_device).toBeUndefined();
    }
    for (const lt of resources(s.json, "aws_launch_template")) {
      const mappings = list(lt.config.block_device_mappings as Array<{ ebs?: { encrypted?: string; kms_key_id?: string } }>);
      expect(mappings.length).toBeGreaterThan(0);
      for (const m of mappings) expect({ where: lt.address, encrypted: m.ebs?.encrypted, key: onClusterKey(m.ebs?.kms_key_id) }).toEqual({ where: lt.address, encrypted: "true", key: true });
    }
  });

  test("no ingress opens port 22; nothing is open to 0.0.0.0/0 but the load balancer's 80 and 443", () => {
    const albGroups = resources(s.json, "aws_security_group").filter((g) => (g.config.tags as Record<string, string>)?.Role === "alb").map((g) => `\${${g.address}.id}`);
    for (const g of resources(s.json, "aws_security_group")) expect(g.config.ingress ?? []).toEqual([]);
    for (const r of resources(s.json, "aws_vpc_security_group_ingress_rule")) {
      const { from_port: from, to_port: to, ip_protocol: proto, cidr_ipv4: cidr, cidr_ipv6: cidr6 } = r.config as { from_port?: number; to_port?: number; ip_protocol: string; cidr_ipv4?: string; cidr_ipv6?: string };
      const covers22 = proto === "-1" || ((from ?? 0) <= 22 && 22 <= (to ?? 65535));
      expect({ where: r.address, covers22 }).toEqual({ where: r.address, covers22: false });
      if (cidr === "0.0.0.0/0" || cidr6 === "::/0") {
        expect({ where: r.address, group: albGroups.includes(String(r.config.security_group_id)), port: [from, to], proto }).toEqual({
          where: r.address,
          group: true,
          port: [from, from],
          proto: "tcp",
        });
        expect([80, 443]).toContain(from);
      }
    }
  });

  test("no IAM statement allows * actions, or writes on * resources", () => {
    for (const p of policies(s)) {
      for (const st of p.statements.filter((x) => x.Effect === "Allow")) {
        const actions = list(st.Action);
        expect({ where: p.where, sid: st.Sid, star: actions.filter((a) => a === "*" || a.endsWith(":*")) }).toEqual({ where: p.where, sid: st.Sid, star: [] });
        // In a key policy `*` is the key itself; identity policies must scope every write.
        if (p.kind === "identity" && list(st.Resource).includes("*")) {
          // The SSM agent's channel actions take no resource but "*" (authorization.test.ts checks this against AWS's reference).
          expect({ where: p.where, sid: st.Sid, writes: actions.filter((a) => !isReadOnlyAction(a) && !WILDCARD_ONLY_AGENT_ACTIONS.has(a)) }).toEqual({ where: p.where, sid: st.Sid, writes: [] });
        }
      }
    }
  });

  test("no secret material in the synthesized JSON or in user data", () => {
    const text = allText(s);
    expect(text).not.toMatch(/-----BEGIN [A-Z ]*PRIVATE KEY-----/);
    expect(text).not.toMatch(/\bAKIA[0-9A-Z]{16}\b/);
    // A 32-byte key, base64 (gossip keys look like this): none may be rendered anywhere.
    expect(text).not.toMatch(/(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{43}=(?![A-Za-z0-9+/=])/);
    // UUID-shaped tokens (Consul/Nomad secret ids).
    expect(text).not.toMatch(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/);
    for (const type of ["tls_private_key", "random_password", "random_id", "random_string"]) expect(s.json.resource?.[type]).toBeUndefined();
  });

  test("every resource is tagged by the provider's default tags (Cluster, ManagedBy)", () => {
    for (const p of s.json.provider?.aws ?? []) expect(p.default_tags).toEqual([{ tags: expect.objectContaining({ Cluster: cluster.name, ManagedBy: "bitte" }) }]);
    expect(allResources(s.json).length).toBeGreaterThan(0);
  });
});
