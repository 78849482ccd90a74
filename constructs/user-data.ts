import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";

/** EC2 rejects user data over 16 KiB (before base64). */
export const USER_DATA_LIMIT = 16384;

/**
 * Compressed user data kept between synths, keyed by the text: compressing it is most of what an
 * unchanged node configuration costs a synth. Set by the app (`main.ts`); tests compress every time.
 */
export interface UserDataStore {
  get(key: string): Uint8Array | undefined;
  set(key: string, gzip: Uint8Array): void;
}

let store: UserDataStore | undefined;

/** Makes `userDataBase64` keep its output in `next` (undefined: compress every time). */
export function useUserDataStore(next: UserDataStore | undefined): void {
  store = next;
}

/** The gzip header pako writes at level 9 (RFC 1952: no flags, mtime 0, XFL 2, OS 3 Unix). */
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03]);

let pakoVersion: string | undefined;

function gzip(text: string): Uint8Array {
  // Loaded on first use: a synth whose user data is all in the store never needs it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const pako = require("pako") as { gzip(data: Uint8Array, options: { level: number }): Uint8Array };
  return pako.gzip(Buffer.from(text, "utf8"), { level: 9 });
}

/**
 * An entry is used only if it carries pako's header and Node's own inflate (exact, whatever the
 * compressor) gives back exactly this text: a damaged entry, or another text's, is compressed again.
 */
function isGzipOf(gz: Uint8Array, text: string): boolean {
  if (gz.length < GZIP_HEADER.length || !GZIP_HEADER.equals(gz.subarray(0, GZIP_HEADER.length))) return false;
  try {
    return gunzipSync(gz).equals(Buffer.from(text, "utf8"));
  } catch {
    return false;
  }
}

/**
 * Cloud-init user data as EC2 takes it: gzip (cloud-init detects and inflates it), then base64.
 * Done here rather than with Terraform's `base64gzip()` so the text never passes through HCL
 * string escaping (shell `${…}`, quotes, backslashes stay exactly as rendered). A pure-JS gzip
 * keeps the bytes identical across machines and Node versions, so an unchanged spec never rolls a
 * launch template: pako, a port of canonical zlib, which compresses these texts ~3 % smaller than
 * fflate did (~500 bytes of a core node's 16 KiB). Node's zlib is not that: it is Chromium's fork,
 * whose match finder hashes differently from canonical zlib (and differed by CPU in older
 * releases), while distributions' Node builds link the system's zlib.
 */
export function userDataBase64(userData: string): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  pakoVersion ??= (require("pako/package.json") as { version: string }).version;
  const key = store && createHash("sha256").update(`pako@${pakoVersion} level 9\0`).update(userData).digest("hex");
  let gz = key !== undefined ? store?.get(key) : undefined;
  if (gz === undefined || !isGzipOf(gz, userData)) {
    gz = gzip(userData);
    if (key !== undefined) store?.set(key, gz);
  }
  if (gz.length > USER_DATA_LIMIT) {
    throw new Error(`user data is ${gz.length} bytes compressed, over EC2's ${USER_DATA_LIMIT}; move large files out of the node configuration`);
  }
  return Buffer.from(gz).toString("base64");
}

/** A store in `dir` (created on first write). Unreadable or unwritable entries are misses. */
export function directoryUserDataStore(dir: string): UserDataStore {
  return {
    get(key) {
      try {
        return readFileSync(join(dir, `${key}.gz`));
      } catch {
        return undefined;
      }
    },
    set(key, gz) {
      try {
        mkdirSync(dir, { recursive: true });
        const path = join(dir, `${key}.gz`);
        // Write then rename: a concurrent synth never reads half a file.
        writeFileSync(`${path}.${process.pid}.tmp`, gz);
        renameSync(`${path}.${process.pid}.tmp`, path);
      } catch {
        // A store that cannot be written only costs the next synth the compression.
      }
    },
  };
}
