/**
 * The machine image cache: an entry appears only complete (built in tmp-*, renamed), a builder
 * killed mid-way leaves nothing the next run trusts, and a dead holder's lock is taken over.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cached } from "./harness/image";

describe("machine image cache", () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "bitte-cache-test-"));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  test("builds once into tmp-*, renames into place, and reuses a complete entry", () => {
    let builds = 0;
    const make = (tmp: string) => {
      builds++;
      expect(tmp).toMatch(/\/tmp-\d+-/);
      writeFileSync(join(tmp, "payload"), "x");
    };
    const dir = cached(root, "k1", () => undefined, make);
    expect(readFileSync(join(dir, "payload"), "utf8")).toBe("x");
    expect(cached(root, "k1", () => undefined, make)).toBe(dir);
    expect(builds).toBe(1);
    expect(readdirSync(root).sort()).toEqual(["k1"]);
  });

  test("an entry without its completion mark is rebuilt, and a killed builder's tmp dir is removed", () => {
    mkdirSync(join(root, "k2"));
    writeFileSync(join(root, "k2", "half-written"), "");
    mkdirSync(join(root, "tmp-999999-k2"));
    const dir = cached(root, "k2", () => undefined, (tmp) => writeFileSync(join(tmp, "payload"), "y"));
    expect(existsSync(join(dir, "half-written"))).toBe(false);
    expect(existsSync(join(root, "tmp-999999-k2"))).toBe(false);
  });

  test("a lock held by a dead process is taken over; a build that throws leaves no entry", () => {
    // pid 2^22+1 is above Linux's pid_max default range: no such process.
    writeFileSync(join(root, ".lock"), String(4194305));
    expect(() => cached(root, "k3", () => undefined, () => {
      throw new Error("debootstrap failed");
    })).toThrow("debootstrap failed");
    expect(existsSync(join(root, "k3"))).toBe(false);
    expect(existsSync(join(root, ".lock"))).toBe(false);
  });
});
