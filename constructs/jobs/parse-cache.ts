/**
 * A content-addressed cache of parsed job files. Parsing is a pure function of the parser's
 * version, the file name and its text, so a hit is exactly what the parser would return; it spares
 * every later synth loading and starting the parser (a Go WebAssembly module: most of a synth's
 * time when the jobs have not changed). Only successful parses are stored; a file with a syntax
 * error is parsed again every time, so its message is always the parser's own.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { HclBody } from "./hcl";

export interface ParseCache {
  get(file: string, source: string): HclBody | undefined;
  set(file: string, source: string, body: HclBody): void;
}

let parserVersion: string | undefined;

function version(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  parserVersion ??= (require("@cdktf/hcl2json/package.json") as { version: string }).version;
  return parserVersion;
}

function key(file: string, source: string): string {
  return createHash("sha256").update(`hcl2json@${version()}\0${file}\0${source}`).digest("hex");
}

/** A cache in `dir` (created on first write). Unreadable or unwritable entries are misses. */
export function directoryParseCache(dir: string): ParseCache {
  return {
    get(file, source) {
      try {
        return JSON.parse(readFileSync(join(dir, `${key(file, source)}.json`), "utf8")) as HclBody;
      } catch {
        return undefined;
      }
    },
    set(file, source, body) {
      try {
        mkdirSync(dir, { recursive: true });
        const path = join(dir, `${key(file, source)}.json`);
        // Write then rename: a concurrent synth never reads half a file.
        writeFileSync(`${path}.${process.pid}.tmp`, JSON.stringify(body));
        renameSync(`${path}.${process.pid}.tmp`, path);
      } catch {
        // A cache that cannot be written only costs the next synth a parse.
      }
    },
  };
}
