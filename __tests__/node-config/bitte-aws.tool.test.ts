/**
 * Defect 1 (issue 11): the nodes had no AWS client. `bitte-aws` (Python's standard library only)
 * is exercised here against a stand-in that speaks SSM's JSON 1.1 and Auto Scaling's query
 * protocol, with the real error codes and injected throttling; its SigV4 signer is checked
 * against botocore's own for every request shape it sends.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeIf, missingTools, run } from "../harness/tools";
import { AWS_CLIENT, startEndpoint, type Endpoint } from "./aws-client";

/** botocore for the host's python3 (Debian: python3-botocore), or why not: the reference signer. */
function botocoreMissing(): string | undefined {
  return missingTools(["python3"]) ?? (run("python3", ["-c", "import botocore"]).status === 0 ? undefined : "python3 has no botocore (install: python3-botocore)");
}

describeIf(botocoreMissing(), "bitte-aws signs as botocore does", () => {
  test("every request shape it sends (SSM JSON 1.1, Auto Scaling and EC2 query, S3 PUT virtual-hosted and path-style, with and without a session token) gets botocore's Authorization header", () => {
    const r = run("python3", [join(__dirname, "standins", "sigv4-botocore.py"), AWS_CLIENT], { timeoutMs: 60_000 });
    expect(r.stderr).toBe("");
    const cases = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { case: string; same: boolean; botocore: string; bitte: string });
    expect(cases).toHaveLength(12);
    expect(cases.filter((c) => !c.same)).toEqual([]);
  });
});

test("bitte-aws imports nothing but Python's standard library: the nodes install no AWS library", () => {
  const r = run("python3", ["-c", "import ast,sys; t=ast.parse(open(sys.argv[1]).read()); m={(a.name if isinstance(n,ast.Import) else n.module).split('.')[0] for n in ast.walk(t) if isinstance(n,(ast.Import,ast.ImportFrom)) for a in (n.names if isinstance(n,ast.Import) else [n])}; print(' '.join(sorted(x for x in m if x not in sys.stdlib_module_names)))", AWS_CLIENT]);
  expect({ status: r.status, nonStdlib: r.stdout.trim() }).toEqual({ status: 0, nonStdlib: "" });
});

describeIf(botocoreMissing(), "bitte-aws against a stand-in SSM and Auto Scaling endpoint", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "bitte-aws-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const aws = (ep: Endpoint, args: string[], extra: NodeJS.ProcessEnv = {}) => run("python3", [AWS_CLIENT, "--region", "eu-central-1", ...args], { env: { ...ep.env, ...extra }, timeoutMs: 120_000 });

  test("compiles (python3 -m py_compile)", () => {
    const r = run("python3", ["-m", "py_compile", AWS_CLIENT], { env: { ...process.env, PYTHONPYCACHEPREFIX: join(dir, "pycache") } });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  test("creates a SecureString once with the key id, reads it back 0600, tells not-found and already-exists apart", async () => {
    const ep = await startEndpoint();
    try {
      writeFileSync(join(dir, "v"), "s3cr3t-value\n");
      expect(aws(ep, ["ssm-get", "/bitte/t/a", join(dir, "out")]).status).toBe(3);
      const created = aws(ep, ["ssm-create", "/bitte/t/a", join(dir, "v"), "--key-id", "alias/bitte-t"]);
      expect({ status: created.status, stderr: created.stderr }).toEqual({ status: 0, stderr: "" });
      expect(created.stdout).toBe("");
      writeFileSync(join(dir, "w"), "other\n");
      const again = aws(ep, ["ssm-create", "/bitte/t/a", join(dir, "w"), "--key-id", "alias/bitte-t"]);
      expect(again.status).toBe(4);
      expect(again.stderr).toContain("ParameterAlreadyExists");
      const got = aws(ep, ["ssm-get", "/bitte/t/a", join(dir, "out")], {});
      expect(got.status).toBe(0);
      expect(got.stdout + got.stderr).not.toContain("s3cr3t");
      expect(readFileSync(join(dir, "out"), "utf8")).toBe("s3cr3t-value\n");
      expect(statSync(join(dir, "out")).mode & 0o777).toBe(0o600);
      expect((await ep.state()).parameters["/bitte/t/a"]).toEqual({ Value: "s3cr3t-value", Type: "SecureString", KeyId: "alias/bitte-t" });
    } finally {
      ep.stop();
    }
  });

  test("a request signed with another secret is refused as AWS refuses it, and not retried", async () => {
    const ep = await startEndpoint();
    try {
      const ssm = aws(ep, ["ssm-get", "/bitte/t/a", join(dir, "out")], { AWS_SECRET_ACCESS_KEY: "not-the-secret" });
      expect({ status: ssm.status, refused: /\(InvalidSignatureException\) when calling the GetParameter operation: The request signature/.test(ssm.stderr) }).toEqual({ status: 1, refused: true });
      const asg = aws(ep, ["complete-lifecycle-action", "--group", "g", "--hook", "h", "--instance-id", "i-0123456789abcdef0", "--result", "CONTINUE"], { AWS_SECRET_ACCESS_KEY: "not-the-secret" });
      expect({ status: asg.status, refused: /\(SignatureDoesNotMatch\)/.test(asg.stderr) }).toEqual({ status: 1, refused: true });
      expect((await ep.state()).calls).toEqual([]);
    } finally {
      ep.stop();
    }
  });

  test("rides out ThrottlingException and TooManyUpdates (bounded retries with backoff)", async () => {
    const ep = await startEndpoint(["--throttle", "GetParameter=3", "--throttle", "PutParameter=2", "--too-many-updates", "2", "--throttle", "CompleteLifecycleAction=2"]);
    try {
      writeFileSync(join(dir, "v"), "x\n");
      expect(aws(ep, ["ssm-create", "/bitte/t/b", join(dir, "v"), "--key-id", "k"]).status).toBe(0);
      expect(aws(ep, ["ssm-get", "/bitte/t/b", join(dir, "out")]).status).toBe(0);
      const done = aws(ep, ["complete-lifecycle-action", "--group", "bitte-t-workers", "--hook", "nomad-drain", "--instance-id", "i-0123456789abcdef0", "--result", "CONTINUE"]);
      expect({ status: done.status, stderr: done.stderr }).toEqual({ status: 0, stderr: "" });
      const calls = (await ep.state()).calls;
      expect(calls.filter((c) => c.op === "PutParameter")).toHaveLength(5);
      expect(calls.filter((c) => c.op === "CompleteLifecycleAction")).toHaveLength(3);
    } finally {
      ep.stop();
    }
  });

  /**
   * HTTPS as against AWS: the trust store is the system's, read through its hashed directory
   * (SSL_CERT_DIR stands for /etc/ssl/certs here), and a certificate it cannot verify, or one for
   * another name, is refused before anything is sent.
   */
  describe("TLS to the endpoint", () => {
    let pki: string;
    const openssl = (args: string[]) => expect(run("openssl", args).status).toBe(0);
    beforeAll(() => {
      pki = join(dir, "pki");
      for (const d of ["trusted", "empty"]) mkdirSync(join(pki, d), { recursive: true });
      openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", "/CN=bitte-aws test CA", "-keyout", `${pki}/ca-key.pem`, "-out", `${pki}/trusted/ca.pem`]);
      for (const [name, san] of [["good", "DNS:localhost"], ["other", "DNS:other.invalid"]]) {
        writeFileSync(`${pki}/${name}.ext`, `subjectAltName=${san}\n`);
        openssl(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", `/CN=${name}`, "-keyout", `${pki}/${name}-key.pem`, "-out", `${pki}/${name}.csr`]);
        openssl(["x509", "-req", "-in", `${pki}/${name}.csr`, "-CA", `${pki}/trusted/ca.pem`, "-CAkey", `${pki}/ca-key.pem`, "-CAcreateserial", "-days", "1", "-extfile", `${pki}/${name}.ext`, "-out", `${pki}/${name}.pem`]);
      }
      openssl(["rehash", `${pki}/trusted`]);
    });
    const over = async (cert: string, certDir: string, trust: NodeJS.ProcessEnv = {}) => {
      const ep = await startEndpoint(["--tls", `${pki}/${cert}.pem`, `${pki}/${cert}-key.pem`]);
      try {
        writeFileSync(join(dir, "v"), "x\n");
        const r = aws(ep, ["ssm-create", "/bitte/t/tls", join(dir, "v"), "--key-id", "k"], { SSL_CERT_DIR: `${pki}/${certDir}`, BITTE_AWS_MAX_ATTEMPTS: "1", ...trust });
        return { status: r.status, stderr: r.stderr, calls: (await ep.state()).calls.length };
      } finally {
        ep.stop();
      }
    };

    test("a certificate that chains to a CA of the trust store's hashed directory is accepted", async () => {
      expect(await over("good", "trusted")).toEqual({ status: 0, stderr: "", calls: 1 });
    });

    test("a bundle named by SSL_CERT_FILE is still read, as OpenSSL's default paths take it", async () => {
      expect(await over("good", "empty", { SSL_CERT_FILE: `${pki}/trusted/ca.pem` })).toEqual({ status: 0, stderr: "", calls: 1 });
    });

    test("a CA not in the trust store, or a certificate for another name, is refused and nothing is sent", async () => {
      const unknown = await over("good", "empty");
      expect({ ...unknown, refused: /CERTIFICATE_VERIFY_FAILED.*unable to get local issuer certificate/.test(unknown.stderr) }).toMatchObject({ status: 1, calls: 0, refused: true });
      const name = await over("other", "trusted");
      expect({ ...name, refused: /CERTIFICATE_VERIFY_FAILED.*Hostname mismatch/.test(name.stderr) }).toMatchObject({ status: 1, calls: 0, refused: true });
    });
  });

  test("gives up after its bounded attempts with the service's error, exit 1", async () => {
    const ep = await startEndpoint(["--throttle", "GetParameter=1000"]);
    try {
      const r = aws(ep, ["ssm-get", "/bitte/t/c", join(dir, "out")], { BITTE_AWS_MAX_ATTEMPTS: "2" });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/An error occurred \(ThrottlingException\) when calling the GetParameter operation.*Rate exceeded/);
      expect((await ep.state()).calls).toHaveLength(2);
    } finally {
      ep.stop();
    }
  });
});
