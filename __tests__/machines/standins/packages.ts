/**
 * The stand-in vendor packages as dpkg-deb source trees. Each tree under `packages/<name>` is what
 * the vendor's .deb installs (maintainer scripts and payload, cited in each file); this fills the
 * version and adds the stand-in programs. Python package and key schemas under
 * /usr/lib/bitte-standins/<name>. Build each with `dpkg-deb --root-owner-group --build <root>`.
 */
import { chmodSync, cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export type StandinPackageName = "consul" | "nomad" | "vault" | "grafana" | "loki" | "promtail";

export interface StandinPackage {
  readonly name: StandinPackageName;
  /** Full Debian version, e.g. "1.21.4-1". */
  readonly version: string;
  /** The tree to pass to dpkg-deb --build. */
  readonly root: string;
}

export const STANDIN_PACKAGES: readonly StandinPackageName[] = ["consul", "nomad", "vault", "grafana", "loki", "promtail"];

/** Where the trees, the Python package and the schemas live in the repo. */
export const STANDINS_DIR = __dirname;

const DEBIAN_VERSION = /^(\d+:)?[0-9][A-Za-z0-9.+~-]*$/;

/** Writes one dpkg-deb-ready tree per package under outDir, replacing what was there. */
export function writePackageTrees(outDir: string, versions: Readonly<Record<StandinPackageName, string>>): StandinPackage[] {
  return STANDIN_PACKAGES.map((name) => {
    const version = versions[name];
    if (typeof version !== "string" || !DEBIAN_VERSION.test(version)) {
      throw new Error(`writePackageTrees: versions.${name} is ${JSON.stringify(version)}, not a Debian version; pass e.g. "1.21.4-1"`);
    }
    const root = join(outDir, name);
    rmSync(root, { recursive: true, force: true });
    mkdirSync(outDir, { recursive: true });
    cpSync(join(STANDINS_DIR, "packages", name), root, { recursive: true, verbatimSymlinks: true });
    const control = join(root, "DEBIAN", "control");
    writeFileSync(control, readFileSync(control, "utf8").replace("@VERSION@", version));
    // One copy per package, so packages installed side by side own no file in common (dpkg refuses that).
    const lib = join(root, "usr", "lib", "bitte-standins", name);
    cpSync(join(STANDINS_DIR, "py", "bitte_standins"), join(lib, "bitte_standins"), { recursive: true, filter: (src) => !src.includes("__pycache__") });
    cpSync(join(STANDINS_DIR, "schema"), join(lib, "bitte_standins", "schema"), { recursive: true, filter: (src) => !/\.(py|sh)$/.test(src) });
    // dpkg-deb wants maintainer scripts executable and DEBIAN 0755 whatever the checkout's umask.
    chmodSync(join(root, "DEBIAN"), 0o755);
    return { name, version, root };
  });
}
