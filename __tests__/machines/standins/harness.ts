/**
 * Host-side harness for the stand-ins' own tests: a throwaway CA, the service process on loopback
 * ports, and running the stand-in programs (optionally as another uid) with bounded waits.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { run } from "../../harness/tools";

export const PY = join(__dirname, "py");
export const REGION = "eu-central-1";
export const ACCOUNT = "123456789012";
export const KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab";
export const KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/${KEY_ID}`;

/** A world-traversable temporary directory (daemons run as `nobody` in some tests). */
export function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(d, 0o755);
  return d;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address();
      s.close(() => resolve(typeof addr === "object" && addr ? addr.port : 0));
    });
  });
}

function openssl(args: string[]): void {
  const r = run("openssl", args);
  if (r.status !== 0) throw new Error(`openssl ${args.join(" ")}: ${r.stderr}`);
}

/** A CA (cert + key) and a function issuing leaf certificates from it. */
export function makeCa(dir: string, cn = "Bitte test CA"): { cert: string; key: string; issue: (name: string, san: string) => { cert: string; key: string } } {
  const cert = join(dir, "ca.pem");
  const key = join(dir, "ca-key.pem");
  openssl(["req", "-x509", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", `/CN=${cn}`, "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
  chmodSync(cert, 0o644);
  return {
    cert,
    key,
    issue(name, san) {
      const c = join(dir, `${name}.pem`);
      const k = join(dir, `${name}-key.pem`);
      openssl(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", k, "-out", join(dir, `${name}.csr`), "-subj", `/CN=${name}`]);
      writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${san}\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=critical,CA:FALSE\n`);
      openssl(["x509", "-req", "-in", join(dir, `${name}.csr`), "-CA", cert, "-CAkey", key, "-CAcreateserial", "-days", "2", "-sha256", "-extfile", join(dir, `${name}.ext`), "-out", c]);
      chmodSync(c, 0o644);
      return { cert: c, key: k };
    },
  };
}

/** Waits (bounded) until `check` is true; throws with `what` otherwise. */
export async function waitFor(what: string, check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < 10_000; i++) {
    if (check()) return;
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export interface Service {
  readonly stateDir: string;
  readonly conf: Record<string, unknown>;
  readonly confFile: string;
  readonly standinsConf: string;
  readonly ports: { imds: number; ssm: number; state: number };
  events(): Record<string, unknown>[];
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** The service process (IMDS, SSM, state) on loopback, for one instance at 127.0.0.1. */
export async function service(dir: string, ca: ReturnType<typeof makeCa>, policies: Record<string, unknown[]>, extra: Record<string, unknown> = {}): Promise<Service> {
  const ports = { imds: await freePort(), ssm: await freePort(), state: await freePort() };
  const tls = ca.issue("ssm", `DNS:ssm.${REGION}.amazonaws.com,DNS:autoscaling.${REGION}.amazonaws.com,IP:127.0.0.1`);
  const stateDir = join(dir, "state");
  const conf = {
    stateDir,
    region: REGION,
    accountId: ACCOUNT,
    kmsKeyId: KEY_ID,
    listen: { imds: `127.0.0.1:${ports.imds}`, ssm: `127.0.0.1:${ports.ssm}`, state: `127.0.0.1:${ports.state}` },
    tls: { cert: tls.cert, key: tls.key },
    instances: [{ ip: "127.0.0.1", instanceId: "i-0123456789abcdef0", name: "core-1", role: "core", zone: `${REGION}a`, iamRole: "bitte-core" }],
    iamPolicies: policies,
    ...extra,
  };
  const confFile = join(dir, "serve.json");
  writeFileSync(confFile, JSON.stringify(conf));
  const standinsConf = join(dir, "bitte-standins.json");
  writeFileSync(standinsConf, JSON.stringify({ state: `http://127.0.0.1:${ports.state}` }));
  chmodSync(standinsConf, 0o644);
  let child: ChildProcess | undefined;
  const svc: Service = {
    stateDir,
    conf,
    confFile,
    standinsConf,
    ports,
    events: () => (existsSync(join(stateDir, "events.jsonl")) ? readFileSync(join(stateDir, "events.jsonl"), "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) : []),
    async start() {
      rmSync(join(stateDir, "ready"), { force: true });
      child = spawn("python3", ["-m", "bitte_standins.serve", confFile], { env: { ...process.env, PYTHONPATH: PY, PYTHONDONTWRITEBYTECODE: "1" }, stdio: ["ignore", "inherit", "inherit"] });
      await waitFor("the service process's ready file", () => existsSync(join(stateDir, "ready")));
    },
    async stop() {
      if (!child || child.exitCode !== null) return;
      const c = child;
      await new Promise<void>((resolve) => {
        c.once("exit", () => resolve());
        c.kill("SIGTERM");
      });
    },
  };
  return svc;
}

export interface Daemon {
  readonly proc: ChildProcess;
  output(): string;
  stop(): Promise<number | null>;
}

const pythonByUid = new Map<number, string>();

/**
 * A python3 on PATH that `uid` can execute (a per-user interpreter such as pyenv's under /root is
 * not): the first that runs as that uid.
 */
export function pythonFor(uid: number): string {
  const cached = pythonByUid.get(uid);
  if (cached) return cached;
  for (const d of (process.env.PATH ?? "").split(delimiter)) {
    const candidate = join(d, "python3");
    if (!existsSync(candidate)) continue;
    if (run("setpriv", [`--reuid=${uid}`, `--regid=${uid}`, "--clear-groups", candidate, "-c", "import json"]).status === 0) {
      pythonByUid.set(uid, candidate);
      return candidate;
    }
  }
  throw new Error(`no python3 on PATH that uid ${uid} can run (install Debian's python3)`);
}

/** Starts a stand-in program (module `bitte_standins.<module>`) as `uid` (default: ours). */
export function daemon(module: string, args: string[], env: NodeJS.ProcessEnv, uid?: number): Daemon {
  const py = [uid === undefined ? "python3" : pythonFor(uid), "-c", `import sys; sys.path.insert(0, ${JSON.stringify(PY)}); from bitte_standins.${module} import main; sys.exit(main())`, ...args];
  const argv = uid === undefined ? py : ["setpriv", `--reuid=${uid}`, `--regid=${uid}`, "--clear-groups", ...py];
  const proc = spawn(argv[0], argv.slice(1), { env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  proc.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  proc.stderr?.on("data", (d: Buffer) => (out += d.toString()));
  return {
    proc,
    output: () => out,
    stop: () =>
      new Promise((resolve) => {
        if (proc.exitCode !== null) return resolve(proc.exitCode);
        proc.once("exit", (code) => resolve(code));
        proc.kill("SIGTERM");
      }),
  };
}

/** Runs a stand-in CLI to completion. */
export function cli(module: string, args: string[], env: NodeJS.ProcessEnv, uid?: number): { status: number; stdout: string; stderr: string } {
  const py = ["-c", `import sys; sys.path.insert(0, ${JSON.stringify(PY)}); from bitte_standins.${module} import main; sys.exit(main())`, ...args];
  if (uid === undefined) return run("python3", py, { env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1", ...env }, timeoutMs: 120_000 });
  return run("setpriv", [`--reuid=${uid}`, `--regid=${uid}`, "--clear-groups", pythonFor(uid), ...py], { env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1", ...env }, timeoutMs: 120_000 });
}

/** Waits for a daemon to exit (bounded); its exit code. */
export async function exited(d: Daemon, timeoutMs = 60_000): Promise<number | null> {
  await waitFor(`${d.proc.spawnargs.join(" ")} to exit`, () => d.proc.exitCode !== null, timeoutMs);
  return d.proc.exitCode;
}
