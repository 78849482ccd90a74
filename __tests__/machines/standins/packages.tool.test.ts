/**
 * The stand-in package trees build with dpkg-deb into packages apt can install side by side: the
 * version the spec pins, executable maintainer scripts that parse, no file owned by two packages,
 * and the vendor's unit and program paths.
 */
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describeWithTools, run } from "../../harness/tools";
import { tempDir } from "./harness";
import { STANDIN_PACKAGES, writePackageTrees } from "./packages";

const VERSIONS = { consul: "1.21.4-1", nomad: "1.10.5-1", vault: "1.20.4-1", grafana: "12.2.1", loki: "3.5.7", promtail: "3.5.7" } as const;

/** What each vendor package ships at these paths (see README.md's table and the cited scripts). */
const EXPECTED_PATHS: Readonly<Record<(typeof STANDIN_PACKAGES)[number], readonly string[]>> = {
  consul: ["./usr/bin/consul", "./usr/lib/systemd/system/consul.service", "./etc/consul.d/consul.hcl"],
  nomad: ["./usr/bin/nomad", "./usr/lib/systemd/system/nomad.service", "./etc/nomad.d/nomad.hcl"],
  vault: ["./usr/bin/vault", "./usr/lib/systemd/system/vault.service", "./etc/vault.d/vault.hcl", "./etc/vault.d/vault.env"],
  grafana: ["./usr/share/grafana/bin/grafana", "./usr/sbin/grafana-server", "./usr/lib/systemd/system/grafana-server.service", "./etc/default/grafana-server"],
  loki: ["./usr/local/bin/loki", "./etc/systemd/system/loki.service", "./etc/loki/config.yml"],
  promtail: ["./usr/local/bin/promtail", "./etc/systemd/system/promtail.service", "./etc/promtail/config.yml"],
};

describeWithTools(["dpkg-deb", "bash"], "stand-in vendor packages", () => {
  let dir: string;
  const files = new Map<string, string[]>();
  beforeAll(() => {
    dir = tempDir("standins-packages-");
    for (const p of writePackageTrees(join(dir, "trees"), VERSIONS)) {
      const b = run("dpkg-deb", ["--root-owner-group", "--build", p.root, join(dir, `${p.name}.deb`)]);
      if (b.status !== 0) throw new Error(`dpkg-deb ${p.name}: ${b.stderr}`);
      const c = run("dpkg-deb", ["--contents", join(dir, `${p.name}.deb`)]);
      files.set(p.name, c.stdout.trim().split("\n").map((l) => l.split(/\s+/).slice(5).join(" ")));
    }
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test.each(STANDIN_PACKAGES.map((n) => [n]))("%s: the pinned version and the vendor's paths", (name) => {
    expect(run("dpkg-deb", ["--field", join(dir, `${name}.deb`), "Package", "Version", "Architecture"]).stdout.trim().split("\n")).toEqual([`Package: ${name}`, `Version: ${VERSIONS[name]}`, "Architecture: amd64"]);
    const paths = (files.get(name) ?? []).map((p) => p.replace(/ -> .*$/, ""));
    for (const p of EXPECTED_PATHS[name]) expect(paths).toContain(p);
  });

  test("maintainer scripts are executable and parse", () => {
    for (const name of STANDIN_PACKAGES) {
      const debian = join(dir, "trees", name, "DEBIAN");
      for (const script of readdirSync(debian).filter((f) => /^(pre|post)(inst|rm)$/.test(f))) {
        const path = join(debian, script);
        expect(run("test", ["-x", path]).status).toBe(0);
        const shell = run("head", ["-1", path]).stdout.includes("bash") ? "bash" : "sh";
        const r = run(shell, ["-n", path]);
        expect({ script: `${name}/${script}`, stderr: r.stderr }).toEqual({ script: `${name}/${script}`, stderr: "" });
      }
    }
  });

  test("no two packages own the same file, so a node installs them together", () => {
    const owner = new Map<string, string>();
    const clashes: string[] = [];
    for (const [name, list] of files) {
      for (const p of list.filter((x) => !x.endsWith("/"))) {
        const prev = owner.get(p);
        if (prev) clashes.push(`${p}: ${prev} and ${name}`);
        owner.set(p, name);
      }
    }
    expect(clashes).toEqual([]);
  });

  test("a version that is not a Debian version is refused with the field named", () => {
    expect(() => writePackageTrees(join(dir, "bad"), { ...VERSIONS, vault: "v1.20" })).toThrow(/versions\.vault is "v1\.20", not a Debian version/);
  });
});
