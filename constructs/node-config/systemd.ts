import { PATHS } from "./paths";

/** A `[Section]` of a unit file: keys in order, repeated keys as arrays. */
type Section = Readonly<Record<string, string | readonly string[]>>;

function render(sections: Readonly<Record<string, Section>>): string {
  return Object.entries(sections)
    .map(([name, keys]) => [`[${name}]`, ...Object.entries(keys).flatMap(([k, v]) => (typeof v === "string" ? [v] : v).map((x) => `${k}=${x}`))].join("\n"))
    .join("\n\n") + "\n";
}

/**
 * The sandbox every long-running service gets: no privilege gain, a read-only system, private
 * /tmp and no kernel tunables. Services name the few paths they write.
 */
function hardening(readWritePaths: readonly string[]): Section {
  return {
    NoNewPrivileges: "yes",
    ProtectSystem: "strict",
    ProtectHome: "yes",
    PrivateTmp: "yes",
    PrivateDevices: "yes",
    ProtectKernelTunables: "yes",
    ProtectKernelModules: "yes",
    ProtectControlGroups: "yes",
    RestrictSUIDSGID: "yes",
    LockPersonality: "yes",
    ...(readWritePaths.length > 0 ? { ReadWritePaths: readWritePaths.join(" ") } : {}),
    Restart: "on-failure",
    RestartSec: "5",
  };
}

export interface ServiceUnitProps {
  readonly description: string;
  /** Dedicated user; `root` only where the service needs it (the Nomad client). */
  readonly user: string;
  readonly execStart: string;
  /** @default none */
  readonly execReload?: string;
  /** @default "simple" */
  readonly type?: "simple" | "notify" | "oneshot";
  /** @default [] */
  readonly after?: readonly string[];
  /** Environment files; a leading `-` makes one optional. @default [] */
  readonly environmentFiles?: readonly string[];
  /** @default [] */
  readonly readWritePaths?: readonly string[];
  /** @default "SIGTERM" */
  readonly killSignal?: string;
  /**
   * Which processes the stop signal goes to: `process` signals only the main process, so an agent
   * that stops its own children (the Nomad client's task executors and plugins) can do so in order.
   * @default systemd's "control-group" (every process of the unit at once)
   */
  readonly killMode?: "control-group" | "mixed" | "process";
  /**
   * Seconds systemd waits after the stop signal before it kills the service (`TimeoutStopSec`);
   * a whole number of at least 1.
   * @default systemd's DefaultTimeoutStopSec (90 s on Ubuntu)
   */
  readonly timeoutStopSec?: number;
  /**
   * The full sandbox; off only for the Nomad client, which mounts task directories and drives
   * Docker and cgroups.
   * @default true
   */
  readonly sandbox?: boolean;
}

/** A complete service unit, replacing the package's own. */
export function serviceUnit(p: ServiceUnitProps): string {
  if (p.timeoutStopSec !== undefined && (!Number.isInteger(p.timeoutStopSec) || p.timeoutStopSec < 1)) {
    throw new Error(`${p.description}: timeoutStopSec ${p.timeoutStopSec}: give whole seconds, at least 1`);
  }
  const after = ["network-online.target", ...(p.after ?? [])];
  const service: Record<string, string | readonly string[]> = {
    Type: p.type ?? "simple",
    User: p.user,
    Group: p.user,
    ...(p.environmentFiles?.length ? { EnvironmentFile: p.environmentFiles } : {}),
    ExecStart: p.execStart,
    ...(p.execReload ? { ExecReload: p.execReload } : {}),
    KillSignal: p.killSignal ?? "SIGTERM",
    ...(p.killMode ? { KillMode: p.killMode } : {}),
    ...(p.timeoutStopSec !== undefined ? { TimeoutStopSec: String(p.timeoutStopSec) } : {}),
    LimitNOFILE: "65536",
    // Core dumps could hold keys and tokens.
    LimitCORE: "0",
    ...(p.sandbox === false ? { NoNewPrivileges: "yes", Restart: "on-failure", RestartSec: "5" } : hardening(p.readWritePaths ?? [])),
  };
  return render({
    Unit: { Description: p.description, Wants: "network-online.target", After: after.join(" ") },
    Service: service,
    Install: { WantedBy: "multi-user.target" },
  });
}

/** A drop-in for a package's own unit: environment, sandbox and restart policy on top. */
export function dropIn(p: { readonly environmentFiles?: readonly string[]; readonly readWritePaths?: readonly string[]; readonly execStart?: string; readonly supplementaryGroups?: string }): string {
  return render({
    Service: {
      ...(p.environmentFiles?.length ? { EnvironmentFile: p.environmentFiles } : {}),
      ...(p.execStart ? { ExecStart: ["", p.execStart] } : {}),
      ...(p.supplementaryGroups ? { SupplementaryGroups: p.supplementaryGroups } : {}),
      ...hardening(p.readWritePaths ?? []),
    },
  });
}

/**
 * How often systemd reruns a failed bootstrap: every RestartSec, at most StartLimitBurst starts in
 * StartLimitIntervalSec (a failed run itself is bounded by the script's retries), then it stays
 * failed for an operator. The script is safe to run again at any step.
 */
export const BOOTSTRAP_RESTART = Object.freeze({ restartSec: 30, startLimitBurst: 5, startLimitIntervalSec: 4 * 3600 });

/** The oneshot that runs the bootstrap script once per boot; its log goes to the journal only. */
export function bootstrapUnit(): string {
  return render({
    Unit: {
      Description: "Bitte first-boot bootstrap (trust material, ACLs, Vault init)",
      Wants: "network-online.target",
      After: "network-online.target",
      StartLimitIntervalSec: String(BOOTSTRAP_RESTART.startLimitIntervalSec),
      StartLimitBurst: String(BOOTSTRAP_RESTART.startLimitBurst),
    },
    Service: {
      Type: "oneshot",
      RemainAfterExit: "yes",
      // Transient failures (SSM throttling beyond the script's retries, a peer not up yet) heal on a rerun.
      Restart: "on-failure",
      RestartSec: String(BOOTSTRAP_RESTART.restartSec),
      ExecStart: PATHS.bootstrapScript,
      StandardOutput: "journal",
      StandardError: "journal",
      UMask: "0077",
      // The script's work directory (tokens, keys, CA candidates) lives in a /tmp of its own that
      // systemd removes when the run ends, also when it was killed and its EXIT trap never ran.
      PrivateTmp: "yes",
      LimitCORE: "0",
      TimeoutStartSec: "1h",
    },
    Install: { WantedBy: "multi-user.target" },
  });
}

/** A unit file from its sections, for units rendered outside this module (imds-guard.ts). */
export function unitFile(sections: Parameters<typeof render>[0]): string {
  return render(sections);
}
