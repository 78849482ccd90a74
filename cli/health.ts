/**
 * Quorum health of Consul, Nomad and Vault through their public endpoints, with a specific node
 * (by its fixed private IP) back as a healthy voter.
 */
import type { Cluster } from "../clusters/spec/types";
import type { Http } from "./context";
import { adminEndpoint } from "../clusters/spec/define";

export type Service = "consul" | "nomad" | "vault";

export interface ServiceHealth {
  readonly service: Service;
  readonly healthy: boolean;
  /** Why not, or a one-line summary when healthy. */
  readonly detail: string;
  /** The token was refused: waiting will not help. */
  readonly fatal?: boolean;
}

/** Raft voters a healthy three-node core has. */
export const EXPECTED_VOTERS = 3;

interface ServerView {
  readonly address: string;
  readonly healthy: boolean;
  readonly voter: boolean;
}

/** Consul and Nomad `/v1/operator/autopilot/health`: `{ Healthy, Servers: [{ Address, Healthy, Voter }] }`. */
function parseAutopilot(body: unknown): { healthy: boolean; servers: ServerView[] } {
  const b = (body ?? {}) as { Healthy?: boolean; Servers?: Array<{ Address?: string; Healthy?: boolean; Voter?: boolean }> };
  return {
    healthy: b.Healthy === true,
    servers: (b.Servers ?? []).map((s) => ({ address: s.Address ?? "", healthy: s.Healthy === true, voter: s.Voter === true })),
  };
}

/** Vault `/v1/sys/storage/raft/autopilot/state`: `{ healthy, servers: { id: { address, healthy, status } } }`, maybe under `data`. */
function parseVault(body: unknown): { healthy: boolean; servers: ServerView[] } {
  const outer = (body ?? {}) as { data?: unknown };
  const b = (outer.data ?? outer) as { healthy?: boolean; servers?: Record<string, { address?: string; healthy?: boolean; status?: string }> };
  return {
    healthy: b.healthy === true,
    servers: Object.values(b.servers ?? {}).map((s) => ({ address: s.address ?? "", healthy: s.healthy === true, voter: s.status === "voter" || s.status === "leader" })),
  };
}

const hostOf = (address: string): string => address.replace(/^\[?([^\]]*?)\]?(:\d+)?$/, "$1");

/** Is the quorum healthy, with `nodeIp` (when given) a healthy voter? */
export function judge(service: Service, view: { healthy: boolean; servers: ServerView[] }, nodeIp?: string): ServiceHealth {
  const voters = view.servers.filter((s) => s.voter);
  const unhealthy = view.servers.filter((s) => !s.healthy).map((s) => hostOf(s.address));
  const summary = `${voters.length} voters${unhealthy.length ? `, unhealthy: ${unhealthy.join(", ")}` : ""}`;
  const problems: string[] = [];
  if (nodeIp !== undefined) {
    const node = view.servers.find((s) => hostOf(s.address) === nodeIp);
    if (!node) problems.push(`server ${nodeIp} has not rejoined`);
    else if (!node.voter || !node.healthy) problems.push(`server ${nodeIp} is back but not yet a healthy voter`);
  }
  if (voters.length < EXPECTED_VOTERS) problems.push(`${voters.length} of ${EXPECTED_VOTERS} voters`);
  if (!view.healthy) problems.push(`autopilot reports the cluster unhealthy${unhealthy.length ? ` (unhealthy: ${unhealthy.join(", ")})` : ""}`);
  if (problems.length > 0) return { service, healthy: false, detail: problems.join(", ") };
  return { service, healthy: true, detail: summary };
}

const ENDPOINTS: Record<Service, { path: string; header: string; env: string; parse: (body: unknown) => { healthy: boolean; servers: ServerView[] } }> = {
  consul: { path: "/v1/operator/autopilot/health", header: "X-Consul-Token", env: "CONSUL_HTTP_TOKEN", parse: parseAutopilot },
  nomad: { path: "/v1/operator/autopilot/health", header: "X-Nomad-Token", env: "NOMAD_TOKEN", parse: parseAutopilot },
  vault: { path: "/v1/sys/storage/raft/autopilot/state", header: "X-Vault-Token", env: "VAULT_TOKEN", parse: parseVault },
};

export const SERVICES: readonly Service[] = ["consul", "nomad", "vault"];

/**
 * One service's health. Network errors and 5xx/429 are "not healthy yet" (a node is restarting);
 * 401/403 is fatal: the token is wrong.
 */
export async function checkService(http: Http, cluster: Cluster, service: Service, tokens: Readonly<Record<string, string>>, nodeIp?: string): Promise<ServiceHealth> {
  const ep = ENDPOINTS[service];
  const url = `${adminEndpoint(cluster, service)}${ep.path}`;
  let res;
  try {
    res = await http(url, { headers: { [ep.header]: tokens[ep.env] ?? "" } });
  } catch (err) {
    return { service, healthy: false, detail: `${url} unreachable: ${(err as Error).message}` };
  }
  if (res.status === 401 || res.status === 403) {
    return { service, healthy: false, fatal: true, detail: `${url} refused the token (HTTP ${res.status}); set ${ep.env} to a management token (eval "$(bitte tokens --export)")` };
  }
  // Consul and Nomad answer 429 on an unhealthy autopilot, with the same body.
  if (res.status !== 200 && res.status !== 429) return { service, healthy: false, detail: `${url} answered HTTP ${res.status}` };
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    return { service, healthy: false, detail: `${url} answered something other than JSON` };
  }
  return judge(service, ENDPOINTS[service].parse(body), nodeIp);
}

export async function checkQuorum(http: Http, cluster: Cluster, tokens: Readonly<Record<string, string>>, nodeIp?: string): Promise<ServiceHealth[]> {
  return Promise.all(SERVICES.map((s) => checkService(http, cluster, s, tokens, nodeIp)));
}
