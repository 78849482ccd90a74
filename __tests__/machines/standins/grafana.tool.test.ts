/**
 * The Grafana-stack stand-ins refuse at start what the real programs refuse: an unreadable config
 * file (as the unit's uid), a data path they cannot write, invalid YAML; and serve HTTP when
 * they can.
 */
import { chmodSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describeWithTools, run } from "../../harness/tools";
import { cli, daemon, freePort, pythonFor, tempDir, waitFor } from "./harness";

const NOBODY = 65534;

describeWithTools(["python3", "setpriv", "curl"], "stand-in grafana-server, loki and promtail", () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir("standins-grafana-");
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const env = () => ({ BITTE_STANDINS_CONF: join(dir, "none.json") });

  test("grafana server: an ini file its uid cannot read fails; a data path it cannot write fails", () => {
    const ini = join(dir, "grafana.ini");
    writeFileSync(ini, "[server]\nhttp_port = 3000\n");
    chmodSync(ini, 0o640); // root:root, as a file the package's chown did not reach
    const r = cli("grafana", ["server", `--config=${ini}`, `cfg:default.paths.data=${join(dir, "data")}`], env(), NOBODY);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`failed to load configuration file: open ${ini}: permission denied`);
    chmodSync(ini, 0o644);
    mkdirSync(join(dir, "data"), { mode: 0o755 });
    const w = cli("grafana", ["server", `--config=${ini}`, `cfg:default.paths.data=${join(dir, "data")}`], env(), NOBODY);
    expect(w.status).toBe(1);
    expect(w.stderr).toContain(`unable to open database file: open ${join(dir, "data")}/grafana.db: permission denied`);
  });

  test("grafana server: GF_* environment wins over cfg:default and serves /api/health", async () => {
    const ini = join(dir, "g2.ini");
    writeFileSync(ini, "[server]\nhttp_port = 1\n");
    const port = await freePort();
    const d = daemon("grafana", ["server", `--config=${ini}`, `cfg:default.paths.data=${join(dir, "nowhere")}`], {
      ...env(),
      GF_SERVER_HTTP_ADDR: "127.0.0.1",
      GF_SERVER_HTTP_PORT: String(port),
      GF_PATHS_DATA: join(dir, "gdata"),
      GF_PATHS_LOGS: join(dir, "glogs"),
      GF_PATHS_PROVISIONING: join(dir, "prov"),
    });
    try {
      await waitFor("grafana /api/health", () => d.proc.exitCode !== null || run("curl", ["-fsS", `http://127.0.0.1:${port}/api/health`]).status === 0, 60_000);
      expect(d.proc.exitCode).toBeNull();
      expect(JSON.parse(run("curl", ["-fsS", `http://127.0.0.1:${port}/api/health`]).stdout)).toMatchObject({ database: "ok" });
    } finally {
      await d.stop();
    }
  });

  test("loki: invalid YAML fails; a path_prefix it cannot write fails", () => {
    const bad = join(dir, "loki-bad.yml");
    writeFileSync(bad, "server: [unclosed\n");
    const y = run("python3", ["-c", `import sys; sys.path.insert(0, ${JSON.stringify(join(__dirname, "py"))}); from bitte_standins.grafana import loki; sys.exit(loki(["-config.file", ${JSON.stringify(bad)}]))`]);
    expect(y.status).toBe(1);
    expect(y.stderr).toContain(`failed parsing config: ${bad}`);
    const ro = join(dir, "loki-ro");
    mkdirSync(ro, { mode: 0o755 });
    const cfg = join(dir, "loki.yml");
    writeFileSync(cfg, `server:\n  http_listen_port: 0\ncommon:\n  path_prefix: ${ro}\n`);
    chmodSync(cfg, 0o644);
    const w = run("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", pythonFor(NOBODY), "-c", `import sys; sys.path.insert(0, ${JSON.stringify(join(__dirname, "py"))}); from bitte_standins.grafana import loki; sys.exit(loki(["-config.file", ${JSON.stringify(cfg)}]))`]);
    expect(w.status).toBe(1);
    expect(w.stderr).toContain(`open ${ro}/.loki-write-check: permission denied`);
  });
});
