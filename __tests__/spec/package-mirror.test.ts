import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { ClusterSpecError, defineCluster, type ClusterSpec } from "../../clusters/spec";
import { renderUserData } from "../../constructs/node-config";
import { testClusterSpec } from "../harness/specs";

/** A real armored public key (test-only, made with `gpg --quick-gen-key`); nothing secret. */
const KEY = readFileSync(join(__dirname, "../fixtures/mirror-signing-key.asc"), "utf8");

const base: ClusterSpec = testClusterSpec("demo");

function problems(packageMirror: unknown): { field: string; value: unknown; problem: string; fix: string }[] {
  try {
    defineCluster({ ...base, packageMirror } as ClusterSpec);
  } catch (e) {
    expect(e).toBeInstanceOf(ClusterSpecError);
    return [...(e as ClusterSpecError).problems];
  }
  return [];
}

describe("packageMirror", () => {
  test("is optional: without it the vendors' repositories are used by key id", () => {
    const doc = parse(renderUserData({ cluster: defineCluster(base), role: "routing" }));
    expect(doc.apt.primary).toBeUndefined();
    expect(doc.apt.sources["hashicorp.list"].source).toContain("https://apt.releases.hashicorp.com");
    expect(doc.apt.sources["hashicorp.list"].keyid).toBe("798AEC654E5C15428C8E42EEAA16FCBCA621E701");
  });

  test("renders each mirror with its inline key, and os as primary and security archive", () => {
    const cluster = defineCluster({ ...base, packageMirror: { hashicorp: "http://10.9.0.1/hashicorp/", grafana: "http://10.9.0.1/grafana", os: "http://10.9.0.1/debian", signingKey: KEY } });
    for (const role of ["core", "client", "monitoring", "routing"] as const) {
      const doc = parse(renderUserData({ cluster, role, ...(role === "core" ? { nodeName: "core-1" } : {}) }));
      expect(doc.apt.sources["hashicorp.list"]).toEqual({ source: "deb [signed-by=$KEY_FILE] http://10.9.0.1/hashicorp $RELEASE main", key: KEY.trim() + "\n" });
      expect(doc.apt.sources["grafana.list"]).toEqual({ source: "deb [signed-by=$KEY_FILE] http://10.9.0.1/grafana stable main", key: KEY.trim() + "\n" });
      expect(doc.apt.primary).toEqual([{ arches: ["default"], uri: "http://10.9.0.1/debian", key: KEY.trim() + "\n" }]);
      expect(doc.apt.security).toEqual(doc.apt.primary);
      // No key server is asked when every repository is mirrored: an air-gapped node reaches none.
      expect(JSON.stringify(doc.apt)).not.toContain("keyserver");
    }
  });

  test("mirrors only what is set", () => {
    const doc = parse(renderUserData({ cluster: defineCluster({ ...base, packageMirror: { hashicorp: "https://m.example.com/hc", signingKey: KEY } }), role: "routing" }));
    expect(doc.apt.sources["hashicorp.list"].source).toBe("deb [signed-by=$KEY_FILE] https://m.example.com/hc $RELEASE main");
    expect(doc.apt.sources["grafana.list"].keyid).toBe("B53AE77BADB630A683046005963FA27710458545");
    expect(doc.apt.primary).toBeUndefined();
  });

  test.each([
    ["an ftp URL", { hashicorp: "ftp://m.example.com/hc", signingKey: KEY }, "packageMirror.hashicorp", /not http or https/],
    ["a string that is no URL", { grafana: "not a url", signingKey: KEY }, "packageMirror.grafana", /not a URL/],
    ["a URL with credentials", { os: "https://user:pw@m.example.com/ubuntu", signingKey: KEY }, "packageMirror.os", /credentials/],
    ["a mirror without a key", { hashicorp: "https://m.example.com/hc" }, "packageMirror.signingKey", /required when a mirror is set \(hashicorp\)/],
    ["a key id instead of a key", { hashicorp: "https://m.example.com/hc", signingKey: "798AEC654E5C15428C8E42EEAA16FCBCA621E701" }, "packageMirror.signingKey", /not an ASCII-armored OpenPGP public key block/],
    ["a private key block", { hashicorp: "https://m.example.com/hc", signingKey: KEY.replaceAll("PUBLIC", "PRIVATE") }, "packageMirror.signingKey", /not an ASCII-armored OpenPGP public key block/],
    ["a key without a mirror", { signingKey: KEY }, "packageMirror", /without a mirror URL/],
    ["an unknown setting", { hashicorp: "https://m.example.com/hc", signingKey: KEY, docker: "https://x" }, "packageMirror.docker", /unknown key/],
  ])("refuses %s", (_label, mirror, field, why) => {
    const found = problems(mirror).find((p) => p.field === field);
    expect(found).toBeDefined();
    expect(found?.problem).toMatch(why);
    expect(found?.fix.length).toBeGreaterThan(10);
  });
});
