import { cidrHost, cidrSubnet, formatCidr, overlaps, parseCidr, type Cidr } from "./cidr";
import { checkOperations, resolveOperations } from "./operations";
import { KNOWN_REGIONS, REGION_INDEX, ZONE_LETTERS } from "./regions";
import type {
  Cluster,
  ClusterSpec,
  FixedNodePlan,
  NodeSizeSpec,
  RegionPlan,
  ResolvedBackend,
  ResolvedClientGroup,
  ResolvedImage,
  ResolvedNodeSize,
} from "./types";

/** Canonical's AWS account, owner of the official Ubuntu images. */
export const CANONICAL_OWNER = "099720109477";
/** The default image: one Ubuntu 24.04 LTS build, the same in every region. */
export const DEFAULT_IMAGE_NAME = "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20251022";
/** The SSM public parameter used by `image: { type: "ssm" }` without a parameter. */
export const DEFAULT_IMAGE_PARAMETER =
  "/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id";
export const DEFAULT_VERSIONS = Object.freeze({ consul: "1.21.4", nomad: "1.10.5", vault: "1.20.4" });
/** Longest cluster name: `bitte-<name>-routing` must fit the 32 characters of a target group name. */
export const MAX_NAME_LENGTH = 16;
/** Hosts the admin endpoints use; public routes may not take them. */
export const ADMIN_HOSTS = Object.freeze(["consul", "nomad", "vault", "monitoring"] as const);
export type AdminHost = (typeof ADMIN_HOSTS)[number];

/** An admin endpoint of the cluster (`https://<host>.<domain>`, reachable from `adminCidrs` only). */
export function adminEndpoint(cluster: Pick<Cluster, "domain">, host: AdminHost): string {
  return `https://${host}.${cluster.domain}`;
}

/** One thing wrong with a spec: where, what, and how to fix it. */
export interface SpecProblem {
  readonly field: string;
  readonly value: unknown;
  readonly problem: string;
  readonly fix: string;
}

/** Thrown by `defineCluster` for an invalid spec; lists every problem found. */
export class ClusterSpecError extends Error {
  constructor(
    readonly clusterName: string,
    readonly problems: readonly SpecProblem[],
  ) {
    super(
      `Invalid cluster spec ${JSON.stringify(clusterName)} (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
        problems.map((p) => `  - ${p.field} = ${show(p.value)}: ${p.problem}. Fix: ${p.fix}.`).join("\n"),
    );
    this.name = "ClusterSpecError";
  }
}

function show(value: unknown): string {
  return value === undefined ? "(missing)" : JSON.stringify(value);
}

const NAME_RE = /^[a-z]([a-z0-9-]*[a-z0-9])?$/;
const LABEL_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const INSTANCE_TYPE_RE = /^[a-z][a-z0-9-]*\.[a-z0-9]+$/;
const VERSION_RE = /^\d+\.\d+\.\d+(\+ent)?$/;
const AMI_RE = /^ami-[0-9a-f]{8,17}$/;
const KMS_ARN_RE = /^arn:aws[a-z-]*:kms:([a-z0-9-]+):\d{12}:(key|alias)\/[A-Za-z0-9/_-]+$/;
const BUCKET_RE = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const RESERVED_TAGS = ["Cluster", "ManagedBy"];

/** Collects problems while a spec is checked. */
class Checker {
  readonly problems: SpecProblem[] = [];
  add(field: string, value: unknown, problem: string, fix: string): void {
    this.problems.push({ field, value, problem, fix });
  }
  name(field: string, value: unknown, maxLength: number, what: string): value is string {
    if (typeof value !== "string" || !NAME_RE.test(value)) {
      this.add(field, value, `${what} must be lowercase letters, digits and dashes, starting with a letter and not ending with a dash`, `use a name like "web-1"`);
      return false;
    }
    if (value.length > maxLength) {
      this.add(field, value, `${what} is ${value.length} characters, more than the ${maxLength} that fit AWS resource names`, `shorten it to at most ${maxLength} characters`);
      return false;
    }
    return true;
  }
  region(field: string, value: unknown): value is string {
    if (typeof value === "string" && value in REGION_INDEX) return true;
    this.add(field, value, "unknown AWS region", `use one of the regions in clusters/spec/regions.ts (${KNOWN_REGIONS.slice(0, 4).join(", ")}, …)`);
    return false;
  }
  zone(field: string, value: unknown, region: string): value is string {
    if (typeof value === "string" && value.length === region.length + 1 && value.startsWith(region) && ZONE_LETTERS.includes(value.slice(-1))) {
      return true;
    }
    this.add(field, value, `not an availability zone of ${region}`, `use a zone of ${region}, e.g. "${region}a" (letters ${ZONE_LETTERS[0]}–${ZONE_LETTERS.slice(-1)})`);
    return false;
  }
  zones(field: string, value: readonly unknown[], region: string): void {
    const seen = new Set<unknown>();
    value.forEach((z, i) => {
      if (seen.has(z)) this.add(`${field}[${i}]`, z, "zone listed twice", "list each zone once");
      seen.add(z);
      this.zone(`${field}[${i}]`, z, region);
    });
  }
  instanceType(field: string, value: unknown): void {
    if (typeof value !== "string" || !INSTANCE_TYPE_RE.test(value)) {
      this.add(field, value, "not an EC2 instance type of the form family.size", `write it like "m6i.large"`);
    }
  }
  positiveInt(field: string, value: unknown, fix: string): void {
    if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
      this.add(field, value, "must be a whole number of at least 1", fix);
    }
  }
  cidr(field: string, value: unknown): Cidr | undefined {
    const parsed = typeof value === "string" ? parseCidr(value) : undefined;
    if (!parsed) this.add(field, value, "not an IPv4 CIDR block", `write it like "203.0.113.0/24", with no host bits set`);
    return parsed;
  }
}

function zoneIndex(zone: string): number {
  return ZONE_LETTERS.indexOf(zone.slice(-1));
}

function defaultZones(region: string): string[] {
  return ["a", "b", "c"].map((l) => region + l);
}

function resolveSize(spec: NodeSizeSpec | undefined, instanceType: string, dataVolumeGb: number): ResolvedNodeSize {
  return {
    instanceType: spec?.instanceType ?? instanceType,
    rootVolumeGb: spec?.rootVolumeGb ?? 30,
    dataVolumeGb: spec?.dataVolumeGb ?? dataVolumeGb,
  };
}

function checkSpec(spec: ClusterSpec, c: Checker): void {
  c.name("name", spec.name, MAX_NAME_LENGTH, "the cluster name");
  const domain: unknown = spec.domain;
  if (typeof domain !== "string" || domain.length > 253 || domain.split(".").length < 2 || !domain.split(".").every((l) => LABEL_RE.test(l)) || !/^[a-z]{2,63}$/.test(domain.split(".").pop() ?? "")) {
    c.add("domain", domain, "not a DNS name", `use a lowercase domain you can delegate, like "cluster.example.com"`);
  }

  const coreRegionOk = c.region("coreRegion", spec.coreRegion);
  const coreZones: unknown = spec.coreZones;
  if (!Array.isArray(coreZones) || coreZones.length !== 3) {
    c.add("coreZones", coreZones, `the core needs exactly three availability zones, one per core node (got ${Array.isArray(coreZones) ? coreZones.length : "none"})`, `list three zones of ${String(spec.coreRegion)}, e.g. ${JSON.stringify(defaultZones(String(spec.coreRegion)))}`);
  } else if (coreRegionOk) {
    c.zones("coreZones", coreZones, spec.coreRegion);
  }

  const groups: unknown = spec.clientGroups;
  if (!Array.isArray(groups) || groups.length === 0) {
    c.add("clientGroups", groups, "a cluster needs at least one client group to run jobs", `add a group like { name: "workers", region: "${String(spec.coreRegion)}", instanceType: "m6i.large", min: 1, desired: 3, max: 10 }`);
  } else {
    const seen = new Map<string, number>();
    spec.clientGroups.forEach((g, i) => {
      const f = `clientGroups[${i}]`;
      if (c.name(`${f}.name`, g.name, 20, "a group name")) {
        const first = seen.get(g.name);
        if (first !== undefined) c.add(`${f}.name`, g.name, `clientGroups[${first}] has the same name`, "give every group a unique name");
        else seen.set(g.name, i);
      }
      if (c.region(`${f}.region`, g.region) && g.zones !== undefined) {
        if (g.zones.length === 0) c.add(`${f}.zones`, g.zones, "no zones", `list zones of ${g.region} or leave zones out for ${JSON.stringify(defaultZones(g.region))}`);
        c.zones(`${f}.zones`, g.zones, g.region);
      }
      const types = typeof g.instanceType === "string" ? [g.instanceType] : g.instanceType;
      if (!Array.isArray(types) || types.length === 0) c.add(`${f}.instanceType`, g.instanceType, "no instance type", `write it like "m6i.large"`);
      else types.forEach((t, j) => c.instanceType(typeof g.instanceType === "string" ? `${f}.instanceType` : `${f}.instanceType[${j}]`, t));
      for (const k of ["min", "desired", "max"] as const) {
        const v: unknown = g[k];
        if (typeof v !== "number" || !Number.isInteger(v) || v < 0) c.add(`${f}.${k}`, v, "must be a whole number of at least 0", `set ${k} to a count of instances`);
      }
      if (g.min > g.desired) c.add(`${f}.min`, g.min, `greater than desired (${g.desired})`, "make min ≤ desired ≤ max");
      if (g.desired > g.max) c.add(`${f}.desired`, g.desired, `greater than max (${g.max})`, "make min ≤ desired ≤ max");
      if (g.max === 0) c.add(`${f}.max`, g.max, "a group of at most 0 instances runs nothing", "set max to at least 1, or remove the group");
      if (g.nodeClass !== undefined) c.name(`${f}.nodeClass`, g.nodeClass, 64, "a node class");
      if (g.rootVolumeGb !== undefined) c.positiveInt(`${f}.rootVolumeGb`, g.rootVolumeGb, "give a size in GiB");
      if (g.dataVolumeGb !== undefined) c.positiveInt(`${f}.dataVolumeGb`, g.dataVolumeGb, "give a size in GiB");
      if (g.maxInstanceLifetimeDays !== undefined) c.positiveInt(`${f}.maxInstanceLifetimeDays`, g.maxInstanceLifetimeDays, "give a number of days (AWS allows at least 1), or leave it out");
    });
  }

  for (const role of ["core", "monitoring", "routing"] as const) {
    const size = spec[role];
    if (size?.instanceType !== undefined) c.instanceType(`${role}.instanceType`, size.instanceType);
    if (size?.rootVolumeGb !== undefined) c.positiveInt(`${role}.rootVolumeGb`, size.rootVolumeGb, "give a size in GiB");
    if (size?.dataVolumeGb !== undefined) c.positiveInt(`${role}.dataVolumeGb`, size.dataVolumeGb, "give a size in GiB");
  }

  if (spec.nat !== undefined && !["per-az", "single", "none"].includes(spec.nat)) {
    c.add("nat", spec.nat, "unknown NAT mode", `use "per-az" (one NAT gateway per zone), "single" or "none"`);
  }

  if (spec.kms !== undefined && spec.kms.create === false) {
    const m = KMS_ARN_RE.exec(spec.kms.keyArn ?? "");
    if (!m) c.add("kms.keyArn", spec.kms.keyArn, "not a KMS key ARN", `use "arn:aws:kms:<region>:<account>:key/<id>", or { create: true }`);
    else if (m[1] !== spec.coreRegion) c.add("kms.keyArn", spec.kms.keyArn, `the key is in ${m[1]}, not the core region ${spec.coreRegion}`, "use a key of the core region");
    else if (Array.isArray(spec.clientGroups) && spec.clientGroups.some((g) => g.region !== spec.coreRegion) && !spec.kms.keyArn.includes(":key/mrk-")) {
      c.add("kms.keyArn", spec.kms.keyArn, "client groups outside the core region need the key in their regions too, and this is not a multi-Region key", "use a multi-Region key (key id mrk-…) replicated to every client region, or { create: true }");
    }
  }

  if (spec.backend?.type === "s3") {
    if (!BUCKET_RE.test(spec.backend.bucket ?? "")) c.add("backend.bucket", spec.backend.bucket, "not an S3 bucket name", "use 3–63 lowercase letters, digits, dots and dashes");
    if (spec.backend.region !== undefined) c.region("backend.region", spec.backend.region);
  } else if (spec.backend !== undefined && spec.backend.type !== "local") {
    c.add("backend.type", (spec.backend as { type: unknown }).type, "unknown backend", `use { type: "local" } or { type: "s3", bucket }`);
  }

  for (const [product, version] of Object.entries(spec.versions ?? {})) {
    if (typeof version !== "string" || !VERSION_RE.test(version)) c.add(`versions.${product}`, version, "not a release version", `write it like "${DEFAULT_VERSIONS[product as keyof typeof DEFAULT_VERSIONS] ?? "1.2.3"}"`);
  }

  (spec.adminCidrs ?? []).forEach((cidr, i) => {
    const parsed = c.cidr(`adminCidrs[${i}]`, cidr);
    if (parsed && parsed.prefix === 0) c.add(`adminCidrs[${i}]`, cidr, "opens the Consul, Nomad and Vault endpoints to the whole internet", "list the networks your operators work from, e.g. your VPN's egress block");
  });

  const hosts = new Set<string>();
  (spec.routes ?? []).forEach((r, i) => {
    if (typeof r.host !== "string" || !LABEL_RE.test(r.host)) c.add(`routes[${i}].host`, r.host, "not a DNS label", `use one label like "www"; the route serves <host>.${String(spec.domain)}`);
    else if ((ADMIN_HOSTS as readonly string[]).includes(r.host)) c.add(`routes[${i}].host`, r.host, "reserved for an admin endpoint", `pick a host other than ${ADMIN_HOSTS.join(", ")}`);
    else if (hosts.has(r.host)) c.add(`routes[${i}].host`, r.host, "two routes have this host", "give each route its own host");
    hosts.add(r.host);
    c.name(`routes[${i}].service`, r.service, 63, "a Consul service name");
  });

  const ns = new Set<string>();
  (spec.namespaces ?? []).forEach((n, i) => {
    if (!c.name(`namespaces[${i}]`, n, 64, "a namespace")) return;
    if (n === "default" || ns.has(n)) c.add(`namespaces[${i}]`, n, n === "default" ? "the default namespace always exists" : "listed twice", "remove it");
    ns.add(n);
  });

  for (const key of Object.keys(spec.tags ?? {})) {
    if (RESERVED_TAGS.includes(key)) c.add(`tags.${key}`, spec.tags?.[key], "Bitte sets this tag itself", "use another tag key");
  }

  for (const region of Object.keys(spec.cidrOverrides ?? {})) c.region(`cidrOverrides.${region}`, region);
  checkOperations(spec, (field, value, problem, fix) => c.add(field, value, problem, fix));
}

/** Regions that host anything: the core region first, then client regions in table order. */
function clusterRegions(spec: ClusterSpec): string[] {
  const clientRegions = new Set(spec.clientGroups.map((g) => g.region));
  clientRegions.delete(spec.coreRegion);
  return [spec.coreRegion, ...[...clientRegions].sort((a, b) => REGION_INDEX[a] - REGION_INDEX[b])];
}

function planRegions(spec: ClusterSpec, groups: readonly ResolvedClientGroup[], c: Checker): RegionPlan[] {
  const regions = clusterRegions(spec);
  const blocks = new Map<string, Cidr>();
  for (const region of regions) {
    const override = spec.cidrOverrides?.[region];
    if (override === undefined) {
      blocks.set(region, { base: (10 * 256 + REGION_INDEX[region]) * 65536, prefix: 16 });
      continue;
    }
    const parsed = c.cidr(`cidrOverrides.${region}`, override);
    if (parsed && parsed.prefix !== 16) c.add(`cidrOverrides.${region}`, override, "a region's VPC block must be a /16", `use a /16 such as "10.${100 + REGION_INDEX[region]}.0.0/16"`);
    else if (parsed) blocks.set(region, parsed);
  }
  for (const region of Object.keys(spec.cidrOverrides ?? {})) {
    const mine = blocks.get(region);
    if (!mine) continue;
    for (const [other, theirs] of blocks) {
      if (other !== region && overlaps(mine, theirs)) {
        c.add(`cidrOverrides.${region}`, spec.cidrOverrides?.[region], `collides with ${other}'s VPC block ${formatCidr(theirs)}`, "pick a /16 that no other region of the cluster uses");
      }
    }
  }
  if (c.problems.length > 0) return [];

  return regions.map((name) => {
    const cidr = blocks.get(name) as Cidr;
    const zones = new Set<string>(name === spec.coreRegion ? spec.coreZones : []);
    for (const g of groups) if (g.region === name) g.zones.forEach((z) => zones.add(z));
    return {
      name,
      cidr: formatCidr(cidr),
      isCore: name === spec.coreRegion,
      zones: [...zones].sort().map((zone) => ({
        name: zone,
        // Private /19s at the bottom of the /16, public /22s from .192 up: room for six zones.
        privateCidr: formatCidr(cidrSubnet(cidr, 3, zoneIndex(zone))),
        publicCidr: formatCidr(cidrSubnet(cidr, 6, 48 + zoneIndex(zone))),
      })),
    };
  });
}

function resolveImage(spec: ClusterSpec, regions: readonly string[], c: Checker): ResolvedImage {
  const image = spec.image ?? { type: "name", name: DEFAULT_IMAGE_NAME };
  switch (image.type) {
    case "name":
      if (!image.name) c.add("image.name", image.name, "empty image name", "give the exact AMI name to pin");
      return { type: "name", name: image.name, owner: image.owner ?? CANONICAL_OWNER };
    case "ami":
      for (const region of regions) {
        const ami = image.amis?.[region];
        if (ami === undefined || !AMI_RE.test(ami)) c.add(`image.amis.${region}`, ami, "every region of the cluster needs an AMI id", `add "${region}": "ami-…" or use { type: "name" } to pin one image by name in every region`);
      }
      return { type: "ami", amis: image.amis };
    case "ssm": {
      const parameter = image.parameter ?? DEFAULT_IMAGE_PARAMETER;
      if (!parameter.startsWith("/")) c.add("image.parameter", parameter, "not an SSM parameter name", `use a name like "${DEFAULT_IMAGE_PARAMETER}"`);
      return { type: "ssm", parameter };
    }
    default:
      c.add("image.type", (image as { type: unknown }).type, "unknown image type", `use "name", "ami" or "ssm"`);
      return { type: "name", name: DEFAULT_IMAGE_NAME, owner: CANONICAL_OWNER };
  }
}

/**
 * Validates a cluster spec and fills in every default, in this one place. Throws a
 * `ClusterSpecError` naming each bad field, its value and the fix; nothing is synthesized from
 * an invalid spec.
 */
export function defineCluster(spec: ClusterSpec): Cluster {
  const c = new Checker();
  checkSpec(spec, c);
  if (c.problems.length > 0) throw new ClusterSpecError(String(spec.name), c.problems);

  const clientGroups: ResolvedClientGroup[] = spec.clientGroups.map((g) => ({
    name: g.name,
    region: g.region,
    zones: [...(g.zones ?? (g.region === spec.coreRegion ? spec.coreZones : defaultZones(g.region)))],
    instanceTypes: typeof g.instanceType === "string" ? [g.instanceType] : [...g.instanceType],
    min: g.min,
    desired: g.desired,
    max: g.max,
    nodeClass: g.nodeClass ?? g.name,
    rootVolumeGb: g.rootVolumeGb ?? 40,
    dataVolumeGb: g.dataVolumeGb ?? 100,
    ...(g.maxInstanceLifetimeDays === undefined ? {} : { maxInstanceLifetimeSeconds: g.maxInstanceLifetimeDays * 86400 }),
  }));
  const regions = planRegions(spec, clientGroups, c);
  const image = resolveImage(spec, regions.map((r) => r.name), c);
  const stateRegion = spec.backend?.type === "s3" ? spec.backend.region : undefined;
  if (stateRegion !== undefined && regions.length > 0 && !regions.some((r) => r.name === stateRegion)) {
    c.add("backend.region", stateRegion, "the state is encrypted with the cluster key, which exists only in the cluster's regions", `use one of ${regions.map((r) => r.name).join(", ")}, or leave it out for the core region`);
  }
  if (c.problems.length > 0) throw new ClusterSpecError(spec.name, c.problems);

  const coreRegion = regions[0];
  const privateSubnet = (zone: string): Cidr => parseCidr(coreRegion.zones.find((z) => z.name === zone)?.privateCidr ?? "") as Cidr;
  const coreNodes: FixedNodePlan[] = spec.coreZones.map((zone, i) => ({ name: `core-${i + 1}`, zone, privateIp: cidrHost(privateSubnet(zone), 10) }));
  const monitoringNode: FixedNodePlan = { name: "monitoring", zone: spec.coreZones[0], privateIp: cidrHost(privateSubnet(spec.coreZones[0]), 20) };

  const backend: ResolvedBackend =
    spec.backend?.type === "s3"
      ? { type: "s3", bucket: spec.backend.bucket, region: spec.backend.region ?? spec.coreRegion, keyPrefix: spec.backend.keyPrefix ?? `bitte/${spec.name}` }
      : { type: "local" };

  return {
    name: spec.name,
    domain: spec.domain,
    coreRegion: spec.coreRegion,
    coreZones: [spec.coreZones[0], spec.coreZones[1], spec.coreZones[2]],
    clientGroups,
    core: resolveSize(spec.core, "m6i.large", 50),
    monitoring: resolveSize(spec.monitoring, "m6i.large", 200),
    routing: resolveSize(spec.routing, "t3.small", 0),
    nat: spec.nat ?? "per-az",
    kms: spec.kms ?? { create: true },
    backend,
    versions: { ...DEFAULT_VERSIONS, ...spec.versions },
    image,
    adminCidrs: [...(spec.adminCidrs ?? [])],
    routes: [...(spec.routes ?? [])],
    namespaces: [...(spec.namespaces ?? [])],
    tags: { ...spec.tags },
    regions,
    coreNodes,
    monitoringNode,
    ssmPrefix: `/bitte/${spec.name}`,
    operations: resolveOperations(spec),
  };
}
