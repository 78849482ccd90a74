/**
 * Service quotas a cluster can run into at its maximum size. These are warnings, not errors:
 * quotas are per account and can be raised. Each names the quota as Service Quotas shows it,
 * with its code, so the operator can look up (and raise) the account's value.
 */
import { familyOf } from "./architecture";

export interface Quota {
  readonly name: string;
  readonly code: string;
  /** The value Bitte warns above, and why that value. */
  readonly warnAbove: number;
  readonly basis: string;
}

/** EC2 On-Demand vCPU quotas by instance family letter (Service Quotas, service "ec2"). */
const VCPU_QUOTAS: Readonly<Record<string, Quota>> = {
  standard: { name: "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances", code: "L-1216C47A", warnAbove: 64, basis: "the account's value is set by AWS per account and is low on new accounts; Bitte warns above 64 vCPUs" },
  g: { name: "Running On-Demand G and VT instances", code: "L-DB2E81BA", warnAbove: 0, basis: "often 0 on new accounts" },
  p: { name: "Running On-Demand P instances", code: "L-417A185B", warnAbove: 0, basis: "often 0 on new accounts" },
  x: { name: "Running On-Demand X instances", code: "L-7295265B", warnAbove: 0, basis: "often 0 on new accounts" },
  f: { name: "Running On-Demand F instances", code: "L-74FC7D96", warnAbove: 0, basis: "often 0 on new accounts" },
  inf: { name: "Running On-Demand Inf instances", code: "L-1945791B", warnAbove: 0, basis: "often 0 on new accounts" },
  trn: { name: "Running On-Demand Trn instances", code: "L-2C3B7624", warnAbove: 0, basis: "often 0 on new accounts" },
};

/** VPC quotas whose defaults AWS documents (Amazon VPC User Guide, "Amazon VPC quotas"). */
export const VPC_QUOTAS = {
  elasticIps: { name: "EC2-VPC Elastic IPs", code: "L-0263D0A3", warnAbove: 5, basis: "AWS's default is 5 per Region" },
} as const satisfies Record<string, Quota>;

export function vcpuQuota(instanceType: string): Quota {
  const family = familyOf(instanceType);
  for (const key of ["inf", "trn", "vt"]) if (family.startsWith(key)) return VCPU_QUOTAS[key === "vt" ? "g" : key];
  return VCPU_QUOTAS[family[0]] ?? VCPU_QUOTAS.standard;
}

/**
 * vCPUs of an instance size, as EC2 sizes them: `large` 2, `xlarge` 4, `<n>xlarge` 4n; smaller
 * sizes count 2 (the burstable families' value, an upper bound for the others); `metal` counts
 * as the largest common size, 96. An estimate for a warning, never for an error.
 */
export function estimateVcpus(instanceType: string): number {
  const size = instanceType.slice(instanceType.indexOf(".") + 1);
  if (size === "metal" || size.startsWith("metal-")) return 96;
  const m = /^(\d*)xlarge$/.exec(size);
  if (m) return 4 * (m[1] === "" ? 1 : Number(m[1]));
  return 2;
}
