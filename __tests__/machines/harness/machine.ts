/**
 * One machine: a copy-on-write root (overlayfs over the cached image, discarded on rebuild, as a
 * replaced instance gets a fresh root volume), a loop device standing in for its EBS data volume
 * (a sparse file that a rebuild keeps or replaces), the NoCloud seed holding the user data exactly
 * as synthesized, and `systemd-nspawn -b` in the machine's own network namespace.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sh, shAsync, until, type Result } from "./exec";
import type { Image } from "./image";

export interface MachineProps {
  /** `core-1`, `monitoring`, `routing-1`, `workers-1`. */
  readonly name: string;
  readonly instanceId: string;
  /** The role's user data, byte for byte as decoded from the synthesized JSON. */
  readonly userData: string;
  readonly netns: string;
  /** Directory of this machine's root layer, data volume file and console log. */
  readonly dir: string;
  readonly image: Image;
  /** `/etc/hosts` of the machine environment (the SSM endpoint's name, as a private DNS zone would). */
  readonly hosts: string;
  /** Files of the machine environment written before boot (absolute path inside → content). */
  readonly environment?: Readonly<Record<string, string>>;
  /** @default true: the node has a separate data volume (core, monitoring, clients). */
  readonly dataVolume?: boolean;
}

/** Size of the sparse file behind a data volume; mkfs.ext4 needs room for its journal. */
const DATA_VOLUME_BYTES = 512 * 1024 * 1024;

export class Machine {
  private nspawn?: ChildProcess;
  private exited?: Promise<void>;
  private loop?: string;
  private leaderPid?: number;
  private boots = 0;
  private readonly root: string;

  constructor(readonly props: MachineProps) {
    this.root = join(props.dir, "root");
  }

  get volumeFile(): string {
    return join(this.props.dir, "data-volume.img");
  }

  get consoleLog(): string {
    return join(this.props.dir, "console.log");
  }

  /** Boots the machine; the root layer is new unless `keepRoot` (a reboot, not a rebuild). */
  async boot(opts: { keepRoot?: boolean } = {}): Promise<void> {
    const { props } = this;
    const upper = join(props.dir, "upper");
    const work = join(props.dir, "work");
    if (!opts.keepRoot) rmSync(upper, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
    for (const d of [upper, work, this.root]) mkdirSync(d, { recursive: true });
    sh(["mount", "-t", "overlay", "overlay", "-o", `lowerdir=${props.image.rootfs},upperdir=${upper},workdir=${work}`, this.root]);
    const put = (path: string, content: string, mode = 0o644) => {
      const full = join(this.root, path);
      mkdirSync(join(full, ".."), { recursive: true });
      writeFileSync(full, content, { mode });
    };
    if (!opts.keepRoot) {
      put("/var/lib/cloud/seed/nocloud/user-data", props.userData);
      put("/var/lib/cloud/seed/nocloud/meta-data", `instance-id: ${props.instanceId}\nlocal-hostname: ${props.name}\n`);
      put("/etc/hostname", `${props.name}\n`);
      put("/etc/hosts", props.hosts);
      for (const [path, content] of Object.entries(props.environment ?? {})) put(path, content);
    }
    const args = ["--register=no", "--keep-unit", "-D", this.root, "-b", `--network-namespace-path=/run/netns/${props.netns}`,
      `--machine=${props.name}`, "--resolv-conf=off", "--timezone=off", "--link-journal=no", "--console=read-only",
      // An EC2 instance's systemd starts with its default hard NOFILE limit (524288), not the test
      // runner's; HAProxy raises its soft limit toward it ("Cannot raise FD limit" otherwise).
      // (Capped at the runner's own hard limit where it lacks CAP_SYS_RESOURCE: see world.ts.)
      "--rlimit=NOFILE=1024:524288",
      // Root on an instance has CAP_NET_ADMIN: Docker's iptables chains and the IMDS guard's nft
      // table need it. nspawn grants it for --private-network, not for a namespace it is given.
      "--capability=CAP_NET_ADMIN"];
    if (props.dataVolume ?? true) {
      if (!existsSync(this.volumeFile)) {
        const fd = openSync(this.volumeFile, "w");
        closeSync(fd);
        sh(["truncate", "-s", String(DATA_VOLUME_BYTES), this.volumeFile]);
      }
      this.loop = sh(["losetup", "--find", "--show", this.volumeFile]).stdout.trim();
      put("/etc/bitte-machine-tier/ebs-device", `${this.loop}\n`);
      args.push(`--bind=${this.loop}`);
    }
    const log = openSync(this.consoleLog, "a");
    // Ubuntu 24.04 boots with the unified cgroup v2 hierarchy only (the IMDS guard's nft rule
    // matches a cgroup v2 path); on a host in hybrid mode nspawn would give the legacy layout.
    // /proc/sys/net is the instance's own (Docker enables IP forwarding): nspawn leaves it
    // writable for --private-network only ("network": the rest of /proc/sys stays read-only).
    const env = { ...process.env, SYSTEMD_NSPAWN_UNIFIED_HIERARCHY: "1", SYSTEMD_NSPAWN_API_VFS_WRITABLE: "network" };
    const child = spawn("systemd-nspawn", args, { stdio: ["ignore", log, log], env });
    closeSync(log);
    this.nspawn = child;
    this.exited = new Promise((resolve) => child.on("exit", () => resolve()));
    this.leaderPid = await until(`${props.name}'s init (systemd-nspawn pid ${child.pid})`, () => {
      if (child.exitCode !== null) throw new Error(`systemd-nspawn exited ${child.exitCode}: ${tail(this.consoleLog)}`);
      return findInit(child.pid ?? -1);
    }, 120, 250);
  }

  get pid(): number {
    if (this.leaderPid === undefined) throw new Error(`${this.props.name} is not running`);
    return this.leaderPid;
  }

  get running(): boolean {
    return this.nspawn !== undefined && this.nspawn.exitCode === null && this.nspawn.signalCode === null;
  }

  /** Runs argv inside the machine (all its namespaces), as root. */
  exec(argv: readonly string[], opts: { timeoutMs?: number; check?: boolean; input?: string } = {}): Promise<Result> {
    return shAsync(["nsenter", "-t", String(this.pid), "-a", "--", ...argv], opts);
  }

  /** Waits for cloud-init to finish; returns its status JSON (`cloud-init status --long`). */
  async cloudInitDone(timeoutMs: number): Promise<string> {
    await until(`${this.props.name}: systemd to start`, async () => ((await this.exec(["test", "-S", "/run/systemd/private"], { check: false })).status === 0 ? true : undefined), 120, 500);
    const r = await this.exec(["timeout", String(Math.ceil(timeoutMs / 1000)), "cloud-init", "status", "--wait", "--long"], { timeoutMs: timeoutMs + 10_000, check: false });
    return r.stdout + r.stderr;
  }

  /** `systemctl is-active` of units, as a map. */
  async unitStates(units: readonly string[]): Promise<Record<string, string>> {
    const r = await this.exec(["systemctl", "is-active", ...units], { check: false });
    const states = r.stdout.trim().split("\n");
    return Object.fromEntries(units.map((u, i) => [u, states[i] ?? "unknown"]));
  }

  /**
   * systemd's restart counter (`NRestarts`) of each unit: a crash loop shows as it growing. One
   * call per unit: with several units `systemctl show` separates them by blank lines. A count that
   * cannot be read is an error, not a zero.
   */
  async unitRestarts(units: readonly string[]): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const u of units) {
      const out = (await this.exec(["systemctl", "show", "--property=NRestarts", "--value", u])).stdout.trim();
      if (!/^\d+$/.test(out)) throw new Error(`${this.props.name}: NRestarts of ${u} is ${JSON.stringify(out)}, not a count`);
      counts[u] = Number(out);
    }
    return counts;
  }

  /**
   * Powers off (SIGTERM to nspawn: systemd shuts down in order), or crashes (SIGKILL to the
   * container's init: the kernel kills its whole pid namespace at once). A poweroff that takes
   * longer than `timeoutMs` becomes a crash; killing nspawn alone would orphan the container.
   */
  async stop(how: "poweroff" | "crash" = "poweroff", timeoutMs = 120_000): Promise<void> {
    if (this.nspawn && this.running) {
      await this.trace();
      const leader = this.leaderPid;
      const crash = () => {
        if (leader) {
          try {
            process.kill(leader, "SIGKILL");
          } catch {
            // already gone
          }
        }
      };
      if (how === "crash") crash();
      else this.nspawn.kill("SIGTERM");
      const timer = setTimeout(crash, how === "crash" ? 0 : timeoutMs);
      const hard = setTimeout(() => this.nspawn?.kill("SIGKILL"), timeoutMs + 30_000);
      await this.exited;
      clearTimeout(timer);
      clearTimeout(hard);
    }
    this.release();
  }

  /**
   * With BITTE_MACHINES_TRACE=<dir> (outside the run's directory, which teardown deletes): this
   * boot's journal (`short-monotonic`: seconds since the container's start) and cloud-init's
   * per-module times, saved before the machine goes, for the tier's time breakdown (README, "Time").
   */
  private async trace(): Promise<void> {
    const dir = process.env.BITTE_MACHINES_TRACE;
    if (!dir || this.leaderPid === undefined) return;
    mkdirSync(dir, { recursive: true });
    const base = join(dir, `${this.props.name}-${++this.boots}`);
    const j = await this.exec(["journalctl", "--no-pager", "-o", "short-monotonic", "-b"], { check: false, timeoutMs: 60_000 }).catch((e: Error) => ({ stdout: e.message }));
    writeFileSync(`${base}.journal`, j.stdout);
    const a = await this.exec(["cloud-init", "analyze", "blame"], { check: false, timeoutMs: 60_000 }).catch((e: Error) => ({ stdout: e.message }));
    writeFileSync(`${base}.blame`, a.stdout);
  }

  private release(): void {
    this.nspawn = undefined;
    this.leaderPid = undefined;
    for (let i = 0; i < 20 && isMounted(this.root); i++) {
      if (sh(["umount", this.root], { check: false }).status !== 0) sh(["umount", "-l", this.root], { check: false });
    }
    if (this.loop) sh(["losetup", "-d", this.loop], { check: false });
    this.loop = undefined;
  }

  /** A new data volume: the next boot formats it. */
  replaceVolume(): void {
    if (this.running) throw new Error(`${this.props.name}: stop it before replacing its data volume`);
    rmSync(this.volumeFile, { force: true });
  }
}

function isMounted(path: string): boolean {
  return readFileSync("/proc/mounts", "utf8").split("\n").some((l) => l.split(" ")[1] === path);
}

/** The container's init: a descendant of nspawn that is pid 1 in its own pid namespace. */
function findInit(nspawnPid: number): number | undefined {
  const queue = [nspawnPid];
  for (let i = 0; i < 50 && queue.length; i++) {
    const pid = queue.shift() as number;
    let status: string;
    try {
      status = readFileSync(`/proc/${pid}/status`, "utf8");
    } catch {
      continue;
    }
    const ns = /^NSpid:\s+(.+)$/m.exec(status)?.[1].trim().split(/\s+/) ?? [];
    if (ns.length > 1 && ns[ns.length - 1] === "1") return pid;
    for (const t of safeReaddir(`/proc/${pid}/task`)) {
      try {
        queue.push(...readFileSync(`/proc/${pid}/task/${t}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number));
      } catch {
        // task gone
      }
    }
  }
  return undefined;
}

function safeReaddir(p: string): string[] {
  try {
    return readdirSync(p);
  } catch {
    return [];
  }
}

export function tail(path: string, lines = 40): string {
  try {
    return readFileSync(path, "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}
