import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { NodeRole } from "./types";

/**
 * Each node of each client group ships the same assets: read once per synth, and the trimmed
 * forms below made once per text (they are pure), not once per node.
 */
const read = new Map<string, string>();
const shipped = { sh: new Map<string, string>(), py: new Map<string, string>(), core: new Map<string, string>(), member: new Map<string, string>() };

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

/** Full-line comments dropped; the shebang and shellcheck directives stay. */
function withoutComments(text: string): string[] {
  return text.split("\n").filter((line, i) => i === 0 || !/^\s*#/.test(line) || /^\s*# shellcheck /.test(line));
}

/**
 * A script as the user data ships it: full-line comments, indentation and blank lines dropped,
 * because EC2 takes at most 16 KB of user data and the repository keeps the commented source.
 * Safe for these scripts, which have no here-document and no multi-line string whose lines start
 * with blanks: `shipped-forms.tool.test.ts` checks that bash parses each shipped form to exactly
 * the commands of its source.
 */
export function shippedScript(text: string): string {
  return once("sh", text, (t) =>
    withoutComments(t)
      .map((line) => line.trimStart())
      .filter((line) => line !== "")
      .join("\n")
  );
}

/**
 * The AWS client as the user data ships it: comments, docstrings and blank lines dropped, and
 * each four-space indent made one space, for the same 16 KB (the repository keeps the documented
 * source; `shipped-forms.tool.test.ts` checks that Python parses the shipped form to the source's
 * syntax tree without its docstrings). Docstrings are the triple-quoted blocks that open a line.
 */
export function shippedPython(text: string): string {
  return once("py", text, (t) =>
    withoutComments(t.replace(/^[ \t]*"""[\s\S]*?"""[ \t]*\n/gm, ""))
      .map((line) => line.replace(/^((?: {4})+)/, (indent) => " ".repeat(indent.length / 4)))
      .filter((line) => line.trim() !== "")
      .join("\n")
  );
}

/** Header of a script section only one kind of node runs (`# --- Core: … ---`, `# --- Member: … ---`). */
const KIND_SECTION = /^# --- (Core|Member): /;
/** Header of any section (`# --- … ---`). */
const SECTION = /^# --- /;

/**
 * The bootstrap script as a node ships it: a core node without its `# --- Member: …` sections
 * (`member_main`), any other node without the `# --- Core: …` ones (trust material, ACL bootstrap,
 * Vault init, node PKI, `core_main`), so each fits EC2's 16 KB of user data with the rest.
 */
export function shippedBootstrapScript(text: string, role: NodeRole): string {
  const drop = role === "core" ? "Member" : "Core";
  return once(role === "core" ? "core" : "member", text, (t) => {
    let dropping = false;
    const kept = t.split("\n").filter((line) => {
      if (SECTION.test(line)) dropping = KIND_SECTION.exec(line)?.[1] === drop;
      return !dropping;
    });
    return shippedScript(kept.join("\n"));
  });
}
