/**
 * THE description of every field of a cluster spec: type, bounds, default and doc. It drives
 * validation (`check` in schema.ts: unknown keys, wrong JSON types, per-field bounds), literal
 * defaults (`applyDefaults`) and the README's field table (`npm run spec:readme`, checked by
 * __tests__/spec/readme.test.ts). Checks that need several fields at once (zones of a region,
 * min ≤ desired ≤ max, architectures, address plans) are in define.ts and run on data this
 * description has already accepted.
 *
 * To add a field: add ONE entry to the object it belongs in below (`doc`, `schema`, and
 * `required`, `default` or `defaultDoc`), add it to the matching interface in types.ts, read it
 * in define.ts, then run `npm run spec:readme`. Helpers: `str`, `int`, `list`, `obj`, `map`.
 * `fieldsOf<Interface>` makes tsc fail while an interface in types.ts and its entries here
 * disagree, so a field added to types.ts without an entry here does not compile (and a key
 * without an entry is refused at run time as unknown).
 */
import { parseCidr } from "./cidr";
import { UBUNTU_ROOT_SNAPSHOT_GB, GP3_SIZE_GB, MAX_INSTANCE_LIFETIME_DAYS, MAX_USER_TAGS, bucketIssue, stateKeyPrefixIssue, tagKeyIssue, tagValueIssue } from "./aws-limits";
import { KNOWN_REGIONS, REGION_INDEX } from "./regions";
import type { AlertsSpec, AutoscalingSpec, SnapshotsSpec } from "./operations";
import type { PackageMirrorSpec } from "./package-mirror";
import type { BackendSpec, ClientGroupSpec, ClusterSpec, ImageSpec, IngressRouteSpec, NodeSizeSpec, VersionsSpec } from "./types";
import type { Field, IntSchema, Issue, ListSchema, MapSchema, ObjectSchema, Schema, StringSchema, UnionSchema } from "./schema";

/** Longest cluster name: `bitte-<name>-routing` must fit the 32 characters of a target group name. */
export const MAX_NAME_LENGTH = 16;
export const DEFAULT_VERSIONS = Object.freeze({ consul: "1.21.4", nomad: "1.10.5", vault: "1.20.4" });
/** Canonical's AWS account, owner of the official Ubuntu images. */
export const CANONICAL_OWNER = "099720109477";

const NAME_RE = /^[a-z]([a-z0-9-]*[a-z0-9])?$/;
export const LABEL_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const INSTANCE_TYPE_RE = /^[a-z][a-z0-9-]*\.[a-z0-9]+$/;
const VERSION_RE = /^\d+\.\d+\.\d+(\+ent)?$/;
const AMI_RE = /^ami-[0-9a-f]{8,17}$/;

/**
 * The fields of an object, one entry per key of its TypeScript interface: tsc fails when a key is
 * in the interface (types.ts) but not here, or here but not in the interface.
 */
type FieldsOf<T> = { readonly [K in keyof Required<T>]-?: Field };
const fieldsOf = <T>(fields: FieldsOf<T>): Record<string, Field> => fields;

const str = (s: Omit<StringSchema, "kind"> = {}): StringSchema => ({ kind: "string", ...s });
const int = (s: Omit<IntSchema, "kind">): IntSchema => ({ kind: "int", ...s });
const list = (of: Schema, s: Omit<ListSchema, "kind" | "of"> = {}): ListSchema => ({ kind: "list", of, ...s });
const obj = (fields: Record<string, Field>, s: Omit<ObjectSchema, "kind" | "fields"> = {}): ObjectSchema => ({ kind: "object", fields, ...s });
const map = (keyName: string, key: StringSchema, of: Schema, s: Omit<MapSchema, "kind" | "keyName" | "key" | "of"> = {}): MapSchema => ({ kind: "map", keyName, key, of, ...s });
const union = (tag: string, variants: Record<string, ObjectSchema>): UnionSchema => ({ kind: "union", tag, variants });
const tag = (value: string): Field => ({ schema: str({ values: [value] }), doc: "Selects this variant.", required: true });

/** A name of AWS resources: lowercase letters, digits and dashes, with the existing messages. */
function name(maxLength: number, what: string): StringSchema {
  return str({
    pattern: NAME_RE,
    problem: `${what} must be lowercase letters, digits and dashes, starting with a letter and not ending with a dash`,
    fix: `use a name like "web-1"`,
    bounds: `≤ ${maxLength} characters, [a-z0-9-]`,
    refine: (v) => (v.length > maxLength ? { problem: `${what} is ${v.length} characters, more than the ${maxLength} that fit AWS resource names`, fix: `shorten it to at most ${maxLength} characters` } : undefined),
  });
}

const region = str({
  bounds: "a region of clusters/spec/regions.ts",
  refine: (v) => (v in REGION_INDEX ? undefined : { problem: "unknown AWS region", fix: `use one of the regions in clusters/spec/regions.ts (${KNOWN_REGIONS.slice(0, 4).join(", ")}, …)` }),
});

const zone = str({ pattern: /^[a-z]{2}-[a-z]+-\d[a-z]$/, problem: "not an availability zone name", fix: `write it like "eu-central-1a"`, bounds: "a zone of the region (clusters/spec/zones.ts)" });

const instanceType = str({ pattern: INSTANCE_TYPE_RE, problem: "not an EC2 instance type of the form family.size", fix: `write it like "m6i.large"` });

const volume = (what: string, min: number = GP3_SIZE_GB.min): IntSchema => int({ min, max: GP3_SIZE_GB.max, unit: "GiB", bounds: "gp3 size" + (what === "root" ? "; ≥ the image's rootSnapshotGb" : "") });

function cidr(extra?: (c: NonNullable<ReturnType<typeof parseCidr>>, v: string) => Issue | undefined): StringSchema {
  return str({
    bounds: "IPv4 CIDR, no host bits",
    refine: (v) => {
      const parsed = parseCidr(v);
      if (!parsed) return { problem: "not an IPv4 CIDR block", fix: `write it like "203.0.113.0/24", with no host bits set` };
      return extra?.(parsed, v);
    },
  });
}

/** The size fields of a fixed node; routing has no data volume. */
function nodeSize(defaults: { instanceType: string; rootVolumeGb: number; dataVolumeGb?: number }, dataDoc?: string): Field {
  const all = fieldsOf<NodeSizeSpec>({
    instanceType: { schema: instanceType, doc: "EC2 instance type.", default: defaults.instanceType },
    rootVolumeGb: { schema: volume("root"), doc: "Root volume size in GiB.", default: defaults.rootVolumeGb },
    dataVolumeGb: { schema: volume("data"), doc: dataDoc ?? "Data volume size in GiB.", default: defaults.dataVolumeGb },
  });
  // Routing has no data volume, so the key is unknown there rather than silently ignored.
  const fields = defaults.dataVolumeGb === undefined ? { instanceType: all.instanceType, rootVolumeGb: all.rootVolumeGb } : all;
  return { schema: obj(fields), doc: "Size of the node.", default: {} };
}

/** How the nodes' image is chosen (per architecture: `image` for x86_64, `arm64Image` for arm64). */
function imageSchema(): UnionSchema {
  const snapshot: Field = { schema: int({ min: 1, max: GP3_SIZE_GB.max, unit: "GiB" }), doc: "Size of the image's root snapshot; every root volume must be at least this (EC2 refuses smaller).", default: UBUNTU_ROOT_SNAPSHOT_GB };
  return union("type", {
    name: obj(fieldsOf<Extract<ImageSpec, { type: "name" }>>({
      type: tag("name"),
      name: { schema: str({ pattern: /^\S.{0,127}$/, problem: "not an AMI name (1–128 characters)", fix: "give the exact AMI name to pin" }), doc: "Exact AMI name, resolved per region.", required: true },
      owner: { schema: str({ pattern: /^(\d{12}|amazon|aws-marketplace|self)$/, problem: "not an image owner", fix: `give the owner's 12-digit account id (Canonical: "${CANONICAL_OWNER}")` }), doc: "Owner account of the image.", default: CANONICAL_OWNER },
      rootSnapshotGb: snapshot,
    })),
    ami: obj(fieldsOf<Extract<ImageSpec, { type: "ami" }>>({
      type: tag("ami"),
      amis: { schema: map("region", region, str({ pattern: AMI_RE, problem: "not an AMI id", fix: `write it like "ami-0123456789abcdef0"` })), doc: "AMI id per region; every region of the cluster needs one.", required: true },
      rootSnapshotGb: snapshot,
    })),
    ssm: obj(fieldsOf<Extract<ImageSpec, { type: "ssm" }>>({
      type: tag("ssm"),
      parameter: { schema: str({ pattern: /^\/[\w.\-/]+$/, problem: "not an SSM parameter name", fix: "use a name like \"/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id\"" }), doc: "SSM public parameter holding the AMI id.", defaultDoc: "Canonical's Ubuntu 24.04 parameter for the architecture" },
      rootSnapshotGb: snapshot,
    })),
  });
}

const CLIENT_GROUP = obj(fieldsOf<ClientGroupSpec>({
  name: { schema: name(20, "a group name"), doc: "Group name, unique in the cluster.", required: true },
  region: { schema: region, doc: "AWS region the group runs in.", required: true },
  zones: { schema: list(zone, { minItems: 1 }), doc: "Availability zones of the group, in its region.", defaultDoc: "the core zones in the core region, else the region's first three zones" },
  instanceType: { schema: { kind: "oneOrList", of: instanceType, bounds: "one architecture" }, doc: "Instance type, or several for a mixed-instances group (the first is the launch template's).", required: true },
  min: { schema: int({ min: 0 }), doc: "Smallest group size.", required: true },
  desired: { schema: int({ min: 0 }), doc: "Size at creation.", required: true },
  max: { schema: int({ min: 1 }), doc: "Largest group size.", required: true },
  nodeClass: { schema: name(64, "a node class"), doc: "Nomad node class of the group's clients.", defaultDoc: "the group name" },
  rootVolumeGb: { schema: volume("root"), doc: "Root volume size in GiB.", default: 40 },
  dataVolumeGb: { schema: volume("data"), doc: "Data volume (Nomad allocations, Docker) size in GiB.", default: 100 },
  maxInstanceLifetimeDays: { schema: int({ ...MAX_INSTANCE_LIFETIME_DAYS, unit: "days", bounds: "Auto Scaling: 1–365 days" }), doc: "Replace instances older than this many days.", defaultDoc: "no maximum" },
  autoscaling: {
    schema: obj(fieldsOf<AutoscalingSpec>({
      cpuTargetPercent: { schema: int({ min: 10, max: 95, unit: "percent" }), doc: "Target share of the group's CPU that allocations reserve.", default: 70 },
      memoryTargetPercent: { schema: int({ min: 10, max: 95, unit: "percent" }), doc: "Target share of the group's memory that allocations reserve.", default: 70 },
      cooldownMinutes: { schema: int({ min: 1, max: 120, unit: "minutes" }), doc: "Wait after a scaling action before the next one.", default: 5 },
    })),
    doc: "Scale the group with the Nomad Autoscaler (README: Autoscaling); `{}` takes the defaults.",
    defaultDoc: "not autoscaled",
  },
}));

export const SPEC_FIELDS: ObjectSchema = obj(fieldsOf<ClusterSpec>({
  name: { schema: name(MAX_NAME_LENGTH, "the cluster name"), doc: "Cluster name; it prefixes AWS names.", required: true },
  domain: {
    schema: str({
      bounds: "≤ 253 characters, lowercase DNS labels",
      refine: (d) => (d.length > 253 || d.split(".").length < 2 || !d.split(".").every((l) => LABEL_RE.test(l)) || !/^[a-z]{2,63}$/.test(d.split(".").pop() ?? "") ? { problem: "not a DNS name", fix: `use a lowercase domain you can delegate, like "cluster.example.com"` } : undefined),
    }),
    doc: "DNS domain of the cluster; Bitte creates its Route53 zone.",
    required: true,
  },
  coreRegion: { schema: region, doc: "Region of the core, monitoring and routing nodes.", required: true },
  coreZones: {
    schema: list(zone, {
      minItems: 3,
      maxItems: 3,
      refine: (z) => (z.length === 3 ? undefined : { problem: `the core needs exactly three availability zones, one per core node (got ${z.length})`, fix: "list three zones of the core region, e.g. [\"eu-central-1a\", \"eu-central-1b\", \"eu-central-1c\"]" }),
    }),
    doc: "Three distinct availability zones of the core region, one per core node.",
    required: true,
  },
  clientGroups: {
    schema: list(CLIENT_GROUP, { minItems: 1, refine: (g) => (g.length > 0 ? undefined : { problem: "a cluster needs at least one client group to run jobs", fix: `add a group like { name: "workers", region: "<core region>", instanceType: "m6i.large", min: 1, desired: 3, max: 10 }` }) }),
    doc: "Nomad client groups.",
    required: true,
  },
  core: nodeSize({ instanceType: "m6i.large", rootVolumeGb: 30, dataVolumeGb: 50 }, "Raft data volume size in GiB."),
  monitoring: nodeSize({ instanceType: "m6i.large", rootVolumeGb: 30, dataVolumeGb: 200 }, "Metrics and logs volume size in GiB."),
  routing: nodeSize({ instanceType: "t3.small", rootVolumeGb: 30 }),
  nat: { schema: str({ values: ["per-az", "single", "none"], problem: "unknown NAT mode", fix: `use "per-az" (one NAT gateway per zone), "single" or "none"` }), doc: "How private subnets reach the internet.", default: "per-az" },
  kms: {
    schema: union("create", {
      true: obj({ create: { schema: { kind: "bool", only: true }, doc: "Bitte creates a key with rotation, alias/bitte-<cluster>.", required: true } }),
      false: obj({
        create: { schema: { kind: "bool", only: false }, doc: "Use an existing key.", required: true },
        keyArn: { schema: str({ pattern: /^arn:aws[a-z-]*:kms:([a-z0-9-]+):\d{12}:(key|alias)\/[A-Za-z0-9/_-]+$/, problem: "not a KMS key ARN", fix: `use "arn:aws:kms:<region>:<account>:key/<id>", or { create: true }` }), doc: "The key's ARN, in the core region (a multi-Region key if clients run elsewhere).", required: true },
      }),
    }),
    doc: "The cluster's KMS key.",
    default: { create: true },
  },
  backend: {
    schema: union("type", {
      local: obj({ type: tag("local") }),
      s3: obj(fieldsOf<Extract<BackendSpec, { type: "s3" }>>({
        type: tag("s3"),
        bucket: { schema: str({ bounds: "S3 bucket naming rules", refine: bucketIssue }), doc: "State bucket; created by the state stack.", required: true },
        region: { schema: region, doc: "Bucket region (a region of the cluster).", defaultDoc: "the core region" },
        keyPrefix: { schema: str({ bounds: "no leading/trailing \"/\", no \"//\"", refine: stateKeyPrefixIssue }), doc: "Prefix of the state objects, <prefix>/<stack>.tfstate.", defaultDoc: "`bitte/<cluster>`" },
      })),
    }),
    doc: "Where Terraform keeps state.",
    default: { type: "local" },
  },
  versions: {
    schema: obj(fieldsOf<VersionsSpec>(Object.fromEntries(Object.entries(DEFAULT_VERSIONS).map(([product, v]) => [product, { schema: str({ pattern: VERSION_RE, problem: "not a release version", fix: `write it like "${v}"` }), doc: `${product} package version.`, default: v }])) as FieldsOf<VersionsSpec>)),
    doc: "HashiCorp package versions (HashiCorp's apt repository).",
    default: {},
  },
  image: { schema: imageSchema(), doc: "Image of x86_64 nodes.", defaultDoc: "Ubuntu 24.04 LTS amd64, pinned by name (DEFAULT_IMAGE_NAME)" },
  arm64Image: { schema: imageSchema(), doc: "Image of arm64 (Graviton) nodes.", defaultDoc: "Ubuntu 24.04 LTS arm64 of the same build, unless `image` is set" },
  adminCidrs: { schema: list(cidr((c) => (c.prefix === 0 ? { problem: "opens the Consul, Nomad and Vault endpoints to the whole internet", fix: "list the networks your operators work from, e.g. your VPN's egress block" } : undefined))), doc: "Networks allowed to reach the admin endpoints.", default: [] },
  routes: {
    schema: list(obj(fieldsOf<IngressRouteSpec>({
      host: { schema: str({ pattern: LABEL_RE, problem: "not a DNS label", fix: "use one label like \"www\"; the route serves <host>.<domain>" }), doc: "Host label: the route serves <host>.<domain>.", required: true },
      service: { schema: name(63, "a Consul service name"), doc: "Consul service that serves the route.", required: true },
    }))),
    doc: "Public routes through the load balancer.",
    default: [],
  },
  cidrOverrides: { schema: map("region", region, cidr()), doc: "A region's VPC block (a /16) instead of the table's.", default: {} },
  namespaces: { schema: list(name(64, "a namespace")), doc: "Nomad namespaces besides default.", default: [] },
  snapshots: {
    schema: obj(fieldsOf<SnapshotsSpec>({
      intervalMinutes: { schema: int({ min: 15, max: 1440, unit: "minutes" }), doc: "One Consul, Vault and Nomad snapshot per interval.", default: 60 },
      retentionDays: { schema: int({ min: 1, max: 3650, unit: "days" }), doc: "Days S3 keeps a snapshot.", default: 30 },
    })),
    doc: "Raft snapshots to the cluster bucket (README: Snapshots and restore).",
    default: {},
  },
  alerts: {
    schema: obj(fieldsOf<AlertsSpec>({
      email: { schema: list(str({ bounds: "e-mail address" })), doc: "Addresses subscribed to the alert topic.", default: [] },
      webhook: { schema: obj({ url: { schema: str({ bounds: "https URL without credentials" }), doc: "Where Alertmanager also posts; its token is the SSM parameter alerts/webhook-token.", required: true } }), doc: "An HTTPS webhook receiver.", defaultDoc: "none" },
    })),
    doc: "Alert receivers besides the SNS topic bitte-<cluster>-alerts (README: Alerts).",
    default: {},
  },
  packageMirror: {
    schema: obj(fieldsOf<PackageMirrorSpec>({
      hashicorp: { schema: str({ bounds: "http(s) URL" }), doc: "Mirror of HashiCorp's apt repository (dists/<codename>/main).", defaultDoc: "https://apt.releases.hashicorp.com" },
      grafana: { schema: str({ bounds: "http(s) URL" }), doc: "Mirror of Grafana's apt repository (dists/stable/main).", defaultDoc: "https://apt.grafana.com" },
      os: { schema: str({ bounds: "http(s) URL" }), doc: "Mirror of the OS archive (cloud-init's primary and security archives).", defaultDoc: "the image's own archive settings" },
      signingKey: { schema: str({ bounds: "ASCII-armored public key" }), doc: "OpenPGP public key that signs every mirror set here; required with any URL.", defaultDoc: "none" },
    })),
    doc: "Internal apt mirrors for air-gapped or regulated accounts (README: Package mirrors).",
    defaultDoc: "the vendors' and the image's archives",
  },
  tags: {
    schema: map("tag key", str({ refine: tagKeyIssue }), str({ refine: tagValueIssue }), { maxEntries: MAX_USER_TAGS, bounds: `keys 1–128, values ≤ 256 characters; no aws: prefix` }),
    doc: "Extra tags on every resource.",
    default: {},
  },
}));
