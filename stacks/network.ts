import type { Construct } from "constructs";
import { BitteStack, type BitteStackProps } from "./base";

/** The `network` workspace (being built). */
export class NetworkStack extends BitteStack {
  constructor(scope: Construct, id: "network", props: BitteStackProps) {
    super(scope, id, props);
  }
}
