import { readFileSync } from "node:fs";
import { join } from "node:path";
import { specReference } from "../../clusters/spec/readme";
import { SPEC_FIELDS } from "../../clusters/spec/fields";
import { fieldRows } from "../../clusters/spec/schema";

const readme = readFileSync(join(__dirname, "..", "..", "README.md"), "utf8");

describe("README spec reference", () => {
  test("is the one generated from clusters/spec/fields.ts (run npm run spec:readme)", () => {
    expect(readme).toContain(specReference());
  });

  test("lists every field with its default and bounds", () => {
    const rows = fieldRows(SPEC_FIELDS);
    for (const path of ["`name`", "`clientGroups[].maxInstanceLifetimeDays`", "`backend.keyPrefix (type: s3)`", "`tags`", "`arm64Image.rootSnapshotGb (type: name)`"]) {
      expect(rows.map((r) => r[0])).toContain(path);
    }
    const lifetime = rows.find((r) => r[0] === "`clientGroups[].maxInstanceLifetimeDays`") as string[];
    expect(lifetime[3]).toBe("1–365; Auto Scaling: 1–365 days");
    expect(rows.find((r) => r[0] === "`nat`")?.[2]).toBe('`"per-az"`');
  });
});
