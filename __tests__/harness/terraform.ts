/**
 * Runs real Terraform on a synthesized stack, offline: `init` from a filesystem provider mirror
 * found at run time, `validate`, and `terraform test` with `mock_provider "aws"` (a full mocked
 * apply) and `override_data` for upstream remote state. Assertions are Terraform's own: `assert`
 * blocks evaluated against the mocked apply.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { missingTools, run } from "./tools";

const AWS_IN_MIRROR = join("registry.terraform.io", "hashicorp", "aws");

/** Where Terraform itself looks for local mirrors, then broader roots searched a few levels deep. */
function mirrorCandidates(): string[] {
  const home = homedir();
  return [
    join(home, ".terraform.d", "plugins"),
    join(home, ".local", "share", "terraform", "plugins"),
    "/usr/local/share/terraform/plugins",
    "/usr/share/terraform/plugins",
  ];
}
const SEARCH_ROOTS = ["/opt", "/usr/local", "/usr/share", "/srv", "/var/lib", homedir()];

function hasAws(dir: string): boolean {
  try {
    return statSync(join(dir, AWS_IN_MIRROR)).isDirectory();
  } catch {
    return false;
  }
}

/** Breadth-first search for a directory holding `registry.terraform.io/hashicorp/aws`. */
function searchMirror(roots: readonly string[], maxDepth: number): string | undefined {
  let level = roots.filter((r) => existsSync(r));
  for (let depth = 0; depth <= maxDepth && level.length > 0; depth++) {
    const next: string[] = [];
    for (const dir of level) {
      if (hasAws(dir)) return dir;
      let entries: string[] = [];
      try {
        entries = readdirSync(dir, { withFileTypes: true })
          .filter((e) => e.isDirectory() && !e.name.startsWith(".") && e.name !== "node_modules" && e.name !== "proc")
          .map((e) => join(dir, e.name));
      } catch {
        // unreadable: skip
      }
      next.push(...entries);
    }
    level = next;
  }
  return undefined;
}

let cachedMirror: string | undefined | null = null;

/** The provider mirror: env `TF_PLUGIN_MIRROR`, else the first directory found holding hashicorp/aws. */
export function findMirror(): string | undefined {
  if (cachedMirror !== null) return cachedMirror;
  const fromEnv = process.env.TF_PLUGIN_MIRROR;
  if (fromEnv) {
    cachedMirror = hasAws(fromEnv) ? fromEnv : undefined;
    return cachedMirror;
  }
  cachedMirror = mirrorCandidates().find(hasAws) ?? searchMirror(SEARCH_ROOTS, 4);
  return cachedMirror;
}

/** Why Terraform tests cannot run here, or undefined when they can. */
export function terraformUnavailable(): string | undefined {
  const tool = missingTools(["terraform"]);
  if (tool) return tool;
  if (process.env.TF_PLUGIN_MIRROR && !findMirror()) return `TF_PLUGIN_MIRROR=${process.env.TF_PLUGIN_MIRROR} holds no ${AWS_IN_MIRROR}`;
  if (!findMirror()) return `no provider mirror with ${AWS_IN_MIRROR} found (set TF_PLUGIN_MIRROR)`;
  return undefined;
}

/** A Terraform `assert` block: an HCL condition over the mocked apply and what it means. */
export interface TfAssert {
  readonly condition: string;
  readonly message: string;
}

export interface TerraformTestProps {
  /** The synthesized stack (`Testing.synth(stack)`), as a JSON string. */
  readonly stackJson: string;
  /** Outputs of upstream stacks: `{ network: { vpc_id_…: "vpc-…" } }` → `override_data` on their remote state. */
  readonly remoteStates?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /** Assertions Terraform evaluates after the mocked apply. */
  readonly asserts: readonly TfAssert[];
  /**
   * Values for computed attributes the mock provider cannot invent usefully (for example a
   * certificate's validation options, which the configuration indexes), by resource type.
   * @default none
   */
  readonly mockDefaults?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /**
   * The same for data sources.
   * @default none
   */
  readonly mockDataDefaults?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

export interface TerraformTestResult {
  readonly dir: string;
  readonly validate: string;
  readonly test: string;
}

function hclString(s: string): string {
  return JSON.stringify(s).replace(/\$\{/g, "$${").replace(/%\{/g, "%%{");
}

/** HCL for a JSON-like value (objects as maps, strings quoted without interpolation). */
function hclValue(v: unknown): string {
  if (typeof v === "string") return hclString(v);
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (Array.isArray(v)) return `[${v.map(hclValue).join(", ")}]`;
  if (v && typeof v === "object") return `{\n${Object.entries(v).map(([k, x]) => `    ${hclString(k)} = ${hclValue(x)}`).join("\n")}\n  }`;
  return "null";
}

/**
 * Resource types whose `arn` other resources take as an argument: the provider validates those as
 * ARNs even under mocks. Each instance gets a distinct, well-formed ARN (and id where the id has
 * a checked shape), so equality assertions between references still prove the wiring.
 */
const ARN_SERVICES: Readonly<Record<string, string>> = {
  aws_acm_certificate: "acm",
  aws_autoscaling_group: "autoscaling",
  aws_cloudwatch_event_rule: "events",
  aws_iam_instance_profile: "iam",
  aws_iam_policy: "iam",
  aws_iam_role: "iam",
  aws_kms_key: "kms",
  aws_kms_replica_key: "kms",
  aws_launch_template: "ec2",
  aws_lb: "elasticloadbalancing",
  aws_lb_listener: "elasticloadbalancing",
  aws_lb_target_group: "elasticloadbalancing",
  aws_s3_bucket: "s3",
  aws_sns_topic: "sns",
  aws_ssm_document: "ssm",
};

/** Ids whose shape the provider checks where they are passed on. */
const ID_PREFIXES: Readonly<Record<string, string>> = { aws_launch_template: "lt-" };

function resourceOverrides(
  stack: { resource?: Record<string, Record<string, { provider?: string }>>; data?: Record<string, Record<string, { provider?: string }>> },
  mockDefaults: Readonly<Record<string, Readonly<Record<string, unknown>>>>,
): string[] {
  const blocks: string[] = [];
  let serial = 0;
  for (const [type, instances] of Object.entries(stack.resource ?? {})) {
    if (!ARN_SERVICES[type] && !mockDefaults[type]) continue;
    for (const [name, config] of Object.entries(instances)) {
      const region = config.provider?.startsWith("aws.") ? config.provider.slice(4) : "us-east-1";
      const service = ARN_SERVICES[type];
      const values: Record<string, unknown> = { ...mockDefaults[type] };
      if (service) values.arn = `arn:aws:${service}:${service === "iam" || service === "s3" ? "" : region}:123456789012:mock/${type}/${name}`;
      if (ID_PREFIXES[type]) values.id = `${ID_PREFIXES[type]}${(++serial).toString(16).padStart(17, "0")}`;
      // A single override replaces every mocked value of the resource, so it carries them all.
      blocks.push(`override_resource {\n  target = ${type}.${name}\n  values = ${hclValue(values)}\n}\n`);
    }
  }
  for (const [name, config] of Object.entries(stack.data?.aws_kms_key ?? {})) {
    blocks.push(`override_data {\n  target = data.aws_kms_key.${name}\n  values = {\n    arn = ${hclString(`arn:aws:kms:${config.provider?.slice(4) ?? "us-east-1"}:123456789012:key/mock-${name}`)}\n  }\n}\n`);
  }
  return blocks;
}

/** The `.tftest.hcl` text: one mock provider per alias, remote-state overrides, one apply run. */
export function renderTestFile(stack: { provider?: Record<string, Array<{ alias?: string }>>; resource?: Record<string, Record<string, { provider?: string }>>; data?: Record<string, Record<string, { provider?: string }>> }, props: TerraformTestProps): string {
  const defaults = Object.entries(props.mockDataDefaults ?? {})
    .map(([type, values]) => `  mock_data "${type}" {\n    defaults = ${hclValue(values)}\n  }\n`)
    .join("");
  const mocks = Object.entries(stack.provider ?? {}).flatMap(([name, configs]) =>
    configs.map((c) => `mock_provider "${name}" {\n${c.alias ? `  alias = "${c.alias}"\n` : ""}${name === "aws" ? defaults : ""}}\n`),
  );
  const overrides = Object.entries(props.remoteStates ?? {}).map(
    ([from, outputs]) => `override_data {\n  target = data.terraform_remote_state.${from}\n  values = {\n  outputs = ${hclValue(outputs)}\n  }\n}\n`,
  );
  const asserts = props.asserts.map((a) => `  assert {\n    condition     = ${a.condition}\n    error_message = ${hclString(a.message)}\n  }\n`);
  return [...mocks, ...overrides, ...resourceOverrides(stack, props.mockDefaults ?? {}), `run "mocked_apply" {\n  command = apply\n\n${asserts.join("\n")}}\n`].join("\n");
}

function tf(dir: string, env: NodeJS.ProcessEnv, args: string[]): string {
  const r = run("terraform", args, { cwd: dir, env });
  const out = r.stdout + r.stderr;
  if (r.status !== 0) throw new Error(`terraform ${args.join(" ")} failed in ${dir}:\n${out}`);
  return out;
}

/**
 * Writes the stack and a generated test file to a temporary directory, then runs
 * `terraform init -backend=false`, `terraform validate` and `terraform test` there. Throws with
 * Terraform's output on any failure. The directory is removed on success.
 */
export function terraformTest(props: TerraformTestProps): TerraformTestResult {
  const mirror = findMirror();
  if (!mirror) throw new Error(terraformUnavailable());
  const dir = mkdtempSync(join(tmpdir(), "bitte-tf-"));
  const stack = JSON.parse(props.stackJson) as Parameters<typeof renderTestFile>[0];
  writeFileSync(join(dir, "cdk.tf.json"), props.stackJson);
  mkdirSync(join(dir, "tests"));
  writeFileSync(join(dir, "tests", "stack.tftest.hcl"), renderTestFile(stack, props));
  writeFileSync(
    join(dir, "cli.tfrc"),
    `provider_installation {\n  filesystem_mirror {\n    path    = ${hclString(mirror)}\n    include = ["registry.terraform.io/hashicorp/*"]\n  }\n  direct {\n    exclude = ["registry.terraform.io/hashicorp/*"]\n  }\n}\n`,
  );
  const env = { ...process.env, TF_CLI_CONFIG_FILE: join(dir, "cli.tfrc"), TF_IN_AUTOMATION: "1", CHECKPOINT_DISABLE: "1", TF_INPUT: "0" };
  tf(dir, env, ["init", "-backend=false", "-input=false", "-no-color"]);
  const validate = tf(dir, env, ["validate", "-no-color"]);
  const test = tf(dir, env, ["test", "-no-color"]);
  rmSync(dir, { recursive: true, force: true });
  return { dir, validate, test };
}

/** Stand-in output values for an upstream stack: a plausible string per output it declares. */
export function mockOutputs(upstreamJson: string): Record<string, unknown> {
  const outputs = (JSON.parse(upstreamJson) as { output?: Record<string, unknown> }).output ?? {};
  return Object.fromEntries(
    Object.keys(outputs).map((name) => [
      name,
      name.endsWith("name_servers") ? ["ns-1.example.net", "ns-2.example.org"] : name.includes("arn") ? `arn:aws:iam::123456789012:mock/${name}` : `mock-${name}`,
    ]),
  );
}
