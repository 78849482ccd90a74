/**
 * Defect 1 (issue 11): every program the node scripts call is installed by the role's user data,
 * declared in one place (packages.ts). The tool tier runs the scripts with exactly `rolePrograms`
 * as PATH; this checks that what `rolePrograms` claims is really in the user data.
 */
import { parse } from "yaml";
import { NODE_ROLES, PATHS, rolePrograms } from "../../constructs/node-config";
import { SHIPPED_PROGRAMS } from "../../constructs/node-config/packages";
import { cluster, renderUserData } from "./render-helpers";

const propsOf = (role: (typeof NODE_ROLES)[number]) => ({ cluster, role, ...(role === "core" ? { nodeName: "core-1" } : {}) });

describe.each(NODE_ROLES)("%s node", (role) => {
  const doc = parse(renderUserData(propsOf(role))) as { packages: string[]; write_files: { path: string; permissions: string; content: string }[] };

  test("installs the AWS client the scripts call, which needs no AWS library", () => {
    expect(rolePrograms(cluster, role)).toContain("bitte-aws");
    expect(doc.packages.filter((p) => /boto/.test(p))).toEqual([]);
    const client = doc.write_files.find((f) => f.path === PATHS.awsClient);
    expect(client?.permissions).toBe("0755");
    expect(client?.content.split("\n")[0]).toBe("#!/usr/bin/python3");
    // There is no awscli package on Ubuntu 24.04: nothing may depend on one.
    expect(doc.packages.some((p) => /^awscli\b/.test(p))).toBe(false);
  });

  test("no shipped script calls the AWS CLI: Ubuntu 24.04 has none, the nodes have bitte-aws", () => {
    // Quoted text (log messages telling an operator what to run) and comments are not calls.
    const calls = (script: string) =>
      script
        .split("\n")
        .map((l) => l.replace(/"(?:[^"\\]|\\.)*"|'[^']*'/g, '""').replace(/(^|\s)#.*$/, ""))
        .filter((l) => /(^|[\s;&|(`])aws\s/.test(l));
    const scripts = doc.write_files.filter((f) => /^#!.*\b(bash|sh)\b/.test(f.content.split("\n")[0]));
    expect(scripts.length).toBeGreaterThan(0);
    for (const f of scripts) expect({ path: f.path, calls: calls(f.content) }).toEqual({ path: f.path, calls: [] });
  });

  test("every program it ships is in its write_files, executable", () => {
    for (const path of Object.values(SHIPPED_PROGRAMS)) expect(doc.write_files.find((f) => f.path === path)?.permissions).toBe("0755");
  });
});
