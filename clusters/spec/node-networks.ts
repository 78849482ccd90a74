import { parseCidr, type Cidr } from "./cidr";

/**
 * Address ranges in use on every node, which a VPC block must not overlap: a node would route
 * its VPC's traffic into them (or AWS refuses the block outright). One row per fact; the node
 * renderers that create these networks are checked against this table by
 * `__tests__/spec/node-networks.test.ts`.
 */
export interface NodeNetwork {
  readonly cidr: string;
  /** What runs there, for the error message. */
  readonly what: string;
}

export const NODE_NETWORKS: readonly NodeNetwork[] = Object.freeze([
  // Docker's default bridge: docker0 takes the first of moby's predefined local pools
  // (libnetwork/ipamutils: 172.17.0.0/16 …) unless daemon.json sets "bip"; Bitte's daemon.json
  // (constructs/node-config/dns.ts) sets none, and containers resolve DNS at 172.17.0.1 there.
  { cidr: "172.17.0.0/16", what: "Docker's default bridge docker0 on client nodes, where containers reach the DNS resolver (172.17.0.1)" },
  // Nomad's bridge network mode: client `bridge_network_subnet`, default 172.26.64.0/20
  // (Nomad client configuration docs); Bitte's client config does not change it.
  { cidr: "172.26.64.0/20", what: "Nomad's bridge network (bridge_network_subnet) on client nodes" },
  // Link-local: the instance metadata service 169.254.169.254 and the Amazon DNS server
  // 169.254.169.253 that nodes use; AWS refuses VPC blocks here.
  { cidr: "169.254.0.0/16", what: "the link-local range (instance metadata 169.254.169.254, Amazon DNS 169.254.169.253)" },
  { cidr: "127.0.0.0/8", what: "loopback, where each node's Consul DNS (127.0.0.1:8600) and agents listen" },
  // Not host addresses at all (RFC 1122 §3.2.1.3, RFC 5771, RFC 1112 §4).
  { cidr: "0.0.0.0/8", what: "\"this network\" (RFC 1122), which no host can have" },
  { cidr: "224.0.0.0/4", what: "multicast (RFC 5771), which no host can have" },
  { cidr: "240.0.0.0/4", what: "the reserved class E range (RFC 1112), which no host can have" },
]);

export const NODE_NETWORK_CIDRS: readonly (NodeNetwork & { readonly parsed: Cidr })[] = NODE_NETWORKS.map((n) => ({ ...n, parsed: parseCidr(n.cidr) as Cidr }));
