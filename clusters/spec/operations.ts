/**
 * Spec fields for operating the cluster: autoscaled client groups, raft snapshots and alert
 * receivers. Types, validation and defaults in one module; `define.ts` calls `checkOperations`
 * and `resolveOperations` in one line each.
 */

/** Scaling policy of an autoscaled client group (Nomad Autoscaler, aws-asg target). */
export interface AutoscalingSpec {
  /**
   * Target share of the group's CPU that allocations reserve, in percent.
   * @default 70
   */
  readonly cpuTargetPercent?: number;
  /**
   * Target share of the group's memory that allocations reserve, in percent.
   * @default 70
   */
  readonly memoryTargetPercent?: number;
  /**
   * Wait after a scaling action before the next one, in minutes.
   * @default 5
   */
  readonly cooldownMinutes?: number;
}

/** Consul, Vault and Nomad snapshots to the cluster bucket. */
export interface SnapshotsSpec {
  /**
   * One snapshot of each product per interval, in minutes (15 to 1440).
   * @default 60
   */
  readonly intervalMinutes?: number;
  /**
   * Days a snapshot is kept in the bucket before S3 expires it.
   * @default 30
   */
  readonly retentionDays?: number;
}

/** Where Alertmanager sends alerts. An SNS topic `bitte-<cluster>-alerts` always exists. */
export interface AlertsSpec {
  /**
   * E-mail addresses subscribed to the SNS topic (each confirms the subscription once).
   * @default []
   */
  readonly email?: readonly string[];
  /**
   * An HTTPS webhook Alertmanager also posts to. Its bearer token is never in the spec, JSON or
   * state: the operator writes it to the SSM SecureString `/bitte/<cluster>/alerts/webhook-token`
   * and the monitoring node reads it at boot.
   * @default none
   */
  readonly webhook?: { readonly url: string };
}

export interface ResolvedAutoscaling {
  readonly cpuTargetPercent: number;
  readonly memoryTargetPercent: number;
  readonly cooldownMinutes: number;
}

export interface ResolvedOperations {
  /** Autoscaled client groups by group name. */
  readonly autoscaling: Readonly<Record<string, ResolvedAutoscaling>>;
  readonly snapshots: { readonly intervalMinutes: number; readonly retentionDays: number };
  readonly alerts: { readonly email: readonly string[]; readonly webhookUrl?: string };
}

export const OPERATIONS_DEFAULTS = Object.freeze({
  cpuTargetPercent: 70,
  memoryTargetPercent: 70,
  cooldownMinutes: 5,
  snapshotIntervalMinutes: 60,
  snapshotRetentionDays: 30,
});

/** What the checker of `define.ts` offers: one problem with its field, value and fix. */
export type AddProblem = (field: string, value: unknown, problem: string, fix: string) => void;

/** The parts of a spec this module reads (kept structural so define.ts passes the spec as is). */
export interface OperationsInput {
  readonly coreRegion?: string;
  readonly clientGroups?: readonly { readonly name: string; readonly region?: string; readonly min: number; readonly max: number; readonly autoscaling?: AutoscalingSpec }[];
  readonly snapshots?: SnapshotsSpec;
  readonly alerts?: AlertsSpec;
}

const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[a-z]{2,}$/i;

function intIn(add: AddProblem, field: string, value: unknown, lo: number, hi: number, unit: string): void {
  if (value === undefined) return;
  if (typeof value !== "number" || !Number.isInteger(value) || value < lo || value > hi) add(field, value, `must be a whole number of ${unit} from ${lo} to ${hi}`, `set it between ${lo} and ${hi}, or leave it out for the default`);
}

/** Validates the operations fields; every problem names field, value and fix. */
export function checkOperations(spec: OperationsInput, add: AddProblem): void {
  (Array.isArray(spec.clientGroups) ? spec.clientGroups : []).forEach((g, i) => {
    // Types and unknown keys are checked by the field table (fields.ts); `{}` takes the defaults.
    const a = g.autoscaling;
    if (a === undefined) return;
    const f = `clientGroups[${i}].autoscaling`;
    intIn(add, `${f}.cpuTargetPercent`, a.cpuTargetPercent, 10, 95, "percent");
    intIn(add, `${f}.memoryTargetPercent`, a.memoryTargetPercent, 10, 95, "percent");
    intIn(add, `${f}.cooldownMinutes`, a.cooldownMinutes, 1, 120, "minutes");
    if (g.max <= g.min) add(`clientGroups[${i}].max`, g.max, `an autoscaled group needs room to scale: max must be greater than min (${g.min})`, "raise max, or drop autoscaling");
  });
  const groups = Array.isArray(spec.clientGroups) ? spec.clientGroups : [];
  const first = groups.findIndex((g) => g.autoscaling !== undefined);
  if (first >= 0 && !groups.some((g) => g.region === spec.coreRegion)) {
    add(`clientGroups[${first}].autoscaling`, groups[first].autoscaling, `the Nomad Autoscaler runs on a client in the core region ${String(spec.coreRegion)} (it reads VictoriaMetrics there), and no group runs there`, `add a client group in ${String(spec.coreRegion)}`);
  }
  intIn(add, "snapshots.intervalMinutes", spec.snapshots?.intervalMinutes, 15, 1440, "minutes");
  intIn(add, "snapshots.retentionDays", spec.snapshots?.retentionDays, 1, 3650, "days");
  (spec.alerts?.email ?? []).forEach((e, i) => {
    if (typeof e !== "string" || !EMAIL_RE.test(e)) add(`alerts.email[${i}]`, e, "not an e-mail address", `write it like "oncall@example.com"`);
  });
  const url: unknown = spec.alerts?.webhook?.url;
  if (spec.alerts?.webhook !== undefined) {
    let parsed: URL | undefined;
    try {
      parsed = typeof url === "string" ? new URL(url) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!parsed || parsed.protocol !== "https:") add("alerts.webhook.url", url, "not an https URL", `write it like "https://hooks.example.com/alertmanager"`);
    else if (parsed.username || parsed.password || parsed.search) add("alerts.webhook.url", url, "the URL carries credentials or a query string, which would land in JSON and state", "put the token in the SSM parameter /bitte/<cluster>/alerts/webhook-token instead");
  }
}

/** Fills in the defaults (call after `checkOperations` found nothing). */
export function resolveOperations(spec: OperationsInput): ResolvedOperations {
  const autoscaling: Record<string, ResolvedAutoscaling> = {};
  for (const g of spec.clientGroups ?? []) {
    if (g.autoscaling === undefined) continue;
    const a = g.autoscaling;
    autoscaling[g.name] = {
      cpuTargetPercent: a.cpuTargetPercent ?? OPERATIONS_DEFAULTS.cpuTargetPercent,
      memoryTargetPercent: a.memoryTargetPercent ?? OPERATIONS_DEFAULTS.memoryTargetPercent,
      cooldownMinutes: a.cooldownMinutes ?? OPERATIONS_DEFAULTS.cooldownMinutes,
    };
  }
  const webhookUrl = spec.alerts?.webhook?.url;
  return {
    autoscaling,
    snapshots: {
      intervalMinutes: spec.snapshots?.intervalMinutes ?? OPERATIONS_DEFAULTS.snapshotIntervalMinutes,
      retentionDays: spec.snapshots?.retentionDays ?? OPERATIONS_DEFAULTS.snapshotRetentionDays,
    },
    alerts: { email: [...(spec.alerts?.email ?? [])], ...(webhookUrl === undefined ? {} : { webhookUrl }) },
  };
}
