/**
 * A small evaluator of IAM policy documents for one principal of one account: enough of AWS's
 * documented evaluation logic to answer "may this role do this action on this resource, in this
 * request context" from the synthesized policies alone.
 *
 * Semantics followed (IAM User Guide, "Policy evaluation logic" and "IAM JSON policy elements:
 * Condition operators"):
 * - an explicit Deny in any applicable policy wins; otherwise an Allow is needed;
 * - within one account, a KMS key policy statement whose principal is the account root only
 *   delegates to IAM: the identity policy must allow as well; a statement naming the role allows
 *   on its own (KMS Developer Guide, "Default key policy");
 * - `Action`/`NotAction`, `Resource`/`NotResource` match with `*` and `?` wildcards; actions are
 *   case-insensitive, ARNs case-sensitive;
 * - every operator of a Condition block must match (AND), any value of an operator's list may
 *   match (OR); a key missing from the request makes a positive operator false and a negated
 *   operator (`StringNotEquals`, `ArnNotLike`, ...) true; `...IfExists` is true for a missing key;
 *   `Null` tests presence; `ForAnyValue:`/`ForAllValues:` compare sets.
 *
 * Used by the authorization tests, and exported for the machine tier's SSM stand-in.
 */
import type { PolicyDocument, PolicyStatement } from "./documents";

/** Values of a request context key: single-valued keys hold a string, multi-valued keys an array. */
export type ContextValue = string | readonly string[];

export interface AuthzRequest {
  /** `service:Action`. */
  readonly action: string;
  /** The resource's ARN. */
  readonly resource: string;
  /** Condition keys of the request (`kms:ViaService`, `ssm:Overwrite`, ...), case-insensitive names. */
  readonly context?: Readonly<Record<string, ContextValue>>;
}

export interface Principal {
  /** The role's ARN (`arn:aws:iam::<account>:role/<name>`). */
  readonly arn: string;
  readonly accountId: string;
}

const list = <T>(x: T | readonly T[] | undefined): readonly T[] => (x === undefined ? [] : Array.isArray(x) ? (x as readonly T[]) : [x as T]);

/** IAM's wildcard match: `*` any run of characters, `?` any one character. */
export function wildcardMatch(pattern: string, value: string, caseInsensitive = false): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`, caseInsensitive ? "is" : "s");
  return re.test(value);
}

function lookup(context: Readonly<Record<string, ContextValue>>, key: string): ContextValue | undefined {
  const lower = key.toLowerCase();
  for (const [k, v] of Object.entries(context)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

type Compare = (policyValue: string, requestValue: string) => boolean;

const BASE_OPERATORS: Readonly<Record<string, { compare: Compare; negated: boolean }>> = {
  StringEquals: { compare: (p, r) => p === r, negated: false },
  StringNotEquals: { compare: (p, r) => p === r, negated: true },
  StringEqualsIgnoreCase: { compare: (p, r) => p.toLowerCase() === r.toLowerCase(), negated: false },
  StringNotEqualsIgnoreCase: { compare: (p, r) => p.toLowerCase() === r.toLowerCase(), negated: true },
  StringLike: { compare: (p, r) => wildcardMatch(p, r), negated: false },
  StringNotLike: { compare: (p, r) => wildcardMatch(p, r), negated: true },
  ArnEquals: { compare: (p, r) => wildcardMatch(p, r), negated: false },
  ArnLike: { compare: (p, r) => wildcardMatch(p, r), negated: false },
  ArnNotEquals: { compare: (p, r) => wildcardMatch(p, r), negated: true },
  ArnNotLike: { compare: (p, r) => wildcardMatch(p, r), negated: true },
  Bool: { compare: (p, r) => p.toLowerCase() === r.toLowerCase(), negated: false },
  NumericEquals: { compare: (p, r) => Number(p) === Number(r), negated: false },
  NumericNotEquals: { compare: (p, r) => Number(p) === Number(r), negated: true },
  NumericLessThan: { compare: (p, r) => Number(r) < Number(p), negated: false },
  NumericLessThanEquals: { compare: (p, r) => Number(r) <= Number(p), negated: false },
  NumericGreaterThan: { compare: (p, r) => Number(r) > Number(p), negated: false },
  NumericGreaterThanEquals: { compare: (p, r) => Number(r) >= Number(p), negated: false },
};

/** Splits `ForAnyValue:StringLikeIfExists` into its parts; throws on an operator IAM does not have. */
export function parseOperator(operator: string): { set?: "ForAnyValue" | "ForAllValues"; base: string; ifExists: boolean } {
  const m = /^(?:(ForAnyValue|ForAllValues):)?(.+?)(IfExists)?$/.exec(operator);
  const base = m?.[2] ?? operator;
  if (!m || (base !== "Null" && !(base in BASE_OPERATORS))) throw new Error(`unknown condition operator ${operator}`);
  return { set: m[1] as "ForAnyValue" | "ForAllValues" | undefined, base, ifExists: m[3] !== undefined };
}

function conditionMatches(operator: string, key: string, policyValues: readonly string[], context: Readonly<Record<string, ContextValue>>): boolean {
  const { set, base, ifExists } = parseOperator(operator);
  const present = lookup(context, key);
  if (base === "Null") return policyValues.some((v) => (v.toLowerCase() === "true") === (present === undefined));
  if (present === undefined) return ifExists || (set === "ForAllValues") || BASE_OPERATORS[base].negated;
  const { compare, negated } = BASE_OPERATORS[base];
  const one = (r: string) => {
    const hit = policyValues.some((p) => compare(p, r));
    return negated ? !hit : hit;
  };
  const values = list(present);
  if (set === "ForAllValues") return values.every(one);
  if (set === "ForAnyValue") return values.some(one);
  return values.length === 1 && one(values[0]);
}

type Condition = NonNullable<PolicyStatement["Condition"]>;

/** Whether every operator and key of a Condition block holds for the request. */
export function conditionsHold(condition: Condition | undefined, context: Readonly<Record<string, ContextValue>>): boolean {
  if (!condition) return true;
  return Object.entries(condition).every(([operator, keys]) =>
    Object.entries(keys).every(([key, value]) => conditionMatches(operator, key, list(value as string | boolean | readonly string[]).map(String), context)),
  );
}

/** A statement as found in JSON: `NotAction`/`NotResource` included, single values allowed. */
export interface RawStatement {
  readonly Sid?: string;
  readonly Effect: "Allow" | "Deny" | string;
  readonly Action?: string | readonly string[];
  readonly NotAction?: string | readonly string[];
  readonly Resource?: string | readonly string[];
  readonly NotResource?: string | readonly string[];
  readonly Principal?: "*" | Record<string, string | readonly string[]>;
  readonly Condition?: Condition;
}

export interface RawDocument {
  readonly Statement: RawStatement | readonly RawStatement[];
}

export function statementsOf(doc: RawDocument | PolicyDocument): readonly RawStatement[] {
  return list(doc.Statement as RawStatement | readonly RawStatement[]);
}

function actionMatches(s: RawStatement, action: string): boolean {
  if (s.NotAction !== undefined) return !list(s.NotAction).some((a) => wildcardMatch(a, action, true));
  return list(s.Action).some((a) => wildcardMatch(a, action, true));
}

function resourceMatches(s: RawStatement, resource: string): boolean {
  if (s.NotResource !== undefined) return !list(s.NotResource).some((r) => wildcardMatch(r, resource));
  return list(s.Resource).some((r) => wildcardMatch(r, resource));
}

/** Whether a statement applies to the request (principal aside). */
export function statementApplies(s: RawStatement, req: AuthzRequest): boolean {
  return actionMatches(s, req.action) && resourceMatches(s, req.resource) && conditionsHold(s.Condition, req.context ?? {});
}

export type Decision = "allow" | "deny" | "implicit-deny";

/** The decision of a set of identity policies of one principal. */
export function evaluateIdentity(docs: readonly (RawDocument | PolicyDocument)[], req: AuthzRequest): Decision {
  const applicable = docs.flatMap(statementsOf).filter((s) => statementApplies(s, req));
  if (applicable.some((s) => s.Effect === "Deny")) return "deny";
  return applicable.some((s) => s.Effect === "Allow") ? "allow" : "implicit-deny";
}

/** How a resource policy statement's principal covers the caller. */
function principalCovers(s: RawStatement, who: Principal): "direct" | "account" | "no" {
  if (s.Principal === "*") return "direct";
  const aws = list(s.Principal?.AWS);
  if (aws.includes("*")) return "direct";
  if (aws.some((p) => p === who.arn)) return "direct";
  if (aws.some((p) => p === `arn:aws:iam::${who.accountId}:root` || p === who.accountId)) return "account";
  return "no";
}

/**
 * A KMS request by a role of the key's own account: the key policy decides, delegating to IAM
 * where it names the account root.
 */
export function evaluateKms(keyPolicy: RawDocument | PolicyDocument, identity: readonly (RawDocument | PolicyDocument)[], who: Principal, req: AuthzRequest): Decision {
  const context = { "aws:PrincipalArn": who.arn, "kms:CallerAccount": who.accountId, ...(req.context ?? {}) };
  const full = { ...req, context };
  const keyStatements = statementsOf(keyPolicy)
    .map((s) => ({ s, covers: principalCovers(s, who) }))
    .filter(({ s, covers }) => covers !== "no" && statementApplies(s, full));
  const iam = evaluateIdentity(identity, full);
  if (iam === "deny" || keyStatements.some(({ s }) => s.Effect === "Deny")) return "deny";
  const allows = keyStatements.filter(({ s }) => s.Effect === "Allow");
  if (allows.some(({ covers }) => covers === "direct")) return "allow";
  if (allows.some(({ covers }) => covers === "account") && iam === "allow") return "allow";
  return "implicit-deny";
}
