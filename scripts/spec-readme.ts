/** Rewrites the spec field reference in README.md from clusters/spec/fields.ts. */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { withSpecReference } from "../clusters/spec/readme";

const path = join(__dirname, "..", "README.md");
writeFileSync(path, withSpecReference(readFileSync(path, "utf8")));
