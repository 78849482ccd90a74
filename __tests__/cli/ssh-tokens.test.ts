import { DescribeInstancesCommand, EC2Client } from "@aws-sdk/client-ec2";
import { GetCommandInvocationCommand, GetParametersCommand, SendCommandCommand, SSMClient } from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import { ssh } from "../../cli/commands/ssh";
import { exportLines, readTokens, shellQuote, tokenTable, tokens, tokenParameterNames } from "../../cli/commands/tokens";
import { CliError } from "../../cli/errors";
import { cluster, regionalClients, testContext } from "./helpers";

function withNodes() {
  const aws = regionalClients();
  const tags = (t: Record<string, string>) => Object.entries({ Cluster: "example", ...t }).map(([Key, Value]) => ({ Key, Value }));
  mockClient(aws.ec2("eu-central-1") as EC2Client)
    .on(DescribeInstancesCommand)
    .resolves({
      Reservations: [
        {
          Instances: [
            { InstanceId: "i-0000000000000c002", PrivateIpAddress: "10.20.32.10", Placement: { AvailabilityZone: "eu-central-1b" }, State: { Name: "running" }, Tags: tags({ Name: "core-2", Role: "core" }) },
            { InstanceId: "i-0000000000000c001", PrivateIpAddress: "10.20.0.10", Placement: { AvailabilityZone: "eu-central-1a" }, State: { Name: "stopped" }, Tags: tags({ Name: "core-1", Role: "core" }) },
          ],
        },
      ],
    });
  mockClient(aws.ec2("us-east-2") as EC2Client).on(DescribeInstancesCommand).resolves({});
  return aws;
}

describe("bitte ssh", () => {
  test("without a command, hands the terminal to `aws ssm start-session` for the resolved instance", async () => {
    const ctx = testContext({ aws: withNodes(), run: () => ({ code: 0, stdout: "", stderr: "" }) });
    expect(await ssh(ctx, cluster, { target: "10.20.32.10", command: [], timeoutMinutes: 10 })).toBe(0);
    expect(ctx.calls).toEqual([{ command: "aws", args: ["ssm", "start-session", "--target", "i-0000000000000c002", "--region", "eu-central-1"], options: { stdio: "inherit" } }]);
  });

  test("a missing AWS CLI says what to install", async () => {
    const ctx = testContext({
      aws: withNodes(),
      run: () => {
        throw Object.assign(new Error("spawn aws ENOENT"), { code: "ENOENT" });
      },
    });
    const err = (await ssh(ctx, cluster, { target: "core-2", command: [], timeoutMinutes: 10 }).catch((e) => e)) as CliError;
    expect(err.message).toMatch(/AWS CLI/);
    expect(err.hint).toMatch(/session-manager-plugin/);
  });

  test("a stopped node is refused before anything runs", async () => {
    const ctx = testContext({ aws: withNodes() });
    await expect(ssh(ctx, cluster, { target: "core-1", command: ["uptime"], timeoutMinutes: 10 })).rejects.toThrow(/core-1 \(i-0000000000000c001\) is stopped/);
    expect(ctx.calls).toEqual([]);
  });

  test("with a command, runs it through Run Command, prints its output and returns its exit code", async () => {
    const aws = withNodes();
    const ssm = mockClient(aws.ssm("eu-central-1") as SSMClient);
    ssm.on(SendCommandCommand).resolves({ Command: { CommandId: "cmd-1" } });
    ssm
      .on(GetCommandInvocationCommand)
      .rejectsOnce(Object.assign(new Error("no invocation yet"), { name: "InvocationDoesNotExist" }))
      .resolvesOnce({ Status: "InProgress" })
      .resolves({ Status: "Failed", StatusDetails: "Failed", ResponseCode: 3, StandardOutputContent: "consul: active\n", StandardErrorContent: "nomad: inactive\n" });
    const ctx = testContext({ aws });
    expect(await ssh(ctx, cluster, { target: "core-2", command: ["systemctl", "is-active", "consul", "nomad"], timeoutMinutes: 10 })).toBe(3);
    const sent = ssm.commandCalls(SendCommandCommand)[0].args[0].input;
    expect(sent).toMatchObject({ InstanceIds: ["i-0000000000000c002"], DocumentName: "AWS-RunShellScript", Parameters: { commands: ["systemctl is-active consul nomad"] } });
    expect(ssm.commandCalls(GetCommandInvocationCommand)).toHaveLength(3);
    expect(ctx.out.join("")).toBe("consul: active\n");
    expect(ctx.progress.events).toContain("info: nomad: inactive");
    expect(ctx.progress.events.some((e) => e.startsWith("fail: core-2: Failed, exit 3"))).toBe(true);
  });

  test("a command that outlives --timeout stops with the command id to follow it", async () => {
    const aws = withNodes();
    const ssm = mockClient(aws.ssm("eu-central-1") as SSMClient);
    ssm.on(SendCommandCommand).resolves({ Command: { CommandId: "cmd-2" } });
    ssm.on(GetCommandInvocationCommand).resolves({ Status: "InProgress" });
    const ctx = testContext({ aws });
    const err = (await ssh(ctx, cluster, { target: "core-2", command: ["sleep", "999"], timeoutMinutes: 1 }).catch((e) => e)) as CliError;
    expect(err.message).toMatch(/did not finish within 1 minutes \(command id cmd-2\)/);
    expect(err.hint).toContain("get-command-invocation --command-id cmd-2");
  });
});

describe("bitte tokens", () => {
  const names = tokenParameterNames(cluster);
  const stored = { "/bitte/example/consul/management-token": "c0n5u1-70k3n", "/bitte/example/nomad/management-token": "n0m4d", "/bitte/example/vault/root-token": "hvs.it's-root" };

  function ssmWith(values: Record<string, string>) {
    const aws = regionalClients();
    const ssm = mockClient(aws.ssm("eu-central-1") as SSMClient);
    ssm.on(GetParametersCommand).resolves({ Parameters: Object.entries(values).map(([Name, Value]) => ({ Name, Value })), InvalidParameters: names.filter((n) => !(n in values)) });
    return { aws, ssm };
  }

  test("reads the three SecureStrings, decrypted, in the core region", async () => {
    const { aws, ssm } = ssmWith(stored);
    const found = await readTokens(cluster, aws);
    expect(found.map((t) => [t.service, t.value])).toEqual([
      ["consul", "c0n5u1-70k3n"],
      ["nomad", "n0m4d"],
      ["vault", "hvs.it's-root"],
    ]);
    // vault/initialized tells "not stored yet" from "retired by bitte deploy".
    expect(ssm.commandCalls(GetParametersCommand)[0].args[0].input).toEqual({ Names: [...names, "/bitte/example/vault/initialized"], WithDecryption: true });
  });

  test("once bitte deploy retired Vault's root token, prints Consul's and Nomad's and says where Vault's went", async () => {
    const { aws } = ssmWith({ "/bitte/example/consul/management-token": "c", "/bitte/example/nomad/management-token": "n", "/bitte/example/vault/initialized": "core-1" });
    const ctx = testContext({ aws });
    expect(await tokens(ctx, cluster, { export: true })).toBe(0);
    expect(ctx.out.join("")).toContain("export NOMAD_TOKEN='n'");
    expect(ctx.out.join("")).not.toContain("VAULT_TOKEN");
    expect(ctx.progress.events.join("\n")).toMatch(/Vault's root token is no longer in SSM \(\/bitte\/example\/vault\/root-token\): `bitte deploy` revoked it.*vault operator generate-root/);
    const err = (await readTokens(cluster, aws).catch((e) => e)) as CliError;
    expect(err.hint).toMatch(/^Set VAULT_TOKEN to a token with the bitte-operator policy/);
  });

  test("--export prints eval-safe export lines with tokens and addresses", async () => {
    const { aws } = ssmWith(stored);
    const ctx = testContext({ aws });
    expect(await tokens(ctx, cluster, { export: true })).toBe(0);
    expect(ctx.out.join("")).toBe(
      [
        `# bitte tokens for cluster example: eval "$(bitte tokens --export --cluster example)"`,
        "export CONSUL_HTTP_ADDR='https://consul.example.bitte.dev'",
        "export CONSUL_HTTP_TOKEN='c0n5u1-70k3n'",
        "export NOMAD_ADDR='https://nomad.example.bitte.dev'",
        "export NOMAD_TOKEN='n0m4d'",
        "export VAULT_ADDR='https://vault.example.bitte.dev'",
        "export VAULT_TOKEN='hvs.it'\\''s-root'",
        "",
      ].join("\n"),
    );
  });

  test("shellQuote survives the shell", () => {
    const { execFileSync } = jest.requireActual<typeof import("node:child_process")>("node:child_process");
    for (const value of ["plain", "it's", "$(rm -rf /)", "a\"b`c`\\d", "''"]) {
      expect(execFileSync("sh", ["-c", `printf %s ${shellQuote(value)}`], { encoding: "utf8" })).toBe(value);
    }
  });

  test("without --export prints one line per token", async () => {
    const { aws } = ssmWith(stored);
    const text = tokenTable(await readTokens(cluster, aws));
    expect(text.split("\n")[0]).toBe("consul  c0n5u1-70k3n  (/bitte/example/consul/management-token)");
    expect(exportLines(cluster, await readTokens(cluster, aws))).toContain("export NOMAD_TOKEN='n0m4d'");
  });

  test("a token not stored yet is an error that names it and says why", async () => {
    const { aws } = ssmWith({ "/bitte/example/consul/management-token": "x" });
    const err = (await readTokens(cluster, aws).catch((e) => e)) as CliError;
    expect(err.message).toBe("Not in SSM Parameter Store (eu-central-1): /bitte/example/nomad/management-token, /bitte/example/vault/root-token.");
    expect(err.hint).toMatch(/first boot/);
  });

  test("access denied names the call", async () => {
    const aws = regionalClients();
    mockClient(aws.ssm("eu-central-1") as SSMClient).on(GetParametersCommand).rejects(Object.assign(new Error("not authorized to perform: kms:Decrypt"), { name: "AccessDeniedException" }));
    const err = (await readTokens(cluster, aws).catch((e) => e)) as CliError;
    expect(err.message).toMatch(/^ssm:GetParameters .* in eu-central-1: access denied/);
  });
});
