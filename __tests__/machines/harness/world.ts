/**
 * One run of the machine tier: the image, the signed mirrors, the network, the services and the
 * machines, with a teardown that undoes all of it (also after a failed test) and a sweep that
 * removes what a killed earlier run left behind.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, closeSync, cpSync, existsSync, mkdirSync, openSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { which } from "../../harness/tools";
import { STANDINS_DIR, writePackageTrees, type StandinPackageName } from "../standins/packages";
import { buildRepo, debsIn } from "./apt-repo";
import { planCluster, type MachinePlan, type TestCluster } from "./cluster";
import { sh, until } from "./exec";
import { consulAclOf, resolveTags, rolePolicies, vaultAwsAuthOf, type TestAccount } from "./iam";
import { ensureImage, SUITE, type Image } from "./image";
import { ensureOsDebs } from "./os-mirror";
import { issueServerCert } from "./tls";
import { Machine } from "./machine";
import { addNode, createNet, destroyNet, IMDS_IP, runId, staleRuns, type Net } from "./net";

/** What the roles' user data installs from the OS archive: the unpinned `packages:` entries. */
export function osPackagesOf(machines: readonly Pick<MachinePlan, "userData">[]): string[] {
  const names = new Set<string>();
  for (const m of machines) {
    const doc = parse(m.userData) as { packages?: (string | string[])[] };
    for (const p of doc.packages ?? []) if (typeof p === "string" && !p.includes("=")) names.add(p);
  }
  return [...names].sort();
}

/** The versions the user data pins (`consul=1.21.4-1`, `promtail=3.5.7`): what the test mirror must serve. */
export function pinnedVersions(machines: readonly Pick<MachinePlan, "userData">[]): Record<string, string> {
  const pins: Record<string, string> = {};
  for (const m of machines) {
    const doc = parse(m.userData) as { packages?: (string | string[])[] };
    for (const p of doc.packages ?? []) {
      if (typeof p !== "string" || !p.includes("=")) continue;
      const [name, version] = p.split("=");
      if (pins[name] && pins[name] !== version) throw new Error(`user data pins ${name} at ${pins[name]} and ${version}`);
      pins[name] = version;
    }
  }
  return pins;
}

/** The runner's hard NOFILE limit: what every container is capped at without CAP_SYS_RESOURCE. */
export function hardNofile(limits = readFileSync("/proc/self/limits", "utf8")): number {
  const m = /^Max open files\s+\S+\s+(\S+)/m.exec(limits);
  return !m || m[1] === "unlimited" ? Infinity : Number(m[1]);
}

/**
 * The routing node's machine environment where the runner caps NOFILE below what HAProxy needs
 * for its configured `maxconn` (about two descriptors per connection; an instance allows 524288):
 * Debian's /etc/default/haproxy, the operator's file its unit reads, adds `-n`, HAProxy's own
 * command-line maxconn, sized to the cap. Nothing else of the configuration changes, and the
 * file exists only on such a runner (README, "How the machine tier works").
 */
export function haproxyEnvironment(userData: string, nofile: number): Record<string, string> {
  const doc = parse(userData) as { write_files?: { path: string; content: string }[] };
  const cfg = doc.write_files?.find((f) => f.path === "/etc/haproxy/haproxy.cfg")?.content;
  const maxconn = Number(/^global\n(?:[ \t].*\n)*?\s+maxconn\s+(\d+)/m.exec(cfg ?? "")?.[1]);
  if (!cfg || !maxconn) throw new Error("the routing user data has no /etc/haproxy/haproxy.cfg with a global maxconn");
  const need = 2 * maxconn + 100;
  if (need <= nofile) return {};
  const fit = Math.floor((nofile - 100) / 2);
  // Debian's unit: Environment="EXTRAOPTS=-S /run/haproxy-master.sock", overridden by this file.
  return { "/etc/default/haproxy": `# machine tier: the runner caps NOFILE at ${nofile}, below the ${need} HAProxy needs for maxconn ${maxconn}\nEXTRAOPTS="-S /run/haproxy-master.sock -n ${fit}"\n` };
}

/** The test's AWS account (no real account: the stand-in endpoints know only this). */
export const TEST_ACCOUNT = "123456789012";
/** The HTTP port of the stand-ins' shared state in the services namespace. */
const STATE_PORT = 8700;

export interface World {
  readonly dir: string;
  /** The stand-ins' state: `events.jsonl`, `faults.json`, parameters. */
  readonly stateDir: string;
  readonly image: Image;
  readonly plan: TestCluster;
  readonly net: Net;
  readonly machines: ReadonlyMap<string, Machine>;
  machine(name: string): Machine;
  teardown(): Promise<void>;
  /** Writes the stand-ins' `faults.json` (see standins/README.md). */
  faults(f: unknown): void;
  /** A new cluster in a new account: every machine stopped with a new data volume, the stand-ins' state emptied. */
  reset(): Promise<void>;
}

/** Removes namespaces, mounts, loop devices and processes of earlier runs whose jest process died. */
export function sweepStale(log: (m: string) => void = () => undefined): void {
  for (const pid of staleRuns()) {
    log(`sweeping stale run ${runId(pid)}`);
    cleanRun(runId(pid));
  }
}

/** Kills, unmounts, detaches and deletes everything of one run. */
function cleanRun(run: string): void {
  {
    for (const p of processesUsing(run)) {
      try {
        process.kill(p, "SIGKILL");
      } catch {
        // gone
      }
    }
    const mounts = readFileSync("/proc/mounts", "utf8").split("\n").map((l) => l.split(" ")[1]).filter((m) => m?.includes(`/${run}/`));
    for (const m of mounts.reverse()) sh(["umount", "-l", m], { check: false });
    const loops = sh(["losetup", "-n", "-O", "NAME,BACK-FILE", "-l"], { check: false }).stdout.split("\n");
    for (const l of loops) if (l.includes(`/${run}/`)) sh(["losetup", "-d", l.trim().split(/\s+/)[0]], { check: false });
    destroyNet(run);
    rmSync(join(tmpdir(), run), { recursive: true, force: true });
  }
}

/**
 * Pids of `run`: those whose command line names it (nspawn, the services) and those inside one
 * of its containers: another mount namespace whose root ("/") is the run's overlay. (Every host
 * process sees the overlay mounts too, so only the root mount counts.)
 */
function processesUsing(run: string): number[] {
  const out: number[] = [];
  const ownNs = readlinkSync("/proc/self/ns/mnt");
  const upper = `upperdir=${join(tmpdir(), run)}/`;
  for (const line of sh(["ps", "-eo", "pid=,args="], { check: false }).stdout.split("\n")) {
    const m = /^\s*(\d+)\s+(.*)$/.exec(line);
    if (!m || Number(m[1]) === process.pid || Number(m[1]) === process.ppid) continue;
    if (/\bjest\b/.test(m[2])) continue;
    if (m[2].includes(`${run}-`) || m[2].includes(`${run}/`)) {
      out.push(Number(m[1]));
      continue;
    }
    try {
      if (readlinkSync(`/proc/${m[1]}/ns/mnt`) === ownNs) continue;
      const root = readFileSync(`/proc/${m[1]}/mountinfo`, "utf8").split("\n").find((l) => l.split(" ")[4] === "/");
      if (root?.includes(upper)) out.push(Number(m[1]));
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

export async function createWorld(log: (m: string) => void = () => undefined): Promise<World> {
  const t0 = Date.now();
  const since = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
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
    cleanRun(run);
  };
  try {
    const image = ensureImage(log);
    log(`image ready after ${since()}`);
    // Synthesized once, with the image's signing key (the stacks' synth cache is per cluster name).
    const plan = planCluster(image.signingKey);
    const osDebs = ensureOsDebs(image, osPackagesOf(plan.machines), log);

    // Mirrors: the OS archive holds exactly the image's fetched .debs; the vendors' repositories
    // the stand-in packages at the versions the user data pins.
    const srv = join(dir, "srv");
    // gpg-agent's socket lives in GNUPGHOME, and the cache path is longer than a socket path may be.
    const gnupg = join(dir, "gnupg");
    cpSync(image.gnupgHome, gnupg, { recursive: true, filter: (src) => !/S\.gpg-agent/.test(src) });
    chmodSync(gnupg, 0o700);
    buildRepo(srv, { path: "debian", origin: "Bitte machine tier OS mirror", suites: { [SUITE]: debsIn(osDebs), [`${SUITE}-updates`]: [], [`${SUITE}-security`]: [], [`${SUITE}-backports`]: [] } }, gnupg);
    const pins = pinnedVersions(plan.machines);
    const trees = writePackageTrees(join(dir, "trees"), pins as Record<StandinPackageName, string>);
    const debDir = join(dir, "debs");
    mkdirSync(debDir);
    const built = new Map<string, string>();
    for (const t of trees) {
      const out = join(debDir, `${t.name}_${t.version}_amd64.deb`);
      sh(["dpkg-deb", "--root-owner-group", "-Zgzip", "--build", t.root, out], { timeoutMs: 300_000 });
      built.set(t.name, out);
    }
    const pick = (names: string[]) => names.map((n) => built.get(n) as string);
    buildRepo(srv, { path: "hashicorp", origin: "Bitte machine tier HashiCorp mirror", suites: { [SUITE]: pick(["consul", "nomad", "vault"]) } }, gnupg);
    buildRepo(srv, { path: "grafana", origin: "Bitte machine tier Grafana mirror", suites: { stable: pick(["grafana", "loki", "promtail"]) } }, gnupg);

    log(`cluster synthesized, mirrors signed after ${since()}`);
    net = createNet(run, plan.svcAddress, plan.vpcCidrs);
    plan.machines.forEach((m, i) => addNode(net as Net, m.name, i + 1, m.address));
    procs.push(serve(net, ["python3", "-m", "http.server", "--bind", plan.svcIp, "--directory", srv, "80"], join(dir, "http.log")));
    // The stand-in AWS endpoints and shared state (bitte_standins.serve; see standins/README.md).
    const stateDir = join(dir, "state");
    mkdirSync(stateDir);
    const region = plan.cluster.coreRegion;
    const account: TestAccount = { accountId: TEST_ACCOUNT, region, kmsKeyArn: `arn:aws:kms:${region}:${TEST_ACCOUNT}:key/mrk-0123456789abcdef0123456789abcdef`, bucketName: `bitte-${plan.cluster.name}` };
    // The regional endpoints the nodes call, all answered by the stand-in (virtual-hosted S3 too).
    const awsNames = ["ssm", "ec2", "autoscaling", "s3"].map((s) => `${s}.${region}.amazonaws.com`).concat(`${account.bucketName}.s3.${region}.amazonaws.com`);
    const tls = issueServerCert(image, dir, "aws", awsNames);
    const roles = new Set(plan.machines.map((m) => m.iamRole));
    const config = {
      stateDir, region, accountId: TEST_ACCOUNT, ssmPrefix: plan.cluster.ssmPrefix,
      // The recovery key (HashiStackBootstrap) is named too: the stand-in keeps one key (iam.ts maps
      // every key ARN in the policies to it), so it checks the alias exists, not which key it is.
      kmsKeyId: account.kmsKeyArn,
      kmsAliases: [`alias/bitte-${plan.cluster.name}`, `arn:aws:kms:${region}:${TEST_ACCOUNT}:alias/bitte-${plan.cluster.name}`, `alias/bitte-${plan.cluster.name}-recovery`],
      listen: { imds: `${IMDS_IP}:80`, ssm: `${plan.svcIp}:443`, state: `${plan.svcIp}:${STATE_PORT}` },
      tls: { cert: tls.cert, key: tls.key, ca: image.caCert },
      instances: plan.machines.map((m) => ({ ip: m.ip, instanceId: m.instanceId, name: m.name, role: m.role, zone: m.zone, iamRole: m.iamRole, tags: resolveTags(m.tags, account) })),
      iamPolicies: rolePolicies([plan.stacks.core, plan.stacks.clients], account, roles),
      // The bucket as the core stack makes it: SSE-KMS with the cluster key and an S3 Bucket Key.
      s3: { buckets: { [account.bucketName]: { kmsKeyArn: account.kmsKeyArn, bucketKey: true } } },
      vaultAwsAuth: vaultAwsAuthOf(plan.stacks.consul, plan.stacks.core, account),
      // What `deploy consul` makes in Consul: the nodes' auth method, its binding rules, roles, policies.
      consulAcl: consulAclOf(plan.stacks.consul),
    };
    const configFile = join(dir, "standins.json");
    writeFileSync(configFile, JSON.stringify(config, null, 1));
    let services: ChildProcess | undefined;
    const startServices = async () => {
      services = serve(net as Net, ["python3", "-m", "bitte_standins.serve", configFile], join(dir, "standins.log"), { PYTHONPATH: join(STANDINS_DIR, "py"), PYTHONDONTWRITEBYTECODE: "1" });
      procs.push(services);
      await until("the stand-in services (state/ready)", () => (existsSync(join(stateDir, "ready")) ? true : undefined), 120, 500);
    };
    await startServices();

    await until("the mirror's HTTP server", () => (sh(["ip", "netns", "exec", net!.svcNs, "python3", "-c", `import urllib.request;urllib.request.urlopen("http://${plan.svcIp}/debian/dists/${SUITE}/InRelease",timeout=2)`], { check: false }).status === 0 ? true : undefined), 60, 500);

    log(`network and services up after ${since()}`);
    const hostsOf = (m: MachinePlan) => [
      "127.0.0.1 localhost",
      "::1 localhost ip6-localhost ip6-loopback",
      `${m.ip} ${m.name}`,
      // The AWS endpoints' public names, resolved to the services namespace (machine environment).
      `${plan.svcIp} ${awsNames.join(" ")}`,
      "",
    ].join("\n");
    for (const m of plan.machines) {
      const mdir = join(dir, "machines", m.name);
      mkdirSync(mdir, { recursive: true });
      const environment = {
        "/etc/bitte-standins.json": JSON.stringify({ state: `http://${plan.svcIp}:${STATE_PORT}` }) + "\n",
        // Debian's cloud.cfg sets apt.preserve_sources_list: true ("prevents cloud-init from
        // rewriting apt's sources.list"); Ubuntu's cloud images keep cloud-init's default, false,
        // so the spec's primary/security mirror is applied there. The image behaves like Ubuntu's.
        "/etc/cloud/cloud.cfg.d/91-bitte-ubuntu-apt-default.cfg": "apt:\n  preserve_sources_list: false\n",
        // Ubuntu's image ships the `locales` package with en_US.UTF-8; this minbase image does not
        // (update-locale is missing), so cloud-init's locale module is off here, not on EC2.
        "/etc/cloud/cloud.cfg.d/92-bitte-no-locales.cfg": "locale: false\n",
        ...(m.role === "routing" ? haproxyEnvironment(m.userData, hardNofile()) : {}),
        ...REBOOT_MOUNTS,
      };
      machines.set(m.name, new Machine({ name: m.name, instanceId: m.instanceId, userData: m.userData, netns: `${run}-${m.name}`, dir: mdir, image, hosts: hostsOf(m), dataVolume: m.dataVolume, environment }));
    }
    return {
      dir, stateDir, image, plan, net, machines,
      machine(name) {
        const m = machines.get(name);
        if (!m) throw new Error(`no machine ${name}: ${[...machines.keys()].join(", ")}`);
        return m;
      },
      teardown,
      faults(f) {
        writeFileSync(join(stateDir, "faults.json"), JSON.stringify(f));
      },
      async reset() {
        await Promise.all([...machines.values()].map(async (m) => {
          await m.stop("crash", 30_000);
          m.replaceVolume();
        }));
        if (services && services.exitCode === null) {
          const exited = new Promise((r) => services?.once("exit", r));
          services.kill("SIGTERM");
          await exited;
        }
        rmSync(stateDir, { recursive: true, force: true });
        mkdirSync(stateDir);
        await startServices();
      },
    };
  } catch (e) {
    await teardown();
    throw e;
  }
}

/**
 * On a reboot EC2's systemd mounts the data volume from the fstab line bitte-data-volume wrote
 * (`LABEL=bitte-data /data …`). In a container systemd-fstab-generator skips every device entry
 * ("Running in a container, ignoring fstab device entry", src/fstab-generator), so the machine
 * environment does that one step: mount(8) resolves the label as it does on first boot, before
 * local-fs.target, so the units ordered after it find /data as on EC2.
 */
const REBOOT_MOUNTS: Readonly<Record<string, string>> = {
  "/etc/systemd/system/bitte-machine-fstab.service": [
    "[Unit]",
    "Description=Machine tier: the fstab device mounts systemd skips in a container",
    "DefaultDependencies=no",
    "After=systemd-remount-fs.service",
    "Before=local-fs.target",
    "[Service]",
    "Type=oneshot",
    "RemainAfterExit=yes",
    "ExecStart=/bin/mount -a -t ext4",
    "",
  ].join("\n"),
  "/etc/systemd/system/local-fs.target.d/bitte-machine-fstab.conf": "[Unit]\nWants=bitte-machine-fstab.service\nAfter=bitte-machine-fstab.service\n",
};

/** A long-running program in the services namespace, output to a log file. */
function serve(net: Net, argv: string[], logFile: string, env: NodeJS.ProcessEnv = {}): ChildProcess {
  const exe = which(argv[0]);
  if (!exe) throw new Error(`${argv[0]} is not on PATH`);
  const fd = openSync(logFile, "a");
  const child = spawn("ip", ["netns", "exec", net.svcNs, exe, ...argv.slice(1)], { stdio: ["ignore", fd, fd], env: { ...process.env, ...env } });
  closeSync(fd);
  return child;
}


