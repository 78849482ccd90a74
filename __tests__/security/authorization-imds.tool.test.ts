/**
 * The IMDS guard, loaded exactly as rendered into a network namespace that plays the client host:
 * a "task" namespace behind it (as Docker's or Nomad's bridge puts a task) and a process of the
 * host in `nomad.slice` (a host-network task) no longer reach the metadata address, while the host
 * itself (the SSM agent, the drain, the bootstrap) still does. A stand-in metadata endpoint sits in
 * a third namespace at 169.254.169.254, one routed hop away as on EC2. Before the rules are loaded
 * the task reaches it, so the test can fail.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, rmdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { IMDS_ADDRESSES, imdsGuardRules, NOMAD_TASK_CGROUP } from "../../constructs/node-config/imds-guard";
import { describeIf, missingTools, run } from "../harness/tools";

const reason = missingTools(["nft", "ip", "unshare", "python3"]) ?? (process.getuid?.() === 0 ? undefined : "needs root for network namespaces");
const tag = `bimds${process.pid}`;
const NS = { host: `${tag}h`, task: `${tag}t`, imds: `${tag}m` };
const IMDS = IMDS_ADDRESSES.ipv4;

function sh(ns: string, script: string, timeoutMs = 10_000) {
  return run("ip", ["netns", "exec", ns, "sh", "-c", script], { timeoutMs });
}
function must(r: { status: number; stderr: string }, what: string) {
  if (r.status !== 0) throw new Error(`${what}: ${r.stderr}`);
}

/** `ip netns exec` mounts a fresh /sys; cgroup v2 goes over /sys/fs/cgroup as on Ubuntu 24.04. */
const withCgroup = (body: string) => `unshare -m sh -c 'mount -t cgroup2 cgroup2 /sys/fs/cgroup && ${body}'`;
const CONNECT = `python3 -c "import socket; s = socket.create_connection(('${IMDS}', 80), timeout=2); print(s.recv(16).decode())"`;

describeIf(reason, "IMDS guard in network namespaces", () => {
  let dir: string;
  let server: ChildProcess | undefined;
  let madeSlice = false;
  let sliceDir = "";

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "bitte-imds-"));
    writeFileSync(join(dir, "guard.nft"), imdsGuardRules());
    for (const ns of Object.values(NS)) must(run("ip", ["netns", "add", ns]), `netns ${ns}`);
    const cmds: [string, string][] = [
      [NS.host, `ip link add h0 type veth peer name t0 netns ${NS.task} && ip link add h1 type veth peer name m0 netns ${NS.imds}`],
      [NS.host, "ip addr add 172.31.0.1/24 dev h0 && ip addr add 10.250.0.1/24 dev h1 && ip link set h0 up && ip link set h1 up && ip link set lo up"],
      [NS.host, `ip route add ${IMDS}/32 via 10.250.0.2 && sysctl -qw net.ipv4.ip_forward=1`],
      [NS.task, "ip addr add 172.31.0.2/24 dev t0 && ip link set t0 up && ip link set lo up && ip route add default via 172.31.0.1"],
      [NS.imds, `ip addr add 10.250.0.2/24 dev m0 && ip addr add ${IMDS}/32 dev m0 && ip link set m0 up && ip link set lo up && ip route add 172.31.0.0/24 via 10.250.0.1`],
    ];
    for (const [ns, c] of cmds) must(sh(ns, c), c);
    server = spawn("ip", ["netns", "exec", NS.imds, "python3", "-c", `import socket\ns = socket.socket()\ns.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\ns.bind(('${IMDS}', 80))\ns.listen()\nfor _ in range(50):\n    c, _ = s.accept()\n    c.sendall(b'imds-ok')\n    c.close()\n`], { stdio: "ignore" });
    // Bounded wait for the listener.
    for (let i = 0; i < 50 && sh(NS.host, CONNECT).status !== 0; i++) run("sleep", ["0.1"]);
    // The cgroup hierarchy is the machine's: remember whether the slice was ours to remove.
    const probe = run("sh", ["-c", `d=$(mktemp -d) && mount -t cgroup2 cgroup2 "$d" 2>/dev/null && echo "$d"`]);
    sliceDir = probe.stdout.trim();
    madeSlice = sliceDir !== "" && !existsSync(join(sliceDir, NOMAD_TASK_CGROUP));
  }, 60_000);

  afterAll(() => {
    server?.kill("SIGTERM");
    for (const ns of Object.values(NS)) run("ip", ["netns", "del", ns]);
    if (sliceDir) {
      if (madeSlice && existsSync(join(sliceDir, NOMAD_TASK_CGROUP))) rmdirSync(join(sliceDir, NOMAD_TASK_CGROUP));
      run("umount", [sliceDir]);
      rmSync(sliceDir, { recursive: true, force: true });
    }
    rmSync(dir, { recursive: true, force: true });
  });

  test("without the guard a task reaches the metadata address (the check can fail)", () => {
    expect(sh(NS.task, CONNECT).stdout.trim()).toBe("imds-ok");
  });

  test("with the guard loaded as the unit loads it: the host keeps IMDS, tasks lose it", () => {
    // What bitte-imds-guard.service runs: mkdir nomad.slice, then nft -f.
    must(sh(NS.host, withCgroup(`mkdir -p /sys/fs/cgroup/${NOMAD_TASK_CGROUP} && nft -f ${join(dir, "guard.nft")}`)), "load the guard");
    // Loading twice replaces the table instead of failing or duplicating rules.
    must(sh(NS.host, withCgroup(`nft -f ${join(dir, "guard.nft")}`)), "reload the guard");
    expect(sh(NS.host, CONNECT).stdout.trim()).toBe("imds-ok");
    const task = sh(NS.task, CONNECT);
    expect({ status: task.status, out: task.stdout.trim(), dropped: /timed out/.test(task.stderr) }).toEqual({ status: 1, out: "", dropped: true });
    const hostTask = sh(NS.host, withCgroup(`echo $$ > /sys/fs/cgroup/${NOMAD_TASK_CGROUP}/cgroup.procs && exec ${CONNECT.replace(/'/g, "'\\''")}`));
    expect({ status: hostTask.status, out: hostTask.stdout.trim(), dropped: /timed out/.test(hostTask.stderr) }).toEqual({ status: 1, out: "", dropped: true });
    // The host again, after a task tried: still served.
    expect(sh(NS.host, CONNECT).stdout.trim()).toBe("imds-ok");
  }, 60_000);
});
