/**
 * Holds (standins/py/bitte_standins/holds.py): a chosen request is stopped before it is applied,
 * marked, and let go dropped or applied; other nodes pass; the caller's retries stay held.
 * Over the shared state's HTTP (fetch) and SSM (botocore, the AWS CLI's library).
 */
import { spawn } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { heldNode, releaseHold } from "../harness/lifecycle";
import { describeIf, missingTools, run } from "../../harness/tools";
import { ACCOUNT, KEY_ARN, REGION, type Service, makeCa, service, tempDir, waitFor } from "./harness";

const PARAM = "/bitte/test/held";
const POLICIES = {
  "bitte-core": [{
    Version: "2012-10-17",
    Statement: [
      { Effect: "Allow", Action: ["ssm:GetParameter", "ssm:PutParameter"], Resource: `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/bitte/test/*` },
      { Effect: "Allow", Action: ["kms:Decrypt", "kms:Encrypt"], Resource: KEY_ARN, Condition: { StringEquals: { "kms:ViaService": `ssm.${REGION}.amazonaws.com` } } },
    ],
  }],
};

function botocoreMissing(): string | undefined {
  if (missingTools(["python3"])) return undefined;
  return run("python3", ["-c", "import botocore"]).status === 0 ? undefined : "python3 cannot import botocore (install: python3-boto3)";
}

describeIf(missingTools(["python3", "openssl"]) ?? botocoreMissing(), "stand-in holds", () => {
  let dir: string;
  let ca: ReturnType<typeof makeCa>;
  let svc: Service;
  const rpc = (op: string, body: unknown) => fetch(`http://127.0.0.1:${svc.ports.state}/rpc/consul/${op}`, { method: "POST", body: JSON.stringify(body), signal: AbortSignal.timeout(60_000) });
  const servers = () => Object.keys((JSON.parse(readFileSync(join(svc.stateDir, "cluster.json"), "utf8")) as { consul: { servers: Record<string, string> } }).consul.servers).sort();
  /** botocore steps in a child process, asynchronously (a held call must not block the test). */
  const botocore = (...steps: string[]) => new Promise<{ step: string; ok: boolean; code?: string; value?: unknown }[]>((resolve, reject) => {
    const c = spawn("python3", [join(__dirname, "probes", "ssm_botocore.py"), `https://127.0.0.1:${svc.ports.ssm}`, `http://127.0.0.1:${svc.ports.imds}`, ca.cert, REGION, ...steps], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    c.stdout.on("data", (d: Buffer) => (out += d.toString()));
    c.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => c.kill("SIGKILL"), 120_000);
    c.on("close", (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`botocore probe exited ${code}: ${err}`));
      else resolve(out.trim().split("\n").map((l) => JSON.parse(l) as { step: string; ok: boolean; code?: string; value?: unknown }));
    });
  });

  beforeAll(async () => {
    dir = tempDir("standins-holds-");
    ca = makeCa(dir);
    svc = await service(dir, ca, POLICIES);
    await svc.start();
  });
  afterAll(async () => {
    await svc?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("drop: the first node's request waits unapplied, its retry too; another node passes; released, it is never applied", async () => {
    writeFileSync(join(svc.stateDir, "faults.json"), JSON.stringify({ hold: [{ id: "join", source: "consul", event: "join" }] }));
    const first = rpc("join", { node: "core-1", ip: "10.0.0.1", server: true, expect: 3 });
    await waitFor("the hold to catch core-1", () => heldNode(svc.stateDir, "join") === "core-1", 30_000);
    const retry = rpc("join", { node: "core-1", ip: "10.0.0.1", server: true, expect: 3 });
    expect((await rpc("join", { node: "core-2", ip: "10.0.0.2", server: true, expect: 3 })).status).toBe(200);
    expect(servers()).toEqual(["core-2"]);
    releaseHold(svc.stateDir, "join");
    await expect(first).rejects.toThrow();
    await expect(retry).rejects.toThrow();
    expect(servers()).toEqual(["core-2"]);
    // Spent: the next one passes.
    expect((await rpc("join", { node: "core-1", ip: "10.0.0.1", server: true, expect: 3 })).status).toBe(200);
    expect(servers()).toEqual(["core-1", "core-2"]);
    expect(svc.events().filter((e) => e.event === "hold" || e.event === "hold-released").map((e) => [e.event, e.node])).toEqual([["hold", "core-1"], ["hold-released", "core-1"], ["hold-released", "core-1"]]);
  }, 90_000);

  test("apply: an SSM PutParameter held before it is applied, then applied on release (its caller sees the answer if it is still there)", async () => {
    writeFileSync(join(svc.stateDir, "faults.json"), JSON.stringify({ hold: [{ id: "put", source: "ssm", event: "PutParameter", name: PARAM, then: "apply" }] }));
    const put = botocore(`put:${PARAM}=v1`);
    await waitFor("the hold to catch the PutParameter", () => heldNode(svc.stateDir, "put") === "core-1", 60_000);
    expect((await botocore(`get:${PARAM}`))[0]).toMatchObject({ ok: false, code: "ParameterNotFound" });
    releaseHold(svc.stateDir, "put");
    expect((await put)[0]).toMatchObject({ ok: true, value: 1 });
    expect((await botocore(`get:${PARAM}`))[0]).toMatchObject({ ok: true, value: "v1" });
  }, 180_000);
});
