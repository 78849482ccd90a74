/**
 * Runs the real bootstrap script against stand-ins: a parameter store directory with SSM's
 * create-only semantics and consul/nomad/vault/systemctl stubs first on PATH.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { userInfo } from "node:os";
import { join } from "node:path";
import cluster from "../../clusters/example";
import { bootstrapParameters, SSM_PARAMETERS, ssmAccess } from "../../constructs/hashistack-bootstrap/parameters";
import { PATHS, renderNodeFiles, rolePrograms, type NodeRole } from "../../constructs/node-config";
import { CONSUL_NODE_AUTH_METHOD } from "../../constructs/policy/names";
import { consulLoginsOf } from "../../constructs/policy/node-identity";
import { which } from "../harness/tools";

export const SCRIPT = join(__dirname, "../../constructs/node-config/scripts/bitte-bootstrap.sh");
const NODE_PKI_SCRIPT = join(__dirname, "../../constructs/node-config/scripts/bitte-node-pki.sh");
const NOMAD_CERT_SCRIPT = join(__dirname, "../../constructs/node-config/scripts/bitte-nomad-cert.sh");
const CONSUL_TOKEN_SCRIPT = join(__dirname, "../../constructs/node-config/scripts/bitte-consul-token.sh");
const VAULT_LOGIN_SCRIPT = join(__dirname, "../../constructs/node-config/scripts/bitte-vault-login.sh");

/** The stand-in Vault's node policies for identity tokens, from the table (vaultNodePolicyDoc reads the same rows). */
export function stubOidcPolicy(): string {
  return (["client", "routing"] as const).map((r) => `${r}:${consulLoginsOf(r).map((l) => l.vaultRole).join(",")}`).join(" ");
}

/** The environment bitte-consul-token reads (consul-token.ts renders it), for a client or routing node in `dir`. */
function consulTokenEnv(dir: string, role: NodeRole, name: string, me: string): string {
  const path = join(dir, "consul-token.env");
  const logins = consulLoginsOf(role).map((l) => `${l.use}:${l.vaultRole}`).join(" ");
  const vars = {
    BITTE_TLS_DIR: join(dir, "tls"),
    BITTE_CONSUL_DIR: join(dir, "consul.d"),
    BITTE_SECRETS_DIR: join(dir, "secrets"),
    BITTE_CONSUL_USER: me,
    BITTE_VAULT_LOGIN: VAULT_LOGIN_SCRIPT,
    BITTE_VAULT_ADDRS: "10.0.1.10 10.0.2.10 10.0.3.10",
    BITTE_VAULT_SERVER_ID: "vault.race.bitte.dev",
    BITTE_VAULT_AUTH_ROLE: role === "client" ? "client-eu-central-1" : role,
    BITTE_CONSUL_AUTH_METHOD: CONSUL_NODE_AUTH_METHOD,
    BITTE_CONSUL_LOGINS: logins,
    // node.env's line (bitte-node-env), here in the script's own file.
    BITTE_INSTANCE_ID: instanceIdOf(name),
    BITTE_RETRIES: "400",
    BITTE_RETRY_DELAY: "0.02",
  };
  writeFileSync(path, Object.entries(vars).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join("\n") + "\n");
  return path;
}

/** The EC2 instance id the IMDS stand-in (stubs/curl) answers for a node. */
export function instanceIdOf(name: string): string {
  return `i-0${Buffer.from(name).toString("hex").slice(0, 16).padEnd(16, "0")}`;
}
export const STUBS = join(__dirname, "stubs");
export const PREFIX = "/bitte/race";

export interface TestNode {
  readonly dir: string;
  readonly role: NodeRole;
  readonly envFile: string;
  readonly name: string;
  readonly ip?: string;
  /** The node's PATH: exactly the programs its role installs (stand-ins where there are some). */
  readonly bin: string;
}

/**
 * A directory with exactly the programs a node of the role has (`rolePrograms`: base image,
 * packages, user data): the stand-in where one exists, else the host's program. A script that
 * calls anything else fails with "command not found", as it would on the node.
 */
function programsDir(dir: string, role: NodeRole): string {
  const bin = join(dir, "bin");
  mkdirSync(bin, { recursive: true });
  for (const program of rolePrograms(cluster, role)) {
    const target = existsSync(join(STUBS, program)) ? join(STUBS, program) : which(program);
    if (target && !existsSync(join(bin, program))) symlinkSync(target, join(bin, program));
  }
  return bin;
}

/** The rendered first-boot Consul ACL file of a core node, written into the node's directory. */
function consulAclFile(dir: string): string {
  const path = join(dir, "consul-acl.json");
  const f = renderNodeFiles({ cluster, role: "core", nodeName: "core-1" }).find((x) => x.path === PATHS.consulAcl);
  writeFileSync(path, f?.content ?? "");
  return path;
}

/** Lays out one node's directories and its environment file, the way the renderer writes it. */
export function makeNode(root: string, role: NodeRole, name: string, ip?: string, extra: Record<string, string> = {}): TestNode {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const me = userInfo().username;
  const vars: Record<string, string> = {
    BITTE_ROLE: role,
    BITTE_NODE_NAME: name,
    BITTE_CLUSTER: "race",
    BITTE_SSM_PREFIX: PREFIX,
    BITTE_SSM_REGION: "eu-central-1",
    BITTE_KMS_KEY_ID: "alias/bitte-race",
    // HashiStackBootstrap's table puts Vault's recovery material under its own key.
    BITTE_RECOVERY_KMS_KEY_ID: "alias/bitte-race-recovery",
    BITTE_RECOVERY_PARAMETERS: bootstrapParameters().filter((p) => p.key === "recovery").map((p) => p.name).join(" "),
    BITTE_DATACENTER: "eu-central-1",
    ...(ip ? { BITTE_PRIVATE_IP: ip } : {}),
    BITTE_TLS_DIR: join(dir, "tls"),
    BITTE_SECRETS_DIR: join(dir, "secrets"),
    BITTE_STATE_DIR: join(dir, "state"),
    BITTE_CONSUL_DIR: join(dir, "consul.d"),
    BITTE_NOMAD_DIR: join(dir, "nomad.d"),
    BITTE_VAULT_DIR: join(dir, "vault.d"),
    BITTE_CONSUL_USER: me,
    BITTE_NOMAD_USER: me,
    BITTE_VAULT_USER: me,
    BITTE_RETRIES: "400",
    BITTE_RETRY_DELAY: "0.02",
    // What the renderer gives core nodes: the first-boot Consul policies (constructs/policy/consul.ts).
    ...(role === "core" ? { BITTE_CONSUL_ACL: consulAclFile(dir) } : {}),
    // Core nodes know their peers' fixed addresses (the spec's core nodes): 10.0.<1-3>.10 here.
    // What the renderer gives core nodes for Vault's node PKI (files.ts, nomad-cert.ts) and clients for their own certificate.
    ...(role === "core" ? { BITTE_NODE_PKI_SCRIPT: NODE_PKI_SCRIPT, BITTE_NODE_PKI_PATH: "pki_nodes", BITTE_NODE_PKI_DOMAINS: "global.nomad localhost" } : {}),
    ...(role === "client"
      ? {
          BITTE_NOMAD_CERT_SCRIPT: NOMAD_CERT_SCRIPT,
          BITTE_VAULT_ADDRS: "10.0.1.10 10.0.2.10 10.0.3.10",
          BITTE_VAULT_SERVER_ID: "vault.race.bitte.dev",
          BITTE_VAULT_AUTH_ROLE: "client-eu-central-1",
          BITTE_PKI_ISSUE_PATH: "pki_nodes/issue/nomad-client",
          BITTE_CERT_NAME: "client.global.nomad",
          ...(ip ? {} : { BITTE_PRIVATE_IP: "10.0.8.20" }),
        }
      : {}),
    // node.env's instance id (bitte-node-env writes it from IMDS), which bitte-nomad-cert and bitte-consul-token read.
    ...(role === "client" || role === "routing" ? { BITTE_INSTANCE_ID: instanceIdOf(name) } : {}),
    // What the renderer gives clients and routing nodes for their own Consul tokens (consul-token.ts).
    ...(consulLoginsOf(role).length > 0 ? { BITTE_CONSUL_TOKEN_SCRIPT: CONSUL_TOKEN_SCRIPT, BITTE_VAULT_LOGIN: VAULT_LOGIN_SCRIPT } : {}),
    // The monitoring node's own agent token, made for its name by the cores (files.ts).
    ...(role === "monitoring" ? { BITTE_CONSUL_AGENT_TOKEN_PARAMETER: SSM_PARAMETERS.consulMonitoringAgentToken } : {}),
    ...(role === "core" && ip ? { BITTE_CORE_PEERS: ["10.0.1.10", "10.0.2.10", "10.0.3.10"].filter((p) => p !== ip).join(" ") } : {}),
    ...extra,
  };
  // bitte-consul-token's own file, with the same users (a test may run the products as their real users).
  if (consulLoginsOf(role).length > 0) consulTokenEnv(dir, role, name, vars.BITTE_CONSUL_USER ?? me);
  const envFile = join(dir, "bootstrap.env");
  writeFileSync(envFile, Object.entries(vars).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join("\n") + "\n");
  return { dir, role, envFile, name, ip, bin: programsDir(dir, role) };
}

export interface RunResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Fault injection a node's environment file asks the stand-ins for (they read it from their environment). */
function faultsOf(node: TestNode): Record<string, string> {
  const m = /^STUB_SSM_FAULT_PERCENT="(\d+)"$/m.exec(readFileSync(node.envFile, "utf8"));
  return m ? { STUB_SSM_FAULT_PERCENT: m[1] } : {};
}

/** Runs the script for a node with the role's programs as PATH; resolves when it exits. */
export function runBootstrap(node: TestNode, state: string, env: Record<string, string> = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [SCRIPT], {
      env: {
        ...process.env,
        PATH: node.bin,
        BITTE_ENV_FILE: node.envFile,
        STUB_STATE: state,
        TMPDIR: node.dir,
        STUB_REAL_INSTALL: which("install") ?? "install",
        STUB_REAL_CURL: which("curl") ?? "curl",
        STUB_INSTANCE_ID: instanceIdOf(node.name),
        // bitte-nomad-cert reads its settings from the same file here; bitte-consul-token from its own.
        BITTE_NOMAD_CERT_ENV: node.envFile,
        ...(consulLoginsOf(node.role).length > 0 ? { BITTE_CONSUL_TOKEN_ENV: join(node.dir, "consul-token.env") } : {}),
        STUB_OIDC_POLICY: stubOidcPolicy(),
        // What the role's IAM lets it read (HashiStackBootstrap's table): anything else is AccessDenied.
        STUB_READABLE: ssmAccess(node.role).read.join(" "),
        ...faultsOf(node),
        ...env,
      },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ status: code ?? -1, stdout, stderr }));
  });
}

/** The stored value of a parameter, as the stub keeps it. */
export function paramPath(state: string, name: string): string {
  return join(state, "ssm", `${PREFIX}/${name}`.replace(/\//g, "%"));
}
