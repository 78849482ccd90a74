/**
 * `bitte`: operate a running cluster. This file only parses arguments, prints help and wires the
 * real clients; each command's logic lives in `cli/commands/` and takes everything it touches as
 * arguments.
 */
import { parseArgs } from "node:util";
import type { Cluster } from "../clusters/spec/types";
import type { Context } from "./context";
import { CliError } from "./errors";

/** Loads a module on first use (CommonJS require, relative to this file): keeps `--help` fast. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const load = <T>(id: string): T => require(id) as T;

type OptionSpec = { readonly type: "string" | "boolean"; readonly short?: string; readonly multiple?: boolean; readonly arg?: string; readonly description: string };

type Values = Record<string, string | boolean | string[] | undefined>;

interface Command {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  readonly description: string;
  readonly examples: readonly string[];
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** Positionals allowed (and for ssh, everything after `--`). */
  readonly positionals?: boolean;
  /** Checks AWS credentials before running (given the parsed values). */
  readonly needsAws: (values: Values) => boolean;
  /** Refuses bad arguments (CliError, exit 2) before any cluster or AWS work. */
  validate?(values: Values, positionals: string[], afterDashDash: string[]): void;
  /** `clusterFile`: the name the cluster was selected by (`clusters/<file>.ts`), not the spec's name. */
  run(ctx: Context, cluster: Cluster, values: Values, positionals: string[], afterDashDash: string[], clusterFile: string): Promise<number>;
}

const minutes = (v: unknown, name: string, fallback: number): number => {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new CliError(`--${name} takes a positive number of minutes, not ${JSON.stringify(v)}.`, undefined, 2);
  return n;
};

const COMMANDS: readonly Command[] = [
  {
    name: "info",
    summary: "List every instance of the cluster",
    usage: "bitte info [--json] [--cluster <name>]",
    description: "Lists every instance tagged Cluster=<cluster> in every region of the spec: name, node class, zone, private IP, instance id, state and launch template version, as a table per role (core, monitoring, routing, client) or as JSON.",
    examples: ["bitte info", "bitte info --json | jq -r '.nodes[] | select(.role==\"core\") | .privateIp'"],
    options: { json: { type: "boolean", description: "Print JSON: { cluster, domain, regions, nodes: [...] }" } },
    needsAws: () => true,
    run: async (ctx, cluster, v) => load<typeof import("./commands/info")>("./commands/info").info(ctx, cluster, { json: v.json === true }),
  },
  {
    name: "ssh",
    summary: "Shell on a node through SSM Session Manager, or run one command",
    usage: "bitte ssh <name|instance-id|private-ip> [--timeout <min>] [-- <command>…]",
    description:
      "Opens an SSM Session Manager shell on the node (no SSH keys, no open port; needs the AWS CLI v2 and the session-manager-plugin), or, with a command after `--`, runs it through SSM Run Command (AWS-RunShellScript, as root), prints its output and exits with its exit code. The command's words are joined with spaces and run by the node's shell, like ssh. A node is named by its Name tag (core-1, monitoring), its client group (workers, when the group has one instance), instance id or private IP.",
    examples: ["bitte ssh core-2", "bitte ssh 10.0.1.12 -- systemctl status nomad", "bitte ssh i-0123456789abcdef0 -- 'journalctl -u consul -n 50 --no-pager'"],
    options: { timeout: { type: "string", arg: "min", description: "Give up on a command after this many minutes (default 10)" } },
    positionals: true,
    needsAws: () => true,
    validate: (v, positionals) => {
      if (positionals.length !== 1) throw new CliError(positionals.length === 0 ? "bitte ssh needs a node: a name, instance id or private IP." : `bitte ssh takes one node, got ${positionals.join(" ")}; put the command after --.`, "Usage: bitte ssh <node> [-- <command>…]; `bitte info` lists the nodes.", 2);
      minutes(v.timeout, "timeout", 10);
    },
    run: async (ctx, cluster, v, positionals, command) => {
      return load<typeof import("./commands/ssh")>("./commands/ssh").ssh(ctx, cluster, { target: positionals[0], command, timeoutMinutes: minutes(v.timeout, "timeout", 10) });
    },
  },
  {
    name: "rebuild",
    summary: "Roll nodes onto the current launch configuration, core one at a time",
    usage: "bitte rebuild [--only <name>]… [--clients [--class <c>]…] [--dry-run] [--timeout <min>] [--min-healthy <pct>]",
    description:
      "Core nodes (and monitoring) are replaced through Terraform (`terraform apply -replace=<instance>` in cdktf.out/stacks/core, so state stays true), keeping their network interface and data volume; the plan is refused if it would change anything else. After each core node, Consul, Nomad and Vault must report a healthy quorum with the node back (tokens from CONSUL_HTTP_TOKEN, NOMAD_TOKEN, VAULT_TOKEN, else from SSM) before the next starts. Routing and client groups roll by instance refresh. The first failure stops the roll. Without --only or --clients, everything rolls: core-1..3, monitoring, routing, then the client groups. Synthesize first (`npx cdktf synth`).",
    examples: ["bitte rebuild --only core-2 --dry-run", "bitte rebuild --only core-1 --only core-2 --only core-3", "bitte rebuild --clients --class workers"],
    options: {
      only: { type: "string", multiple: true, arg: "name", description: "Roll only this node or group (core-1, monitoring, routing, a client group); repeatable" },
      clients: { type: "boolean", description: "Roll the client groups" },
      class: { type: "string", multiple: true, arg: "c", description: "With --clients: only groups of this node class; repeatable" },
      "dry-run": { type: "boolean", description: "Print the plan and stop" },
      timeout: { type: "string", arg: "min", description: "Minutes to wait for each core node's quorum and each instance refresh (default 20)" },
      "min-healthy": { type: "string", arg: "pct", description: "Minimum healthy percentage during client instance refreshes (default 90)" },
    },
    needsAws: (v) => v["dry-run"] !== true,
    validate: (v) => {
      const pct = Number(v["min-healthy"] ?? 90);
      if (!Number.isInteger(pct) || pct < 0 || pct > 100) throw new CliError(`--min-healthy takes a percentage from 0 to 100, not ${JSON.stringify(v["min-healthy"])}.`, undefined, 2);
      minutes(v.timeout, "timeout", 20);
    },
    run: async (ctx, cluster, v) => {
      return load<typeof import("./commands/rebuild")>("./commands/rebuild").rebuild(ctx, cluster, {
        only: (v.only as string[] | undefined) ?? [],
        clients: v.clients === true,
        classes: (v.class as string[] | undefined) ?? [],
        dryRun: v["dry-run"] === true,
        timeoutMinutes: minutes(v.timeout, "timeout", 20),
        minHealthyPercentage: Number(v["min-healthy"] ?? 90),
      });
    },
  },
  {
    name: "tokens",
    summary: "Print the bootstrap tokens stored in SSM",
    usage: "bitte tokens [--export] [--cluster <name>]",
    description:
      "Reads the Consul, Nomad and Vault bootstrap tokens the core nodes stored in SSM Parameter Store at first boot and prints them, or, with --export, `export` lines (tokens and addresses) for the shell, as the consul and jobs stacks and the consul/nomad/vault CLIs read them.",
    examples: ["bitte tokens", 'eval "$(bitte tokens --export)"'],
    options: { export: { type: "boolean", description: "Print export VAR='…' lines for eval" } },
    needsAws: () => true,
    run: async (ctx, cluster, v) => load<typeof import("./commands/tokens")>("./commands/tokens").tokens(ctx, cluster, { export: v.export === true }),
  },
  {
    name: "deploy",
    summary: "Synthesize, then cdktf deploy every stack (or those named) in dependency order",
    usage: `bitte deploy [--auto-approve] [--keep-root-token] [<stack>…]`,
    description:
      "Synthesizes the cluster into its own output directory (cdktf.out for example, cdktf.out-<cluster> otherwise), reads the stack order from the manifest cdktf wrote there (state, for the S3 backend, then network, core, consul, clients, jobs), and runs `npx cdktf deploy <stack>` for each stack (or the stacks named) one after the other with BITTE_CLUSTER set to the cluster's file name, stopping at the first failure, and prints a summary. Before a stack whose providers need Consul, Nomad or Vault tokens (consul, jobs), the tokens missing from the environment are read from SSM. Vault's root token read from SSM is revoked, and its parameter deleted, once the stack that used it has deployed: later deploys of the consul stack take VAULT_TOKEN from you (a bitte-operator token, or a root token from `vault operator generate-root`; README, security).",
    examples: ["bitte deploy", "bitte deploy --cluster prod state network", "bitte deploy --auto-approve consul clients jobs"],
    options: {
      "auto-approve": { type: "boolean", description: "Pass --auto-approve to cdktf (no approval prompt per stack)" },
      "keep-root-token": { type: "boolean", description: "Leave Vault's root token in SSM after the consul stack deployed with it (default: revoke it)" },
    },
    positionals: true,
    needsAws: () => false,
    run: async (ctx, cluster, v, positionals, _rest, clusterFile) =>
      load<typeof import("./commands/deploy")>("./commands/deploy").deploy(ctx, cluster, { stacks: positionals, autoApprove: v["auto-approve"] === true, keepRootToken: v["keep-root-token"] === true, clusterFile }),
  },
  {
    name: "migrate-state",
    summary: "Move single-cluster local state to the cluster's own state files",
    usage: "bitte migrate-state [--dry-run] [--cluster <name>]",
    description:
      "Renames terraform.<stack>.tfstate (the layout before one state per cluster) to terraform.<cluster>.<stack>.tfstate, after checking that every tagged resource in them carries Cluster=<cluster>, that no Terraform run holds their lock, and that no target exists; nothing moves unless every check passes. Also removes the working directories' records of the old path, so the next deploy initialises against the new one.",
    examples: ["bitte migrate-state --cluster example --dry-run", "bitte migrate-state --cluster example"],
    options: { "dry-run": { type: "boolean", description: "Print what would move and stop" } },
    needsAws: () => false,
    run: async (ctx, cluster, v) => load<typeof import("./commands/migrate-state")>("./commands/migrate-state").migrateState(ctx, cluster, { dryRun: v["dry-run"] === true }),
  },
  {
    name: "deployer-policy",
    summary: "Print the IAM policy the deploying principal needs",
    usage: "bitte deployer-policy [--from <cdktf.out>] [--account <id>] [--split]",
    description:
      "Synthesizes the cluster's stacks (or reads --from) and prints the least-privilege IAM policy document for deploying them: the actions each AWS resource and data source type needs (no wildcard actions), limited to the cluster's regions and to its IAM roles, SSM parameters and buckets, plus its Terraform state. Attach it to the deploying user or role.",
    examples: ["bitte deployer-policy > deployer.json", "bitte deployer-policy --account 123456789012 --split"],
    options: {
      from: { type: "string", arg: "dir", description: "Read this synthesized directory instead of synthesizing" },
      account: { type: "string", arg: "id", description: "AWS account id for the ARNs (default *)" },
      split: { type: "boolean", description: "Print a JSON array of documents that each fit a managed policy (6,144 characters)" },
    },
    needsAws: () => false,
    validate: (v) => {
      if (v.account !== undefined && !/^\d{12}$/.test(v.account as string)) throw new CliError(`--account takes a 12-digit account id, not ${JSON.stringify(v.account)}.`, undefined, 2);
    },
    run: async (ctx, cluster, v) => {
      return load<typeof import("./commands/deployer-policy")>("./commands/deployer-policy").deployerPolicyCommand(ctx, cluster, { from: v.from as string | undefined, account: v.account as string | undefined, split: v.split === true });
    },
  },
  {
    name: "snapshot",
    summary: "Take Consul, Nomad and Vault snapshots now, to the cluster bucket",
    usage: "bitte snapshot [--timeout <min>]",
    description: "Runs bitte-snapshot, the script of the core nodes' snapshot timer, on every core node through SSM Run Command. Only the Consul leader takes the snapshots, so the cluster gets one of each product, written to s3://<cluster bucket>/snapshots/<product>/<cluster>-<UTC time>.snap with the cluster key; their URIs are printed.",
    examples: ["bitte snapshot", "bitte snapshot --cluster prod"],
    options: { timeout: { type: "string", arg: "min", description: "Minutes to wait for each node (default 20)" } },
    needsAws: () => true,
    validate: (v) => void minutes(v.timeout, "timeout", 20),
    run: async (ctx, cluster, v) => load<typeof import("./commands/snapshot")>("./commands/snapshot").snapshot(ctx, cluster, { timeoutMinutes: minutes(v.timeout, "timeout", 20) }),
  },
  {
    name: "restore",
    summary: "Restore a Consul, Nomad or Vault snapshot from the cluster bucket",
    usage: "bitte restore <consul|nomad|vault> <snapshot|latest> [--rebuilt] [--yes]",
    description:
      "Downloads the snapshot from the cluster bucket and restores it through the product's snapshot API on its admin endpoint, with the token from CONSUL_HTTP_TOKEN, NOMAD_TOKEN or VAULT_TOKEN. The snapshot is a key (snapshots/<product>/<cluster>-<time>.snap), an s3:// URI, its file name, or `latest`. A snapshot of another cluster or product, or in another bucket, is refused. Without --yes it only says what it would do. --rebuilt restores Vault into a cluster rebuilt since the snapshot (snapshot-force). See the README, \"Snapshots and restore\".",
    examples: ["bitte restore consul latest --yes", "bitte restore vault snapshots/vault/prod-20261201T200000Z.snap --rebuilt --yes"],
    options: {
      rebuilt: { type: "boolean", description: "The cluster was rebuilt since the snapshot (Vault: force past the keyring check)" },
      yes: { type: "boolean", description: "Really restore (it replaces the product's whole state)" },
    },
    positionals: true,
    needsAws: () => true,
    validate: (_v, positionals) => {
      if (positionals.length !== 2) throw new CliError("bitte restore takes a product and a snapshot.", "Usage: bitte restore <consul|nomad|vault> <snapshot|latest> [--yes]", 2);
    },
    run: async (ctx, cluster, v, positionals) => {
      const { S3Client } = load<typeof import("@aws-sdk/client-s3")>("@aws-sdk/client-s3");
      const deps = { s3: (region: string) => new S3Client({ region }), send: (url: string, init: { method: "PUT" | "POST"; headers: Record<string, string>; body: Uint8Array }) => fetch(url, { ...init, body: Buffer.from(init.body) }) };
      return load<typeof import("./commands/restore")>("./commands/restore").restore(ctx, cluster, deps, { product: positionals[0], snapshot: positionals[1], rebuilt: v.rebuilt === true, yes: v.yes === true });
    },
  },
];

const GLOBAL_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  cluster: { type: "string", arg: "name", description: "Cluster (clusters/<name>.ts); default $BITTE_CLUSTER, then example" },
  help: { type: "boolean", short: "h", description: "Show this help" },
};

function optionLines(options: Readonly<Record<string, OptionSpec>>): string[] {
  const rows = Object.entries(options).map(([name, o]) => [`${o.short ? `-${o.short}, ` : "    "}--${name}${o.arg ? ` <${o.arg}>` : ""}`, o.description]);
  const w = Math.max(...rows.map((r) => r[0].length));
  return rows.map(([l, d]) => `  ${l.padEnd(w)}  ${d}`);
}

export function topHelp(): string {
  const w = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    "bitte: operate a Bitte cluster (Nomad, Consul and Vault on AWS).",
    "",
    "Usage: bitte <command> [options]",
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`),
    "",
    "Options of every command:",
    ...optionLines(GLOBAL_OPTIONS),
    "",
    "`bitte <command> --help` describes a command. AWS credentials come from the usual chain",
    "(AWS_PROFILE, environment, SSO). Progress goes to stderr, results to stdout.",
    "",
  ].join("\n");
}

function wrap(text: string, width = 96): string {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/)) {
    if (line && line.length + word.length + 1 > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.join("\n");
}

export function commandHelp(name: string): string {
  const c = COMMANDS.find((x) => x.name === name);
  if (!c) throw new CliError(`No command ${name}.`);
  return [`Usage: ${c.usage}`, "", wrap(c.description), "", "Options:", ...optionLines({ ...c.options, ...GLOBAL_OPTIONS }), "", "Examples:", ...c.examples.map((e) => `  ${e}`), ""].join("\n");
}

export const COMMAND_NAMES: readonly string[] = COMMANDS.map((c) => c.name);

export interface MainDeps {
  /** Builds the context; called only when a command runs (not for help). */
  readonly context: () => Context;
  readonly stdout: { write(text: string): void };
  readonly stderr: { write(text: string): void };
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Loads a cluster by name. */
  readonly loadCluster: (name: string) => Cluster;
  /** Checks credentials before AWS commands. */
  readonly verifyCredentials: (ctx: Context, region: string) => Promise<void>;
}

/** Runs `bitte <argv>` and returns the exit code. Never throws. */
export async function main(argv: readonly string[], deps: MainDeps): Promise<number> {
  const out = (t: string) => deps.stderr.write(t);
  let commandName = "bitte";
  try {
    const [first, ...rest] = argv;
    if (first === undefined) {
      out(topHelp());
      return 2;
    }
    if (first === "--help" || first === "-h" || first === "help") {
      const about = rest[0];
      const text = about && COMMAND_NAMES.includes(about) ? commandHelp(about) : topHelp();
      return writeHelp(deps, text);
    }
    const command = COMMANDS.find((c) => c.name === first);
    if (!command) throw new CliError(`Unknown command ${JSON.stringify(first)}.`, `Commands: ${COMMAND_NAMES.join(", ")}. \`bitte --help\` describes them.`, 2);
    commandName = `bitte ${command.name}`;

    let parsed;
    try {
      parsed = parseArgs({ args: [...rest], options: { ...command.options, ...GLOBAL_OPTIONS }, allowPositionals: command.positionals === true, strict: true, tokens: true });
    } catch (err) {
      throw new CliError((err as Error).message.split("\n")[0], `Usage: ${command.usage}  (\`${commandName} --help\` for more)`, 2);
    }
    const values = parsed.values as Values;
    if (values.help === true) return writeHelp(deps, commandHelp(command.name));
    const terminator = parsed.tokens.find((t) => t.kind === "option-terminator");
    const positionals = parsed.tokens.filter((t) => t.kind === "positional" && (!terminator || t.index < terminator.index)).map((t) => (t as { value: string }).value);
    const afterDashDash = terminator ? parsed.tokens.filter((t) => t.kind === "positional" && t.index > terminator.index).map((t) => (t as { value: string }).value) : [];
    if (afterDashDash.length > 0 && command.name !== "ssh") throw new CliError(`${commandName} takes nothing after --.`, `Usage: ${command.usage}`, 2);

    command.validate?.(values, positionals, afterDashDash);

    const clusterName = (values.cluster as string | undefined) || deps.env.BITTE_CLUSTER || "example";
    let cluster: Cluster;
    try {
      cluster = deps.loadCluster(clusterName);
    } catch (err) {
      throw new CliError((err as Error).message, `Pass --cluster <name> or set BITTE_CLUSTER; clusters live in clusters/<name>.ts.`, 2);
    }
    const ctx = deps.context();
    if (command.needsAws(values)) await deps.verifyCredentials(ctx, cluster.coreRegion);
    return await command.run(ctx, cluster, values, positionals, afterDashDash, clusterName);
  } catch (err) {
    if (err instanceof CliError) {
      out(`${commandName}: ${err.message}\n`);
      if (err.hint) out(`  → ${err.hint}\n`);
      return err.exitCode;
    }
    out(`${commandName}: unexpected error: ${(err as Error)?.stack ?? String(err)}\n`);
    return 1;
  }
}

/** Help the user asked for is a result: stdout. */
function writeHelp(deps: MainDeps, text: string): number {
  deps.stdout.write(text);
  return 0;
}

/** The process entry point (bin/bitte.js). */
export async function cli(): Promise<void> {
  const { realContext, verifyCredentials } = load<typeof import("./wiring")>("./wiring");
  const { loadCluster } = load<typeof import("../clusters/spec/load")>("../clusters/spec/load");
  process.exitCode = await main(process.argv.slice(2), { context: realContext, stdout: { write: (t) => void process.stdout.write(t) }, stderr: { write: (t) => void process.stderr.write(t) }, env: process.env, loadCluster: (n) => loadCluster(n), verifyCredentials });
}
