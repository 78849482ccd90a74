/**
 * The CPU architecture of an EC2 instance type, from its family name, as EC2's naming convention
 * defines it ("Amazon EC2 instance type naming conventions", Instance Types guide): after the
 * series letters and the generation digit, the attribute `g` means an AWS Graviton (arm64)
 * processor — m7g, c7gn, r8gd, t4g, x2gd, im4gn, is4gen, hpc7g, g5g — and `a1` is the first
 * Graviton. Every other family Bitte can run is x86_64 (`i`/`a` attributes: Intel/AMD, or none).
 * mac instances need dedicated hosts, which an auto-scaling group cannot use, so they are refused.
 */
export type Architecture = "x86_64" | "arm64";
export const ARCHITECTURES: readonly Architecture[] = ["x86_64", "arm64"];

const GRAVITON_FAMILY = /^(a1|[a-z]+\d+g[a-z]*(-flex)?)$/;

export function familyOf(instanceType: string): string {
  return instanceType.slice(0, instanceType.indexOf("."));
}

export function architectureOf(instanceType: string): Architecture {
  return GRAVITON_FAMILY.test(familyOf(instanceType)) ? "arm64" : "x86_64";
}

/** Families EC2 runs only on dedicated hosts (mac1, mac2, mac2-m2pro, …). */
export function needsDedicatedHost(instanceType: string): boolean {
  return familyOf(instanceType).startsWith("mac");
}
