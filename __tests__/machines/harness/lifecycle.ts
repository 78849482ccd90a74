/**
 * What the lifecycle scenarios (lifecycle.machine.test.ts) need beyond booting: holds that stop
 * a chosen request at the stand-ins before it is applied (standins/py/bitte_standins/holds.py),
 * the bootstrap unit's run state, and a scan for secrets left where their owner is not the only
 * reader. The scans are pure functions over what a machine reports.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { until } from "./exec";
import type { Machine } from "./machine";

/** One hold of faults.json (`hold`): see holds.py. */
export interface Hold {
  readonly id: string;
  /** `ssm` (event = SSM target, name = parameter) or a product of the shared state (event = its rpc op). */
  readonly source: "ssm" | "consul" | "nomad" | "vault";
  readonly event: string;
  readonly name?: string;
  readonly node?: string;
  /** @default "drop": the request is never applied; "apply": applied after its caller crashed. */
  readonly then?: "drop" | "apply";
}

/** The node a hold caught, once it has caught one. */
export function heldNode(stateDir: string, id: string): string | undefined {
  const f = join(stateDir, "held", id);
  return existsSync(f) ? readFileSync(f, "utf8").trim() : undefined;
}

/** Lets a held request go (dropped or applied, as the hold says). */
export function releaseHold(stateDir: string, id: string): void {
  mkdirSync(join(stateDir, "released"), { recursive: true });
  writeFileSync(join(stateDir, "released", id), "");
}

/** systemd's view of the bootstrap unit. */
export interface UnitRun { readonly activeState: string; readonly subState: string; readonly result: string; readonly mainPid: number; readonly nRestarts: number }

export async function bootstrapRun(m: Machine): Promise<UnitRun> {
  const r = await m.exec(["systemctl", "show", "--property=ActiveState,SubState,Result,MainPID,NRestarts", "bitte-bootstrap"], { check: false });
  // key=value lines, in systemd's order (not the order asked for).
  const p = Object.fromEntries(r.stdout.trim().split("\n").map((l) => l.split("=", 2)));
  return { activeState: p.ActiveState ?? "", subState: p.SubState ?? "", result: p.Result ?? "", mainPid: Number(p.MainPID ?? 0), nRestarts: Number(p.NRestarts ?? 0) };
}

/**
 * kill -9 of the bootstrap's main process (systemd then kills the rest of its control group);
 * waits (bounded) until systemd has seen it die. Returns the restart count before the kill.
 */
export async function killBootstrap(m: Machine): Promise<number> {
  const before = await bootstrapRun(m);
  if (before.mainPid <= 0) throw new Error(`${m.props.name}: bitte-bootstrap has no main process to kill (${before.activeState}/${before.subState})`);
  await m.exec(["kill", "-9", String(before.mainPid)]);
  await until(`${m.props.name}: systemd to see bitte-bootstrap (pid ${before.mainPid}) killed`, async () => {
    const now = await bootstrapRun(m);
    return now.mainPid !== before.mainPid || now.nRestarts > before.nRestarts ? true : undefined;
  }, 120, 500);
  return before.nRestarts;
}

/** Waits (bounded) until systemd's Restart= has started the bootstrap again after a kill. */
export async function restartedBootstrap(m: Machine, nRestartsBefore: number, withinMs: number): Promise<void> {
  await until(`${m.props.name}: systemd to restart bitte-bootstrap (NRestarts > ${nRestartsBefore})`, async () => {
    const now = await bootstrapRun(m);
    if (now.activeState === "failed") throw new Error(`${m.props.name}: bitte-bootstrap failed instead of restarting: ${now.result}`);
    return now.nRestarts > nRestartsBefore ? true : undefined;
  }, Math.ceil(withinMs / 1000), 1000);
}

/** A file as a machine reports it for the scan. */
export interface ScannedFile { readonly path: string; readonly mode: number; readonly owner: string; readonly group: string; readonly content: string }

/** Lists files under dirs inside the machine with mode, owner and content (python3: in the image). */
export async function scanFiles(m: Machine, dirs: readonly string[]): Promise<ScannedFile[]> {
  const py = [
    "import json,os,pwd,grp,stat,sys",
    "out=[]",
    "for d in sys.argv[1:]:",
    " for root,ds,fs in os.walk(d):",
    "  for n in fs:",
    "   p=os.path.join(root,n); s=os.lstat(p)",
    "   if not stat.S_ISREG(s.st_mode): continue",
    "   c=open(p,'rb').read(65536).decode('utf-8','replace')",
    "   out.append({'path':p,'mode':stat.S_IMODE(s.st_mode),'owner':pwd.getpwuid(s.st_uid).pw_name,'group':grp.getgrgid(s.st_gid).gr_name,'content':c})",
    "print(json.dumps(out))",
  ].join("\n");
  const r = await m.exec(["python3", "-c", py, ...dirs]);
  return JSON.parse(r.stdout) as ScannedFile[];
}

/**
 * Secrets outside their owner's reach: a file holding a private key or one of `secrets` that
 * anyone but its owner and group may read, and any `*.tmp` file (a write a crash interrupted).
 */
export function secretLeaks(files: readonly ScannedFile[], secrets: readonly string[]): string[] {
  const out: string[] = [];
  const needles = secrets.map((s) => s.trim()).filter((s) => s.length >= 16);
  for (const f of files) {
    if (f.path.endsWith(".tmp")) out.push(`${f.path}: left by an interrupted write (${f.owner}:${f.group} ${f.mode.toString(8)})`);
    const secret = /PRIVATE KEY-----/.test(f.content) || needles.some((n) => f.content.includes(n));
    if (secret && (f.mode & 0o007) !== 0) out.push(`${f.path}: holds a secret and is readable by others (${f.owner}:${f.group} ${f.mode.toString(8)})`);
  }
  return out;
}

/**
 * The secret values of the stand-in parameter store (`ssm.json`): every SecureString's value,
 * PEM bundles by their key blocks (their certificates are public), JSON lists by element.
 */
export function storedSecrets(stateDir: string): string[] {
  const params = JSON.parse(readFileSync(join(stateDir, "ssm.json"), "utf8")) as Record<string, { Type: string; Value: string }>;
  const out: string[] = [];
  for (const p of Object.values(params)) {
    if (p.Type !== "SecureString") continue;
    const v = p.Value.trim();
    if (v.includes("-----BEGIN")) {
      for (const m of v.matchAll(/-----BEGIN [A-Z ]*PRIVATE KEY-----([\s\S]*?)-----END/g)) out.push(m[1].replace(/\s+/g, "").slice(0, 64));
    } else if (v.startsWith("[")) {
      out.push(...(JSON.parse(v) as string[]));
    } else {
      out.push(v);
    }
  }
  return out;
}
