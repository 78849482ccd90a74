import { join } from "node:path";
import { run } from "../harness/tools";

const ROOT = join(__dirname, "../..");

/** The project's ESLint on a piece of code, as if it were a file of `stacks/`. */
function lint(code: string): Array<{ ruleId: string; message: string }> {
  const r = run(process.execPath, [join(ROOT, "node_modules", "eslint", "bin", "eslint.js"), "--stdin", "--stdin-filename", "stacks/probe.ts", "--format", "json"], { cwd: ROOT, input: code });
  const [result] = JSON.parse(r.stdout) as Array<{ messages: Array<{ ruleId: string; message: string }> }>;
  return result.messages.filter((m) => m.ruleId === "no-restricted-imports");
}

describe("the deep-imports rule", () => {
  test.each(["@cdktf/provider-aws", "@cdktf/provider-consul", "@cdktf/provider-vault", "@cdktf/provider-nomad", "@cdktf/provider-aws/lib"])("rejects a root import of %s", (pkg) => {
    const messages = lint(`import { Vpc } from "${pkg}";\nexport const x = Vpc;\n`);
    expect(messages).toHaveLength(1);
    expect(messages[0].message).toMatch(/Import the resource deeply, e\.g\. @cdktf\/provider-aws\/lib\/vpc/);
  });

  test("accepts a deep import", () => {
    expect(lint(`import { Vpc } from "@cdktf/provider-aws/lib/vpc";\nexport const x = Vpc;\n`)).toEqual([]);
  });
});
