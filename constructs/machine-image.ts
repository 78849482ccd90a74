import { DataAwsAmi } from "@cdktf/provider-aws/lib/data-aws-ami";
import type { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { DataAwsSsmParameter } from "@cdktf/provider-aws/lib/data-aws-ssm-parameter";
import type { Construct } from "constructs";
import type { Architecture, Cluster } from "../clusters/spec";

/** One lookup per (scope, region, architecture), however many nodes use it. */
const made = new WeakMap<Construct, Map<string, string>>();

/**
 * The AMI id of the cluster's image for one architecture in a region: pinned by exact name
 * (resolved per region, the same build everywhere), pinned by id, or looked up from an SSM public
 * parameter. x86_64 keeps the construct id `image-<region>`; arm64 adds `-arm64`.
 */
export function machineImage(scope: Construct, cluster: Cluster, region: string, provider: AwsProvider, architecture: Architecture = "x86_64"): string {
  const key = `${region}/${architecture}`;
  const cache = made.get(scope) ?? new Map<string, string>();
  made.set(scope, cache);
  const known = cache.get(key);
  if (known !== undefined) return known;
  const image = cluster.images[architecture];
  if (image === undefined) throw new Error(`machineImage: the cluster has no ${architecture} image; defineCluster refuses such specs`);
  const id = architecture === "x86_64" ? `image-${region}` : `image-${region}-${architecture}`;
  let ami: string;
  switch (image.type) {
    case "ami":
      ami = image.amis[region];
      break;
    case "name":
      ami = new DataAwsAmi(scope, id, {
        provider,
        owners: [image.owner],
        mostRecent: true,
        // Public AMIs are deprecated two years after publication; a pinned build must still resolve.
        includeDeprecated: true,
        filter: [
          { name: "name", values: [image.name] },
          { name: "state", values: ["available"] },
          ...(architecture === "x86_64" ? [] : [{ name: "architecture", values: [architecture] }]),
        ],
      }).id;
      break;
    case "ssm":
      // AMI ids are not secret; the insecure value keeps the plan readable.
      ami = new DataAwsSsmParameter(scope, id, { provider, name: image.parameter }).insecureValue;
      break;
  }
  cache.set(key, ami);
  return ami;
}
