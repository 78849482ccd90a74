/**
 * AWS-managed policies as data, each with the version and the page it was taken from, so the
 * authorization matrix evaluates what a role would really get if it attached one. Bitte's node
 * roles attach none (README, security); the documents stay to prove that attaching one again
 * breaks the matrix.
 */
import type { RawDocument } from "../evaluate";
import ssmManagedInstanceCore from "./AmazonSSMManagedInstanceCore.json";

export interface ManagedPolicy {
  readonly name: string;
  readonly arn: string;
  /** The default version the document is of. */
  readonly version: string;
  readonly updated: string;
  readonly source: string;
  readonly document: RawDocument;
}

export const MANAGED_POLICIES: readonly ManagedPolicy[] = Object.freeze([ssmManagedInstanceCore as ManagedPolicy]);

export function managedPolicy(name: string): ManagedPolicy {
  const hit = MANAGED_POLICIES.find((p) => p.name === name);
  if (!hit) throw new Error(`managed policy ${name} is not vendored in constructs/iam/managed/`);
  return hit;
}
