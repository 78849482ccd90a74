import { PORTS } from "../ports";
import { PATHS } from "./paths";

/** The docker0 bridge address: containers reach the host resolver here. */
export const DOCKER_BRIDGE_IP = "172.17.0.1";

/**
 * systemd-resolved forwards `.consul` to the local Consul agent; everything else keeps the VPC
 * resolver. On clients resolved also listens on the Docker bridge, so tasks resolve
 * `*.service.consul` through the same path.
 */
export function resolvedDropIn(forDocker: boolean): string {
  return [
    "[Resolve]",
    `DNS=127.0.0.1:${PORTS.consulDns}`,
    "DNSSEC=false",
    "Domains=~consul",
    ...(forDocker ? [`DNSStubListenerExtra=${DOCKER_BRIDGE_IP}`] : []),
    "",
  ].join("\n");
}

/** Docker on clients: host resolver for containers, data on the data volume, logs in the journal. */
export function dockerDaemonConfig(): Record<string, unknown> {
  return { dns: [DOCKER_BRIDGE_IP], "data-root": PATHS.dockerData, "log-driver": "journald", "live-restore": true, "no-new-privileges": true };
}
