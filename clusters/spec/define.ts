import { architectureOf, needsDedicatedHost, type Architecture } from "./architecture";
import { cidrHost, cidrSubnet, formatCidr, overlaps, parseCidr, type Cidr } from "./cidr";
import { CANONICAL_OWNER, DEFAULT_VERSIONS, MAX_NAME_LENGTH, SPEC_FIELDS } from "./fields";
import { NODE_NETWORK_CIDRS } from "./node-networks";
import { VPC_QUOTAS, estimateVcpus, vcpuQuota, type Quota } from "./quotas";
import { checkPackageMirror, resolvePackageMirror } from "./package-mirror";
import { REGION_INDEX, ZONE_LETTERS } from "./regions";
import { applyDefaults, check } from "./schema";
import { checkOperations, resolveOperations } from "./operations";
import type {
  ClientGroupSpec,
  Cluster,
  ClusterSpec,
  FixedNodePlan,
  ImageSpec,
  NodeSizeSpec,
  RegionPlan,
  ResolvedBackend,
  ResolvedClientGroup,
  ResolvedImage,
  ResolvedNodeSize,
} from "./types";
import { defaultZones, regionZones, usableZoneCount } from "./zones";

export { CANONICAL_OWNER, DEFAULT_VERSIONS, MAX_NAME_LENGTH };
/** The default image: one Ubuntu 24.04 LTS build, the same in every region. */
export const DEFAULT_IMAGE_NAME = "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20251022";
/** The arm64 build of the same Ubuntu serial (Canonical publishes both architectures per serial). */
export const DEFAULT_ARM64_IMAGE_NAME = "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-arm64-server-20251022";
/** The SSM public parameter used by `image: { type: "ssm" }` without a parameter. */
export const DEFAULT_IMAGE_PARAMETER = "/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id";
export const DEFAULT_ARM64_IMAGE_PARAMETER = "/aws/service/canonical/ubuntu/server/24.04/stable/current/arm64/hvm/ebs-gp3/ami-id";
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
        problems.map((p) => `  - ${formatProblem(p)}`).join("\n"),
    );
    this.name = "ClusterSpecError";
  }
}

/** `field = value: problem. Fix: fix.` — the one format of errors and warnings. */
export function formatProblem(p: SpecProblem): string {
  return `${p.field} = ${show(p.value)}: ${p.problem}. Fix: ${p.fix}${/[.?!]$/.test(p.fix) ? "" : "."}`;
}

function show(value: unknown): string {
  if (value === undefined) return "(missing)";
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 120 ? `${text.slice(0, 117)}…` : text;
}

/** Collects problems while a spec is checked. */
class Checker {
  readonly problems: SpecProblem[] = [];
  readonly warnings: SpecProblem[] = [];
  add(field: string, value: unknown, problem: string, fix: string): void {
    this.problems.push({ field, value, problem, fix });
  }
  warn(field: string, value: unknown, problem: string, fix: string): void {
    this.warnings.push({ field, value, problem, fix });
  }
  /** Zones of one region: listed once each, existing, and no more than one account sees. */
  zones(field: string, zones: readonly string[], region: string): void {
    const known = regionZones(region);
    const seen = new Set<string>();
    zones.forEach((z, i) => {
      if (seen.has(z)) this.add(`${field}[${i}]`, z, "zone listed twice", "list each zone once");
      seen.add(z);
      if (!known.includes(z)) this.add(`${field}[${i}]`, z, `not an availability zone of ${region}`, `use one of ${known.map((k) => JSON.stringify(k)).join(", ")} (clusters/spec/zones.ts)`);
    });
    const usable = usableZoneCount(region);
    if (seen.size > usable) this.add(field, zones, `${region} gives an account only ${usable} of its zones`, `list the ${usable} zones your account has (aws ec2 describe-availability-zones --region ${region})`);
  }
}

/** A spec after the field table accepted it and filled its literal defaults. */
type Filled = Omit<ClusterSpec, "core" | "monitoring" | "routing" | "clientGroups" | "adminCidrs" | "cidrOverrides"> & {
  readonly core: Required<NodeSizeSpec>;
  readonly monitoring: Required<NodeSizeSpec>;
  readonly routing: Required<Omit<NodeSizeSpec, "dataVolumeGb">>;
  readonly clientGroups: readonly (ClientGroupSpec & { readonly rootVolumeGb: number; readonly dataVolumeGb: number })[];
  readonly adminCidrs: readonly string[];
  readonly cidrOverrides: Readonly<Record<string, string>>;
};

const ROLES = ["core", "monitoring", "routing"] as const;

function zoneIndex(zone: string): number {
  return ZONE_LETTERS.indexOf(zone.slice(-1));
}

function typesOf(g: ClientGroupSpec): string[] {
  return typeof g.instanceType === "string" ? [g.instanceType] : [...g.instanceType];
}

function checkZonesAndGroups(spec: Filled, c: Checker): void {
  const coreUsable = usableZoneCount(spec.coreRegion);
  if (coreUsable < 3) c.add("coreRegion", spec.coreRegion, `an account sees only ${coreUsable} availability zones of ${spec.coreRegion}; the core needs three`, "pick a core region with three zones, e.g. us-west-2; client groups may still run here");
  else c.zones("coreZones", spec.coreZones, spec.coreRegion);

  const seen = new Map<string, number>();
  spec.clientGroups.forEach((g, i) => {
    const f = `clientGroups[${i}]`;
    const first = seen.get(g.name);
    if (first !== undefined) c.add(`${f}.name`, g.name, `clientGroups[${first}] has the same name`, "give every group a unique name");
    else seen.set(g.name, i);
    if (g.zones !== undefined) c.zones(`${f}.zones`, g.zones, g.region);
    else if (g.region !== spec.coreRegion && defaultZones(g.region) === undefined) {
      c.add(`${f}.zones`, undefined, `${g.region}'s zone names differ per account, so there is no default`, `list the zones your account has (aws ec2 describe-availability-zones --region ${g.region})`);
    }
    if (g.min > g.desired) c.add(`${f}.min`, g.min, `greater than desired (${g.desired})`, "make min ≤ desired ≤ max");
    if (g.desired > g.max) c.add(`${f}.desired`, g.desired, `greater than max (${g.max})`, "make min ≤ desired ≤ max");
    const types = typesOf(g);
    const seenTypes = new Set<string>();
    types.forEach((t, j) => {
      const tf = typeof g.instanceType === "string" ? `${f}.instanceType` : `${f}.instanceType[${j}]`;
      if (seenTypes.has(t)) c.add(tf, t, "instance type listed twice", "list each type once");
      seenTypes.add(t);
      if (needsDedicatedHost(t)) c.add(tf, t, "mac instances run only on dedicated hosts, which an auto-scaling group cannot use", "use another instance family");
      if (architectureOf(t) !== architectureOf(types[0])) {
        c.add(tf, t, `is ${architectureOf(t)} but ${types[0]}, the group's first type, is ${architectureOf(types[0])}; one launch template has one image`, "use types of one architecture in a group, or split the group");
      }
    });
  });
  for (const role of ROLES) if (needsDedicatedHost(spec[role].instanceType)) c.add(`${role}.instanceType`, spec[role].instanceType, "mac instances need dedicated hosts", "use another instance family");
}

function checkRest(spec: Filled, c: Checker): void {
  if (spec.kms?.create === false) {
    const keyRegion = spec.kms.keyArn.split(":")[3];
    if (keyRegion !== spec.coreRegion) c.add("kms.keyArn", spec.kms.keyArn, `the key is in ${keyRegion}, not the core region ${spec.coreRegion}`, "use a key of the core region");
    else if (spec.clientGroups.some((g) => g.region !== spec.coreRegion) && !spec.kms.keyArn.includes(":key/mrk-")) {
      c.add("kms.keyArn", spec.kms.keyArn, "client groups outside the core region need the key in their regions too, and this is not a multi-Region key", "use a multi-Region key (key id mrk-…) replicated to every client region, or { create: true }");
    }
  }

  const hosts = new Set<string>();
  (spec.routes ?? []).forEach((r, i) => {
    if ((ADMIN_HOSTS as readonly string[]).includes(r.host)) c.add(`routes[${i}].host`, r.host, "reserved for an admin endpoint", `pick a host other than ${ADMIN_HOSTS.join(", ")}`);
    else if (hosts.has(r.host)) c.add(`routes[${i}].host`, r.host, "two routes have this host", "give each route its own host");
    hosts.add(r.host);
    if (`${r.host}.${spec.domain}`.length > 253) c.add(`routes[${i}].host`, r.host, `${r.host}.${spec.domain} is longer than the 253 characters of a DNS name`, "use a shorter host");
  });

  const ns = new Set<string>();
  (spec.namespaces ?? []).forEach((n, i) => {
    if (n === "default" || ns.has(n)) c.add(`namespaces[${i}]`, n, n === "default" ? "the default namespace always exists" : "listed twice", "remove it");
    ns.add(n);
  });

  spec.adminCidrs.forEach((cidr, i) => {
    const first = spec.adminCidrs.indexOf(cidr);
    if (first !== i) c.add(`adminCidrs[${i}]`, cidr, `adminCidrs[${first}] is the same block`, "list each block once");
  });
  checkPackageMirror(spec.packageMirror, (field, value, problem, fix) => c.add(field, value, problem, fix));
  checkOperations(spec, (field, value, problem, fix) => c.add(field, value, problem, fix));
}

/** Regions that host anything: the core region first, then client regions in table order. */
function clusterRegions(spec: ClusterSpec): string[] {
  const clientRegions = new Set(spec.clientGroups.map((g) => g.region));
  clientRegions.delete(spec.coreRegion);
  return [spec.coreRegion, ...[...clientRegions].sort((a, b) => REGION_INDEX[a] - REGION_INDEX[b])];
}

function planBlocks(spec: Filled, regions: readonly string[], c: Checker): Map<string, Cidr> {
  const blocks = new Map<string, Cidr>();
  for (const region of regions) {
    if (spec.cidrOverrides[region] === undefined) blocks.set(region, { base: (10 * 256 + REGION_INDEX[region]) * 65536, prefix: 16 });
  }
  for (const [region, override] of Object.entries(spec.cidrOverrides)) {
    const field = `cidrOverrides.${region}`;
    const parsed = parseCidr(override) as Cidr;
    if (!regions.includes(region)) {
      c.add(field, override, `${region} hosts nothing in this cluster, so the override would be ignored`, `remove it, or add a client group in ${region}`);
      continue;
    }
    if (parsed.prefix !== 16) {
      c.add(field, override, "a region's VPC block must be a /16", `use a /16 such as "10.${100 + REGION_INDEX[region]}.0.0/16"`);
      continue;
    }
    const clash = NODE_NETWORK_CIDRS.find((n) => overlaps(n.parsed, parsed));
    if (clash) {
      c.add(field, override, `overlaps ${clash.cidr}, ${clash.what}`, `pick a /16 outside ${clash.cidr}, e.g. "10.${100 + REGION_INDEX[region]}.0.0/16"`);
      continue;
    }
    blocks.set(region, parsed);
  }
  for (const region of Object.keys(spec.cidrOverrides)) {
    const mine = blocks.get(region);
    if (!mine) continue;
    for (const [other, theirs] of blocks) {
      if (other !== region && overlaps(mine, theirs)) {
        c.add(`cidrOverrides.${region}`, spec.cidrOverrides[region], `collides with ${other}'s VPC block ${formatCidr(theirs)}`, "pick a /16 that no other region of the cluster uses");
      }
    }
  }
  return blocks;
}

function planRegions(spec: Filled, groups: readonly ResolvedClientGroup[], blocks: ReadonlyMap<string, Cidr>, regions: readonly string[]): RegionPlan[] {
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

const IMAGE_FIELD: Record<Architecture, "image" | "arm64Image"> = { x86_64: "image", arm64: "arm64Image" };
/** Words in an image's name or parameter that give away its architecture. */
const ARCH_WORDS: Record<Architecture, RegExp> = { x86_64: /(amd64|x86_64|x86-64)/, arm64: /(arm64|aarch64)/ };

/** The image of one architecture, resolved, or undefined when none is set or defaulted. */
function resolveImage(spec: Filled, arch: Architecture, regions: readonly string[], c: Checker): (ResolvedImage & { readonly rootSnapshotGb: number }) | undefined {
  const field = IMAGE_FIELD[arch];
  const given = spec[field];
  const image: ImageSpec | undefined =
    given ?? (arch === "x86_64" ? { type: "name", name: DEFAULT_IMAGE_NAME } : spec.image === undefined ? { type: "name", name: DEFAULT_ARM64_IMAGE_NAME } : undefined);
  if (image === undefined) return undefined;
  const filled = applyDefaults(SPEC_FIELDS.fields[field].schema, image) as ImageSpec & { rootSnapshotGb: number };
  const other: Architecture = arch === "x86_64" ? "arm64" : "x86_64";
  const says = (text: string, f: string): void => {
    if (ARCH_WORDS[other].test(text) && !ARCH_WORDS[arch].test(text)) c.add(`${field}.${f}`, text, `the ${field} is for ${arch} nodes, but this names an ${other} image`, `use an ${arch} image here${arch === "x86_64" ? ", and put the arm64 one in arm64Image" : ""}`);
  };
  switch (filled.type) {
    case "name":
      says(filled.name, "name");
      return { type: "name", name: filled.name, owner: filled.owner ?? CANONICAL_OWNER, rootSnapshotGb: filled.rootSnapshotGb };
    case "ami":
      for (const region of regions) {
        if (filled.amis[region] === undefined) c.add(`${field}.amis.${region}`, undefined, "every region of the cluster needs an AMI id", `add "${region}": "ami-…" or use { type: "name" } to pin one image by name in every region`);
      }
      for (const region of Object.keys(filled.amis)) {
        if (!regions.includes(region)) c.add(`${field}.amis.${region}`, filled.amis[region], `${region} hosts nothing in this cluster, so the AMI would be ignored`, "remove it");
      }
      return { type: "ami", amis: filled.amis, rootSnapshotGb: filled.rootSnapshotGb };
    case "ssm": {
      const parameter = filled.parameter ?? (arch === "x86_64" ? DEFAULT_IMAGE_PARAMETER : DEFAULT_ARM64_IMAGE_PARAMETER);
      says(parameter, "parameter");
      return { type: "ssm", parameter, rootSnapshotGb: filled.rootSnapshotGb };
    }
  }
}

/** Where each node's architecture comes from, for messages. */
interface NodeArch {
  readonly field: string;
  readonly instanceType: string;
  readonly rootField: string;
  readonly rootVolumeGb: number;
}

function nodeArchitectures(spec: Filled): Map<Architecture, NodeArch[]> {
  const byArch = new Map<Architecture, NodeArch[]>();
  const add = (n: NodeArch): void => {
    const a = architectureOf(n.instanceType);
    byArch.set(a, [...(byArch.get(a) ?? []), n]);
  };
  for (const role of ROLES) add({ field: `${role}.instanceType`, instanceType: spec[role].instanceType, rootField: `${role}.rootVolumeGb`, rootVolumeGb: spec[role].rootVolumeGb });
  spec.clientGroups.forEach((g, i) => add({ field: `clientGroups[${i}].instanceType`, instanceType: typesOf(g)[0], rootField: `clientGroups[${i}].rootVolumeGb`, rootVolumeGb: g.rootVolumeGb }));
  return byArch;
}

function withoutSnapshot(image: ResolvedImage & { readonly rootSnapshotGb: number }): ResolvedImage {
  const out: Record<string, unknown> = { ...image };
  delete out.rootSnapshotGb;
  return out as ResolvedImage;
}

function resolveImages(spec: Filled, regions: readonly string[], c: Checker): Partial<Record<Architecture, ResolvedImage>> {
  const byArch = nodeArchitectures(spec);
  const out: Partial<Record<Architecture, ResolvedImage>> = {};
  for (const arch of ["x86_64", "arm64"] as const) {
    const nodes = byArch.get(arch) ?? [];
    const field = IMAGE_FIELD[arch];
    if (nodes.length === 0) {
      if (spec[field] !== undefined && arch === "arm64") c.add(field, spec[field], "no node is arm64, so this image would be ignored", "remove it, or use a Graviton instance type (m7g.large, …)");
      const image = arch === "x86_64" ? resolveImage(spec, arch, regions, c) : undefined;
      if (image) out.x86_64 = withoutSnapshot(image);
      continue;
    }
    const image = resolveImage(spec, arch, regions, c);
    if (image === undefined) {
      c.add(field, undefined, `${nodes[0].field} = ${nodes[0].instanceType} is ${arch}, and image only sets the x86_64 image`, `add ${field}: { type: "name", name: "<an ${arch} image>" } (or "ami"/"ssm")`);
      continue;
    }
    for (const n of nodes) {
      if (n.rootVolumeGb < image.rootSnapshotGb) c.add(n.rootField, n.rootVolumeGb, `smaller than the ${field}'s ${image.rootSnapshotGb} GiB root snapshot; EC2 refuses the launch`, `give at least ${image.rootSnapshotGb} GiB`);
    }
    out[arch] = withoutSnapshot(image);
  }
  return out;
}

/** One field's share of a region's vCPU quota. */
interface QuotaPart {
  readonly field: string;
  readonly value: unknown;
  readonly label: string;
  readonly vcpus: number;
}

function quotaWarnings(spec: Filled, cluster: { readonly regions: readonly RegionPlan[]; readonly clientGroups: readonly ResolvedClientGroup[] }, c: Checker): void {
  for (const region of cluster.regions) {
    // Per quota, what counts against it: the warning names the biggest contributor's own field and
    // value (the one to change), and lists them all.
    const vcpus = new Map<Quota, QuotaPart[]>();
    const add = (type: string, count: number, label: string, field: string, value: unknown): void => {
      const q = vcpuQuota(type);
      vcpus.set(q, [...(vcpus.get(q) ?? []), { field, value, label: `${label} ${count} × ${type}`, vcpus: count * estimateVcpus(type) }]);
    };
    if (region.isCore) {
      add(spec.core.instanceType, 3, "core", "core.instanceType", spec.core.instanceType);
      add(spec.monitoring.instanceType, 1, "monitoring", "monitoring.instanceType", spec.monitoring.instanceType);
      add(spec.routing.instanceType, 2, "routing", "routing.instanceType", spec.routing.instanceType);
    }
    cluster.clientGroups.forEach((g, i) => {
      // The largest type of a mixed group bounds what it may launch.
      if (g.region === region.name) add(g.instanceTypes.reduce((a, b) => (estimateVcpus(b) > estimateVcpus(a) ? b : a)), g.max, `clientGroups[${i}]`, `clientGroups[${i}].max`, g.max);
    });
    for (const [q, parts] of vcpus) {
      const count = parts.reduce((n, p) => n + p.vcpus, 0);
      if (count <= q.warnAbove) continue;
      const sorted = [...parts].sort((a, b) => b.vcpus - a.vcpus);
      const top = sorted[0];
      c.warn(top.field, top.value, `at maximum size ${region.name} runs about ${count} vCPUs under the EC2 quota "${q.name}" (${q.code}): ${sorted.map((p) => `${p.label} (${p.vcpus})`).join(", ")}; ${q.basis}`, `check the quota in Service Quotas for ${region.name} and request an increase if needed, or lower ${top.field}`);
    }
    const eips = spec.nat === "per-az" ? region.zones.length : spec.nat === "single" ? 1 : 0;
    const q = VPC_QUOTAS.elasticIps;
    if (eips > q.warnAbove) c.warn("nat", spec.nat, `${region.name} needs ${eips} Elastic IPs for its NAT gateways; the quota "${q.name}" (${q.code}) — ${q.basis}`, `request an increase for ${region.name}, or use nat: "single"`);
  }
}

/**
 * Validates a cluster spec and fills in every default, in this one place. Throws a
 * `ClusterSpecError` naming each bad field, its value and the fix; nothing is synthesized from
 * an invalid spec. First the field table (fields.ts) checks every key and type, so the checks
 * across fields below only ever see well-typed data.
 */
export function defineCluster(spec: ClusterSpec): Cluster {
  const c = new Checker();
  const specName = typeof (spec as unknown as { name?: unknown })?.name === "string" ? spec.name : String((spec as unknown as { name?: unknown })?.name);
  if (!check(SPEC_FIELDS, spec, "", (field, value, issue) => c.add(field || "(spec)", value, issue.problem, issue.fix))) {
    throw new ClusterSpecError(specName, c.problems);
  }
  const s = applyDefaults(SPEC_FIELDS, spec) as Filled;
  checkZonesAndGroups(s, c);
  checkRest(s, c);
  if (c.problems.length > 0) throw new ClusterSpecError(s.name, c.problems);

  const clientGroups: ResolvedClientGroup[] = s.clientGroups.map((g) => ({
    name: g.name,
    region: g.region,
    zones: [...(g.zones ?? (g.region === s.coreRegion ? s.coreZones : (defaultZones(g.region) as string[])))],
    instanceTypes: typesOf(g),
    min: g.min,
    desired: g.desired,
    max: g.max,
    nodeClass: g.nodeClass ?? g.name,
    rootVolumeGb: g.rootVolumeGb,
    dataVolumeGb: g.dataVolumeGb,
    architecture: architectureOf(typesOf(g)[0]),
    ...(g.maxInstanceLifetimeDays === undefined ? {} : { maxInstanceLifetimeSeconds: g.maxInstanceLifetimeDays * 86400 }),
  }));
  const regionNames = clusterRegions(s);
  const blocks = planBlocks(s, regionNames, c);
  const images = resolveImages(s, regionNames, c);
  const stateRegion = s.backend?.type === "s3" ? s.backend.region : undefined;
  if (stateRegion !== undefined && !regionNames.includes(stateRegion)) {
    c.add("backend.region", stateRegion, "the state is encrypted with the cluster key, which exists only in the cluster's regions", `use one of ${regionNames.join(", ")}, or leave it out for the core region`);
  }
  if (c.problems.length > 0) throw new ClusterSpecError(s.name, c.problems);
  const regions = planRegions(s, clientGroups, blocks, regionNames);

  const coreRegion = regions[0];
  const privateSubnet = (zone: string): Cidr => parseCidr(coreRegion.zones.find((z) => z.name === zone)?.privateCidr ?? "") as Cidr;
  const coreNodes: FixedNodePlan[] = s.coreZones.map((zone, i) => ({ name: `core-${i + 1}`, zone, privateIp: cidrHost(privateSubnet(zone), 10) }));
  const monitoringNode: FixedNodePlan = { name: "monitoring", zone: s.coreZones[0], privateIp: cidrHost(privateSubnet(s.coreZones[0]), 20) };

  const backend: ResolvedBackend =
    s.backend?.type === "s3" ? { type: "s3", bucket: s.backend.bucket, region: s.backend.region ?? s.coreRegion, keyPrefix: s.backend.keyPrefix ?? `bitte/${s.name}` } : { type: "local" };
  const size = (role: (typeof ROLES)[number]): ResolvedNodeSize => {
    const n = s[role] as Required<NodeSizeSpec>;
    return { instanceType: n.instanceType, rootVolumeGb: n.rootVolumeGb, dataVolumeGb: n.dataVolumeGb ?? 0, architecture: architectureOf(n.instanceType) };
  };

  quotaWarnings(s, { regions, clientGroups }, c);
  return {
    name: s.name,
    domain: s.domain,
    coreRegion: s.coreRegion,
    coreZones: [s.coreZones[0], s.coreZones[1], s.coreZones[2]],
    clientGroups,
    core: size("core"),
    monitoring: size("monitoring"),
    routing: size("routing"),
    nat: s.nat ?? "per-az",
    kms: s.kms ?? { create: true },
    backend,
    versions: { ...DEFAULT_VERSIONS, ...s.versions },
    image: images.x86_64 as ResolvedImage,
    images,
    adminCidrs: [...s.adminCidrs],
    routes: [...(s.routes ?? [])],
    namespaces: [...(s.namespaces ?? [])],
    tags: { ...s.tags },
    regions,
    coreNodes,
    monitoringNode,
    ssmPrefix: `/bitte/${s.name}`,
    warnings: c.warnings,
    ...(s.packageMirror ? { packageMirror: resolvePackageMirror(s.packageMirror) } : {}),
    operations: resolveOperations(s),
  };
}
