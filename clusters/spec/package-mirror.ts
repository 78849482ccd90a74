/**
 * `packageMirror`: internal apt mirrors for accounts that cannot (air-gapped) or may not
 * (regulated) reach HashiCorp's, Grafana's or Ubuntu's archives. Checked here, rendered into
 * cloud-init's `apt:` settings by `constructs/node-config/packages.ts`.
 */

/** Internal apt mirrors, each signed by `signingKey`. */
export interface PackageMirrorSpec {
  /**
   * Base URL of a mirror with HashiCorp's repository layout (`dists/<ubuntu codename>/main`),
   * e.g. `https://apt.internal.example.com/hashicorp`.
   * @default HashiCorp's own repository, https://apt.releases.hashicorp.com
   */
  readonly hashicorp?: string;
  /**
   * Base URL of a mirror with Grafana's repository layout (`dists/stable/main`).
   * @default Grafana's own repository, https://apt.grafana.com
   */
  readonly grafana?: string;
  /**
   * Base URL of a mirror of the OS archive (Ubuntu's layout: `dists/<codename>`,
   * `<codename>-updates`, `<codename>-security`), used for cloud-init's primary and security
   * archives.
   * @default the image's own archive settings
   */
  readonly os?: string;
  /**
   * ASCII-armored OpenPGP public key (`-----BEGIN PGP PUBLIC KEY BLOCK-----`) that signs every
   * mirror set here. Required when any URL is set: a mirror is never trusted without a key.
   * @default none (no mirror set)
   */
  readonly signingKey?: string;
}

/** A problem in the setting: field, value, what is wrong, how to fix it. */
export type ProblemSink = (field: string, value: unknown, problem: string, fix: string) => void;

const URL_FIELDS = ["hashicorp", "grafana", "os"] as const;
const ARMOR_BEGIN = "-----BEGIN PGP PUBLIC KEY BLOCK-----";
const ARMOR_END = "-----END PGP PUBLIC KEY BLOCK-----";

function urlProblem(value: unknown): string | undefined {
  if (typeof value !== "string") return "not a URL";
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "not a URL";
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return `scheme ${url.protocol} is not http or https (apt's transports on a stock image)`;
  if (url.username || url.password) return "carries credentials, which would land in the user data";
  if (url.search || url.hash) return "has a query or fragment, which apt does not take";
  return undefined;
}

/** Checks the setting; every problem goes to `add`. */
export function checkPackageMirror(mirror: PackageMirrorSpec | undefined, add: ProblemSink): void {
  if (mirror === undefined) return;
  for (const key of Object.keys(mirror)) {
    if (!(URL_FIELDS as readonly string[]).includes(key) && key !== "signingKey") add(`packageMirror.${key}`, (mirror as Record<string, unknown>)[key], "unknown setting", `use ${[...URL_FIELDS, "signingKey"].join(", ")}`);
  }
  const set = URL_FIELDS.filter((f) => mirror[f] !== undefined);
  for (const f of set) {
    const problem = urlProblem(mirror[f]);
    if (problem) add(`packageMirror.${f}`, mirror[f], problem, `write the mirror's base URL like "https://apt.internal.example.com/${f}"`);
  }
  const key: unknown = mirror.signingKey;
  if (key === undefined) {
    if (set.length > 0) add("packageMirror.signingKey", key, `required when a mirror is set (${set.join(", ")}): apt must verify what the mirror serves`, "paste the ASCII-armored public key that signs the mirror (gpg --armor --export <key id>)");
    return;
  }
  const text = typeof key === "string" ? key.trim() : "";
  if (!text.startsWith(ARMOR_BEGIN) || !text.endsWith(ARMOR_END) || text.length < ARMOR_BEGIN.length + ARMOR_END.length + 40) {
    add("packageMirror.signingKey", typeof key === "string" ? `${key.slice(0, 40)}…` : key, "not an ASCII-armored OpenPGP public key block", `paste the output of gpg --armor --export <key id>, from "${ARMOR_BEGIN}" to "${ARMOR_END}"`);
  } else if (/PRIVATE KEY/.test(text)) {
    add("packageMirror.signingKey", "(a private key)", "holds a private key, which would land in the user data", "export the public key only: gpg --armor --export <key id>");
  }
  if (set.length === 0) add("packageMirror", "(signingKey only)", "a signing key without a mirror URL does nothing", "set hashicorp, grafana or os, or remove packageMirror");
}

/** The setting as the renderers read it (undefined: vendors' and the image's own archives). */
export function resolvePackageMirror(mirror: PackageMirrorSpec | undefined): Readonly<PackageMirrorSpec> | undefined {
  if (mirror === undefined) return undefined;
  return Object.freeze({ ...mirror, ...(mirror.signingKey ? { signingKey: mirror.signingKey.trim() + "\n" } : {}) });
}
