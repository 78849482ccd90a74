/**
 * The stand-in AWS endpoints against real clients: curl for IMDSv2, botocore and the AWS CLI for
 * SSM (SigV4 with the IMDS credentials, IAM policy evaluation, injected faults, a restart) and
 * Auto Scaling's CompleteLifecycleAction.
 */
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describeIf, missingTools, run } from "../../harness/tools";
import { ACCOUNT, KEY_ARN, KEY_ID, REGION, type Service, makeCa, service, tempDir } from "./harness";

const PREFIX = "/bitte/test";
const PARAM_ARN = (n: string) => `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter${PREFIX}/${n}`;

/** The shape of the synthesized core policy: create-only writes, reads of the prefix, KMS via SSM. */
const POLICIES = {
  "bitte-core": [
    {
      Version: "2012-10-17",
      Statement: [
        { Effect: "Allow", Action: ["ssm:GetParameter", "ssm:GetParameters", "ssm:PutParameter"], Resource: PARAM_ARN("*") },
        { Effect: "Deny", Action: ["ssm:PutParameter"], Resource: PARAM_ARN("*"), Condition: { StringEquals: { "ssm:Overwrite": "true" } } },
        { Effect: "Deny", Action: ["ssm:GetParameter"], Resource: PARAM_ARN("secret/*") },
        { Effect: "Allow", Action: ["kms:Decrypt", "kms:Encrypt"], Resource: KEY_ARN, Condition: { StringEquals: { "kms:ViaService": `ssm.${REGION}.amazonaws.com` } } },
        { Effect: "Allow", Action: ["autoscaling:CompleteLifecycleAction"], Resource: `arn:aws:autoscaling:${REGION}:${ACCOUNT}:autoScalingGroup:*:autoScalingGroupName/bitte-*` },
      ],
    },
  ],
};

const BUCKET = "bitte-test";
const S3_STATEMENTS = [
  { Effect: "Allow", Action: ["s3:PutObject"], Resource: `arn:aws:s3:::${BUCKET}/snapshots/*` },
  { Effect: "Allow", Action: ["s3:GetObject"], Resource: [`arn:aws:s3:::${BUCKET}/snapshots/*`, `arn:aws:s3:::${BUCKET}/artifacts/*`] },
  { Effect: "Allow", Action: ["s3:ListBucket"], Resource: `arn:aws:s3:::${BUCKET}`, Condition: { StringLike: { "s3:prefix": ["snapshots/*"] } } },
];

interface Step {
  step: string;
  ok: boolean;
  code?: string;
  value?: unknown;
  message?: string;
}

/** botocore for python3 (Debian: python3-boto3), or why not. */
function botocoreMissing(): string | undefined {
  if (missingTools(["python3"])) return undefined;
  return run("python3", ["-c", "import botocore"]).status === 0 ? undefined : "python3 cannot import botocore (install: python3-boto3)";
}

describeIf(missingTools(["python3", "curl", "openssl", "aws"]) ?? botocoreMissing(), "stand-in AWS endpoints", () => {
  let dir: string;
  let ca: ReturnType<typeof makeCa>;
  let svc: Service;
  const imds = () => `http://127.0.0.1:${svc.ports.imds}`;
  const ssmUrl = () => `https://127.0.0.1:${svc.ports.ssm}`;

  const botocore = (...steps: string[]): Step[] => {
    const r = run("python3", [join(__dirname, "probes", "ssm_botocore.py"), ssmUrl(), imds(), ca.cert, REGION, ...steps], { timeoutMs: 120_000 });
    if (r.status !== 0) throw new Error(`botocore probe failed: ${r.stderr}`);
    return r.stdout.trim().split("\n").map((l) => JSON.parse(l) as Step);
  };
  const awsEnv = () => ({ ...process.env, AWS_EC2_METADATA_SERVICE_ENDPOINT: `${imds()}/`, AWS_CA_BUNDLE: ca.cert, AWS_CONFIG_FILE: "/dev/null", AWS_SHARED_CREDENTIALS_FILE: "/dev/null", AWS_MAX_ATTEMPTS: "1" });

  beforeAll(async () => {
    dir = tempDir("standins-aws-");
    ca = makeCa(dir);
    svc = await service(dir, ca, POLICIES, { s3: { buckets: { [BUCKET]: { kmsKeyArn: KEY_ARN } } } });
    await svc.start();
  });
  afterAll(async () => {
    await svc?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe("IMDSv2 (curl)", () => {
    const token = (ttl: string) => run("curl", ["-sS", "-o", "-", "-w", "\n%{http_code}", "-X", "PUT", "-H", `X-aws-ec2-metadata-token-ttl-seconds: ${ttl}`, `${imds()}/latest/api/token`]);
    test("a GET without a token is 401; a token PUT with a TTL outside 1..21600 is 400", () => {
      expect(run("curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", `${imds()}/latest/meta-data/local-ipv4`]).stdout).toBe("401");
      expect(token("0").stdout.split("\n").pop()).toBe("400");
      expect(token("21601").stdout.split("\n").pop()).toBe("400");
    });
    test("with a token it answers the caller's own instance, and role credentials", () => {
      const [tok, code] = token("60").stdout.split("\n");
      expect(code).toBe("200");
      const get = (p: string) => run("curl", ["-fsS", "-H", `X-aws-ec2-metadata-token: ${tok}`, `${imds()}/latest/${p}`]).stdout;
      expect(get("meta-data/local-ipv4")).toBe("127.0.0.1");
      expect(get("meta-data/instance-id")).toBe("i-0123456789abcdef0");
      expect(get("meta-data/iam/security-credentials/")).toBe("bitte-core");
      const creds = JSON.parse(get("meta-data/iam/security-credentials/bitte-core")) as Record<string, string>;
      expect(creds.Code).toBe("Success");
      expect(creds.AccessKeyId).toMatch(/^ASIA/);
      expect(JSON.parse(get("dynamic/instance-identity/document"))).toMatchObject({ region: REGION, accountId: ACCOUNT });
      // A bad token is refused like no token.
      expect(run("curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", "-H", "X-aws-ec2-metadata-token: nope", `${imds()}/latest/meta-data/local-ipv4`]).stdout).toBe("401");
    });
    test("a caller that is no known instance gets nothing", () => {
      const r = run("curl", ["-sS", "--interface", "127.0.0.2", "-o", "/dev/null", "-w", "%{http_code}", "-X", "PUT", "-H", "X-aws-ec2-metadata-token-ttl-seconds: 60", `${imds()}/latest/api/token`]);
      expect(r.stdout).toBe("404");
    });
  });

  describe("SSM (botocore, SigV4 with the IMDS credentials)", () => {
    test("create-only SecureString writes, decrypted reads, real error codes", () => {
      const out = botocore(`put:${PREFIX}/a=first`, `put:${PREFIX}/a=second`, `get:${PREFIX}/a`, `getenc:${PREFIX}/a`, `get:${PREFIX}/missing`, `gets:${PREFIX}/a,${PREFIX}/missing`);
      expect(out[0]).toMatchObject({ ok: true, value: 1 });
      expect(out[1]).toMatchObject({ ok: false, code: "ParameterAlreadyExists" });
      expect(out[2]).toMatchObject({ ok: true, value: "first" });
      expect(out[3].ok).toBe(true);
      expect(out[3].value).not.toBe("first");
      expect(out[4]).toMatchObject({ ok: false, code: "ParameterNotFound" });
      expect(out[5]).toMatchObject({ ok: true, value: { found: [`${PREFIX}/a`], invalid: [`${PREFIX}/missing`] } });
    });
    test("the role's policies decide: outside the prefix, explicit Deny, Overwrite denied by StringEquals ssm:Overwrite", () => {
      const out = botocore("get:/elsewhere/x", `get:${PREFIX}/secret/ca`, `overwrite:${PREFIX}/a=third`, `get:${PREFIX}/a`);
      expect(out[0]).toMatchObject({ ok: false, code: "AccessDeniedException" });
      expect(out[0].message).toContain("because no identity-based policy allows the ssm:GetParameter action");
      expect(out[1]).toMatchObject({ ok: false, code: "AccessDeniedException" });
      expect(out[1].message).toContain("explicit deny");
      expect(out[2]).toMatchObject({ ok: false, code: "AccessDeniedException" });
      expect(out[3]).toMatchObject({ ok: true, value: "first" });
    });
    test("a request signed with the wrong secret is InvalidSignatureException", () => {
      expect(botocore(`badsig:${PREFIX}/a`)[0]).toMatchObject({ ok: false, code: "InvalidSignatureException" });
    });
    test("injected throttling and TooManyUpdates answer as AWS does, then clear", () => {
      writeFileSync(join(svc.stateDir, "faults.json"), JSON.stringify({ ssm: { throttle: { PutParameter: 2 }, tooManyUpdates: { PutParameter: 1 } } }));
      const out = botocore(`put:${PREFIX}/b=1`, `put:${PREFIX}/b=1`, `put:${PREFIX}/b=1`, `put:${PREFIX}/b=1`, `get:${PREFIX}/b`);
      expect(out.map((s) => s.code ?? "ok")).toEqual(["ThrottlingException", "ThrottlingException", "TooManyUpdates", "ok", "ok"]);
      rmSync(join(svc.stateDir, "faults.json"));
    });
    test("a restart of the service keeps parameters and credentials", async () => {
      await svc.stop();
      await svc.start();
      expect(botocore(`get:${PREFIX}/a`)[0]).toMatchObject({ ok: true, value: "first" });
    });
    test("the event log records each call and its outcome", () => {
      const ssm = svc.events().filter((e) => e.source === "ssm" && e.name === `${PREFIX}/a`);
      expect(ssm.map((e) => [e.event, e.outcome]).slice(0, 2)).toEqual([
        ["PutParameter", "ok"],
        ["PutParameter", "ParameterAlreadyExists"],
      ]);
    });
  });

  describe("S3 (botocore): snapshots/ and artifacts/ in a bucket encrypted with the cluster key", () => {
    const s3 = (...steps: string[]): Step[] => {
      const r = run("python3", [join(__dirname, "probes", "s3_botocore.py"), ssmUrl(), imds(), ca.cert, REGION, BUCKET, ...steps], { timeoutMs: 120_000 });
      if (r.status !== 0) throw new Error(`s3 probe failed: ${r.stderr}`);
      return r.stdout.trim().split("\n").map((l) => JSON.parse(l) as Step);
    };
    const withPolicies = async (statements: unknown[]) => {
      const conf = { ...svc.conf, iamPolicies: { "bitte-core": [{ Version: "2012-10-17", Statement: [...POLICIES["bitte-core"][0].Statement, ...statements] }] } };
      writeFileSync(svc.confFile, JSON.stringify(conf));
      await svc.stop();
      await svc.start();
    };
    test("with the key usable only via SSM, every snapshot write is AccessDenied (issue 12, finding 5)", async () => {
      await withPolicies(S3_STATEMENTS);
      expect(s3("put:snapshots/one=x")[0]).toMatchObject({ ok: false, code: "AccessDenied", status: 403 });
      expect(svc.events().filter((e) => e.source === "s3").pop()).toMatchObject({ event: "kms", action: "kms:GenerateDataKey", outcome: "AccessDenied" });
    });
    test("with kms via S3 too: put, get, list under the prefix; outside it AccessDenied; a missing key is NoSuchKey", async () => {
      await withPolicies([...S3_STATEMENTS, { Effect: "Allow", Action: ["kms:GenerateDataKey", "kms:Decrypt"], Resource: KEY_ARN, Condition: { StringEquals: { "kms:ViaService": `s3.${REGION}.amazonaws.com` } } }]);
      const out = s3("put:snapshots/one=raft-snapshot", "get:snapshots/one", "list:snapshots/", "put:artifacts/x=1", "list:artifacts/", "get:snapshots/missing", "get:artifacts/missing");
      expect(out.map((o) => (o.ok ? o.value : o.code))).toEqual([null, "raft-snapshot", ["snapshots/one"], "AccessDenied", "AccessDenied", "NoSuchKey", "AccessDenied"]);
    });
    test("a key with characters the signature encodes (':', ' ', '+') verifies as AWS verifies botocore's signature: S3 signs the path encoded once", () => {
      const out = s3("put:snapshots/2026-12-01T10:00:00Z one+two=odd", "get:snapshots/2026-12-01T10:00:00Z one+two");
      expect(out.map((o) => (o.ok ? o.value : o.code))).toEqual([null, "odd"]);
    });
  });

  describe("KMS through SSM carries the parameter's ARN as encryption context (services-parameter-store.html)", () => {
    test("a Decrypt bound to one parameter's ARN reads that parameter and no other", async () => {
      expect(botocore(`put:${PREFIX}/mine=m`, `put:${PREFIX}/theirs=t`).map((o) => o.ok)).toEqual([true, true]);
      const bound = [
        { Effect: "Allow", Action: ["ssm:GetParameter"], Resource: PARAM_ARN("*") },
        { Effect: "Allow", Action: ["kms:Decrypt"], Resource: KEY_ARN, Condition: { StringEquals: { "kms:ViaService": `ssm.${REGION}.amazonaws.com`, "kms:EncryptionContext:PARAMETER_ARN": PARAM_ARN("mine") } } },
        // A grant for calls without encryption context (Vault's seal) does not open SSM's.
        { Effect: "Allow", Action: ["kms:Decrypt"], Resource: KEY_ARN, Condition: { Null: { "kms:EncryptionContextKeys": "true" } } },
      ];
      writeFileSync(svc.confFile, JSON.stringify({ ...svc.conf, iamPolicies: { "bitte-core": [{ Version: "2012-10-17", Statement: bound }] } }));
      await svc.stop();
      await svc.start();
      const out = botocore(`get:${PREFIX}/mine`, `get:${PREFIX}/theirs`);
      writeFileSync(svc.confFile, JSON.stringify(svc.conf));
      await svc.stop();
      await svc.start();
      expect(out[0]).toMatchObject({ ok: true, value: "m" });
      expect(out[1]).toMatchObject({ ok: false, code: "AccessDeniedException" });
      expect(out[1].message).toContain("kms:Decrypt");
    });
  });

  describe("EC2 DescribeTags (botocore's query protocol, as bitte-aws instance-tag calls it)", () => {
    const tags = (instance: string, key: string) => {
      const r = run("python3", [join(__dirname, "probes", "ec2_botocore.py"), ssmUrl(), imds(), ca.cert, REGION, instance, key], { timeoutMs: 60_000 });
      if (r.status !== 0) throw new Error(`ec2 probe failed: ${r.stderr}`);
      return JSON.parse(r.stdout) as Step & { status?: number };
    };
    test("without ec2:DescribeTags in the role's policies it is UnauthorizedOperation", () => {
      expect(tags("i-0123456789abcdef0", "BitteBucket")).toMatchObject({ ok: false, code: "UnauthorizedOperation", status: 403 });
    });
    test("with it, the filters select the instance's tag; another key finds nothing", async () => {
      const conf = { ...svc.conf, instances: (svc.conf.instances as Record<string, unknown>[]).map((i) => ({ ...i, tags: { BitteBucket: BUCKET, Name: "core-1" } })), iamPolicies: { "bitte-core": [{ Version: "2012-10-17", Statement: [...POLICIES["bitte-core"][0].Statement, { Effect: "Allow", Action: ["ec2:DescribeTags"], Resource: "*" }] }] } };
      writeFileSync(svc.confFile, JSON.stringify(conf));
      await svc.stop();
      await svc.start();
      const found = tags("i-0123456789abcdef0", "BitteBucket");
      const none = tags("i-0123456789abcdef0", "Other");
      writeFileSync(svc.confFile, JSON.stringify(svc.conf));
      await svc.stop();
      await svc.start();
      expect(found).toEqual({ ok: true, value: [{ key: "BitteBucket", value: BUCKET, resourceId: "i-0123456789abcdef0" }] });
      expect(none).toEqual({ ok: true, value: [] });
    });
  });

  describe("the AWS CLI as the nodes call it", () => {
    test("put-parameter file:// create-only, get-parameter --query, complete-lifecycle-action", () => {
      const value = join(dir, "v");
      writeFileSync(value, "from-cli\n");
      const e = ["--endpoint-url", ssmUrl(), "--region", REGION];
      const put = (n: string) => run("aws", ["ssm", "put-parameter", ...e, "--name", `${PREFIX}/${n}`, "--type", "SecureString", "--key-id", KEY_ID, "--value", `file://${value}`], { env: awsEnv() });
      expect(put("cli").status).toBe(0);
      const again = put("cli");
      expect(again.status).not.toBe(0);
      expect(again.stderr).toContain("ParameterAlreadyExists");
      const got = run("aws", ["ssm", "get-parameter", ...e, "--name", `${PREFIX}/cli`, "--with-decryption", "--query", "Parameter.Value", "--output", "text"], { env: awsEnv() });
      expect(got.stdout.trim()).toBe("from-cli");
      const asg = (group: string) =>
        run("aws", ["autoscaling", "complete-lifecycle-action", "--endpoint-url", ssmUrl(), "--region", REGION, "--auto-scaling-group-name", group, "--lifecycle-hook-name", "drain", "--lifecycle-action-result", "CONTINUE", "--instance-id", "i-0123456789abcdef0"], { env: awsEnv() });
      expect(asg("bitte-clients").status).toBe(0);
      const denied = asg("other-group");
      expect(denied.status).not.toBe(0);
      expect(denied.stderr).toContain("AccessDenied");
      expect(svc.events().filter((ev) => ev.event === "CompleteLifecycleAction").map((ev) => ev.outcome)).toEqual(["ok", "AccessDenied"]);
    });
  });
});
