/**
 * One run of the machine tier: the image, the signed mirrors, the network, the services and the
 * machines, with a teardown that undoes all of it (also after a failed test) and a sweep that
 * removes what a killed earlier run left behind.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { which } from "../../harness/tools";
import { buildRepo, debsIn } from "./apt-repo";
import { planCluster, type MachinePlan, type TestCluster } from "./cluster";
import { sh, until } from "./exec";
import { ensureImage, SUITE, type Image } from "./image";
import { Machine } from "./machine";
import { addNode, createNet, destroyNet, runId, staleRuns, type Net } from "./net";

/** A key that only has the shape of one: the package list does not depend on the key. */
const PLACEHOLDER_KEY = `-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n${"A".repeat(64)}\n-----END PGP PUBLIC KEY BLOCK-----\n`;

/** What the roles' user data installs from the OS archive: the unpinned `packages:` entries. */
export function osPackagesOf(machines: readonly Pick<MachinePlan, "userData">[]): string[] {
  const names = new Set<string>();
  for (const m of machines) {
    const doc = parse(m.userData) as { packages?: (string | string[])[] };
    for (const p of doc.packages ?? []) if (typeof p === "string" && !p.includes("=")) names.add(p);
  }
  return [...names].sort();
}

export interface World {
  readonly dir: string;
  readonly image: Image;
  readonly plan: TestCluster;
  readonly net: Net;
  readonly machines: ReadonlyMap<string, Machine>;
  machine(name: string): Machine;
  teardown(): Promise<void>;
}

/** Removes namespaces, mounts, loop devices and processes of earlier runs whose jest process died. */
export function sweepStale(log: (m: string) => void = () => undefined): void {
  for (const pid of staleRuns()) {
    const run = runId(pid);
    log(`sweeping stale run ${run}`);
    for (const p of processesUsing(run)) {
      try {
        process.kill(p, "SIGKILL");
      } catch {
        // gone
      }
    }
    const mounts = readFileSync("/proc/mounts", "utf8").split("\n").map((l) => l.split(" ")[1]).filter((m) => m?.includes(`/${run}`));
    for (const m of mounts.reverse()) sh(["umount", "-l", m], { check: false });
    const loops = sh(["losetup", "-n", "-O", "NAME,BACK-FILE", "-l"], { check: false }).stdout.split("\n");
    for (const l of loops) if (l.includes(`/${run}`)) sh(["losetup", "-d", l.trim().split(/\s+/)[0]], { check: false });
    destroyNet(run);
    rmSync(join(tmpdir(), run), { recursive: true, force: true });
  }
}

/** Pids whose command line names a resource of `run` (its nspawn and service processes). */
function processesUsing(run: string): number[] {
  const out: number[] = [];
  for (const line of sh(["ps", "-eo", "pid=,args="], { check: false }).stdout.split("\n")) {
    const m = /^\s*(\d+)\s+(.*)$/.exec(line);
    if (m && m[2].includes(run) && Number(m[1]) !== process.pid) out.push(Number(m[1]));
  }
  return out;
}

export async function createWorld(log: (m: string) => void = () => undefined): Promise<World> {
  sweepStale(log);
  const run = runId();
  const dir = join(tmpdir(), run);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const procs: ChildProcess[] = [];
  const machines = new Map<string, Machine>();
  let net: Net | undefined;
  const teardown = async () => {
    await Promise.allSettled([...machines.values()].map((m) => m.stop("crash", 30_000)));
    for (const p of procs) if (p.exitCode === null) p.kill("SIGKILL");
    destroyNet(run);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const osPackages = osPackagesOf(planCluster(PLACEHOLDER_KEY).machines);
    const image = ensureImage(osPackages, log);
    const plan = planCluster(image.signingKey);
    if (osPackagesOf(plan.machines).join() !== osPackages.join()) throw new Error("the OS package list depends on the signing key");

    // Mirrors: the OS archive holds exactly the image's fetched .debs.
    const srv = join(dir, "srv");
    buildRepo(srv, { path: "debian", origin: "Bitte machine tier OS mirror", suites: { [SUITE]: debsIn(image.osDebs), [`${SUITE}-updates`]: [], [`${SUITE}-security`]: [] } }, image.gnupgHome);

    net = createNet(run, plan.svcAddress, plan.vpcCidrs);
    plan.machines.forEach((m, i) => addNode(net as Net, m.name, i + 1, m.address));
    procs.push(serve(net, ["python3", "-m", "http.server", "--bind", plan.svcIp, "--directory", srv, "80"], join(dir, "http.log")));
    await until("the mirror's HTTP server", () => (sh(["ip", "netns", "exec", net!.svcNs, "python3", "-c", `import urllib.request;urllib.request.urlopen("http://${plan.svcIp}/debian/dists/${SUITE}/InRelease",timeout=2)`], { check: false }).status === 0 ? true : undefined), 60, 500);

    const hostsOf = (m: MachinePlan) => [
      "127.0.0.1 localhost",
      "::1 localhost ip6-localhost ip6-loopback",
      `${m.ip} ${m.name}`,
      // The SSM endpoint's public name, resolved to the services namespace (machine environment).
      `${plan.svcIp} ssm.${plan.cluster.coreRegion}.amazonaws.com`,
      "",
    ].join("\n");
    for (const m of plan.machines) {
      const mdir = join(dir, "machines", m.name);
      mkdirSync(mdir, { recursive: true });
      machines.set(m.name, new Machine({ name: m.name, instanceId: m.instanceId, userData: m.userData, netns: `${run}-${m.name}`, dir: mdir, image, hosts: hostsOf(m), dataVolume: m.dataVolume }));
    }
    return {
      dir, image, plan, net, machines,
      machine(name) {
        const m = machines.get(name);
        if (!m) throw new Error(`no machine ${name}: ${[...machines.keys()].join(", ")}`);
        return m;
      },
      teardown,
    };
  } catch (e) {
    await teardown();
    throw e;
  }
}

/** A long-running program in the services namespace, output to a log file. */
function serve(net: Net, argv: string[], logFile: string): ChildProcess {
  const exe = which(argv[0]);
  if (!exe) throw new Error(`${argv[0]} is not on PATH`);
  const fd = openSync(logFile, "a");
  const child = spawn("ip", ["netns", "exec", net.svcNs, exe, ...argv.slice(1)], { stdio: ["ignore", fd, fd] });
  closeSync(fd);
  return child;
}


