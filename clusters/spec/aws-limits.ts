/**
 * What AWS (or Terraform's S3 backend) refuses at apply time, checked here first. Each bound
 * cites where it comes from.
 */
import type { Issue } from "./schema";

/**
 * Auto Scaling `MaxInstanceLifetime`: "0, or between 86400 (1 day) and 31536000 (365 days)"
 * seconds (Amazon EC2 Auto Scaling API Reference, CreateAutoScalingGroup). The spec takes days.
 */
export const MAX_INSTANCE_LIFETIME_DAYS = { min: 1, max: 365 } as const;

/** gp3 volume size, 1–16,384 GiB (Amazon EBS User Guide, "Amazon EBS volume types"). */
export const GP3_SIZE_GB = { min: 1, max: 16384 } as const;

/**
 * Root snapshot size of Canonical's Ubuntu server AMIs (8 GiB, `BlockDeviceMappings` of every
 * `ubuntu/images/hvm-ssd-gp3/*` image). EC2 refuses a launch whose root volume is smaller than
 * the image's snapshot ("Volume of size N is smaller than snapshot").
 */
export const UBUNTU_ROOT_SNAPSHOT_GB = 8;

/**
 * Tags (Tagging AWS Resources, "Tag naming limits and requirements"): at most 50 per resource;
 * key 1–128 characters, value 0–256; the `aws:` prefix is reserved in any case; letters,
 * numbers, spaces and `_ . : / = + - @` are the characters every service accepts (IAM roles carry
 * these tags too, and IAM accepts only those).
 */
export const TAG_LIMITS = { perResource: 50, keyLength: 128, valueLength: 256 } as const;
/**
 * Tags Bitte sets itself: the provider's default tags, and per resource `Name`, `Role`,
 * `NodeClass` (launch templates, auto-scaling groups) and `Tier` (subnets). A spec may not set
 * them (they would be overwritten), and they count against the 50.
 */
export const BITTE_TAG_KEYS = ["Cluster", "ManagedBy", "Name", "Role", "NodeClass", "Tier"] as const;
/** The most Bitte puts on one resource (a client launch template: Cluster, ManagedBy, Name, Role, NodeClass). */
export const BITTE_TAGS_PER_RESOURCE = 5;
export const MAX_USER_TAGS = TAG_LIMITS.perResource - BITTE_TAGS_PER_RESOURCE;

const TAG_CHARS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
/**
 * Instances expose their tags in instance metadata (`instance_metadata_tags = "enabled"`,
 * constructs/instance-defaults.ts). EC2 then refuses tag keys with spaces or `/`, and keys `.`,
 * `..` and `_index` (EC2 User Guide, "View tags for your EC2 instances using instance metadata").
 */
const IMDS_TAG_KEY = /^[\p{L}\p{N}+\-=._:@]+$/u;

export function tagKeyIssue(key: string): Issue | undefined {
  if (key.length < 1 || key.length > TAG_LIMITS.keyLength) return { problem: `is ${key.length} characters; AWS takes tag keys of 1–${TAG_LIMITS.keyLength}`, fix: "use a shorter key" };
  if (key.toLowerCase().startsWith("aws:")) return { problem: "the aws: prefix is reserved for AWS's own tags", fix: "use a key without the aws: prefix" };
  if ((BITTE_TAG_KEYS as readonly string[]).includes(key)) return { problem: "Bitte sets this tag itself", fix: "use another tag key" };
  if (!TAG_CHARS.test(key) || !IMDS_TAG_KEY.test(key) || key === "." || key === ".." || key === "_index") {
    return { problem: "not a tag key EC2 accepts with instance metadata tags on (letters, digits and + - = . _ : @ only; no spaces or /)", fix: "rename it, e.g. \"team\" or \"cost-center\"" };
  }
  return undefined;
}

export function tagValueIssue(value: string): Issue | undefined {
  if (value.length > TAG_LIMITS.valueLength) return { problem: `is ${value.length} characters; AWS takes tag values of at most ${TAG_LIMITS.valueLength}`, fix: "shorten it" };
  if (!TAG_CHARS.test(value)) return { problem: "contains characters AWS does not accept in tags (letters, digits, spaces and _ . : / = + - @ only)", fix: "remove the other characters" };
  return undefined;
}

/**
 * S3 bucket naming rules (Amazon S3 User Guide, "General purpose bucket naming rules"): 3–63
 * characters of lowercase letters, digits, dots and hyphens, starting and ending with a letter or
 * digit; no two adjacent dots; not an IP address; not starting `xn--`, `sthree-` or
 * `amzn-s3-demo-`; not ending `-s3alias`, `--ol-s3`, `.mrap`, `--x-s3` or `--table-s3`.
 */
export function bucketIssue(name: string): Issue | undefined {
  const fix = "use 3–63 lowercase letters, digits, dots and dashes, starting and ending with a letter or digit";
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name)) return { problem: "not an S3 bucket name", fix };
  if (name.includes("..")) return { problem: "not an S3 bucket name: two adjacent dots", fix };
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) return { problem: "not an S3 bucket name: formatted as an IP address", fix };
  const prefix = ["xn--", "sthree-", "amzn-s3-demo-"].find((p) => name.startsWith(p));
  if (prefix) return { problem: `not an S3 bucket name: the prefix ${prefix} is reserved`, fix: "pick a name without it" };
  const suffix = ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"].find((s) => name.endsWith(s));
  if (suffix) return { problem: `not an S3 bucket name: the suffix ${suffix} is reserved`, fix: "pick a name without it" };
  return undefined;
}

/**
 * The S3 backend's `key` (Terraform, internal/backend/remote-state/s3/backend.go and
 * validate.go): not empty, not starting or ending with "/", no "//". Bitte's keys are
 * `<keyPrefix>/<stack>.tfstate`, and S3 object keys are at most 1,024 bytes of UTF-8.
 */
export function stateKeyPrefixIssue(prefix: string): Issue | undefined {
  const fix = `write it like "bitte/prod"`;
  if (prefix === "") return { problem: "empty; Terraform's S3 backend refuses a key starting with \"/\"", fix };
  if (prefix.startsWith("/") || prefix.endsWith("/")) return { problem: "starts or ends with \"/\"; Terraform's S3 backend refuses keys that do (the key is <keyPrefix>/<stack>.tfstate)", fix };
  if (prefix.includes("//")) return { problem: "contains \"//\", which Terraform's S3 backend refuses in a key", fix };
  if (Buffer.byteLength(prefix, "utf8") > 1000) return { problem: "too long for an S3 object key (1,024 bytes with /<stack>.tfstate)", fix: "use a prefix of at most 1,000 bytes" };
  return undefined;
}
