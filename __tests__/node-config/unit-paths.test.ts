/**
 * Defect 3 (issue 11): systemd refuses to start a unit whose ReadWritePaths names a path that does
 * not exist (status 226/NAMESPACE). Every ReadWritePaths of every rendered unit and drop-in must be
 * a directory the node has by the time the unit starts: made by the user data's first-boot
 * commands (before anything is started), or by the system or a package.
 */
import { parse } from "yaml";
import { NODE_ROLES } from "../../constructs/node-config";
import { cluster, renderUserData } from "./render-helpers";

/**
 * Directories that exist without the user data: the system's, and the packages' own (grafana's
 * deb postinst makes /var/log/grafana, grafana/grafana packaging/deb/control/postinst; Debian's
 * prometheus-node-exporter ships its textfile collector directory /var/lib/prometheus/node-exporter
 * and prometheus-alertmanager its storage directory /var/lib/prometheus/alertmanager, the
 * defaults in their /etc/default files).
 */
const PRESENT = new Set(["/run", "/var/log/grafana", "/var/lib/prometheus/node-exporter", "/var/lib/prometheus/alertmanager"]);

interface Doc {
  write_files: { path: string; content: string }[];
  runcmd: string[][];
}

describe.each(NODE_ROLES)("%s node", (role) => {
  const doc = parse(renderUserData({ cluster, role, ...(role === "core" ? { nodeName: "core-1" } : {}) })) as Doc;
  const made = doc.runcmd.flatMap((cmd, i) => (cmd[0] === "install" && cmd.includes("-d") ? [{ path: cmd[cmd.length - 1], at: i, owner: cmd[cmd.indexOf("-o") + 1] }] : []));
  const firstStart = doc.runcmd.findIndex((cmd) => cmd[0] === "systemctl" && ["start", "restart"].includes(cmd[1]) && cmd[2] !== "systemd-resolved");

  test("every ReadWritePaths exists before the first unit starts", () => {
    const missing: string[] = [];
    for (const f of doc.write_files.filter((w) => w.path.startsWith("/etc/systemd/system/"))) {
      for (const line of f.content.split("\n").filter((l) => l.startsWith("ReadWritePaths="))) {
        for (const path of line.slice("ReadWritePaths=".length).split(/\s+/).filter(Boolean)) {
          if (path.startsWith("-") || PRESENT.has(path)) continue;
          const m = made.find((d) => d.path === path);
          if (!m || m.at > firstStart) missing.push(`${f.path}: ${path}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });
});
