import type { PackageMirrorSpec } from "./package-mirror";
/**
 * The cluster spec: what an operator writes in `clusters/<name>.ts` (`ClusterSpec`), and the
 * resolved form every stack and renderer reads (`Cluster`), with every default filled in.
 * Bounds and defaults of every field are in `fields.ts`, which validation and the README use.
 */
import type { Architecture } from "./architecture";
import type { SpecProblem } from "./define";

import type { AlertsSpec, AutoscalingSpec, ResolvedOperations, SnapshotsSpec } from "./operations";

/** How private subnets reach the internet. */
export type NatMode = "per-az" | "single" | "none";

/** A Nomad client auto-scaling group. */
export interface ClientGroupSpec {
  /** Group name, unique in the cluster: lowercase letters, digits and dashes. */
  readonly name: string;
  /** AWS region the group runs in, e.g. `us-east-2`. */
  readonly region: string;
  /**
   * Availability zones of the group, in its region.
   * @default the region's zones `a`, `b` and `c` (the core zones in the core region)
   */
  readonly zones?: readonly string[];
  /**
   * Instance type, or several for a mixed-instances group (the first is the launch template's).
   */
  readonly instanceType: string | readonly string[];
  /** Smallest group size. */
  readonly min: number;
  /** Size at creation; later left to the operator or an autoscaler. */
  readonly desired: number;
  /** Largest group size. */
  readonly max: number;
  /**
   * Nomad node class of the group's clients.
   * @default the group name
   */
  readonly nodeClass?: string;
  /**
   * Root volume size in GiB.
   * @default 40
   */
  readonly rootVolumeGb?: number;
  /**
   * Data volume (Nomad allocations, Docker) size in GiB.
   * @default 100
   */
  readonly dataVolumeGb?: number;
  /**
   * Replace instances older than this many days: 1–365 (Auto Scaling's bounds).
   * @default no maximum
   */
  readonly maxInstanceLifetimeDays?: number;
  /** Scale the group with the Nomad Autoscaler (`true` for the default policy). @default not autoscaled */
  readonly autoscaling?: AutoscalingSpec;
}

/** Size of a fixed node (core, monitoring, routing). */
export interface NodeSizeSpec {
  /**
   * EC2 instance type.
   * @default per role: core `m6i.large`, monitoring `m6i.large`, routing `t3.small`
   */
  readonly instanceType?: string;
  /**
   * Root volume size in GiB.
   * @default 30
   */
  readonly rootVolumeGb?: number;
  /**
   * Data volume size in GiB (raft data on core, metrics and logs on monitoring).
   * @default per role: core 50, monitoring 200, routing none
   */
  readonly dataVolumeGb?: number;
}

/** The cluster's KMS key. */
export type KmsSpec =
  /** Bitte creates a customer-managed key with rotation, `alias/bitte-<cluster>`. */
  | { readonly create: true }
  /** Use an existing key everywhere; no key is created. */
  | { readonly create: false; readonly keyArn: string };

/** Where Terraform keeps state. */
export type BackendSpec =
  /** `terraform.<cluster>.<stack>.tfstate` in the project directory (stacks/layout.ts). */
  | { readonly type: "local" }
  | {
      readonly type: "s3";
      /** State bucket; created by the `state` stack before the first deploy. */
      readonly bucket: string;
      /**
       * Bucket region.
       * @default the core region
       */
      readonly region?: string;
      /**
       * Prefix of the state objects; each stack's key is `<prefix>/<stack>.tfstate`.
       * @default `bitte/<cluster>`
       */
      readonly keyPrefix?: string;
    };

/** HashiCorp product versions (Debian package versions from the HashiCorp apt repository). */
export interface VersionsSpec {
  /** @default "1.21.4" */
  readonly consul?: string;
  /** @default "1.10.5" */
  readonly nomad?: string;
  /** @default "1.20.4" */
  readonly vault?: string;
}

/**
 * The machine image of the nodes of one architecture. `rootSnapshotGb` (default 8, Canonical's
 * Ubuntu images) is the image's root snapshot size: root volumes must be at least that.
 */
export type ImageSpec =
  /** An image pinned by its exact name, resolved per region with the owner (Canonical by default). */
  | { readonly type: "name"; readonly name: string; readonly owner?: string; readonly rootSnapshotGb?: number }
  /** Exact AMI ids per region; every region of the cluster needs one. */
  | { readonly type: "ami"; readonly amis: Readonly<Record<string, string>>; readonly rootSnapshotGb?: number }
  /** Look the image up from an SSM public parameter at plan time. */
  | { readonly type: "ssm"; readonly parameter?: string; readonly rootSnapshotGb?: number };

/** A public route through the load balancer and the routing group. */
export interface IngressRouteSpec {
  /** Host label: the route serves `<host>.<domain>`. */
  readonly host: string;
  /** Consul service that serves the route. */
  readonly service: string;
}

/** What an operator writes. */
export interface ClusterSpec {
  /** Cluster name: up to 16 lowercase letters, digits and dashes, starting with a letter. */
  readonly name: string;
  /** DNS domain of the cluster; Bitte creates its Route53 zone. */
  readonly domain: string;
  /** Region of the core, monitoring and routing nodes. */
  readonly coreRegion: string;
  /** Exactly three availability zones of the core region, one per core node. */
  readonly coreZones: readonly string[];
  /** Nomad client groups. */
  readonly clientGroups: readonly ClientGroupSpec[];
  /** @default m6i.large, 30 GiB root, 50 GiB data */
  readonly core?: NodeSizeSpec;
  /** @default m6i.large, 30 GiB root, 200 GiB data */
  readonly monitoring?: NodeSizeSpec;
  /** @default t3.small, 30 GiB root */
  readonly routing?: NodeSizeSpec;
  /** @default "per-az" */
  readonly nat?: NatMode;
  /** @default { create: true } */
  readonly kms?: KmsSpec;
  /** @default { type: "local" } */
  readonly backend?: BackendSpec;
  /** @default see VersionsSpec */
  readonly versions?: VersionsSpec;
  /** Image of x86_64 nodes. @default Ubuntu 24.04 LTS amd64, pinned by image name (see DEFAULT_IMAGE_NAME) */
  readonly image?: ImageSpec;
  /**
   * Image of arm64 (Graviton: `m7g`, `c7gn`, `t4g`, `a1`, …) nodes.
   * @default the arm64 build of the default image, when `image` is not set
   */
  readonly arm64Image?: ImageSpec;
  /**
   * Networks allowed to reach the Consul, Nomad, Vault and Grafana endpoints. `0.0.0.0/0` is
   * refused.
   * @default [] (the admin endpoints are reachable from nowhere)
   */
  readonly adminCidrs?: readonly string[];
  /** @default [] */
  readonly routes?: readonly IngressRouteSpec[];
  /**
   * Override a region's VPC block (a /16); it must not overlap another region of the cluster.
   * @default the region table's `10.<index>.0.0/16`
   */
  readonly cidrOverrides?: Readonly<Record<string, string>>;
  /**
   * Nomad namespaces besides `default`.
   * @default []
   */
  readonly namespaces?: readonly string[];
  /**
   * Extra tags on every resource (besides `Cluster` and `ManagedBy`).
   * @default {}
   */
  readonly tags?: Readonly<Record<string, string>>;
  /** Internal apt mirrors (air-gapped or regulated accounts); see clusters/spec/package-mirror.ts. @default none: the vendors' and the image's archives */
  readonly packageMirror?: PackageMirrorSpec;
  /** @default one snapshot per hour, kept 30 days (see SnapshotsSpec) */
  readonly snapshots?: SnapshotsSpec;
  /** @default the SNS topic only (see AlertsSpec) */
  readonly alerts?: AlertsSpec;
}

/** One availability zone of a region's VPC, with its subnets. */
export interface ZonePlan {
  readonly name: string;
  readonly publicCidr: string;
  readonly privateCidr: string;
}

/** One region that hosts anything. */
export interface RegionPlan {
  readonly name: string;
  readonly cidr: string;
  readonly isCore: boolean;
  /** Zones in letter order. */
  readonly zones: readonly ZonePlan[];
}

/** A fixed node with its own interface and data volume. */
export interface FixedNodePlan {
  /** `core-1`, `core-2`, `core-3`, `monitoring`. */
  readonly name: string;
  readonly zone: string;
  readonly privateIp: string;
}

export interface ResolvedClientGroup {
  readonly name: string;
  readonly region: string;
  readonly zones: readonly string[];
  readonly instanceTypes: readonly string[];
  readonly min: number;
  readonly desired: number;
  readonly max: number;
  readonly nodeClass: string;
  readonly rootVolumeGb: number;
  readonly dataVolumeGb: number;
  /** In seconds, as the auto-scaling group takes it. */
  readonly maxInstanceLifetimeSeconds?: number;
  /** Of every instance type of the group (they agree). */
  readonly architecture: Architecture;
}

export interface ResolvedNodeSize {
  readonly instanceType: string;
  readonly rootVolumeGb: number;
  readonly dataVolumeGb: number;
  readonly architecture: Architecture;
}

export type ResolvedBackend =
  | { readonly type: "local" }
  | { readonly type: "s3"; readonly bucket: string; readonly region: string; readonly keyPrefix: string };

export type ResolvedImage =
  | { readonly type: "name"; readonly name: string; readonly owner: string }
  | { readonly type: "ami"; readonly amis: Readonly<Record<string, string>> }
  | { readonly type: "ssm"; readonly parameter: string };

/** The resolved cluster: the spec with every default filled in and the network planned. */
export interface Cluster {
  readonly name: string;
  readonly domain: string;
  readonly coreRegion: string;
  readonly coreZones: readonly [string, string, string];
  readonly clientGroups: readonly ResolvedClientGroup[];
  readonly core: ResolvedNodeSize;
  readonly monitoring: ResolvedNodeSize;
  readonly routing: ResolvedNodeSize;
  readonly nat: NatMode;
  readonly kms: KmsSpec;
  readonly backend: ResolvedBackend;
  readonly versions: Required<VersionsSpec>;
  /** The x86_64 image (the default image, also when every node is arm64). */
  readonly image: ResolvedImage;
  /** The image per architecture the nodes use. */
  readonly images: Readonly<Partial<Record<Architecture, ResolvedImage>>>;
  readonly adminCidrs: readonly string[];
  readonly routes: readonly IngressRouteSpec[];
  readonly namespaces: readonly string[];
  readonly tags: Readonly<Record<string, string>>;
  /** Every region that hosts anything; the core region first, then table order. */
  readonly regions: readonly RegionPlan[];
  /** `core-1..3`, one per core zone, then `monitoring` in the first core zone. */
  readonly coreNodes: readonly FixedNodePlan[];
  readonly monitoringNode: FixedNodePlan;
  /** Prefix of the cluster's SSM parameters: `/bitte/<cluster>`. */
  readonly ssmPrefix: string;
  /** Quotas the cluster may exceed at its maximum size (printed by `loadCluster`). */
  readonly warnings: readonly SpecProblem[];
  /** Internal apt mirrors, or undefined for the vendors' and the image's archives. */
  readonly packageMirror?: Readonly<PackageMirrorSpec>;
  /** Autoscaling, snapshots and alerts, resolved (clusters/spec/operations.ts). */
  readonly operations: ResolvedOperations;
}
