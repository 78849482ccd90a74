/**
 * The test's apt repositories, laid out as the real ones are (HashiCorp: `dists/<codename>/main`;
 * Grafana: `dists/stable/main`; the OS archive: `<codename>`, `-updates`, `-security`), indexed by
 * `apt-ftparchive` and signed (InRelease and Release.gpg) with the image's throwaway key, so apt
 * verifies them exactly as it verifies a vendor's.
 */
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { gzipSync } from "node:zlib";
import { sh } from "./exec";

export interface RepoSpec {
  /** Path under the served root: `hashicorp`, `grafana`, `debian`. */
  readonly path: string;
  /** Suites with the .debs each indexes (a suite may be empty, like a quiet `-security`). */
  readonly suites: Readonly<Record<string, readonly string[]>>;
  readonly origin: string;
}

/** Writes one signed repository under `root/<path>`. */
export function buildRepo(root: string, spec: RepoSpec, gnupgHome: string): void {
  const base = join(root, spec.path);
  for (const [suite, debs] of Object.entries(spec.suites)) {
    const pool = join(base, "pool", suite);
    mkdirSync(pool, { recursive: true });
    for (const d of debs) copyFileSync(d, join(pool, basename(d)));
    const bin = join(base, "dists", suite, "main", "binary-amd64");
    mkdirSync(bin, { recursive: true });
    // Run from the repository root so each Filename is relative to it, as apt resolves it.
    const packages = debs.length ? sh(["apt-ftparchive", "packages", `pool/${suite}`], { cwd: base, timeoutMs: 300_000 }).stdout : "";
    writeFileSync(join(bin, "Packages"), packages);
    writeFileSync(join(bin, "Packages.gz"), gzipSync(packages));
    // cloud-init's Debian sources.list template adds deb-src lines: an (empty) source index.
    const src = join(base, "dists", suite, "main", "source");
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, "Sources"), "");
    writeFileSync(join(src, "Sources.gz"), gzipSync(""));
    const dist = join(base, "dists", suite);
    const release = sh(["apt-ftparchive",
      "-o", `APT::FTPArchive::Release::Origin=${spec.origin}`, "-o", `APT::FTPArchive::Release::Label=${spec.origin}`,
      "-o", `APT::FTPArchive::Release::Suite=${suite}`, "-o", `APT::FTPArchive::Release::Codename=${suite}`,
      "-o", "APT::FTPArchive::Release::Architectures=amd64", "-o", "APT::FTPArchive::Release::Components=main",
      "release", "."], { cwd: dist }).stdout;
    writeFileSync(join(dist, "Release"), release);
    const env = { ...process.env, GNUPGHOME: gnupgHome };
    sh(["gpg", "--batch", "--yes", "--clearsign", "--digest-algo", "SHA512", "-o", join(dist, "InRelease"), join(dist, "Release")], { env });
    sh(["gpg", "--batch", "--yes", "--armor", "--detach-sign", "--digest-algo", "SHA512", "-o", join(dist, "Release.gpg"), join(dist, "Release")], { env });
  }
  sh(["gpgconf", "--kill", "all"], { env: { ...process.env, GNUPGHOME: gnupgHome }, check: false });
}

/** Every .deb in a directory. */
export function debsIn(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith(".deb")).map((f) => join(dir, f));
}
