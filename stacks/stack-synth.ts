/**
 * cdktf 0.21's stack synthesis, minus two repetitions Bitte's stacks do not need (installed by
 * `stacks/startup.ts`, which main.ts imports first). cdktf's `App.synth` prepares every stack
 * (`prepareStack`: each element's `toTerraform()` resolved once, for the side effects of tokens
 * such as cross-stack references) and then synthesizes each (`toTerraform`: each element's
 * `toTerraform()` again, resolved, merged, and the merged whole resolved once more).
 *
 * - An element's unresolved `toTerraform()` is kept from the preparing run for the stack's
 *   `toTerraform`, once. Between the two only cdktf runs (the other stacks' preparing runs, which
 *   add elements but change none, read-only validations, aspects, custom synthesis); the
 *   kept configuration is not used once an aspect or a custom synthesis exists anywhere. Resolving
 *   it is what makes the JSON, so a token's value is still taken when the stack is written.
 * - The merged whole is resolved again only if the stack has overrides (`addOverride` on the
 *   stack, merged unresolved): everything else in it is already resolved (element configurations
 *   and metadata by cdktf's own resolve, the outputs map from names), and resolving resolved
 *   values gives them back.
 *
 * The rest is cdktf's code as it is in 0.21.0 (lib/terraform-stack.js). Installed only over
 * exactly that code (`cdktf-internals.ts`); `__tests__/app/startup.test.ts` compares the JSON.
 */
import { cdktfModule, unchanged } from "./cdktf-internals";

interface Node {
  readonly id: string;
  readonly path: string;
  readonly children: readonly Construct[];
}
interface Construct {
  readonly node: Node;
}
interface Element extends Construct {
  readonly friendlyUniqueId: string;
  toTerraform(): unknown;
  toMetadata(): unknown;
}
interface Stack extends Construct {
  readonly rawOverrides: Record<string, unknown>;
  readonly cdktfVersion: unknown;
  ensureBackendExists(): unknown;
  prepareStack(): void;
  toTerraform(): unknown;
}

/* eslint-disable @typescript-eslint/no-explicit-any */
const { TerraformStack } = cdktfModule<{ TerraformStack: { prototype: Stack; isStack(x: unknown): boolean } }>("terraform-stack");
const { TerraformElement } = cdktfModule<{ TerraformElement: { isTerraformElement(x: unknown): x is Element } }>("terraform-element");
const { TerraformOutput } = cdktfModule<{ TerraformOutput: { isTerraformOutput(x: unknown): boolean } }>("terraform-output");
const { App } = cdktfModule<{ App: { prototype: Record<string, unknown> } }>("app");
const synthesizer = cdktfModule<{ StackSynthesizer: { prototype: Record<string, unknown> }; addCustomSynthesis: (...args: any[]) => unknown }>("synthesize/synthesizer");
const { Aspects } = cdktfModule<{ Aspects: { prototype: { add: (...args: any[]) => unknown } } }>("aspect");
const tokens = cdktfModule<{ resolve(scope: unknown, obj: unknown, preparing?: boolean): any }>("_tokens");
const { deepMerge } = cdktfModule<{ deepMerge(target: any, ...sources: any[]): any }>("util");
/* eslint-enable @typescript-eslint/no-explicit-any */

/** The code this module replaces, and the code that runs between the two runs it connects. */
const FINGERPRINTS = {
  prepareStack: "7f39aeeb3fcd23a8",
  toTerraform: "07d724012b247878",
  appSynth: "e8cbafe6ec95f0b0",
  synthesize: "32195be4424ec652",
  aspectsAdd: "ef094364378f4738",
};

/** cdktf's `terraformElements` (module-private there): the stack's elements, not a nested stack's. */
function terraformElements(node: Construct, into: Element[] = []): Element[] {
  if (TerraformElement.isTerraformElement(node)) into.push(node);
  for (const child of node.node.children) {
    if (TerraformStack.isStack(child)) continue;
    terraformElements(child, into);
  }
  return into;
}

/** Each element's configuration from the preparing run, until its stack's `toTerraform` takes it. */
const prepared = new WeakMap<Element, unknown>();
/** Set for good once an aspect or a custom synthesis exists: either may change an element after preparing. */
let changesAfterPreparing = false;

function configuration(element: Element): unknown {
  const kept = prepared.get(element);
  if (kept === undefined || changesAfterPreparing) return element.toTerraform();
  prepared.delete(element);
  return kept;
}

function prepareStack(this: Stack): void {
  this.ensureBackendExists();
  for (const element of terraformElements(this)) {
    const config = element.toTerraform();
    if (!changesAfterPreparing) prepared.set(element, config);
    tokens.resolve(this, config, true);
  }
}

function toTerraform(this: Stack): unknown {
  const tf: Record<string, unknown> = {};
  const overrides = Object.keys(this.rawOverrides);
  const metadata = {
    version: this.cdktfVersion,
    stackName: this.node.id,
    backend: "local",
    cloud: undefined,
    ...(overrides.length > 0 ? { overrides: { stack: overrides } } : {}),
  };
  const elements = terraformElements(this);
  for (const meta of elements.map((e) => tokens.resolve(this, e.toMetadata()))) deepMerge(metadata, meta);
  const outputs = {};
  for (const item of elements) {
    if (!TerraformOutput.isTerraformOutput(item)) continue;
    deepMerge(
      outputs,
      item.node.path.split("/").reduceRight<Record<string, unknown>>((inner, part) => (Object.keys(inner).length === 0 ? { [part]: item.friendlyUniqueId } : { [part]: inner }), {}),
    );
  }
  tf["//"] = { metadata, outputs };
  for (const fragment of elements.map((e) => tokens.resolve(this, configuration(e)))) deepMerge(tf, fragment);
  if (overrides.length === 0) return tf;
  deepMerge(tf, this.rawOverrides);
  return tokens.resolve(this, tf);
}

/** Whether the trim is in place (false: cdktf is not the code it was written against). */
export const stackSynthTrimmed = unchanged(FINGERPRINTS, {
  prepareStack: TerraformStack.prototype.prepareStack,
  toTerraform: TerraformStack.prototype.toTerraform,
  appSynth: App.prototype.synth,
  synthesize: synthesizer.StackSynthesizer.prototype.synthesize,
  aspectsAdd: Aspects.prototype.add,
});

if (stackSynthTrimmed) {
  const add = Aspects.prototype.add;
  Aspects.prototype.add = function (this: unknown, ...args) {
    changesAfterPreparing = true;
    return add.apply(this, args);
  };
  const addCustomSynthesis = synthesizer.addCustomSynthesis;
  synthesizer.addCustomSynthesis = (...args) => {
    changesAfterPreparing = true;
    return addCustomSynthesis(...args);
  };
  TerraformStack.prototype.prepareStack = prepareStack;
  TerraformStack.prototype.toTerraform = toTerraform;
}
