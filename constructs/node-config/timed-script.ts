/**
 * A root-owned script that a oneshot unit runs on a timer (snapshots on the core nodes, the Nomad
 * client certificate's renewal): the four files each such job ships, rendered in one place so the
 * units' hardening stays the same for all of them.
 */
import { asset, shippedScript } from "./assets";
import type { NodeFile } from "./types";

export interface TimedScriptProps {
  /** Unit name without suffix (`bitte-snapshot`): `<name>.service` and `<name>.timer`. */
  readonly name: string;
  /** Where the script is installed, e.g. `/usr/local/sbin/bitte-snapshot`. */
  readonly scriptPath: string;
  /** The script's source under `constructs/node-config/`, e.g. `scripts/bitte-snapshot.sh`. */
  readonly scriptAsset: string;
  /** The environment file the script reads, and its variables (values written JSON-quoted). */
  readonly envPath: string;
  readonly env: Readonly<Record<string, string>>;
  /** The service's Description, the units it runs after (besides network-online.target), its writable paths and start timeout. */
  readonly service: { readonly description: string; readonly after: readonly string[]; readonly readWritePaths: string; readonly timeoutStart: string };
  /** The timer's Description and its [Timer] lines (OnBootSec=…, …). */
  readonly timer: { readonly description: string; readonly lines: readonly string[] };
}

/** `KEY="value"` lines, one per variable. */
export function envFileText(vars: Readonly<Record<string, string>>): string {
  return Object.entries(vars).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join("\n") + "\n";
}

function serviceText(p: TimedScriptProps): string {
  return [
    "[Unit]",
    `Description=${p.service.description}`,
    "Wants=network-online.target",
    `After=${["network-online.target", ...p.service.after].join(" ")}`,
    "",
    "[Service]",
    "Type=oneshot",
    `ExecStart=${p.scriptPath}`,
    "UMask=0077",
    "LimitCORE=0",
    "NoNewPrivileges=yes",
    "ProtectSystem=strict",
    "ProtectHome=yes",
    "PrivateTmp=yes",
    `ReadWritePaths=${p.service.readWritePaths}`,
    `TimeoutStartSec=${p.service.timeoutStart}`,
    "",
  ].join("\n");
}

function timerText(p: TimedScriptProps): string {
  return ["[Unit]", `Description=${p.timer.description}`, "", "[Timer]", ...p.timer.lines, "", "[Install]", "WantedBy=timers.target", ""].join("\n");
}

/** The script (0755), its environment file, the service and the timer, all root's. */
export function timedScriptFiles(p: TimedScriptProps): NodeFile[] {
  const root = (path: string, content: string, permissions = "0644"): NodeFile => ({ path, content, permissions, owner: "root:root" });
  return [
    root(p.scriptPath, shippedScript(asset(p.scriptAsset)), "0755"),
    root(p.envPath, envFileText(p.env)),
    root(`/etc/systemd/system/${p.name}.service`, serviceText(p)),
    root(`/etc/systemd/system/${p.name}.timer`, timerText(p)),
  ];
}
