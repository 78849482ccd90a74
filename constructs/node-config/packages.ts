import type { Cluster } from "../../clusters/spec";
import { ALERTING_PACKAGES } from "./alerting";
import type { NodeRole } from "./types";

/**
 * Pinned versions of everything a node installs that is not an Ubuntu package, in one place.
 * HashiCorp versions come from the spec; the Grafana stack is pinned here. Ubuntu packages
 * (HAProxy, node exporter, VictoriaMetrics, Docker, CNI plugins) follow the image's archive so
 * they get Ubuntu's security updates.
 */
export const GRAFANA_STACK_VERSIONS = Object.freeze({
  grafana: "12.2.1",
  loki: "3.5.7",
  promtail: "3.5.7",
});

/** Apt repositories with their signing keys, as cloud-init's `apt.sources` takes them. */
export const APT_REPOSITORIES = Object.freeze({
  hashicorp: {
    source: "deb [signed-by=$KEY_FILE] https://apt.releases.hashicorp.com $RELEASE main",
    /** HashiCorp's release signing key. */
    keyid: "798AEC654E5C15428C8E42EEAA16FCBCA621E701",
    keyserver: "keyserver.ubuntu.com",
  },
  grafana: {
    source: "deb [signed-by=$KEY_FILE] https://apt.grafana.com stable main",
    /** Grafana Labs' package signing key (apt.grafana.com/gpg.key). */
    keyid: "B53AE77BADB630A683046005963FA27710458545",
    keyserver: "keyserver.ubuntu.com",
  },
});

/** Debian revision of HashiCorp's packages: `consul=1.21.4-1`. */
function hashicorp(name: string, version: string): string {
  return `${name}=${version}-1`;
}

/** Packages of a role, pinned where the vendor's repository is used. */
export function rolePackages(cluster: Cluster, role: NodeRole): string[] {
  const v = cluster.versions;
  const g = GRAFANA_STACK_VERSIONS;
  const common = ["jq", "curl", "openssl", "prometheus-node-exporter", `promtail=${g.promtail}`, hashicorp("consul", v.consul)];
  switch (role) {
    case "core":
      return [...common, hashicorp("nomad", v.nomad), hashicorp("vault", v.vault)];
    case "client":
      return [...common, hashicorp("nomad", v.nomad), "docker.io", "containernetworking-plugins"];
    case "monitoring":
      return [...common, "victoria-metrics", `grafana=${g.grafana}`, `loki=${g.loki}`, ...ALERTING_PACKAGES];
    case "routing":
      return [...common, "haproxy"];
  }
}

/** Which vendor repositories a role needs. */
export function roleRepositories(role: NodeRole): (keyof typeof APT_REPOSITORIES)[] {
  void role; // every role runs Consul (HashiCorp) and Promtail (Grafana)
  return ["hashicorp", "grafana"];
}
