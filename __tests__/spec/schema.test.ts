import { SPEC_FIELDS } from "../../clusters/spec/fields";
import { applyDefaults, check, closest, type Schema } from "../../clusters/spec/schema";

describe("schema", () => {
  test("closest key: typos and case, but not unrelated words", () => {
    const known = Object.keys(SPEC_FIELDS.fields);
    expect(closest("adminCidr", known)).toBe("adminCidrs");
    expect(closest("clientgroups", known)).toBe("clientGroups");
    expect(closest("coreZone", known)).toBe("coreZones");
    expect(closest("banana", known)).toBeUndefined();
  });

  test("defaults are filled without touching the input", () => {
    const input = { name: "x", clientGroups: [{ name: "g" }] };
    const frozen = JSON.stringify(input);
    const out = applyDefaults(SPEC_FIELDS, input) as Record<string, unknown>;
    expect(JSON.stringify(input)).toBe(frozen);
    expect(out).toMatchObject({ nat: "per-az", core: { instanceType: "m6i.large", rootVolumeGb: 30, dataVolumeGb: 50 }, routing: { instanceType: "t3.small" }, clientGroups: [{ rootVolumeGb: 40, dataVolumeGb: 100 }] });
    expect(out.routing).not.toHaveProperty("dataVolumeGb");
  });

  test("paths of keys that are not identifiers are quoted", () => {
    const s: Schema = { kind: "map", keyName: "k", key: { kind: "string" }, of: { kind: "int", min: 0 } };
    const seen: string[] = [];
    check(s, { "a b": -1, ok: 1 }, "m", (field) => seen.push(field));
    expect(seen).toEqual(['m["a b"]']);
  });
});
