/**
 * `bitte deploy`: synthesizes into the cluster's own output directory, then deploys one stack at a
 * time in the order of the manifest cdktf wrote (here written by the real app code, as `cdktf
 * synth` would), with BITTE_CLUSTER = the cluster's file name.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DeleteParameterCommand, GetParametersCommand, SSMClient } from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import { App } from "cdktf";
import { deploy, deploySummary, TOKEN_WAIT } from "../../cli/commands/deploy";
import type { Http } from "../../cli/context";
import { CliError } from "../../cli/errors";
import { main, type MainDeps } from "../../cli/main";
import { defineCluster, type Cluster } from "../../clusters/spec";
import { addStacks } from "../../stacks";
import { s3Spec } from "../fixtures/s3-cluster";
import { cluster, regionalClients, testContext, type RunCall } from "./helpers";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function project(): string {
  const d = mkdtempSync(join(tmpdir(), "bitte-deploy-"));
  dirs.push(d);
  return d;
}

/** A runner that answers `cdktf synth --output <dir>` by synthesizing `c` there (what the app does), and anything else with `code`. */
function runner(c: Cluster, projectDir: string, code: (call: RunCall) => number = () => 0) {
  return (call: RunCall) => {
    if (call.args[1] === "synth") {
      const app = new App({ outdir: join(projectDir, call.args[call.args.indexOf("--output") + 1]), stackTraces: false });
      addStacks(app, c, { jobs: [] });
      app.synth();
      return { code: 0, stdout: "", stderr: "" };
    }
    return { code: code(call), stdout: "", stderr: "" };
  };
}
const line = (c: RunCall) => [c.command, ...c.args].join(" ");
const deployFlags = (dir: string) => `--output ${dir} --skip-synth --ignore-missing-stack-dependencies`;
const tokens = { CONSUL_HTTP_TOKEN: "c", NOMAD_TOKEN: "n", VAULT_TOKEN: "v" };
const prod = defineCluster(s3Spec);

test("local backend: synth, then network, core, consul, clients, jobs one at a time (ties in manifest order), then a summary", async () => {
  const dir = project();
  const ctx = testContext({ projectDir: dir, env: { ...tokens, PATH: "/bin" }, run: runner(cluster, dir) });
  expect(await deploy(ctx, cluster, { stacks: [], autoApprove: true })).toBe(0);
  expect(ctx.calls.map(line)).toEqual([
    "npx cdktf synth --output cdktf.out",
    ...["network", "core", "consul", "clients", "jobs"].map((s) => `npx cdktf deploy ${s} ${deployFlags("cdktf.out")} --auto-approve`),
  ]);
  expect(ctx.calls[1].options).toMatchObject({ cwd: dir, stdio: "inherit", env: { BITTE_CLUSTER: "example", PATH: "/bin" } });
  expect(ctx.progress.events.at(-1)).toBe("info: " + deploySummary(["network", "core", "consul", "clients", "jobs"].map((stack) => ({ stack, status: "deployed", seconds: 0, exitCode: 0 }))));
});

test("S3 backend: the state stack first, in the cluster's own output directory, BITTE_CLUSTER = the file name", async () => {
  const dir = project();
  const ctx = testContext({ projectDir: dir, env: tokens, run: runner(prod, dir) });
  await deploy(ctx, prod, { stacks: [], autoApprove: false, clusterFile: "production" });
  expect(ctx.calls.map(line)).toEqual([
    "npx cdktf synth --output cdktf.out-prod",
    ...["state", "network", "core", "consul", "clients", "jobs"].map((s) => `npx cdktf deploy ${s} ${deployFlags("cdktf.out-prod")}`),
  ]);
  for (const c of ctx.calls) expect(c.options.env?.BITTE_CLUSTER).toBe("production");
});

test("`bitte deploy state` runs the state stack of an S3 cluster; a local cluster has none and says so", async () => {
  const dir = project();
  const ctx = testContext({ projectDir: dir, env: tokens, run: runner(prod, dir) });
  await deploy(ctx, prod, { stacks: ["state"], autoApprove: false });
  expect(ctx.calls.map((c) => c.args.slice(0, 3).join(" "))).toEqual(["cdktf synth --output", "cdktf deploy state"]);

  const local = project();
  const err = (await deploy(testContext({ projectDir: local, run: runner(cluster, local) }), cluster, { stacks: ["state"], autoApprove: false }).catch((e) => e)) as CliError;
  expect(err.message).toBe("Unknown stack state. Cluster example keeps local state, so it has no state stack.");
  expect(err.hint).toBe("Stacks of cluster example, in deploy order: network, core, consul, clients, jobs.");
});

test("named stacks run in manifest order whatever order they are given in", async () => {
  const dir = project();
  const ctx = testContext({ projectDir: dir, env: tokens, run: runner(prod, dir) });
  await deploy(ctx, prod, { stacks: ["jobs", "core", "state"], autoApprove: false });
  expect(ctx.calls.slice(1).map((c) => c.args[2])).toEqual(["state", "core", "jobs"]);
});

test("stops at the first failing stack and says how to continue", async () => {
  const dir = project();
  const ctx = testContext({ projectDir: dir, run: runner(cluster, dir, (c) => (c.args[2] === "core" ? 1 : 0)) });
  const err = (await deploy(ctx, cluster, { stacks: [], autoApprove: false }).catch((e) => e)) as CliError;
  expect(err.message).toBe("cdktf deploy core failed (exit 1).");
  expect(err.hint).toContain("bitte deploy --cluster example core consul clients jobs");
  expect(ctx.calls).toHaveLength(3);
  const summary = ctx.progress.events.at(-1)!;
  expect(summary).toMatch(/network\s+deployed/);
  expect(summary).toMatch(/core\s+failed \(0s\), exit 1/);
  expect(summary).toMatch(/jobs\s+not started/);
});

test("a failed synth deploys nothing", async () => {
  const ctx = testContext({ projectDir: project(), run: () => ({ code: 1, stdout: "", stderr: "" }) });
  await expect(deploy(ctx, cluster, { stacks: [], autoApprove: false })).rejects.toThrow("cdktf synth failed (exit 1).");
  expect(ctx.calls).toHaveLength(1);
});

/**
 * Vault's token store as `revoke-self` sees it (vault/token_store.go handleRevokeSelf: 204 No
 * Content; a token it does not know is refused before the handler with 403 "permission denied").
 */
function vaultTokens(live: string[], status?: number) {
  const tokens = new Set(live);
  const calls: { url: string; method?: string; token?: string }[] = [];
  const http: Http = async (url, init) => {
    calls.push({ url, method: init.method, token: init.headers["X-Vault-Token"] });
    const reply = (code: number, body?: unknown) => ({ status: code, json: async () => (body === undefined ? Promise.reject(new SyntaxError("Unexpected end of JSON input")) : body) });
    if (status) return reply(status, { errors: ["local node not active but active cluster node not found"] });
    if (!url.endsWith("/v1/auth/token/revoke-self") || init.method !== "POST") return reply(405, { errors: ["unsupported operation"] });
    const token = init.headers["X-Vault-Token"] ?? "";
    if (!tokens.has(token)) return reply(403, { errors: ["permission denied"] });
    tokens.delete(token);
    return reply(204);
  };
  return { http, calls, tokens };
}

const STORED = [
  { Name: "/bitte/example/consul/management-token", Value: "C" },
  { Name: "/bitte/example/nomad/management-token", Value: "N" },
  { Name: "/bitte/example/vault/root-token", Value: "V" },
  { Name: "/bitte/example/vault/initialized", Value: "core-1" },
];

/** SSM holding `stored`: GetParameters answers the names asked for, DeleteParameter removes one. */
function ssmHolding(stored: { Name: string; Value: string }[]) {
  const aws = regionalClients();
  const params = new Map(stored.map((p) => [p.Name, p.Value]));
  const ssm = mockClient(aws.ssm("eu-central-1") as SSMClient);
  ssm.on(GetParametersCommand).callsFake((input: { Names: string[] }) => ({
    Parameters: input.Names.filter((n) => params.has(n)).map((Name) => ({ Name, Value: params.get(Name) })),
    InvalidParameters: input.Names.filter((n) => !params.has(n)),
  }));
  ssm.on(DeleteParameterCommand).callsFake((input: { Name: string }) => {
    if (!params.delete(input.Name)) throw Object.assign(new Error("ParameterNotFound"), { name: "ParameterNotFound" });
    return {};
  });
  return { aws, ssm, params };
}

describe("tokens from SSM, and Vault's root token retired after the consul stack", () => {
  test("reads the missing tokens before the consul stack, passes them on, then revokes the root token and deletes its parameter before jobs", async () => {
    const { aws, ssm, params } = ssmHolding(STORED);
    const vault = vaultTokens(["V"]);
    const dir = project();
    const ctx = testContext({ aws, http: vault.http, projectDir: dir, run: runner(cluster, dir) });
    expect(await deploy(ctx, cluster, { stacks: ["consul", "jobs"], autoApprove: true })).toBe(0);
    expect(ctx.calls.slice(1).map((c) => c.args[2])).toEqual(["consul", "jobs"]);
    expect(ctx.calls[1].options.env).toMatchObject({ CONSUL_HTTP_TOKEN: "C", NOMAD_TOKEN: "N", VAULT_TOKEN: "V" });
    expect(vault.calls).toEqual([{ url: "https://vault.example.bitte.dev/v1/auth/token/revoke-self", method: "POST", token: "V" }]);
    expect(vault.tokens.has("V")).toBe(false);
    expect(ssm.commandCalls(DeleteParameterCommand).map((c) => c.args[0].input)).toEqual([{ Name: "/bitte/example/vault/root-token" }]);
    expect(params.has("/bitte/example/vault/root-token")).toBe(false);
    // The jobs stack has only the nomad provider: it gets no Vault token, dead or alive.
    expect(ctx.calls[2].options.env).toMatchObject({ NOMAD_TOKEN: "N" });
    expect(ctx.calls[2].options.env).not.toHaveProperty("VAULT_TOKEN");
    expect(ctx.progress.events).toContain("info: Vault's root token is revoked and /bitte/example/vault/root-token deleted. Later deploys of consul take VAULT_TOKEN from you (README, security).");
  });

  test("after deploying core, waits (bounded) for the core nodes to store the tokens; without core in the run, does not wait", async () => {
    const { aws, params } = ssmHolding([]);
    const vault = vaultTokens(["V"]);
    const dir = project();
    const ctx = testContext({ aws, http: vault.http, projectDir: dir, run: runner(cluster, dir) });
    let polls = 0;
    const sleep = ctx.sleep;
    const waiting = { ...ctx, sleep: async (ms: number) => {
      polls++;
      if (polls === 3) STORED.forEach((p) => params.set(p.Name, p.Value)); // the first boot finished
      await sleep(ms);
    } };
    expect(await deploy(waiting, cluster, { stacks: ["core", "consul"], autoApprove: true })).toBe(0);
    expect(polls).toBe(3);
    expect(ctx.calls.slice(1).map((c) => c.args[2])).toEqual(["core", "consul"]);
    expect(ctx.progress.events.filter((e) => e.startsWith("info: The core nodes are still bootstrapping"))).toHaveLength(3);

    const alone = ssmHolding([]);
    const ctx2 = testContext({ aws: alone.aws, projectDir: dir, run: runner(cluster, dir) });
    await expect(deploy(ctx2, cluster, { stacks: ["consul"], autoApprove: true })).rejects.toThrow(/^The consul stack needs the bootstrap tokens\. Not in SSM Parameter Store/);
    expect(ctx2.progress.events.some((e) => e.includes("still bootstrapping"))).toBe(false);
  });

  test("the wait for the tokens ends at its bound with what to check", async () => {
    const { aws } = ssmHolding([]);
    const dir = project();
    const ctx = testContext({ aws, projectDir: dir, run: runner(cluster, dir) });
    const err = (await deploy(ctx, cluster, { stacks: ["core", "consul"], autoApprove: true }).catch((e) => e)) as CliError;
    expect(err.message).toMatch(/^The consul stack needs the bootstrap tokens\. Not in SSM Parameter Store/);
    expect(err.hint).toMatch(/journalctl.*Then continue with `bitte deploy --cluster example consul`\.$/);
    const waits = ctx.progress.events.filter((e) => e.startsWith("info: The core nodes are still bootstrapping")).length;
    expect(waits).toBe(TOKEN_WAIT.timeoutMs / TOKEN_WAIT.intervalMs);
  });

  test("the next deploy of the consul stack needs a Vault token from the operator, and says how to get one", async () => {
    const { aws } = ssmHolding(STORED.filter((p) => !p.Name.endsWith("root-token")));
    const dir = project();
    const ctx = testContext({ aws, projectDir: dir, run: runner(cluster, dir) });
    const err = (await deploy(ctx, cluster, { stacks: ["consul"], autoApprove: true }).catch((e) => e)) as CliError;
    expect(err.message).toMatch(/^The consul stack needs the bootstrap tokens\. Vault's root token is no longer in SSM/);
    expect(err.hint).toMatch(/vault operator generate-root.*Then continue with `bitte deploy --cluster example consul`\.$/);
    expect(ctx.calls).toHaveLength(1); // synth only
  });

  test("a Vault token the operator brought is theirs: nothing is revoked or deleted", async () => {
    const { aws, ssm } = ssmHolding(STORED);
    const vault = vaultTokens(["V", "ops"]);
    const dir = project();
    const ctx = testContext({ aws, http: vault.http, env: { VAULT_TOKEN: "ops" }, projectDir: dir, run: runner(cluster, dir) });
    expect(await deploy(ctx, cluster, { stacks: ["consul"], autoApprove: true })).toBe(0);
    expect(ctx.calls[1].options.env).toMatchObject({ CONSUL_HTTP_TOKEN: "C", NOMAD_TOKEN: "N", VAULT_TOKEN: "ops" });
    expect(vault.calls).toEqual([]);
    expect(ssm.commandCalls(DeleteParameterCommand)).toHaveLength(0);
    // Only the tokens not in the environment were asked for.
    expect(ssm.commandCalls(GetParametersCommand)[0].args[0].input.Names).toEqual(["/bitte/example/consul/management-token", "/bitte/example/nomad/management-token"]);
  });

  test("--keep-root-token keeps it; a failed consul deploy keeps it", async () => {
    for (const [options, code] of [[{ keepRootToken: true }, 0], [{}, 1]] as const) {
      const { aws, ssm } = ssmHolding(STORED);
      const vault = vaultTokens(["V"]);
      const dir = project();
      const ctx = testContext({ aws, http: vault.http, projectDir: dir, run: runner(cluster, dir, () => code) });
      await deploy(ctx, cluster, { stacks: ["consul"], autoApprove: true, ...options }).catch(() => undefined);
      expect(vault.calls).toEqual([]);
      expect(ssm.commandCalls(DeleteParameterCommand)).toHaveLength(0);
    }
  });

  test("through main: --keep-root-token reaches deploy", async () => {
    const { aws, ssm } = ssmHolding(STORED);
    const vault = vaultTokens(["V"]);
    const dir = project();
    const ctx = testContext({ aws, http: vault.http, projectDir: dir, run: runner(cluster, dir) });
    const d: MainDeps = { context: () => ctx, stdout: { write: () => undefined }, stderr: { write: () => undefined }, env: {}, loadCluster: () => cluster, verifyCredentials: async () => undefined };
    expect(await main(["deploy", "--keep-root-token", "--auto-approve", "consul"], d)).toBe(0);
    expect(vault.calls).toEqual([]);
    expect(ssm.commandCalls(DeleteParameterCommand)).toHaveLength(0);
  });

  test("Vault refusing the revocation keeps the parameter and says how to finish by hand", async () => {
    const { aws, ssm } = ssmHolding(STORED);
    const vault = vaultTokens(["V"], 500);
    const dir = project();
    const ctx = testContext({ aws, http: vault.http, projectDir: dir, run: runner(cluster, dir) });
    const err = (await deploy(ctx, cluster, { stacks: ["consul"], autoApprove: true }).catch((e) => e)) as CliError;
    expect(err.message).toBe("Vault refused to revoke its root token (HTTP 500: local node not active but active cluster node not found). It stays in /bitte/example/vault/root-token.");
    expect(err.hint).toMatch(/vault token revoke -self.*aws ssm delete-parameter --region eu-central-1 --name \/bitte\/example\/vault\/root-token/);
    expect(ssm.commandCalls(DeleteParameterCommand)).toHaveLength(0);
    expect(ctx.progress.events.at(-1)).toMatch(/consul +deployed/);
  });

  test("a root token Vault no longer knows (revoked by hand) is only deleted; a parameter already gone is fine", async () => {
    const { aws, params } = ssmHolding(STORED);
    const vault = vaultTokens([]);
    const dir = project();
    const ctx = testContext({ aws, http: vault.http, projectDir: dir, run: runner(cluster, dir) });
    expect(await deploy(ctx, cluster, { stacks: ["consul"], autoApprove: true })).toBe(0);
    expect(params.has("/bitte/example/vault/root-token")).toBe(false);
    expect(ctx.progress.events).toContain("info: Vault's root token was already invalid and /bitte/example/vault/root-token deleted. Later deploys of consul take VAULT_TOKEN from you (README, security).");
  });
});

test("an unknown stack is refused with the cluster's stacks", async () => {
  const dir = project();
  await expect(deploy(testContext({ projectDir: dir, run: runner(cluster, dir) }), cluster, { stacks: ["dns"], autoApprove: false })).rejects.toThrow("Unknown stack dns.");
});

test("through main: clusters/staging.ts with name \"stg\" deploys with BITTE_CLUSTER=staging", async () => {
  const stg = defineCluster({ ...s3Spec, name: "stg", domain: "stg.example.com", backend: { type: "local" } });
  const dir = project();
  const ctx = testContext({ projectDir: dir, env: tokens, run: runner(stg, dir) });
  const err: string[] = [];
  const d: MainDeps = {
    context: () => ctx,
    stdout: { write: () => undefined },
    stderr: { write: (t) => void err.push(t) },
    env: {},
    loadCluster: (name) => {
      if (name !== "staging") throw new Error(`Unknown cluster "${name}"`);
      return stg;
    },
    verifyCredentials: async () => undefined,
  };
  expect({ code: await main(["deploy", "--cluster", "staging", "network"], d), err: err.join("") }).toEqual({ code: 0, err: "" });
  expect(ctx.calls.map(line)).toEqual(["npx cdktf synth --output cdktf.out-stg", `npx cdktf deploy network ${deployFlags("cdktf.out-stg")}`]);
  expect(ctx.calls.map((c) => c.options.env?.BITTE_CLUSTER)).toEqual(["staging", "staging"]);
});
