import { readFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Each node of each client group ships the same assets: read once per synth, and the trimmed
 * forms below made once per text (they are pure), not once per node.
 */
const read = new Map<string, string>();
const shipped = { sh: new Map<string, string>(), py: new Map<string, string>(), member: new Map<string, string>() };

/** A static asset shipped next to this file: scripts, the AWS client, dashboards. */
export function asset(relative: string): string {
  let text = read.get(relative);
  if (text === undefined) read.set(relative, (text = readFileSync(join(__dirname, relative), "utf8")));
  return text;
}

function once(kind: keyof typeof shipped, text: string, make: (t: string) => string): string {
  let out = shipped[kind].get(text);
  if (out === undefined) shipped[kind].set(text, (out = make(text)));
  return out;
}

/**
 * A script as the user data ships it: full-line comments dropped (the shebang and shellcheck
 * directives stay), because EC2 takes at most 16 KB of user data and the repository keeps the
 * commented source. Safe for these scripts: none has a here-document.
 */
export function shippedScript(text: string): string {
  return once("sh", text, (t) =>
    t
      .split("\n")
      .filter((line, i) => i === 0 || !/^\s*#/.test(line) || /^\s*# shellcheck /.test(line))
      .join("\n")
  );
}

/**
 * The AWS client as the user data ships it: comments and docstrings dropped, for the same 16 KB
 * (the repository keeps the documented source; `render.tool.test.ts` compiles the shipped form).
 * Docstrings are the triple-quoted blocks that open a line; the program reads none of them.
 */
export function shippedPython(text: string): string {
  return once("py", text, (t) => shippedScript(t.replace(/^[ \t]*"""[\s\S]*?"""[ \t]*\n/gm, "")));
}

/** Header of a script section only core nodes run (`# --- Core: … ---`). */
const CORE_SECTION = /^# --- Core: /;
/** Header of any section (`# --- … ---`). */
const SECTION = /^# --- /;

/**
 * The bootstrap script as a non-core node ships it: without its `# --- Core: …` sections (trust
 * material, ACL bootstrap, Vault init, node PKI), which only `core_main` calls, so the 16 KB of
 * user data holds the rest. Core nodes ship the whole script.
 */
export function shippedMemberScript(text: string): string {
  return once("member", text, (t) => {
    let core = false;
    const kept = t.split("\n").filter((line) => {
      if (SECTION.test(line)) core = CORE_SECTION.test(line);
      return !core;
    });
    return shippedScript(kept.join("\n"));
  });
}
