/**
 * Per-node Nomad client certificates (issue 12, finding 3): bitte-nomad-cert issues this client
 * its own certificate from Vault (VaultNodePki in the consul stack) before Nomad first starts, and
 * a timer renews it at half its lifetime and reloads Nomad.
 */
import { VAULT } from "../policy/names";
import { vaultLoginEnv } from "./consul-token";
import { NOMAD_CLIENT_NAME } from "../policy/vault-node-pki";
import { PATHS } from "./paths";
import { timedScriptFiles } from "./timed-script";
import type { NodeContext, NodeFile } from "./types";

/** Lifetime a client asks for; the consul stack's role allows at most 72h. */
export const NOMAD_CERT_TTL_SECONDS = 24 * 3600;

export const NOMAD_CERT_PATHS = Object.freeze({
  script: "/usr/local/sbin/bitte-nomad-cert",
  env: "/etc/bitte/nomad-cert.env",
});

/** The timer the bootstrap starts after the first boot. */
export const NOMAD_CERT_UNITS = Object.freeze(["bitte-nomad-cert.timer"]);

function env(ctx: NodeContext): Record<string, string> {
  return {
    BITTE_NODE_NAME: ctx.nodeName ?? "",
    ...vaultLoginEnv(ctx),
    BITTE_NOMAD_DIR: PATHS.nomadDir,
    BITTE_NOMAD_USER: "root",
    BITTE_PKI_ISSUE_PATH: `${VAULT.nodePkiPath}/issue/${VAULT.nomadClientPkiRole}`,
    BITTE_CERT_NAME: NOMAD_CLIENT_NAME,
    BITTE_CERT_TTL: `${NOMAD_CERT_TTL_SECONDS / 3600}h`,
    BITTE_CERT_RENEW_BEFORE: String(NOMAD_CERT_TTL_SECONDS / 2),
  };
}

/** The client's certificate files. */
export function nomadCertFiles(ctx: NodeContext): NodeFile[] {
  return timedScriptFiles({
    name: "bitte-nomad-cert",
    scriptPath: NOMAD_CERT_PATHS.script,
    scriptAsset: "scripts/bitte-nomad-cert.sh",
    envPath: NOMAD_CERT_PATHS.env,
    env: env(ctx),
    service: {
      description: "Bitte: this Nomad client's own certificate from Vault (renewed at half its lifetime)",
      after: ["bitte-bootstrap.service"],
      // bitte-bootstrap makes it (layout) before it first runs this script; the timer's runs come after.
      readWritePaths: `-${PATHS.nomadDir}/tls`,
      timeoutStart: "20min",
    },
    timer: { description: "Bitte: check this Nomad client's certificate every hour", lines: ["OnBootSec=10min", "OnUnitActiveSec=1h", "RandomizedDelaySec=5min"] },
  });
}
