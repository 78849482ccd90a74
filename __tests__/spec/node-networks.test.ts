/**
 * The node networks a VPC block may not overlap (clusters/spec/node-networks.ts) are the ones the
 * node renderers actually create: if a renderer moved Docker's or Nomad's bridge, this table (and
 * so the CIDR check) would be wrong.
 */
import { cidrHost, parseCidr, overlaps, type Cidr } from "../../clusters/spec/cidr";
import { NODE_NETWORKS } from "../../clusters/spec/node-networks";
import { loadCluster } from "../../clusters/spec/load";
import { resolveNode } from "../../constructs/node-config/context";
import { DOCKER_BRIDGE_IP, dockerDaemonConfig } from "../../constructs/node-config/dns";
import { nomadConfig } from "../../constructs/node-config/nomad";

const network = (cidr: string): Cidr => parseCidr(cidr) as Cidr;
const inside = (ip: string, cidr: string): boolean => overlaps(network(`${ip}/32`), network(cidr));

describe("node networks", () => {
  test("every entry is a CIDR block", () => {
    for (const n of NODE_NETWORKS) expect(parseCidr(n.cidr)).toBeDefined();
  });

  test("Docker's bridge: daemon.json keeps docker0 on its default 172.17.0.0/16, and containers' DNS is on it", () => {
    const daemon = dockerDaemonConfig();
    // "bip" and "default-address-pools" would move docker0 and the user-defined networks.
    expect(daemon).not.toHaveProperty("bip");
    expect(daemon).not.toHaveProperty("default-address-pools");
    expect(daemon.dns).toEqual([DOCKER_BRIDGE_IP]);
    const docker = NODE_NETWORKS.find((n) => n.what.startsWith("Docker's default bridge"));
    expect(docker?.cidr).toBe("172.17.0.0/16");
    expect(inside(DOCKER_BRIDGE_IP, "172.17.0.0/16")).toBe(true);
    expect(cidrHost(network("172.17.0.0/16"), 1)).toBe(DOCKER_BRIDGE_IP);
  });

  test("Nomad's bridge: the client config keeps bridge_network_subnet at Nomad's default 172.26.64.0/20", () => {
    const cluster = loadCluster("example");
    const client = nomadConfig(resolveNode({ cluster, role: "client", region: cluster.coreRegion }));
    const subnet = (client.client as Record<string, unknown> | undefined)?.bridge_network_subnet;
    expect(subnet === undefined || subnet === "172.26.64.0/20").toBe(true);
    expect(NODE_NETWORKS.map((n) => n.cidr)).toContain("172.26.64.0/20");
  });

  test("the link-local range covers instance metadata and the Amazon DNS server", () => {
    for (const ip of ["169.254.169.254", "169.254.169.253"]) expect(NODE_NETWORKS.some((n) => inside(ip, n.cidr))).toBe(true);
  });
});
