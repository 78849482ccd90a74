/**
 * The machine image: a Debian bookworm rootfs from `debootstrap` (Debian's packages only), a
 * throwaway apt signing key and a test CA. Cached outside the work tree under the sha256 of
 * everything that goes in; built in a temporary directory and renamed into place; a lock keeps two
 * builders apart. The roles' OS packages are not in it: see os-mirror.ts.
 */
import { createHash } from "node:crypto";
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { sh } from "./exec";

export const SUITE = "bookworm";
/** Where debootstrap and the build's `apt-get download` fetch from; BITTE_DEBIAN_MIRROR overrides. */
export const DEBIAN_MIRROR = process.env.BITTE_DEBIAN_MIRROR ?? "http://deb.debian.org/debian";
export const DEBIAN_SECURITY_MIRROR = process.env.BITTE_DEBIAN_SECURITY_MIRROR ?? "http://deb.debian.org/debian-security";

/** In the image: what an Ubuntu cloud image boots with (systemd, resolved, cloud-init, a CA store). */
export const IMAGE_PACKAGES = [
  "systemd", "systemd-sysv", "systemd-resolved", "dbus", "cloud-init", "ca-certificates", "gnupg", "iproute2",
  "procps", "util-linux", "e2fsprogs", "kmod", "less", "python3", "sudo",
  // debootstrap resolves no virtual packages: python3-cryptography needs python3-cffi-backend-api-*.
  "python3-cffi-backend",
] as const;

/** Subject of the test CA that signs the AWS endpoints' certificates; trusted by the image. */
const CA_SUBJECT = "/CN=Bitte machine tier test CA";

export interface Image {
  /** Cache entry of the image: `rootfs/`, `gpg/`, `ca/`. */
  readonly dir: string;
  readonly rootfs: string;
  /** GNUPGHOME holding the throwaway repository signing key. */
  readonly gnupgHome: string;
  /** ASCII-armoured public signing key, for the spec's `packageMirror.signingKey`. */
  readonly signingKey: string;
  readonly caCert: string;
  readonly caKey: string;
}

export function cacheRoot(): string {
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "bitte-machines");
}

/** The image's cache key: this file (the recipe and every file it writes), the packages, the suite and the mirrors. */
export function imageKey(): string {
  const h = createHash("sha256");
  h.update(readFileSync(__filename));
  h.update(JSON.stringify({ SUITE, DEBIAN_MIRROR, DEBIAN_SECURITY_MIRROR, IMAGE_PACKAGES, CA_SUBJECT, arch: "amd64" }));
  return h.digest("hex");
}

/** An exclusive lock file with the holder's pid; a holder that died leaves a stale lock we take over. */
function withLock<T>(path: string, fn: () => T): T {
  const deadline = Date.now() + 30 * 60_000;
  for (let i = 0; ; i++) {
    try {
      const fd = openSync(path, "wx");
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch {
      let holder = 0;
      try {
        holder = Number(readFileSync(path, "utf8").trim() || "0");
      } catch {
        continue; // released between our open and read
      }
      let alive = false;
      try {
        if (holder > 0) process.kill(holder, 0);
        alive = holder > 0;
      } catch {
        alive = false;
      }
      if (!alive) { rmSync(path, { force: true }); continue; }
      if (Date.now() > deadline || i > 3600) throw new Error(`image lock ${path} held by pid ${holder} for 30 minutes`);
      sh(["sleep", "1"]);
    }
  }
  try {
    return fn();
  } finally {
    unlinkSync(path);
  }
}

/** `root/<key>`, built by `make(tmp)` under the lock when absent: tmp dir, then one rename. */
export function cached(root: string, key: string, log: (m: string) => void, make: (tmp: string) => void): string {
  const dir = join(root, key);
  if (existsSync(join(dir, "complete"))) return dir;
  return withLock(join(root, ".lock"), () => {
    if (existsSync(join(dir, "complete"))) return dir;
    // A builder killed mid-way leaves tmp-* directories: nobody else builds while we hold the lock.
    for (const d of readdirSync(root)) if (d.startsWith("tmp-")) rmSync(join(root, d), { recursive: true, force: true });
    const tmp = join(root, `tmp-${process.pid}-${key.slice(0, 12)}`);
    mkdirSync(tmp, { mode: 0o700 });
    log(`building ${dir} in ${tmp}`);
    make(tmp);
    writeFileSync(join(tmp, "complete"), "");
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
    return dir;
  });
}

/** The cached image, built first when absent. */
export function ensureImage(log: (m: string) => void = () => undefined): Image {
  const root = cacheRoot();
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const dir = cached(root, imageKey(), log, buildImage);
  return {
    dir,
    rootfs: join(dir, "rootfs"),
    gnupgHome: join(dir, "gpg"),
    signingKey: readFileSync(join(dir, "gpg", "public.asc"), "utf8"),
    caCert: join(dir, "ca", "ca.pem"),
    caKey: join(dir, "ca", "ca-key.pem"),
  };
}

function buildImage(tmp: string): void {
  const rootfs = join(tmp, "rootfs");
  // Downloaded .debs are kept across cache keys (debootstrap checks each against the archive's
  // index, so a reused file is the file the archive names).
  const debs = join(tmp, "..", "debootstrap-debs");
  mkdirSync(debs, { recursive: true });
  sh(["debootstrap", "--variant=minbase", `--cache-dir=${debs}`, `--include=${IMAGE_PACKAGES.join(",")}`, SUITE, rootfs, DEBIAN_MIRROR], { timeoutMs: 20 * 60_000 });
  writeFileSync(join(rootfs, "etc/apt/sources.list"), [
    `deb ${DEBIAN_MIRROR} ${SUITE} main`,
    `deb ${DEBIAN_MIRROR} ${SUITE}-updates main`,
    `deb ${DEBIAN_SECURITY_MIRROR} ${SUITE}-security main`,
    "",
  ].join("\n"));
  sh(["chroot", rootfs, "apt-get", "clean"]);

  // The machine environment (not user data): cloud-init reads only the NoCloud seed and leaves
  // the network alone (the test configures each namespace's address, as EC2's DHCP would).
  writeFileSync(join(rootfs, "etc/cloud/cloud.cfg.d/90-bitte-machine-tier.cfg"), CLOUD_CFG);
  // Test CA in the trust store, as a corporate CA would be baked into an image.
  const ca = join(tmp, "ca");
  mkdirSync(ca, { mode: 0o700 });
  sh(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "3650", "-subj", CA_SUBJECT,
    "-keyout", join(ca, "ca-key.pem"), "-out", join(ca, "ca.pem")]);
  writeFileSync(join(rootfs, "usr/local/share/ca-certificates/bitte-machine-tier-ca.crt"), readFileSync(join(ca, "ca.pem")));
  sh(["chroot", rootfs, "update-ca-certificates"]);
  // The EC2 hardware the containers lack: see LSBLK_SHIM.
  writeFileSync(join(rootfs, "usr/local/sbin/lsblk"), LSBLK_SHIM, { mode: 0o755 });
  // Each container gets its own machine id at first boot, as a fresh instance does.
  writeFileSync(join(rootfs, "etc/machine-id"), "");
  rmSync(join(rootfs, "var/lib/dbus/machine-id"), { force: true });

  // Throwaway signing key for the test repositories, made per cache key.
  const gpg = join(tmp, "gpg");
  mkdirSync(gpg, { mode: 0o700 });
  const env = { ...process.env, GNUPGHOME: gpg };
  sh(["gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", "", "--quick-gen-key", "Bitte machine tier test repository <machines@bitte.invalid>", "ed25519", "sign", "1y"], { env });
  writeFileSync(join(gpg, "public.asc"), sh(["gpg", "--batch", "--armor", "--export"], { env }).stdout);
  sh(["gpgconf", "--kill", "all"], { env, check: false });
  if (!statSync(join(gpg, "public.asc")).size) throw new Error("gpg exported no public key");
}

/** cloud-init's machine settings: read only the NoCloud seed; leave the network as the test made it. */
const CLOUD_CFG = "datasource_list: [NoCloud]\nnetwork: {config: disabled}\n";

/**
 * `/usr/local/sbin/lsblk`: the one fact of the EC2 hardware a loop device cannot show. On Nitro,
 * an EBS volume is an NVMe namespace whose MODEL is "Amazon Elastic Block Store"; here the test
 * attaches a loop device and names it in /etc/bitte-machine-tier/ebs-device (machine environment). This shim
 * reports that model for that device and hands every other call to util-linux's lsblk unchanged.
 */
const LSBLK_SHIM = `#!/bin/sh
# Machine-tier stand-in for the EBS NVMe model string (see __tests__/machines/harness/image.ts).
dev=$(cat /etc/bitte-machine-tier/ebs-device 2>/dev/null)
if [ -n "$dev" ] && [ "$*" = "-dpno NAME,MODEL" ]; then
  /usr/bin/lsblk -dpno NAME,MODEL | while read -r name model; do
    if [ "$name" = "$dev" ]; then echo "$name Amazon Elastic Block Store"; else echo "$name $model"; fi
  done
  exit 0
fi
exec /usr/bin/lsblk "$@"
`;
