import { defineCluster, type ClientGroupSpec } from "../clusters/spec";
import { regionZones } from "../clusters/spec/zones";

/** Sixteen regions, core in eu-central-1, four client groups in each region: the scale case. */
export const LARGE_REGIONS = [
  "eu-central-1",
  "us-east-1",
  "us-east-2",
  "us-west-1",
  "us-west-2",
  "ca-central-1",
  "sa-east-1",
  "eu-west-1",
  "eu-west-2",
  "eu-west-3",
  "eu-north-1",
  "ap-south-1",
  "ap-southeast-1",
  "ap-southeast-2",
  "ap-northeast-1",
  "ap-northeast-2",
];

const CLASSES = ["general", "compute", "memory", "batch"];

/** Client groups for `perRegion` node classes in each of the sixteen regions. */
export function largeGroups(perRegion: number): ClientGroupSpec[] {
  return LARGE_REGIONS.flatMap((region, r) =>
    CLASSES.slice(0, perRegion).map((nodeClass, i) => ({
      name: `${nodeClass}-${r + 1}`,
      region,
      // The first two zones that exist (Tokyo has no zone b for new accounts).
      zones: regionZones(region).slice(0, 2),
      instanceType: ["m6i.large", "c6i.large", "r6i.large", "m6i.xlarge"][i],
      min: 0,
      desired: 1,
      max: 20,
      nodeClass,
    }))
  );
}

/** The sixteen-region cluster with `perRegion` groups per region (the bench varies it). */
export function largeCluster(perRegion = 4) {
  return defineCluster({
    name: "large",
    domain: "large.bitte.dev",
    coreRegion: "eu-central-1",
    coreZones: ["eu-central-1a", "eu-central-1b", "eu-central-1c"],
    clientGroups: largeGroups(perRegion),
    adminCidrs: ["198.51.100.0/24"],
    routes: [{ host: "www", service: "web" }],
  });
}

export default largeCluster();
