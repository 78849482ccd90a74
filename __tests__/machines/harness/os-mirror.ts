/**
 * The local OS mirror's contents: exactly the .debs the roles' user data installs from the OS
 * archive (its unpinned `packages:`), with every dependency the image lacks, resolved by apt
 * inside a throwaway overlay over the image, so the machines resolve them the same way.
 *
 * Why a mirror rather than preinstalling them: each role installs only its own packages at first
 * boot, as on EC2 (HAProxy does not run on a core node), and `package_update` runs a real
 * `apt-get update` against the sources the spec names. Only the boot essentials (systemd,
 * cloud-init, the CA store) are in the image, as in Ubuntu's cloud image.
 *
 * Cached under the sha256 of this file, the image's key and the package list. Downloads are kept
 * in `debootstrap-debs/` across keys (apt checks each file against the index before using it).
 */
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { sh } from "./exec";
import { cached, cacheRoot, imageKey, type Image } from "./image";

export function osMirrorKey(osPackages: readonly string[]): string {
  return createHash("sha256").update(readFileSync(__filename)).update(imageKey()).update(JSON.stringify([...osPackages].sort())).digest("hex");
}

/** Directory of the OS mirror's .debs for these packages, fetched first when absent. */
export function ensureOsDebs(image: Image, osPackages: readonly string[], log: (m: string) => void = () => undefined): string {
  const root = cacheRoot();
  return join(cached(root, osMirrorKey(osPackages), log, (tmp) => fetchOsDebs(tmp, image.rootfs, osPackages, join(root, "debootstrap-debs"))), "debs");
}

function fetchOsDebs(tmp: string, rootfs: string, osPackages: readonly string[], downloads: string): void {
  const upper = join(tmp, "upper");
  const work = join(tmp, "work");
  const merged = join(tmp, "merged");
  for (const d of [upper, work, merged]) mkdirSync(d);
  mkdirSync(downloads, { recursive: true });
  sh(["mount", "-t", "overlay", "overlay", "-o", `lowerdir=${rootfs},upperdir=${upper},workdir=${work}`, merged]);
  try {
    // The image's resolv.conf points at systemd-resolved's stub, which does not run in a chroot:
    // the throwaway layer resolves through the host's.
    rmSync(join(merged, "etc/resolv.conf"), { force: true });
    copyFileSync("/etc/resolv.conf", join(merged, "etc/resolv.conf"));
    const archives = join(merged, "var/cache/apt/archives");
    for (const f of readdirSync(downloads)) if (f.endsWith(".deb")) linkOrCopy(join(downloads, f), join(archives, f));
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive", LC_ALL: "C" };
    const apt = (args: string[], timeoutMs = 20 * 60_000) => sh(["chroot", merged, "apt-get", ...args], { env, timeoutMs }).stdout;
    apt(["update", "-qq"]);
    // What apt installs for these packages on this image: `Inst <name> (<version> …`.
    const plan = apt(["install", "-s", "--no-install-recommends", ...osPackages]);
    const wanted = new Set([...plan.matchAll(/^Inst (\S+) (?:\[[^\]]*\] )?\((\S+)/gm)].map((m) => `${m[1]}_${m[2].replace(":", "%3a")}`));
    apt(["install", "-y", "-qq", "--download-only", "--no-install-recommends", ...osPackages]);
    const debs = join(tmp, "debs");
    mkdirSync(debs);
    for (const f of readdirSync(archives)) {
      if (!f.endsWith(".deb")) continue;
      if (!existsSync(join(downloads, f))) linkOrCopy(join(archives, f), join(downloads, f));
      const id = f.replace(/_[^_]+\.deb$/, "");
      if (wanted.delete(id)) linkOrCopy(join(archives, f), join(debs, f));
    }
    if (wanted.size) throw new Error(`os mirror: apt planned but did not download ${[...wanted].join(", ")}`);
  } finally {
    sh(["umount", merged], { check: false });
    for (const d of [upper, work, merged]) rmSync(d, { recursive: true, force: true });
  }
}

function linkOrCopy(from: string, to: string): void {
  try {
    linkSync(from, to);
  } catch {
    copyFileSync(from, to);
  }
}
