/**
 * Availability zones per supported region, as zone names (region + letter).
 *
 * Source: AWS's list of Availability Zones by AZ ID, "AWS Availability Zones",
 * https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-availability-zones.html
 * (and "AZ IDs", az-ids.html, for the independently mapped regions), taken 2026-12-01. The letters
 * a region gives an account are contiguous from `a`, except where AWS says otherwise:
 * - us-west-1: three AZ IDs, but an account sees only two of the names a/b/c (which two depends
 *   on the account), so there is no safe default and the core (three zones) cannot run there.
 * - ap-northeast-1: apne1-az3 takes no new accounts; accounts see `a`, `c` and `d`.
 * - ca-central-1: AZ IDs cac1-az1, -az2, -az4, named `a`, `b` and `d`.
 * When AWS adds a zone, add its letter here (ZONE_LETTERS in regions.ts bounds the subnet plan).
 */
export interface RegionZones {
  /** Zone letters that exist in the region. */
  readonly letters: string;
  /** How many of them one account sees, when fewer than all (independently mapped regions). */
  readonly perAccount?: number;
}

export const REGION_ZONES: Readonly<Record<string, RegionZones>> = Object.freeze({
  "us-east-1": { letters: "abcdef" },
  "us-east-2": { letters: "abc" },
  "us-west-1": { letters: "abc", perAccount: 2 },
  "us-west-2": { letters: "abcd" },
  "af-south-1": { letters: "abc" },
  "ap-east-1": { letters: "abc" },
  "ap-south-1": { letters: "abc" },
  "ap-south-2": { letters: "abc" },
  "ap-southeast-1": { letters: "abc" },
  "ap-southeast-2": { letters: "abc" },
  "ap-southeast-3": { letters: "abc" },
  "ap-southeast-4": { letters: "abc" },
  "ap-southeast-5": { letters: "abc" },
  "ap-southeast-7": { letters: "abc" },
  "ap-northeast-1": { letters: "acd" },
  "ap-northeast-2": { letters: "abcd" },
  "ap-northeast-3": { letters: "abc" },
  "ca-central-1": { letters: "abd" },
  "ca-west-1": { letters: "abc" },
  "eu-central-1": { letters: "abc" },
  "eu-central-2": { letters: "abc" },
  "eu-west-1": { letters: "abc" },
  "eu-west-2": { letters: "abc" },
  "eu-west-3": { letters: "abc" },
  "eu-south-1": { letters: "abc" },
  "eu-south-2": { letters: "abc" },
  "eu-north-1": { letters: "abc" },
  "il-central-1": { letters: "abc" },
  "me-south-1": { letters: "abc" },
  "me-central-1": { letters: "abc" },
  "mx-central-1": { letters: "abc" },
  "sa-east-1": { letters: "abc" },
  "ap-east-2": { letters: "abc" },
  "ap-southeast-6": { letters: "abc" },
});

/** The zones of a region, in letter order. */
export function regionZones(region: string): string[] {
  return [...(REGION_ZONES[region]?.letters ?? "")].map((l) => region + l);
}

/** How many distinct zones one account can use in the region. */
export function usableZoneCount(region: string): number {
  const z = REGION_ZONES[region];
  return z ? z.perAccount ?? z.letters.length : 0;
}

/**
 * Default zones: the first three that exist, when every account has them; undefined where the
 * names depend on the account (the spec must then list them).
 */
export function defaultZones(region: string): string[] | undefined {
  if (REGION_ZONES[region]?.perAccount !== undefined) return undefined;
  return regionZones(region).slice(0, 3);
}
