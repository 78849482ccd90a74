/** Synthesizing stacks in tests and reading the result as Terraform sees it. */
import { gunzipSync } from "node:zlib";
import { Testing, type TerraformStack } from "cdktf";
import type { App } from "cdktf";

export interface StackJson {
  readonly terraform?: Record<string, unknown>;
  readonly provider?: Record<string, Array<Record<string, unknown>>>;
  readonly resource?: Record<string, Record<string, Record<string, unknown>>>;
  readonly data?: Record<string, Record<string, Record<string, unknown>>>;
  readonly output?: Record<string, { value: unknown; description?: string; sensitive?: boolean }>;
}

export interface Synthesized {
  /** The stack's `cdk.tf.json` text. */
  readonly text: string;
  readonly json: StackJson;
}

/** Builds one stack in a fresh test app and synthesizes it. */
export function synth(build: (app: App) => TerraformStack): Synthesized {
  const app = Testing.app();
  const stack = build(app);
  const text = Testing.synth(stack);
  return { text, json: JSON.parse(text) as StackJson };
}

export interface TfResource {
  /** `type.name`, as Terraform addresses it. */
  readonly address: string;
  readonly name: string;
  readonly config: Record<string, unknown>;
}

/** Every resource of a type (or every data source, with `kind: "data"`). */
export function resources(json: StackJson, type: string, kind: "resource" | "data" = "resource"): TfResource[] {
  const block = (kind === "resource" ? json.resource : json.data)?.[type] ?? {};
  return Object.entries(block).map(([name, config]) => ({ address: `${kind === "data" ? "data." : ""}${type}.${name}`, name, config }));
}

/** Every resource of the stack, of any type. */
export function allResources(json: StackJson): Array<TfResource & { type: string }> {
  return Object.entries(json.resource ?? {}).flatMap(([type]) => resources(json, type).map((r) => ({ ...r, type })));
}

/** The region a resource is created in, from its provider alias (`aws.<region>`). */
export function regionOf(r: TfResource): string {
  const provider = r.config.provider;
  if (typeof provider !== "string" || !provider.startsWith("aws.")) throw new Error(`${r.address} names no regional provider`);
  return provider.slice(4);
}

/** `${aws_vpc.x.id}` → `aws_vpc.x.id`, for comparing references. */
export function ref(value: unknown): string {
  const m = typeof value === "string" ? /^\$\{(.+)\}$/.exec(value) : null;
  if (!m) throw new Error(`not a plain reference: ${JSON.stringify(value)}`);
  return m[1];
}

/** The user data of an instance or launch template as the machine receives it: base64-decoded, gunzipped. */
export function userDataOf(r: TfResource): string {
  return gunzipSync(Buffer.from(String(r.config.user_data_base64 ?? r.config.user_data), "base64")).toString("utf8");
}
