/**
 * What the machine tier asserts over the stand-ins' recorded events (`<stateDir>/events.jsonl`,
 * see standins/README.md). Pure functions from the log to a list of violations, so each can be
 * shown to catch the defect it names (checks.test.ts) and the scenarios report every violation.
 */
import { readFileSync } from "node:fs";

export interface StandinEvent {
  readonly seq: number;
  readonly node: string;
  readonly source: string;
  readonly event: string;
  readonly outcome?: string;
  readonly name?: string;
  readonly [detail: string]: unknown;
}

export function readEvents(path: string): StandinEvent[] {
  let text = "";
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return [];
  }
  return text.split("\n").filter(Boolean).map((l) => JSON.parse(l) as StandinEvent).sort((a, b) => a.seq - b.seq);
}

const of = (events: readonly StandinEvent[], source: string, event: string, outcome?: string) =>
  events.filter((e) => e.source === source && e.event === event && (outcome === undefined || e.outcome === outcome));

/** Consul and Nomad are ACL-bootstrapped exactly once each. */
export function aclBootstrappedOnce(events: readonly StandinEvent[]): string[] {
  return (["consul", "nomad"] as const).flatMap((p) => {
    const ok = of(events, p, "acl-bootstrap", "ok");
    return ok.length === 1 ? [] : [`${p}: ${ok.length} successful ACL bootstraps (want exactly 1): ${ok.map((e) => `${e.node}#${e.seq}`).join(", ")}`];
  });
}

/** Vault is initialised once, into the only raft cluster: an init after another exists means the bootstrap waited for nothing. */
export function vaultInitialisedOnce(events: readonly StandinEvent[]): string[] {
  const ok = of(events, "vault", "operator-init", "ok");
  const out: string[] = [];
  if (ok.length !== 1) out.push(`vault: ${ok.length} successful operator inits (want exactly 1): ${ok.map((e) => `${e.node}#${e.seq}`).join(", ")}`);
  for (const e of ok) {
    if (e.leader === true || (typeof e.clusters === "number" && e.clusters > 1)) {
      out.push(`vault: ${e.node} ran operator init (#${e.seq}) while another Vault cluster existed: the bootstrap did not wait for raft join before init`);
    }
  }
  return out;
}

/** A "No cluster leader" answer is retried: the node's last ACL bootstrap answer is never no-leader. */
export function noLeaderRetried(events: readonly StandinEvent[]): string[] {
  const out: string[] = [];
  for (const p of ["consul", "nomad"]) {
    const last = new Map<string, StandinEvent>();
    for (const e of of(events, p, "acl-bootstrap")) last.set(e.node, e);
    for (const [node, e] of last) {
      if (e.outcome === "no-leader") out.push(`${p}: ${node} took "No cluster leader" (#${e.seq}) as final and never retried the ACL bootstrap`);
    }
  }
  return out;
}

/** Every Vault start had its environment file (the Consul token of its service registration). */
export function vaultStartedWithEnvironment(events: readonly StandinEvent[]): string[] {
  return of(events, "vault", "start").filter((e) => e.envFile !== true).map((e) => `vault: started on ${e.node} (#${e.seq}) before its environment file existed`);
}

/** The management token is stored (create-only PutParameter) before the ACL bootstrap that uses it succeeds. */
export function managementTokenStoredFirst(events: readonly StandinEvent[], ssmPrefix: string): string[] {
  return (["consul", "nomad"] as const).flatMap((p) => {
    const name = `${ssmPrefix}/${p}/management-token`;
    const stored = of(events, "ssm", "PutParameter", "ok").find((e) => e.name === name);
    const boot = of(events, p, "acl-bootstrap", "ok")[0];
    if (!boot) return [];
    if (!stored) return [`${p}: bootstrapped (#${boot.seq}) but ${name} was never stored`];
    return stored.seq < boot.seq ? [] : [`${p}: ${name} stored (#${stored.seq}) only after bootstrapping with it (#${boot.seq}): a crash in between loses it`];
  });
}

/** Every bootstrap parameter was created once (create-only writes; overwrite never used). */
export function parametersCreatedOnce(events: readonly StandinEvent[]): string[] {
  const out: string[] = [];
  const seen = new Map<string, StandinEvent>();
  for (const e of of(events, "ssm", "PutParameter", "ok")) {
    if (e.overwrite) out.push(`ssm: ${e.node} overwrote ${String(e.name)} (#${e.seq})`);
    const first = seen.get(String(e.name));
    if (first) out.push(`ssm: ${String(e.name)} created twice (#${first.seq} by ${first.node}, #${e.seq} by ${e.node})`);
    else seen.set(String(e.name), e);
  }
  return out;
}

/** Every check of the bootstrap protocol, for a converged core. */
export function protocolViolations(events: readonly StandinEvent[], ssmPrefix: string): string[] {
  return [
    ...aclBootstrappedOnce(events),
    ...vaultInitialisedOnce(events),
    ...noLeaderRetried(events),
    ...vaultStartedWithEnvironment(events),
    ...managementTokenStoredFirst(events, ssmPrefix),
    ...parametersCreatedOnce(events),
  ];
}
