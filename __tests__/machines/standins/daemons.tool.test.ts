/**
 * The stand-in daemons hold the products' contracts, checked from the host with real clients:
 * refusing an unknown config key and an unreadable file (as `nobody`), sd_notify READY=1, TLS
 * verified by `openssl s_client -verify_return_error` (and the auto_encrypt chain that the Bitte CA
 * does not verify: defect 4), ACL bootstrap once with "No cluster leader" before a leader, and
 * Vault's init state local to a node's raft data (defect 6's window).
 */
import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describeWithTools, run } from "../../harness/tools";
import { resources as consulResources, synthConsul } from "../../consul/helpers";
import { type Daemon, type Service, PY, cli, daemon, freePort, makeCa, service, tempDir, waitFor } from "./harness";

const NOBODY = 65534;

function sClient(port: number, caFile: string): { status: number; out: string } {
  const r = run("openssl", ["s_client", "-connect", `127.0.0.1:${port}`, "-CAfile", caFile, "-verify_return_error", "-brief"], { input: "", timeoutMs: 30_000 });
  return { status: r.status, out: r.stdout + r.stderr };
}

function writeJson(path: string, obj: unknown): void {
  writeFileSync(path, JSON.stringify(obj, null, 1));
  chmodSync(path, 0o644);
}

describeWithTools(["python3", "openssl", "setpriv"], "stand-in daemons", () => {
  let dir: string;
  let ca: ReturnType<typeof makeCa>;
  let svc: Service;
  const running: Daemon[] = [];
  const env = () => ({ BITTE_STANDINS_CONF: svc.standinsConf });

  beforeAll(async () => {
    dir = tempDir("standins-daemons-");
    ca = makeCa(dir);
    svc = await service(dir, ca, {});
    await svc.start();
  });
  afterAll(async () => {
    for (const d of running) await d.stop();
    await svc?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A consul server config on free ports; `extra` merges over it. */
  async function consulServer(name: string, extra: Record<string, unknown> = {}) {
    const base = join(dir, name);
    mkdirSync(join(base, "etc"), { recursive: true });
    mkdirSync(join(base, "data"), { recursive: true });
    chmodSync(base, 0o755);
    const tls = ca.issue(`${name}-server`, "DNS:server.dc1.consul,DNS:localhost,IP:127.0.0.1");
    const ports = { http: await freePort(), https: await freePort(), grpc: -1, grpc_tls: await freePort(), dns: -1 };
    const cfg = {
      datacenter: "dc1",
      node_name: name,
      data_dir: join(base, "data"),
      bind_addr: "127.0.0.1",
      advertise_addr: "127.0.0.1",
      client_addr: "127.0.0.1",
      addresses: { http: "127.0.0.1", https: "127.0.0.1", grpc_tls: "127.0.0.1" },
      ports,
      tls: { defaults: { ca_file: ca.cert, cert_file: tls.cert, key_file: tls.key, verify_incoming: true, verify_outgoing: true }, https: { verify_incoming: false }, grpc: { verify_incoming: false } },
      acl: { enabled: true, default_policy: "deny" },
      server: true,
      bootstrap_expect: 1,
      connect: { enabled: true },
      ...extra,
    };
    writeJson(join(base, "etc", "consul.json"), cfg);
    return { base, cfg, ports, tls, etc: join(base, "etc") };
  }

  describe("refusing what the products refuse", () => {
    test("consul: an unknown key fails with Consul's own error, naming file and key", async () => {
      const s = await consulServer("badkey", { bogus_key: 1, tls: { defaults: { not_a_tls_key: true } } });
      const r = cli("consul", ["agent", `-config-dir=${s.etc}`], env());
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`failed to parse ${s.etc}/consul.json`);
      expect(r.stderr).toContain("invalid config key bogus_key");
      expect(r.stderr).toContain("invalid config key tls.defaults.not_a_tls_key");
    });
    test("consul: a key file the agent's uid cannot read fails with permission denied", async () => {
      const s = await consulServer("unreadable");
      chmodSync(s.base, 0o777);
      chmodSync(join(s.base, "data"), 0o777);
      chmodSync(s.tls.key, 0o600); // root's, as `install -m 0600` without -o consul leaves it
      const r = cli("consul", ["agent", `-config-dir=${s.etc}`], env(), NOBODY);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`open ${s.tls.key}: permission denied`);
    });
    test("consul: a data_dir the agent cannot write fails writing node-id", async () => {
      const s = await consulServer("rodata");
      chmodSync(join(s.base, "data"), 0o755); // root-owned
      const r = cli("consul", ["agent", `-config-dir=${s.etc}`], env(), NOBODY);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`failed to write NodeID to disk: open ${join(s.base, "data")}/node-id: permission denied`);
    });
    test("nomad: an unknown key fails with Nomad's 'unexpected keys'", () => {
      const base = join(dir, "nomad-bad");
      mkdirSync(base, { recursive: true });
      writeJson(join(base, "nomad.json"), { data_dir: join(base, "data"), server: { enabled: true, bootstrap_expec: 3 } });
      const r = cli("nomad", ["agent", "-config", base], env());
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`Error loading configuration from ${base}`);
      expect(r.stderr).toContain("server unexpected keys bootstrap_expec");
    });
    test("nomad: a data_dir the agent cannot write fails", () => {
      const base = join(dir, "nomad-ro");
      mkdirSync(join(base, "data"), { recursive: true });
      chmodSync(base, 0o755);
      writeJson(join(base, "nomad.json"), { data_dir: join(base, "data"), server: { enabled: true, bootstrap_expect: 1 } });
      const r = cli("nomad", ["agent", `-config=${base}`], env(), NOBODY);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/server setup failed: (mkdir|open) .*permission denied/);
    });
    test("vault: an unknown key only warns, as Vault does; an unreadable TLS key fails the listener", () => {
      const base = join(dir, "vault-bad");
      mkdirSync(join(base, "data"), { recursive: true });
      chmodSync(base, 0o777);
      chmodSync(join(base, "data"), 0o777);
      const t = ca.issue("vault-bad", "IP:127.0.0.1");
      chmodSync(t.key, 0o600);
      writeJson(join(base, "vault.json"), {
        cluster_addr: "https://127.0.0.1:8201",
        not_a_vault_key: true,
        storage: { raft: { path: join(base, "data"), node_id: "vault-bad" } },
        listener: [{ tcp: { address: "127.0.0.1:0", tls_cert_file: t.cert, tls_key_file: t.key } }],
      });
      const r = cli("vault", ["server", `-config=${join(base, "vault.json")}`], env(), NOBODY);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain("unknown or unsupported field not_a_vault_key found in configuration");
      expect(r.stderr).toContain(`Error initializing listener of type tcp: error loading TLS cert: open ${t.key}: permission denied`);
    });
  });

  describe("consul: TLS, sd_notify and ACL bootstrap", () => {
    let server: Awaited<ReturnType<typeof consulServer>>;
    let notified = "";

    beforeAll(async () => {
      server = await consulServer("core-1", { bootstrap_expect: 3 });
      // sd_notify: a datagram socket like systemd's, read by a python one-liner.
      const sock = join(dir, "notify.sock");
      const listener = spawn("python3", ["-c", `import socket,sys; s=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(${JSON.stringify(sock)}); s.settimeout(120); print(s.recv(256).decode(), flush=True)`], { stdio: ["ignore", "pipe", "inherit"] });
      listener.stdout.on("data", (d: Buffer) => (notified += d.toString()));
      await waitFor("the notify socket", () => existsSync(sock));
      const d = daemon("consul", ["agent", `-config-dir=${server.etc}`], { ...env(), NOTIFY_SOCKET: sock });
      running.push(d);
      await waitFor("READY=1 from consul", () => notified.includes("READY=1") || d.proc.exitCode !== null, 120_000);
      if (d.proc.exitCode !== null) throw new Error(`consul exited: ${d.output()}`);
    });

    test("READY=1 arrives on $NOTIFY_SOCKET", () => {
      expect(notified.trim()).toBe("READY=1");
    });
    test("HTTPS and gRPC-TLS serve the configured certificate, verified against the CA", () => {
      const https = sClient(server.ports.https, ca.cert);
      expect(https.out).toContain("Verification: OK");
      expect(https.status).toBe(0);
      expect(sClient(server.ports.grpc_tls, ca.cert).status).toBe(0);
    });
    test("ACL bootstrap: 'No cluster leader' until bootstrap_expect servers joined, then once, then 'no longer allowed'", () => {
      const secret = join(dir, "mgmt");
      writeFileSync(secret, "0b1f6e29-9d4c-4a6e-9d1e-2f0f0f1f2a3b\n");
      const e = { ...env(), CONSUL_HTTP_ADDR: `https://127.0.0.1:${server.ports.https}`, CONSUL_CACERT: ca.cert };
      const before = cli("consul", ["acl", "bootstrap", secret], e);
      expect(before.status).toBe(1);
      expect(before.stderr).toContain("Failed ACL bootstrapping: Unexpected response code: 500 (No cluster leader)");
      // The two other servers join, as their agents would.
      for (const n of ["core-2", "core-3"]) {
        const r = run("curl", ["-fsS", "-X", "POST", "-d", JSON.stringify({ node: n, ip: "127.0.0.1", server: true, expect: 3 }), `http://127.0.0.1:${svc.ports.state}/rpc/consul/join`]);
        expect(r.status).toBe(0);
      }
      const first = cli("consul", ["acl", "bootstrap", secret], e);
      expect(first.status).toBe(0);
      expect(first.stdout).toContain("SecretID:         0b1f6e29-9d4c-4a6e-9d1e-2f0f0f1f2a3b");
      const second = cli("consul", ["acl", "bootstrap", secret], e);
      expect(second.status).toBe(1);
      expect(second.stderr).toMatch(/Unexpected response code: 403 \(Permission denied: ACL bootstrap no longer allowed \(reset index: \d+\)\)/);
      // Policies and tokens need the management token.
      const rules = join(dir, "rules.hcl");
      writeFileSync(rules, 'node_prefix "" { policy = "read" }\n');
      expect(cli("consul", ["acl", "policy", "create", "-name", "p", "-rules", `@${rules}`], e).status).toBe(1);
      const withToken = { ...e, CONSUL_HTTP_TOKEN_FILE: secret };
      expect(cli("consul", ["acl", "policy", "read", "-name", "p"], withToken).status).toBe(1);
      expect(cli("consul", ["acl", "policy", "create", "-name", "p", "-rules", `@${rules}`], withToken).status).toBe(0);
      const tok = cli("consul", ["acl", "token", "create", "-policy-name", "p", "-description", "d", "-format", "json"], withToken);
      expect(tok.status).toBe(0);
      const accessor = (JSON.parse(tok.stdout) as { AccessorID: string }).AccessorID;
      expect(cli("consul", ["acl", "token", "delete", "-id", accessor], withToken).stdout).toContain("deleted successfully");
      const boots = svc.events().filter((ev) => ev.source === "consul" && ev.event === "acl-bootstrap").map((ev) => ev.outcome);
      expect(boots).toEqual(["no-leader", "ok", "already-bootstrapped"]);
    });
    test("the CLI refuses a server its CA does not verify, with Go's x509 text", () => {
      const other = makeCa(join(dir, "core-1"), "Other CA");
      const r = cli("consul", ["acl", "policy", "read", "-name", "p"], { ...env(), CONSUL_HTTP_ADDR: `https://127.0.0.1:${server.ports.https}`, CONSUL_CACERT: other.cert });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain("tls: failed to verify certificate: x509: certificate signed by unknown authority");
    });
    test("a client agent with auto_encrypt serves a Connect-CA certificate the Bitte CA does not verify (defect 4's chain)", async () => {
      const base = join(dir, "client-1");
      mkdirSync(join(base, "etc"), { recursive: true });
      mkdirSync(join(base, "data"), { recursive: true });
      const ports = { http: await freePort(), https: await freePort(), grpc: -1, grpc_tls: await freePort(), dns: -1 };
      writeJson(join(base, "etc", "consul.json"), {
        datacenter: "dc1",
        node_name: "client-1",
        data_dir: join(base, "data"),
        bind_addr: "127.0.0.1",
        advertise_addr: "127.0.0.1",
        addresses: { http: "127.0.0.1", https: "127.0.0.1", grpc_tls: "127.0.0.1" },
        ports,
        tls: { defaults: { ca_file: ca.cert, verify_incoming: true, verify_outgoing: true }, https: { verify_incoming: false }, grpc: { verify_incoming: false } },
        auto_encrypt: { tls: true },
        server: false,
      });
      const d = daemon("consul", ["agent", `-config-dir=${join(base, "etc")}`], env());
      running.push(d);
      await waitFor("the client agent's start event", () => svc.events().some((ev) => ev.node === "client-1" && ev.event === "start") || d.proc.exitCode !== null, 120_000);
      expect(d.proc.exitCode).toBeNull();
      const r = sClient(ports.https, ca.cert);
      expect(r.status).not.toBe(0);
      expect(r.out).toMatch(/unable to get local issuer certificate|unable to verify/);
      expect(svc.events().find((ev) => ev.event === "connect-ca")).toMatchObject({ generated: true });
      expect(svc.events().find((ev) => ev.node === "client-1" && ev.event === "start")).toMatchObject({ certificate: "auto_encrypt" });

      // A Nomad client trusting only the Bitte CA (consul.ca_file, grpc_ca_file) cannot talk to it.
      const nbase = join(dir, "nomad-client-1");
      mkdirSync(nbase, { recursive: true });
      writeJson(join(nbase, "nomad.json"), {
        name: "nomad-client-1",
        data_dir: join(nbase, "data"),
        bind_addr: "127.0.0.1",
        ports: { http: await freePort(), rpc: await freePort(), serf: await freePort() },
        client: { enabled: true },
        consul: { address: `127.0.0.1:${ports.https}`, ssl: true, ca_file: ca.cert, grpc_address: `127.0.0.1:${ports.grpc_tls}`, grpc_ca_file: ca.cert },
      });
      const n = daemon("nomad", ["agent", "-config", nbase], env());
      running.push(n);
      const connects = () => svc.events().filter((ev) => ev.node === "nomad-client-1" && ev.event === "consul-connect");
      await waitFor("nomad's consul-connect events", () => connects().length === 2 || n.proc.exitCode !== null, 120_000);
      expect(connects().map((ev) => [ev.endpoint, ev.outcome, ev.error]).sort()).toEqual([
        ["grpc", "tls-error", "tls: failed to verify certificate: x509: certificate signed by unknown authority"],
        ["http", "tls-error", "tls: failed to verify certificate: x509: certificate signed by unknown authority"],
      ]);
    });
  });

  describe("consul auto_encrypt with the Bitte CA as the Connect CA root", () => {
    test("the client's certificate chains to the Bitte CA", async () => {
      const d2 = tempDir("standins-connect-");
      try {
        const ca2 = makeCa(d2);
        const svc2 = await service(d2, ca2, {});
        await svc2.start();
        try {
          const mk = async (name: string, server: boolean) => {
            const base = join(d2, name);
            mkdirSync(join(base, "etc"), { recursive: true });
            const ports = { http: await freePort(), https: await freePort(), grpc: -1, grpc_tls: -1, dns: -1 };
            const t = server ? ca2.issue(name, "IP:127.0.0.1") : undefined;
            writeJson(join(base, "etc", "consul.json"), {
              node_name: name,
              data_dir: join(base, "data"),
              advertise_addr: "127.0.0.1",
              addresses: { http: "127.0.0.1", https: "127.0.0.1" },
              ports,
              tls: { defaults: { ca_file: ca2.cert, ...(t ? { cert_file: t.cert, key_file: t.key } : {}) } },
              server,
              ...(server
                ? { bootstrap_expect: 1, connect: { enabled: true, ca_provider: "consul", ca_config: { root_cert: readFileSync(ca2.cert, "utf8"), private_key: readFileSync(ca2.key, "utf8") } } }
                : { auto_encrypt: { tls: true } }),
            });
            const d = daemon("consul", ["agent", `-config-dir=${join(base, "etc")}`], { BITTE_STANDINS_CONF: svc2.standinsConf });
            running.push(d);
            await waitFor(`${name} start`, () => svc2.events().some((ev) => ev.node === name && ev.event === "start") || d.proc.exitCode !== null, 120_000);
            expect(d.proc.exitCode).toBeNull();
            return ports;
          };
          await mk("core-1", true);
          const client = await mk("client-1", false);
          const r = sClient(client.https, ca2.cert);
          expect(r.out).toContain("Verification: OK");
          expect(svc2.events().find((ev) => ev.event === "connect-ca")).toMatchObject({ generated: false });
        } finally {
          await svc2.stop();
        }
      } finally {
        rmSync(d2, { recursive: true, force: true });
      }
    });
  });

  describe("nomad: ACL bootstrap", () => {
    test("'No cluster leader' before bootstrap_expect servers, then once, then 'already done'", async () => {
      const base = join(dir, "nomad-1");
      mkdirSync(base, { recursive: true });
      const t = ca.issue("nomad-1", "DNS:server.global.nomad,IP:127.0.0.1");
      const http = await freePort();
      writeJson(join(base, "nomad.json"), {
        name: "nomad-1",
        data_dir: join(base, "data"),
        bind_addr: "127.0.0.1",
        ports: { http, rpc: await freePort(), serf: await freePort() },
        server: { enabled: true, bootstrap_expect: 2 },
        acl: { enabled: true },
        tls: { http: true, rpc: true, ca_file: ca.cert, cert_file: t.cert, key_file: t.key, verify_https_client: false },
      });
      const d = daemon("nomad", ["agent", "-config", base], env());
      running.push(d);
      await waitFor("nomad start", () => svc.events().some((ev) => ev.node === "nomad-1" && ev.event === "start") || d.proc.exitCode !== null, 120_000);
      expect(d.proc.exitCode).toBeNull();
      expect(sClient(http, ca.cert).status).toBe(0);
      const e = { ...env(), NOMAD_ADDR: `https://127.0.0.1:${http}`, NOMAD_CACERT: ca.cert };
      const before = cli("nomad", ["acl", "bootstrap"], e);
      expect(before.status).toBe(1);
      expect(before.stderr).toContain("Error bootstrapping: Unexpected response code: 500 (No cluster leader)");
      run("curl", ["-fsS", "-X", "POST", "-d", JSON.stringify({ node: "nomad-2", ip: "127.0.0.1", server: true, expect: 2 }), `http://127.0.0.1:${svc.ports.state}/rpc/nomad/join`]);
      const first = cli("nomad", ["acl", "bootstrap"], e);
      expect(first.status).toBe(0);
      expect(first.stdout).toMatch(/Secret ID\s+= [0-9a-f-]{36}/);
      const again = cli("nomad", ["acl", "bootstrap"], e);
      expect(again.status).toBe(1);
      expect(again.stderr).toMatch(/Unexpected response code: 400 \(ACL bootstrap already done \(reset index: \d+\)\)/);
    });
  });

  describe("vault: init is local to a node's raft data", () => {
    async function vaultNode(name: string) {
      const base = join(dir, name);
      mkdirSync(join(base, "data"), { recursive: true });
      const t = ca.issue(name, "DNS:vault.service.consul,IP:127.0.0.1");
      const port = await freePort();
      writeJson(join(base, "vault.json"), {
        cluster_addr: `https://127.0.0.1:${await freePort()}`,
        api_addr: `https://127.0.0.1:${port}`,
        disable_mlock: true,
        storage: { raft: { path: join(base, "data"), node_id: name, retry_join: [{ auto_join: "provider=aws tag_key=k tag_value=v", auto_join_scheme: "https" }] } },
        listener: [{ tcp: { address: `127.0.0.1:${port}`, tls_cert_file: t.cert, tls_key_file: t.key } }],
        seal: { awskms: { region: "eu-central-1", kms_key_id: "k" } },
      });
      const d = daemon("vault", ["server", `-config=${join(base, "vault.json")}`], env());
      running.push(d);
      await waitFor(`${name} start`, () => svc.events().some((ev) => ev.node === name && ev.source === "vault" && ev.event === "start") || d.proc.exitCode !== null, 120_000);
      expect(d.proc.exitCode).toBeNull();
      return { ...env(), VAULT_ADDR: `https://127.0.0.1:${port}`, VAULT_CACERT: ca.cert };
    }

    let v1: Record<string, string>;
    let root: string;

    test("-status 2 then init once then 0; a second init is refused; a fresh node is 'not initialized' until its join completes", async () => {
      v1 = await vaultNode("vault-1");
      expect(cli("vault", ["operator", "init", "-status"], v1).status).toBe(2);
      const init = cli("vault", ["operator", "init", "-recovery-shares=5", "-recovery-threshold=3", "-format=json"], v1);
      expect(init.status).toBe(0);
      const out = JSON.parse(init.stdout) as { root_token: string; recovery_keys_b64: string[] };
      root = out.root_token;
      expect(out.recovery_keys_b64).toHaveLength(5);
      expect(cli("vault", ["operator", "init", "-status"], v1).status).toBe(0);
      const again = cli("vault", ["operator", "init", "-format=json"], v1);
      expect(again.status).toBe(2);
      expect(again.stderr).toContain("Vault is already initialized");
      // Autopilot needs the root token.
      const ap = ["operator", "raft", "autopilot", "set-config", "-cleanup-dead-servers=true", "-min-quorum=3"];
      expect(cli("vault", ap, v1).status).toBe(2);
      expect(cli("vault", ap, { ...v1, VAULT_TOKEN: out.root_token }).status).toBe(0);

      // A node with a fresh data volume, whose raft join takes a while.
      writeFileSync(join(svc.stateDir, "faults.json"), JSON.stringify({ vault: { joinDelaySeconds: 600 } }));
      const v2 = await vaultNode("vault-2");
      expect(cli("vault", ["operator", "init", "-status"], v2).status).toBe(2);
      // Initialising it there would make a second cluster: the event log shows it.
      expect(cli("vault", ["operator", "init", "-format=json"], v2).status).toBe(0);
      const inits = svc.events().filter((ev) => ev.event === "operator-init" && ev.outcome === "ok");
      expect(inits.map((ev) => [ev.node, ev.clusters])).toEqual([
        ["vault-1", 1],
        ["vault-2", 2],
      ]);
      rmSync(join(svc.stateDir, "faults.json"));
    });

    test("AWS auth (iam): the signed GetCallerIdentity, the server ID header and the role's bound ARN decide; the raft snapshot needs its policy", async () => {
      const account = String(svc.conf.accountId);
      const vaultAwsAuth = {
        mount: "aws",
        serverIdHeader: "vault.example.test",
        roles: { core: { boundIamPrincipalArns: [`arn:aws:iam::${account}:role/bitte-core`], policies: ["node-core"] }, client: { boundIamPrincipalArns: [`arn:aws:iam::${account}:role/bitte-client`], policies: ["node-client"] } },
        policyTexts: { "node-core": 'path "sys/storage/raft/snapshot" {\n  capabilities = ["read"]\n}\n', "node-client": 'path "sys/storage/raft/*" {\n  capabilities = ["deny"]\n}\n' },
      };
      writeJson(svc.confFile, { ...svc.conf, vaultAwsAuth });
      await svc.stop();
      await svc.start();
      // The instance's role credentials, from the stand-in IMDS (the CLI takes them from the environment here).
      const imds = `http://127.0.0.1:${svc.ports.imds}/latest`;
      const tok = run("curl", ["-fsS", "-X", "PUT", "-H", "X-aws-ec2-metadata-token-ttl-seconds: 60", `${imds}/api/token`]).stdout;
      const creds = JSON.parse(run("curl", ["-fsS", "-H", `X-aws-ec2-metadata-token: ${tok}`, `${imds}/meta-data/iam/security-credentials/bitte-core`]).stdout) as Record<string, string>;
      const aws = { ...v1, AWS_ACCESS_KEY_ID: creds.AccessKeyId, AWS_SECRET_ACCESS_KEY: creds.SecretAccessKey, AWS_SESSION_TOKEN: creds.Token };
      const login = (...args: string[]) => cli("vault", ["login", "-method=aws", "-token-only", "-no-store", ...args], aws);

      const ok = login("role=core", "header_value=vault.example.test");
      expect(ok.status).toBe(0);
      const token = ok.stdout.trim();
      expect(token).toMatch(/^hvs\./);
      expect(login("role=core", "header_value=other").stderr).toContain('expected "vault.example.test" but got "other"');
      expect(login("role=core").stderr).toContain('missing header "X-Vault-AWS-IAM-Server-ID"');
      expect(login("role=client", "header_value=vault.example.test").stderr).toContain(`IAM Principal "arn:aws:sts::${account}:assumed-role/bitte-core/i-0123456789abcdef0" does not belong to the role "client"`);
      expect(login("role=nope", "header_value=vault.example.test").stderr).toContain("entry for role nope not found");
      const forged = cli("vault", ["login", "-method=aws", "-token-only", "-no-store", "role=core", "header_value=vault.example.test"], { ...aws, AWS_SECRET_ACCESS_KEY: `${creds.SecretAccessKey.startsWith("x") ? "y" : "x"}${creds.SecretAccessKey.slice(1)}` });
      expect(forged.status).toBe(2);
      expect(forged.stderr).toContain("received error code 403 from STS");
      expect(forged.stderr).toContain("<Code>SignatureDoesNotMatch</Code>");

      // The core role's policy reads sys/storage/raft/snapshot; a default-policy token may not.
      const snap = join(dir, "vault.snap");
      expect(cli("vault", ["operator", "raft", "snapshot", "save", snap], { ...v1, VAULT_TOKEN: token }).status).toBe(0);
      expect(readFileSync(snap).subarray(0, 2).toString("hex")).toBe("1f8b");
      const plain = JSON.parse(cli("vault", ["token", "create", "-policy=default", "-format=json"], { ...v1, VAULT_TOKEN: root }).stdout) as { auth: { client_token: string } };
      const denied = cli("vault", ["operator", "raft", "snapshot", "save", join(dir, "denied.snap")], { ...v1, VAULT_TOKEN: plain.auth.client_token });
      expect(denied.status).toBe(2);
      expect(denied.stderr).toContain("permission denied");
      writeJson(svc.confFile, svc.conf);
      await svc.stop();
      await svc.start();
    });

    test("node PKI (issue 12, finding 3): bitte-node-pki signs Vault's intermediate with the Bitte CA; a client issues only its own instance's name; one serial is revoked", async () => {
      const account = String(svc.conf.accountId);
      const consul = synthConsul().parsed;
      const [backendId] = Object.keys(consulResources(consul, "vault_auth_backend"));
      const accessor = "auth_aws_0c1d2e3f";
      const [pkiRole] = Object.values(consulResources(consul, "vault_pki_secret_backend_role")).filter((r) => r.backend === "pki_nodes");
      const [identity] = Object.values(consulResources(consul, "vault_aws_auth_backend_config_identity"));
      const clientPolicy = Object.values(consulResources(consul, "vault_policy")).find((p) => p.name === "bitte-node-client") as Record<string, unknown>;
      const vaultAwsAuth = {
        mount: "aws",
        accessor,
        serverIdHeader: "vault.example.test",
        identity: { iamAlias: identity.iam_alias, iamMetadata: identity.iam_metadata },
        roles: { "client-eu-central-1": { boundIamPrincipalArns: [`arn:aws:iam::${account}:role/bitte-core`], policies: ["bitte-node-client"], inferredEntityType: "ec2_instance", inferredAwsRegion: "eu-central-1" } },
        policyTexts: { "bitte-node-client": String(clientPolicy.policy) },
        pkiRoles: { "pki_nodes/nomad-client": JSON.parse(JSON.stringify(pkiRole).split(`\${vault_auth_backend.${backendId}.accessor}`).join(accessor)) as unknown },
      };
      // Vault runs on vault-1, an instance whose role may not yet call ec2:DescribeInstances.
      const vaultInstance = { ip: "127.0.0.2", instanceId: "i-0aaaaaaaaaaaaaaa1", name: "vault-1", role: "core", zone: "eu-central-1a", iamRole: "bitte-vault" };
      const instances = [...(svc.conf.instances as unknown[]), vaultInstance];
      writeJson(svc.confFile, { ...svc.conf, instances, vaultAwsAuth });
      await svc.stop();
      await svc.start();

      // bitte-node-pki, the real script, with the stand-in vault CLI on PATH and the Bitte CA.
      const bin = join(dir, "pki-bin");
      mkdirSync(bin, { recursive: true });
      writeFileSync(join(bin, "vault"), `#!/bin/sh\nexec python3 -c 'import sys; sys.path.insert(0, ${JSON.stringify(PY)}); from bitte_standins.vault import main; sys.exit(main())' "$@"\n`);
      chmodSync(join(bin, "vault"), 0o755);
      const tlsDir = join(dir, "pki-tls");
      mkdirSync(tlsDir, { recursive: true });
      writeFileSync(join(tlsDir, "ca.pem"), readFileSync(ca.cert));
      const bundle = join(dir, "ca.bundle");
      writeFileSync(bundle, readFileSync(ca.cert, "utf8") + readFileSync(ca.key, "utf8"));
      const envFile = join(dir, "pki.env");
      writeFileSync(envFile, `BITTE_NODE_PKI_PATH="pki_nodes"\nBITTE_NODE_PKI_DOMAINS="global.nomad localhost"\nBITTE_TLS_DIR="${tlsDir}"\nBITTE_NODE_NAME="vault-1"\nBITTE_CLUSTER="test"\n`);
      const rootFile = join(dir, "root-token");
      writeFileSync(rootFile, root);
      const script = join(__dirname, "../../../constructs/node-config/scripts/bitte-node-pki.sh");
      const pkiEnv = { ...process.env, ...v1, BITTE_ENV_FILE: envFile, PATH: `${bin}:${process.env.PATH ?? ""}`, PYTHONDONTWRITEBYTECODE: "1", TMPDIR: dir };
      const setup = run("bash", [script, rootFile, bundle], { env: pkiEnv, timeoutMs: 120_000 });
      expect({ status: setup.status, err: setup.stderr }).toEqual({ status: 0, err: expect.stringContaining("pki_nodes issues from an intermediate signed by the Bitte CA") });
      // Idempotent: a second run changes nothing.
      const again = run("bash", [script, rootFile, bundle], { env: pkiEnv, timeoutMs: 120_000 });
      expect(again.stderr).toContain("pki_nodes issues from an intermediate of the Bitte CA");
      expect(svc.events().filter((e) => e.event === "pki-generate")).toHaveLength(1);
      // A certificate for a key the mount never generated is imported without a key: it cannot issue.
      const stranger = ca.issue("stranger", "DNS:x.global.nomad");
      const imported = cli("vault", ["write", "-format=json", "pki_nodes/intermediate/set-signed", `certificate=@${stranger.cert}`], { ...v1, VAULT_TOKEN: root });
      expect(Object.values((JSON.parse(imported.stdout) as { data: { mapping: Record<string, string> } }).data.mapping)).toEqual([""]);

      // The client logs in with its instance role; Vault must verify the instance with its own role first.
      const imds = `http://127.0.0.1:${svc.ports.imds}/latest`;
      const tok = run("curl", ["-fsS", "-X", "PUT", "-H", "X-aws-ec2-metadata-token-ttl-seconds: 60", `${imds}/api/token`]).stdout;
      const creds = JSON.parse(run("curl", ["-fsS", "-H", `X-aws-ec2-metadata-token: ${tok}`, `${imds}/meta-data/iam/security-credentials/bitte-core`]).stdout) as Record<string, string>;
      const aws = { ...v1, AWS_ACCESS_KEY_ID: creds.AccessKeyId, AWS_SECRET_ACCESS_KEY: creds.SecretAccessKey, AWS_SESSION_TOKEN: creds.Token };
      const login = () => cli("vault", ["login", "-method=aws", "-token-only", "-no-store", "role=client-eu-central-1", "header_value=vault.example.test"], aws);
      expect(login().stderr).toContain("failed to verify i-0123456789abcdef0 as a valid EC2 instance in region eu-central-1");
      writeJson(svc.confFile, { ...svc.conf, instances, vaultAwsAuth, iamPolicies: { "bitte-vault": [{ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: ["ec2:DescribeInstances"], Resource: "*" }] }] } });
      await svc.stop();
      await svc.start();
      const ok = login();
      expect(ok.status).toBe(0);
      const client = { ...v1, VAULT_TOKEN: ok.stdout.trim() };
      const issue = (cn: string, alt = "client.global.nomad,localhost") => cli("vault", ["write", "-format=json", "pki_nodes/issue/nomad-client", `common_name=${cn}`, `alt_names=${alt}`, "ip_sans=127.0.0.1,10.0.8.20", "ttl=24h"], client);
      const mine = issue("i-0123456789abcdef0.client.global.nomad");
      expect(mine.status).toBe(0);
      const data = (JSON.parse(mine.stdout) as { data: { certificate: string; ca_chain: string[]; private_key: string; serial_number: string } }).data;
      const leaf = join(dir, "leaf.pem");
      writeFileSync(leaf, data.certificate + data.ca_chain.join(""));
      expect(run("openssl", ["verify", "-CAfile", ca.cert, "-untrusted", leaf, leaf]).status).toBe(0);
      expect(run("openssl", ["x509", "-in", leaf, "-noout", "-ext", "subjectAltName"]).stdout).toMatch(/DNS:i-0123456789abcdef0\.client\.global\.nomad, DNS:client\.global\.nomad, DNS:localhost, IP Address:127\.0\.0\.1, IP Address:10\.0\.8\.20/);
      // Another instance's name, or any other name, is refused with Vault's texts.
      expect(issue("i-0ffffffffffffffff.client.global.nomad").stderr).toContain("common name i-0ffffffffffffffff.client.global.nomad not allowed by this role");
      expect(issue("i-0123456789abcdef0.client.global.nomad", "server.global.nomad").stderr).toContain("subject alternate name server.global.nomad not allowed by this role");
      // The node policy allows issuing only: not revoking, not the mount's other paths.
      expect(cli("vault", ["write", "pki_nodes/revoke", `serial_number=${data.serial_number}`], client).stderr).toContain("permission denied");
      // The operator revokes this one certificate by serial; Vault knows it and its revocation.
      expect(cli("vault", ["write", "pki_nodes/revoke", `serial_number=${data.serial_number}`], { ...v1, VAULT_TOKEN: root }).status).toBe(0);
      const stored = JSON.parse(cli("vault", ["read", "-format=json", `pki_nodes/cert/${data.serial_number}`], { ...v1, VAULT_TOKEN: root }).stdout) as { data: { revocation_time: number } };
      expect(stored.data.revocation_time).toBeGreaterThan(0);
      writeJson(svc.confFile, svc.conf);
      await svc.stop();
      await svc.start();
    });
  });
});

