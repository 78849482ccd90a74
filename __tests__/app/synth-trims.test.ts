/**
 * The synth trims that stand in for cdktf code (stacks/stack-synth.ts, stacks/reference-strings.ts):
 * the same JSON as cdktf's own code where they apply, cdktf's own code where they do not (an
 * aspect, a stack override, strings they do not cover), and not installed at all over code other
 * than the code they were written against. Each case runs in its own node process: plain cdktf,
 * and cdktf after stacks/startup.ts.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "../harness/tools";

const ROOT = join(__dirname, "../..");
const LOADER = join(ROOT, "scripts", "app-loader.js");

function readStacks(outdir: string): Record<string, string> {
  const ids = readdirSync(join(outdir, "stacks")).sort();
  return Object.fromEntries(ids.map((id) => [id, readFileSync(join(outdir, "stacks", id, "cdk.tf.json"), "utf8")]));
}

/**
 * `build` synthesized by plain cdktf, and by cdktf after `before` and stacks/startup.ts (then
 * `after`): the stacks' JSON of each, and what the trimmed run printed.
 */
function synthBoth(build: string, before = "", after = ""): { plain: Record<string, string>; trimmed: Record<string, string>; printed: string } {
  const work = mkdtempSync(join(tmpdir(), "bitte-trims-"));
  try {
    const env = (name: string): NodeJS.ProcessEnv => ({ ...process.env, OUT: join(work, name), BITTE_APP_CACHE: join(work, "cache") });
    const plain = run(process.execPath, ["-e", build], { cwd: ROOT, env: env("plain") });
    const trimmed = run(process.execPath, ["-r", LOADER, "-e", `{${before}}require("./stacks/startup");${build};${after}`], { cwd: ROOT, env: env("trimmed") });
    expect([plain, trimmed].map((r) => ({ status: r.status, stderr: r.stderr }))).toEqual([
      { status: 0, stderr: "" },
      { status: 0, stderr: "" },
    ]);
    return { plain: readStacks(join(work, "plain")), trimmed: readStacks(join(work, "trimmed")), printed: trimmed.stdout };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

// Two stacks; b refers to a's VPC in plain attributes and inside strings with literals and escapes.
const TWO_STACKS = `
  const { App, TerraformStack, TerraformOutput, Aspects, Lazy, Fn } = require("cdktf");
  const { AwsProvider } = require("@cdktf/provider-aws/lib/provider");
  const { Vpc } = require("@cdktf/provider-aws/lib/vpc");
  const { Subnet } = require("@cdktf/provider-aws/lib/subnet");
  const app = new App({ outdir: process.env.OUT, stackTraces: false });
  const a = new TerraformStack(app, "a");
  new AwsProvider(a, "aws", { region: "eu-central-1" });
  const vpc = new Vpc(a, "vpc", { cidrBlock: "10.0.0.0/16", tags: { Self: "vpc-" + Fn.lower("X") } });
  const b = new TerraformStack(app, "b");
  new AwsProvider(b, "aws", { region: "eu-central-1" });
  const subnet = new Subnet(b, "subnet", {
    vpcId: vpc.id,
    cidrBlock: "10.0.1.0/24",
    tags: { Name: "in-" + vpc.id + "-1e5", Escaped: "\${" + vpc.arn + "}", Brace: "} " + vpc.id, Lazy: Lazy.stringValue({ produce: () => "lazy " + vpc.id }) },
  });
  new TerraformOutput(b, "subnet_in", { value: subnet.id + "/" + vpc.cidrBlock });
`;

test("an aspect that changes an element after the preparing run: the change is in the JSON, as with cdktf's code", () => {
  const build = `${TWO_STACKS}
    Aspects.of(b).add({ visit(node) { if (node === subnet) subnet.mapPublicIpOnLaunch = true; } });
    app.synth();`;
  const { plain, trimmed } = synthBoth(build);
  expect(plain.b).toContain('"map_public_ip_on_launch": true');
  expect(plain.b).toContain("terraform_remote_state");
  expect(trimmed).toEqual(plain);
});

test("a stack override holding a token: the merged whole is resolved, as with cdktf's code", () => {
  const build = `${TWO_STACKS}
    a.addOverride("locals.from_override", Lazy.stringValue({ produce: () => "lazy-override" }));
    b.addOverride("terraform.backend.local.path", "b.tfstate");
    app.synth();`;
  const { plain, trimmed } = synthBoth(build);
  expect(plain.a).toContain('"from_override": "lazy-override"');
  expect(plain.b).toContain('"path": "b.tfstate"');
  expect(trimmed).toEqual(plain);
});

const FLAGS = `console.log(JSON.stringify([require("./stacks/stack-synth").stackSynthTrimmed, require("./stacks/reference-strings").referenceStringsTrimmed]))`;

test("no aspect, no override: the same JSON, and the trims are in place", () => {
  const { plain, trimmed, printed } = synthBoth(`${TWO_STACKS}app.synth();`, "", FLAGS);
  expect(JSON.parse(printed)).toEqual([true, true]);
  expect(trimmed).toEqual(plain);
});

test("over cdktf code other than the code they were written against, the trims are not installed and the JSON is the same", () => {
  // Same behaviour, other text: what a patched or newer cdktf looks like to the fingerprints.
  const before = `
    const { TerraformStack } = require("cdktf/lib/terraform-stack");
    const toTerraform = TerraformStack.prototype.toTerraform;
    TerraformStack.prototype.toTerraform = function () { return toTerraform.call(this); };
    const Reference = Object.getPrototypeOf(require("cdktf/lib/tfExpression").ref("x")).constructor;
    const resolve = Reference.prototype.resolve;
    Reference.prototype.resolve = function (context) { return resolve.call(this, context); };`;
  const own = `console.log(JSON.stringify(require("cdktf/lib/terraform-stack").TerraformStack.prototype.toTerraform.toString().includes("toTerraform.call(this)")))`;
  const { plain, trimmed, printed } = synthBoth(`${TWO_STACKS}app.synth();`, before, `${FLAGS};${own}`);
  expect(printed.trim().split("\n").map((l) => JSON.parse(l) as unknown)).toEqual([[false, false], true]);
  expect(trimmed).toEqual(plain);
});

test("a string of literals and tokens resolves as cdktf's resolver resolves it, in both runs, whichever path takes it", () => {
  // Generated strings of literal pieces (escapes, braces, number look-alikes) and tokens (same-
  // and cross-stack references, a lazy value, a function, a list token); each resolved by cdktf's
  // resolve and by the trimmed one, whose reference shortcut must take a good share of them.
  const script = `
    const { rng } = require("./__tests__/harness/rng");
    const resolveModule = require("cdktf/lib/tokens/private/resolve");
    const original = resolveModule.resolve;
    require("./stacks/startup");
    const trimmed = resolveModule.resolve;
    const { resolveReferenceString } = require("./stacks/reference-strings");
    const { App, TerraformStack, Lazy, Fn, Token } = require("cdktf");
    const { DefaultTokenResolver, StringConcat } = require("cdktf/lib/tokens/resolvable");
    const { AwsProvider } = require("@cdktf/provider-aws/lib/provider");
    const { Vpc } = require("@cdktf/provider-aws/lib/vpc");
    const app = new App({ stackTraces: false });
    const a = new TerraformStack(app, "a");
    new AwsProvider(a, "aws", { region: "eu-central-1" });
    const vpc = new Vpc(a, "vpc", { cidrBlock: "10.0.0.0/16" });
    const b = new TerraformStack(app, "b");
    new AwsProvider(b, "aws", { region: "eu-central-1" });
    const local = new Vpc(b, "local", { cidrBlock: "10.1.0.0/16" });
    const literals = ["a", "-", "1", "e", "5", "+", ".", "\${", "}", "$", "{", " ", '"', "x.y", "$\${", "\${x}", "TfToken", "%{", "e-1"];
    const tokens = [() => local.id, () => local.arn, () => vpc.id, () => vpc.cidrBlock, () => Lazy.stringValue({ produce: () => "lazy" }), () => Fn.lower(local.id), () => Token.asList(local.id)[0], () => local.node.id];
    const next = rng(14);
    const pick = (xs) => xs[Math.floor(next() * xs.length)];
    let taken = 0, cases = 0;
    const failures = [];
    const outcome = (f) => { try { return { ok: f() }; } catch (e) { return { error: e.message }; } };
    for (let i = 0; i < 600; i++) {
      let s = "";
      const n = 1 + Math.floor(next() * 5);
      for (let j = 0; j < n; j++) s += next() < 0.5 ? pick(literals) : pick(tokens)();
      for (const preparing of [true, false]) {
        const options = () => ({ scope: b, preparing, resolver: new DefaultTokenResolver(new StringConcat()) });
        const want = outcome(() => original(s, options()));
        const got = outcome(() => trimmed(s, options()));
        const short = outcome(() => resolveReferenceString(s, b, preparing));
        cases++;
        if (short.ok !== undefined) taken++;
        if (JSON.stringify(got) !== JSON.stringify(want) || (short.ok !== undefined && short.ok !== want.ok)) failures.push({ s, preparing, want, got, short });
      }
    }
    console.log(JSON.stringify({ cases, taken, failures: failures.slice(0, 5) }));`;
  const r = run(process.execPath, ["-r", LOADER, "-e", script], { cwd: ROOT });
  expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: "" });
  const { cases, taken, failures } = JSON.parse(r.stdout) as { cases: number; taken: number; failures: unknown[] };
  expect(failures).toEqual([]);
  expect(cases).toBe(1200);
  // Both paths are exercised: a fifth or more by the shortcut, and a good part by cdktf.
  expect(taken).toBeGreaterThan(cases / 5);
  expect(taken).toBeLessThan(cases * 0.9);
});
