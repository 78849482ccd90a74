/**
 * Can this host run the machine tier? It needs root (namespaces, mounts, loop devices) and the
 * programs below. Absent: the tier's tests skip with the reason, or fail under CI=true
 * (`describeIf`), and `.ci/run` installs the Debian packages named here.
 */
import { readFileSync } from "node:fs";
import { which } from "../../harness/tools";

/** Program → the Debian package that ships it (the list `.ci/run` installs). */
export const MACHINE_TOOLS: Readonly<Record<string, string>> = {
  debootstrap: "debootstrap",
  "systemd-nspawn": "systemd-container",
  ip: "iproute2",
  nsenter: "util-linux",
  losetup: "mount",
  "dpkg-deb": "dpkg",
  "apt-ftparchive": "apt-utils",
  gpg: "gnupg",
  openssl: "openssl",
  python3: "python3",
};

/** Why the tier cannot run here, or undefined. */
export function machineTierUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "the machine tier needs root (network namespaces, overlay mounts, loop devices): run it as root";
  const missing = Object.keys(MACHINE_TOOLS).filter((t) => which(t) === undefined);
  if (missing.length) return `not on PATH: ${missing.map((m) => `${m} (install: ${MACHINE_TOOLS[m]})`).join(", ")}`;
  if (!/\toverlay$/m.test(readFileSync("/proc/filesystems", "utf8"))) return "the kernel has no overlay filesystem (containers' copy-on-write roots)";
  return undefined;
}
