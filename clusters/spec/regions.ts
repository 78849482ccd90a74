/**
 * The fixed region table. A region's index picks its VPC block, `10.<index>.0.0/16`, so adding a
 * region to a cluster never renumbers another. The table is append-only: new AWS regions go at
 * the end with the next free index, and no entry is ever moved or removed.
 */
export const REGION_INDEX: Readonly<Record<string, number>> = Object.freeze({
  "us-east-1": 1,
  "us-east-2": 2,
  "us-west-1": 3,
  "us-west-2": 4,
  "af-south-1": 5,
  "ap-east-1": 6,
  "ap-south-1": 7,
  "ap-south-2": 8,
  "ap-southeast-1": 9,
  "ap-southeast-2": 10,
  "ap-southeast-3": 11,
  "ap-southeast-4": 12,
  "ap-southeast-5": 13,
  "ap-southeast-7": 14,
  "ap-northeast-1": 15,
  "ap-northeast-2": 16,
  "ap-northeast-3": 17,
  "ca-central-1": 18,
  "ca-west-1": 19,
  "eu-central-1": 20,
  "eu-central-2": 21,
  "eu-west-1": 22,
  "eu-west-2": 23,
  "eu-west-3": 24,
  "eu-south-1": 25,
  "eu-south-2": 26,
  "eu-north-1": 27,
  "il-central-1": 28,
  "me-south-1": 29,
  "me-central-1": 30,
  "mx-central-1": 31,
  "sa-east-1": 32,
  "ap-east-2": 33,
  "ap-southeast-6": 34,
});

/** Every region Bitte knows, in table order. */
export const KNOWN_REGIONS: readonly string[] = Object.keys(REGION_INDEX);

/** Zone letters a region may use; the subnet plan reserves room for six zones per VPC. */
export const ZONE_LETTERS = "abcdef";
