import { defineCluster } from "./spec";

/**
 * The example cluster: core in eu-central-1, Nomad clients in eu-central-1 and us-east-2.
 * Copy this file to `clusters/<name>.ts` and select it with `BITTE_CLUSTER=<name>`.
 */
export default defineCluster({
  name: "example",
  domain: "example.bitte.dev",
  coreRegion: "eu-central-1",
  coreZones: ["eu-central-1a", "eu-central-1b", "eu-central-1c"],
  clientGroups: [
    { name: "workers", region: "eu-central-1", instanceType: ["m6i.large", "m5.large"], min: 1, desired: 3, max: 12 },
    { name: "workers-us", region: "us-east-2", zones: ["us-east-2a", "us-east-2b"], instanceType: "m6i.large", min: 1, desired: 2, max: 8, nodeClass: "workers" },
  ],
  // Documentation ranges (RFC 5737): replace with the networks your operators work from.
  adminCidrs: ["198.51.100.0/24"],
  routes: [{ host: "www", service: "web" }],
  namespaces: ["apps"],
});
