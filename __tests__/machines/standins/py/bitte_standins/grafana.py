"""Stand-ins for Grafana's server (12.x), Loki and Promtail (3.5.x).

What they enforce, as the real programs fail at start:
- grafana server: the --config file readable (pkg/setting: "failed to load configuration
  file"), GF_* environment over `cfg:default.*` command-line defaults over the ini file (Grafana's
  documented precedence), data and logs paths writable (sqlite's grafana.db, grafana.log), every
  provisioning YAML readable and parseable; HTTP on http_addr:http_port; /api/health.
- loki / promtail: -config.file readable and valid YAML (strict unmarshal: a YAML error is fatal);
  loki's common.path_prefix and filesystem directories writable; promtail's positions file
  writable (logged and recorded, not fatal, as in promtail); HTTP on server.http_listen_port with /ready.
Unknown keys in Loki/Promtail YAML are NOT checked here (no schema extracted from their source).
"""
import configparser
import http.server
import os
import sys

from . import common
from .common import Fatal


def _yaml(path):
    import yaml

    text = common.read_file(path).decode()
    try:
        return yaml.safe_load(text) or {}
    except yaml.YAMLError as e:
        raise Fatal(f"failed parsing config: {path}: {e}") from None


class _Health(http.server.BaseHTTPRequestHandler):
    body = b"ready\n"

    def log_message(self, *a):
        pass

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)


def grafana_server(argv):
    args = [a for a in argv if a != "server"]
    conf_file = next((a.split("=", 1)[1] for a in args if a.startswith("--config=")), "/etc/grafana/grafana.ini")
    defaults = dict(a[len("cfg:default."):].split("=", 1) for a in args if a.startswith("cfg:default."))
    ini = configparser.ConfigParser(interpolation=None)
    try:
        ini.read_string(common.read_file(conf_file).decode())
    except Fatal as e:
        raise Fatal(f"Grafana server init failed: failed to load configuration file: {e}") from None

    def setting(section, key, fallback):
        env = os.environ.get(f"GF_{section.upper()}_{key.upper()}")
        if env is not None:
            return env
        if ini.has_option(section, key):
            return ini.get(section, key)
        return defaults.get(f"{section}.{key}", fallback)

    data = setting("paths", "data", "/var/lib/grafana")
    logs = setting("paths", "logs", "/var/log/grafana")
    prov = setting("paths", "provisioning", "/etc/grafana/provisioning")
    try:
        common.check_writable_dir(data, "grafana.db")
    except Fatal as e:
        raise Fatal(f"Grafana server init failed: failed to connect to database: unable to open database file: {e}") from None
    common.check_writable_dir(logs, "grafana.log")
    provisioned = []
    for root, _, files in os.walk(prov):
        for f in sorted(files):
            if f.endswith((".yaml", ".yml")):
                _yaml(os.path.join(root, f))
                provisioned.append(os.path.join(root, f))
    host = setting("server", "http_addr", "") or "0.0.0.0"
    port = int(setting("server", "http_port", "3000"))
    cls = type("GrafanaHealth", (_Health,), {"body": b'{"database":"ok","version":"12.2.1"}'})
    common.listen(host, port, cls)
    uid, user = common.whoami()
    node = os.uname().nodename
    common.event(node, "grafana", "start", uid=uid, user=user, config=conf_file, data=data, provisioning=provisioned,
                 adminPassword="GF_SECURITY_ADMIN_PASSWORD" in os.environ, listen=f"http://{host}:{port}")
    common.sd_notify("READY=1")
    common.wait_forever(lambda: common.event(node, "grafana", "stop"))
    return 0


def _config_file(argv):
    for i, a in enumerate(argv):
        if a.startswith(("-config.file=", "--config.file=")):
            return a.split("=", 1)[1]
        if a in ("-config.file", "--config.file") and i + 1 < len(argv):
            return argv[i + 1]
    raise Fatal("config.file is required")


def _loki(argv):
    path = _config_file(argv)
    cfg = _yaml(path)
    common_cfg = cfg.get("common", {}) or {}
    dirs = [common_cfg.get("path_prefix")]
    fs = (common_cfg.get("storage") or {}).get("filesystem") or {}
    dirs += [fs.get("chunks_directory"), fs.get("rules_directory")]
    for d in filter(None, dirs):
        try:
            common.check_writable_dir(d, ".loki-write-check")
        except Fatal as e:
            raise Fatal(f'level=error msg="error initialising module" err="{e}"') from None
    srv = cfg.get("server", {}) or {}
    host, port = srv.get("http_listen_address", "0.0.0.0"), int(srv.get("http_listen_port", 3100))
    common.listen(host, port, _Health)
    uid, user = common.whoami()
    node = os.uname().nodename
    common.event(node, "loki", "start", uid=uid, user=user, config=path, listen=f"http://{host}:{port}")
    common.sd_notify("READY=1")
    common.wait_forever(lambda: common.event(node, "loki", "stop"))
    return 0


def _promtail(argv):
    path = _config_file(argv)
    cfg = _yaml(path)
    pos = (cfg.get("positions") or {}).get("filename", "/var/log/positions.yaml")
    # Promtail writes positions through a temporary file beside the target (grafana/loki#10113:
    # "open /var/log/.positions.yaml<N>: permission denied") and keeps running when that fails.
    positions_error = None
    try:
        probe = common.check_writable_dir(os.path.dirname(pos) or ".", f".{os.path.basename(pos)}{os.getpid()}")
        os.unlink(probe)
    except (Fatal, OSError) as e:
        positions_error = str(e)
        print(f'level=error msg="error writing positions file" error="{e}"', file=sys.stderr, flush=True)
    srv = cfg.get("server", {}) or {}
    host, port = srv.get("http_listen_address", "0.0.0.0"), int(srv.get("http_listen_port", 9080))
    if port:
        common.listen(host, port, _Health)
    uid, user = common.whoami()
    node = os.uname().nodename
    common.event(node, "promtail", "start", uid=uid, user=user, config=path, positions=pos, positionsError=positions_error)
    common.sd_notify("READY=1")
    common.wait_forever(lambda: common.event(node, "promtail", "stop"))
    return 0


def main(argv=None):
    return common.run_main(grafana_server, sys.argv[1:] if argv is None else argv, "Error: ✗ ")


def loki(argv=None):
    return common.run_main(_loki, sys.argv[1:] if argv is None else argv)


def promtail(argv=None):
    return common.run_main(_promtail, sys.argv[1:] if argv is None else argv)
