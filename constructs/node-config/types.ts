import type { Cluster } from "../../clusters/spec";

/** What a machine is for; decides every file it gets. */
export type NodeRole = "core" | "client" | "monitoring" | "routing";

export const NODE_ROLES: readonly NodeRole[] = Object.freeze(["core", "client", "monitoring", "routing"]);

/** Which node a renderer renders for. */
export interface NodeUserDataProps {
  /** The resolved cluster. */
  readonly cluster: Cluster;
  /** The node's role. */
  readonly role: NodeRole;
  /**
   * AWS region the node runs in (client groups outside the core region).
   * @default the core region
   */
  readonly region?: string;
  /**
   * Fixed node name: `core-1`..`core-3` or `monitoring`. Required for core; omitted for the
   * auto-scaling roles (client, routing), whose nodes take their hostname.
   * @default `monitoring` for the monitoring role, none for client and routing
   */
  readonly nodeName?: string;
  /**
   * Nomad node class of a client group.
   * @default the node class of the first client group in the region
   */
  readonly nodeClass?: string;
}

/** One file a node gets, written by cloud-init. */
export interface NodeFile {
  /** Absolute path on the node. */
  readonly path: string;
  readonly content: string;
  /** Octal mode as cloud-init takes it, e.g. `"0644"`. */
  readonly permissions: string;
  /** `user:group`. */
  readonly owner: string;
}

/** The props with every default applied and checked: what the renderers read. */
export interface NodeContext {
  readonly cluster: Cluster;
  readonly role: NodeRole;
  readonly region: string;
  /** Consul datacenter: the core region, for every node. */
  readonly consulDatacenter: string;
  /** Nomad datacenter: the node's region. */
  readonly nomadDatacenter: string;
  /** Fixed name (core, monitoring). */
  readonly nodeName?: string;
  /** Fixed private address (core, monitoring). */
  readonly privateIp?: string;
  /** Client node class. */
  readonly nodeClass?: string;
  /** Runs the Consul, Nomad and Vault servers. */
  readonly isServer: boolean;
  /** Has a separate EBS data volume. */
  readonly hasDataVolume: boolean;
}
