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

/**
 * The primary group of each account the roles' packages create, from their maintainer scripts
 * (the stand-ins in __tests__/machines/standins/packages copy them and cite the source):
 * HashiCorp's preinstall `useradd --system --user-group` (consul, nomad, vault); grafana's postinst
 * `addgroup --system grafana` + `adduser --ingroup`; promtail's `adduser --ingroup promtail`;
 * loki's loki-postinstall.sh `adduser --system` with no group, which adduser puts in `nogroup`;
 * Debian's victoria-metrics postinst `adduser --system --group victoriametrics`.
 */
const PRIMARY_GROUP: Readonly<Record<string, string>> = { root: "root", consul: "consul", nomad: "nomad", vault: "vault", grafana: "grafana", promtail: "promtail", loki: "nogroup", victoriametrics: "victoriametrics" };

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

  test("every directory the first boot makes has an owner and group that exist, and no shared group", () => {
    // `install -g <group>` fails on a group that does not exist ("invalid group"), and the
    // directory is never made: Loki's user has no group of its own. Nor may a data directory be
    // readable through a group that unrelated system users share (nogroup).
    const bad = doc.runcmd
      .filter((cmd) => cmd[0] === "install" && cmd.includes("-d"))
      .flatMap((cmd) => {
        const owner = cmd[cmd.indexOf("-o") + 1];
        const group = cmd[cmd.indexOf("-g") + 1];
        const known = [PRIMARY_GROUP[owner], "root"];
        return known.includes(group) && group !== "nogroup" && owner in PRIMARY_GROUP ? [] : [`${cmd.at(-1)}: -o ${owner} -g ${group}`];
      });
    expect(bad).toEqual([]);
  });
});
