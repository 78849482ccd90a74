/**
 * The user data ships the node scripts trimmed (comments, indentation and blank lines dropped;
 * the AWS client without docstrings, one-space indents) to fit EC2's 16 KB. These check, with the
 * interpreters themselves, that the trimming changes nothing the node runs: bash parses each
 * shipped script to exactly its source's commands (`declare -f` prints a parse tree, so a changed
 * multi-line string or here-document shows), and Python parses the shipped client to its source's
 * syntax tree without the docstrings.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { shippedPython, shippedScript } from "../../constructs/node-config/assets";
import { describeIf, missingTools, run } from "../harness/tools";

const SCRIPT_DIRS = [join(__dirname, "../../constructs/node-config/scripts"), join(__dirname, "../../constructs/client-group/scripts")];
const scripts = SCRIPT_DIRS.flatMap((d) => readdirSync(d).filter((f) => f.endsWith(".sh")).map((f) => join(d, f)));
const AWS_CLIENT = join(__dirname, "../../constructs/node-config/aws/bitte-aws.py");

/** bash's own rendering of a script's commands: the script as the body of a function, printed back. */
function parsedByBash(text: string): string {
  const r = run("bash", ["-c", 'eval "bitte_shipped_form() {\n$1\n}" && declare -f bitte_shipped_form', "bash", text]);
  if (r.status !== 0) throw new Error(`bash could not parse: ${r.stderr}`);
  return r.stdout;
}

describeIf(missingTools(["bash"]), "shipped shell scripts", () => {
  test.each(scripts.map((p) => [p.split("/").slice(-1)[0], p] as const))("%s: bash parses the shipped form to its source's commands", (_name, path) => {
    const source = readFileSync(path, "utf8");
    const shipped = shippedScript(source);
    expect(shipped.length).toBeLessThan(source.length);
    expect(parsedByBash(shipped)).toBe(parsedByBash(source));
  });

  test("the check sees a changed multi-line string", () => {
    const source = 'printf "%s\n  indented\n" x\n';
    expect(parsedByBash(shippedScript(source))).not.toBe(parsedByBash(source));
  });
});

const AST = `
import ast, sys
def strip(tree):
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree)
source, shipped = (open(p).read() for p in sys.argv[1:3])
print(strip(ast.parse(source)) == ast.dump(ast.parse(shipped)))
`;

describeIf(missingTools(["python3"]), "shipped AWS client", () => {
  test("Python parses the shipped form to the source's syntax tree without its docstrings", () => {
    const dir = mkdtempSync(join(tmpdir(), "bitte-shipped-"));
    try {
      const shippedPath = join(dir, "bitte-aws");
      writeFileSync(shippedPath, shippedPython(readFileSync(AWS_CLIENT, "utf8")));
      const r = run("python3", ["-c", AST, AWS_CLIENT, shippedPath]);
      expect({ status: r.status, stderr: r.stderr, same: r.stdout.trim() }).toEqual({ status: 0, stderr: "", same: "True" });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
