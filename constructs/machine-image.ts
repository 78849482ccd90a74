import { DataAwsAmi } from "@cdktf/provider-aws/lib/data-aws-ami";
import type { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { DataAwsSsmParameter } from "@cdktf/provider-aws/lib/data-aws-ssm-parameter";
import type { Construct } from "constructs";
import type { Cluster } from "../clusters/spec";

/**
 * The AMI id of the cluster's image in a region: pinned by exact name (resolved per region, the
 * same build everywhere), pinned by id, or looked up from an SSM public parameter.
 */
export function machineImage(scope: Construct, cluster: Cluster, region: string, provider: AwsProvider): string {
  const image = cluster.image;
  switch (image.type) {
    case "ami":
      return image.amis[region];
    case "name":
      return new DataAwsAmi(scope, `image-${region}`, {
        provider,
        owners: [image.owner],
        mostRecent: true,
        // Public AMIs are deprecated two years after publication; a pinned build must still resolve.
        includeDeprecated: true,
        filter: [
          { name: "name", values: [image.name] },
          { name: "state", values: ["available"] },
        ],
      }).id;
    case "ssm":
      // AMI ids are not secret; the insecure value keeps the plan readable.
      return new DataAwsSsmParameter(scope, `image-${region}`, { provider, name: image.parameter }).insecureValue;
  }
}
