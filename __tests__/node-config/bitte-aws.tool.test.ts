/**
 * Defect 1 (issue 11): the nodes had no AWS client. `bitte-aws` (botocore from the OS archive)
 * is exercised here against a stand-in that speaks SSM's JSON 1.1 and Auto Scaling's query
 * protocol, with the real error codes and injected throttling.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeIf, missingTools, run } from "../harness/tools";
import { AWS_CLIENT, startEndpoint, type Endpoint } from "./aws-client";

/** Why the client cannot run here: no python3, or no botocore (the nodes' python3-botocore). */
function unavailable(): string | undefined {
  return missingTools(["python3"]) ?? (run("python3", ["-c", "import botocore"]).status === 0 ? undefined : "python3 has no botocore (install: python3-botocore)");
}

describeIf(unavailable(), "bitte-aws against a stand-in SSM and Auto Scaling endpoint", () => {
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
