import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import type { Context } from "../../cli/context";
import { COMMAND_NAMES, main, type MainDeps } from "../../cli/main";
import { CliError } from "../../cli/errors";
import { cluster, testContext } from "./helpers";

const ROOT = resolve(__dirname, "../..");
const bitte = (...args: string[]) => spawnSync(process.execPath, [resolve(ROOT, "bin/bitte.js"), ...args], { cwd: ROOT, encoding: "utf8", env: { ...process.env, BITTE_CLUSTER: "" } });

describe("bin/bitte.js", () => {
  test("--help lists every command", () => {
    const r = bitte("--help");
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^bitte: operate a Bitte cluster/);
    for (const name of ["info", "ssh", "rebuild", "tokens", "deploy", "migrate-state", "deployer-policy", "snapshot", "restore"]) expect(r.stdout).toMatch(new RegExp(`^  ${name} `, "m"));
  });

  test.each(["info", "ssh", "rebuild", "tokens", "deploy", "migrate-state", "deployer-policy", "snapshot", "restore"])("%s --help", (name) => {
    const r = bitte(name, "--help");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^Usage: bitte ${name}`));
    expect(r.stdout).toContain("--cluster <name>");
    expect(r.stdout).toContain("Examples:");
  });

  test("an unknown command exits 2 and lists the commands", () => {
    const r = bitte("frobnicate");
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('Unknown command "frobnicate"');
    expect(r.stderr).toContain("Commands: info, ssh, rebuild, tokens, deploy, migrate-state, deployer-policy, snapshot, restore");
  });
});

function deps(over: Partial<MainDeps> & { ctx?: Context } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const loaded: string[] = [];
  const verified: string[] = [];
  const d: MainDeps = {
    context: () => over.ctx ?? testContext(),
    stdout: { write: (t) => void out.push(t) },
    stderr: { write: (t) => void err.push(t) },
    env: {},
    loadCluster: (name) => {
      loaded.push(name);
      if (name !== "example") throw new Error(`Unknown cluster "${name}"`);
      return cluster;
    },
    verifyCredentials: async (_ctx, region) => void verified.push(region),
    ...over,
  };
  return { d, out: () => out.join(""), err: () => err.join(""), loaded, verified };
}

describe("main", () => {
  test("COMMAND_NAMES", () => expect(COMMAND_NAMES).toEqual(["info", "ssh", "rebuild", "tokens", "deploy", "migrate-state", "deployer-policy", "snapshot", "restore"]));

  test("--cluster wins over BITTE_CLUSTER, which wins over example", async () => {
    const a = deps({ env: { BITTE_CLUSTER: "prod" } });
    expect(await main(["rebuild", "--cluster", "example", "--clients", "--dry-run"], a.d)).toBe(0);
    expect(a.loaded).toEqual(["example"]);
    const b = deps({ env: { BITTE_CLUSTER: "prod" } });
    expect(await main(["rebuild", "--clients", "--dry-run"], b.d)).toBe(2);
    expect(b.loaded).toEqual(["prod"]);
    expect(b.err()).toContain('bitte rebuild: Unknown cluster "prod"');
    expect(b.err()).toContain("→ Pass --cluster <name> or set BITTE_CLUSTER");
  });

  test("a dry run needs no credentials; a real command checks them first in the core region", async () => {
    const dry = deps();
    await main(["rebuild", "--clients", "--dry-run"], dry.d);
    expect(dry.verified).toEqual([]);
    const real = deps({ verifyCredentials: async () => Promise.reject(new CliError("sts:GetCallerIdentity in eu-central-1: no AWS credentials found.", "Set AWS_PROFILE")) });
    expect(await main(["info"], real.d)).toBe(1);
    expect(real.err()).toBe("bitte info: sts:GetCallerIdentity in eu-central-1: no AWS credentials found.\n  → Set AWS_PROFILE\n");
  });

  test("ssh: the node before --, the command after it; bad arguments exit 2 before any AWS call", async () => {
    const seen: unknown[] = [];
    const a = deps({ verifyCredentials: async () => void seen.push("verify") });
    expect(await main(["ssh"], a.d)).toBe(2);
    expect(await main(["ssh", "core-1", "uptime"], a.d)).toBe(2);
    expect(a.err()).toContain("put the command after --");
    expect(await main(["ssh", "core-1", "--timeout", "soon", "--", "uptime"], a.d)).toBe(2);
    expect(a.err()).toContain('--timeout takes a positive number of minutes, not "soon"');
    expect(await main(["info", "--", "x"], a.d)).toBe(2);
    expect(seen).toEqual([]);
  });

  test("unknown options exit 2 with the usage", async () => {
    const a = deps();
    expect(await main(["tokens", "--exprot"], a.d)).toBe(2);
    expect(a.err()).toContain("Unknown option '--exprot'");
    expect(a.err()).toContain("Usage: bitte tokens [--export]");
  });

  test("no command prints the help to stderr and exits 2", async () => {
    const a = deps();
    expect(await main([], a.d)).toBe(2);
    expect(a.err()).toContain("Usage: bitte <command>");
  });

  test("results go to stdout, progress and errors to stderr", async () => {
    const ctx = testContext();
    const a = deps({ ctx });
    await main(["rebuild", "--clients", "--dry-run"], a.d);
    expect(ctx.out.join("")).toMatch(/^Rebuild plan for cluster example/);
    expect(a.out()).toBe("");
  });
});
