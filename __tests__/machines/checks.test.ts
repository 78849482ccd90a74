/**
 * The machine tier's event-order checks catch each bootstrap defect they name (issue 11: "the tier
 * fails if the bootstrap waits for nothing before `vault operator init`, takes 'No cluster
 * leader' for 'already bootstrapped', starts Vault before its environment file exists, or stores
 * a management token only after bootstrapping with it"). Logs shaped as the stand-ins write them.
 */
import { protocolViolations, type StandinEvent } from "./harness/checks";

const P = "/bitte/machines";
let seq = 0;
const e = (node: string, source: string, event: string, detail: Record<string, unknown> = {}): StandinEvent => ({ seq: ++seq, node, source, event, ...detail });

/** A converged core as the fixed bootstrap produces it. */
function good(): StandinEvent[] {
  seq = 0;
  return [
    e("core-2", "consul", "acl-bootstrap", { outcome: "no-leader" }),
    e("core-1", "ssm", "PutParameter", { name: `${P}/consul/management-token`, outcome: "ok", overwrite: false }),
    e("core-3", "ssm", "PutParameter", { name: `${P}/consul/management-token`, outcome: "ParameterAlreadyExists" }),
    e("core-1", "consul", "acl-bootstrap", { outcome: "ok" }),
    e("core-2", "consul", "acl-bootstrap", { outcome: "already-bootstrapped" }),
    e("core-1", "ssm", "PutParameter", { name: `${P}/nomad/management-token`, outcome: "ok", overwrite: false }),
    e("core-1", "nomad", "acl-bootstrap", { outcome: "ok" }),
    e("core-1", "vault", "start", { envFile: true }),
    e("core-2", "vault", "start", { envFile: true }),
    e("core-1", "vault", "operator-init", { outcome: "ok", raftJoined: false, leader: false, clusters: 1 }),
    e("core-2", "vault", "raft-join", {}),
  ];
}

describe("machine tier event checks", () => {
  test("a correct bootstrap has no violations", () => {
    expect(protocolViolations(good(), P)).toEqual([]);
  });

  test("fails when the bootstrap waits for nothing before vault operator init (a second cluster)", () => {
    const log = [...good(), e("core-3", "vault", "operator-init", { outcome: "ok", raftJoined: false, leader: true, clusters: 2 })];
    expect(protocolViolations(log, P).join("\n")).toMatch(/2 successful operator inits[\s\S]*core-3 ran operator init .* while another Vault cluster existed/);
  });

  test('fails when "No cluster leader" is taken for "already bootstrapped"', () => {
    const log = good().filter((x) => !(x.node === "core-2" && x.outcome === "already-bootstrapped"));
    expect(protocolViolations(log, P)).toEqual(['consul: core-2 took "No cluster leader" (#1) as final and never retried the ACL bootstrap']);
  });

  test("fails when Vault starts before its environment file exists", () => {
    const log = [...good(), e("core-3", "vault", "start", { envFile: false })];
    expect(protocolViolations(log, P)).toEqual([expect.stringMatching(/vault: started on core-3 .* before its environment file existed/)]);
  });

  test("fails when the management token is stored only after bootstrapping with it", () => {
    const log = good();
    const store = log.findIndex((x) => x.name === `${P}/nomad/management-token`);
    const [put] = log.splice(store, 1);
    log.push({ ...put, seq: ++seq });
    expect(protocolViolations(log, P)).toEqual([expect.stringMatching(/nomad: .*management-token stored \(#\d+\) only after bootstrapping with it/)]);
  });

  test("fails on a second ACL bootstrap and on an overwritten or twice-created parameter", () => {
    const log = [...good(), e("core-3", "consul", "acl-bootstrap", { outcome: "ok" }), e("core-3", "ssm", "PutParameter", { name: `${P}/consul/management-token`, outcome: "ok", overwrite: true })];
    const v = protocolViolations(log, P).join("\n");
    expect(v).toMatch(/consul: 2 successful ACL bootstraps/);
    expect(v).toMatch(/overwrote .*management-token/);
    expect(v).toMatch(/created twice/);
  });
});
