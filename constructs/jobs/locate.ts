/**
 * Line numbers for problems found in hcl2json's output, which carries no positions. A
 * best-effort search of the source text for the block header or attribute the check is about;
 * comments are skipped. Syntax errors take their line from the parser instead.
 */

/** The source split into lines, with `#` and `//` comments blanked. */
export class SourceLines {
  private readonly lines: readonly string[];

  constructor(source: string) {
    this.lines = source.split(/\r?\n/).map((l) => (/^\s*(#|\/\/)/.test(l) ? "" : l));
  }

  /** 1-based line of the first match of `re` at or after line `from`, within `until` (exclusive). */
  find(re: RegExp, from = 1, until = this.lines.length + 1): number | undefined {
    for (let i = Math.max(1, from); i < until && i <= this.lines.length; i++) {
      if (re.test(this.lines[i - 1])) return i;
    }
    return undefined;
  }

  /** Line of the block header `<type> "<label>" {`, searching from `from`. */
  block(type: string, label: string, from = 1): number | undefined {
    return this.find(new RegExp(`^\\s*${type}\\s+"${escapeRegExp(label)}"\\s*\\{`), from);
  }

  /** Line of the attribute `<name> =` at or after `from` (before `until`). */
  attribute(name: string, from = 1, until?: number): number | undefined {
    return this.find(new RegExp(`^\\s*${escapeRegExp(name)}\\s*=`), from, until);
  }
}

export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
