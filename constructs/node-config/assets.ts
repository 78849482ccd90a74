import { readFileSync } from "node:fs";
import { join } from "node:path";

/** A static asset shipped next to this file (scripts), for renderers that files.ts wires in. */
export function asset(relative: string): string {
  return readFileSync(join(__dirname, relative), "utf8");
}
