import type { Cluster } from "../../clusters/spec";
import { PATHS } from "./paths";
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

/** Suite of each repository: HashiCorp's per Ubuntu codename, Grafana's one `stable`. */
const REPOSITORY_SUITE = Object.freeze({ hashicorp: "$RELEASE", grafana: "stable" });

/**
 * cloud-init's `apt:` settings for a role. Without a mirror: the vendors' repositories by key id.
 * With `packageMirror`: each mirrored repository at the mirror's URL, trusted through the
 * mirror's inline key (cloud-init writes `key:` to the `$KEY_FILE` that `signed-by` names), and
 * `os` as the primary and security archive with the same key (cloud-init's apt_configure:
 * `add_mirror_keys` installs a primary/security `key`).
 */
export function aptConfig(cluster: Cluster, role: NodeRole): Record<string, unknown> {
  const mirror = cluster.packageMirror;
  const sources = Object.fromEntries(
    roleRepositories(role).map((name) => {
      const url = mirror?.[name];
      const entry = url === undefined ? { ...APT_REPOSITORIES[name] } : { source: `deb [signed-by=$KEY_FILE] ${url.replace(/\/+$/, "")} ${REPOSITORY_SUITE[name]} main`, key: mirror?.signingKey };
      return [`${name}.list`, entry];
    }),
  );
  const os = mirror?.os === undefined ? {} : { primary: [{ arches: ["default"], uri: mirror.os, key: mirror.signingKey }], security: [{ arches: ["default"], uri: mirror.os, key: mirror.signingKey }] };
  return { ...os, sources };
}

/** Debian revision of HashiCorp's packages: `consul=1.21.4-1`. */
function hashicorp(name: string, version: string): string {
  return `${name}=${version}-1`;
}

/** Packages of a role, pinned where the vendor's repository is used. */
export function rolePackages(cluster: Cluster, role: NodeRole): string[] {
  const v = cluster.versions;
  const g = GRAFANA_STACK_VERSIONS;
  // No AWS CLI: Ubuntu 24.04 has no awscli package; bitte-aws runs on the image's python3 alone.
  const common = ["jq", "curl", "openssl", "prometheus-node-exporter", `promtail=${g.promtail}`, hashicorp("consul", v.consul)];
  switch (role) {
    case "core":
      return [...common, hashicorp("nomad", v.nomad), hashicorp("vault", v.vault)];
    case "client":
      // vault: the CLI bitte-nomad-cert and bitte-consul-token log in with (no server runs).
      return [...common, hashicorp("nomad", v.nomad), hashicorp("vault", v.vault), "docker.io", "containernetworking-plugins", "nftables"];
    case "monitoring":
      return [...common, "victoria-metrics", `grafana=${g.grafana}`, `loki=${g.loki}`, ...ALERTING_PACKAGES];
    case "routing":
      // vault: the CLI bitte-consul-token logs in and reads its identity token with (no server runs).
      return [...common, "haproxy", hashicorp("vault", v.vault)];
  }
}

/** Which vendor repositories a role needs. */
export function roleRepositories(role: NodeRole): (keyof typeof APT_REPOSITORIES)[] {
  void role; // every role runs Consul (HashiCorp) and Promtail (Grafana)
  return ["hashicorp", "grafana"];
}

/**
 * Programs the node scripts call, by the package of the role's list that puts them on PATH (from
 * the packages' file lists: jq, curl and openssl ship `/usr/bin/<name>`; HashiCorp's packages
 * `/usr/bin/consul|nomad|vault`).
 */
const PACKAGE_PROGRAMS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  jq: ["jq"],
  curl: ["curl"],
  openssl: ["openssl"],
  consul: ["consul"],
  nomad: ["nomad"],
  vault: ["vault"],
});

/**
 * Programs of the Ubuntu server image itself (Essential and `important` packages: bash, coreutils,
 * diffutils, findutils, grep, sed, mawk, hostname, util-linux, mount, e2fsprogs, systemd, python3
 * for cloud-init) that the scripts use.
 */
export const BASE_PROGRAMS = Object.freeze([
  "awk", "bash", "blkid", "sh", "cat", "chmod", "chown", "cmp", "cp", "cut", "dirname", "find", "findmnt", "grep", "head", "hostname", "id", "install",
  "ln", "lsblk", "mkdir", "mkfs.ext4", "mktemp", "mount", "mountpoint", "mv", "python3", "rm", "sed", "sleep", "sort", "stat", "sync", "systemctl", "tail",
  "timeout", "touch", "tr", "wc",
]);

/** Programs the user data itself installs (write_files), by name on PATH. */
export const SHIPPED_PROGRAMS: Readonly<Record<string, string>> = Object.freeze({ "bitte-aws": PATHS.awsClient });

/**
 * Every program a node of the role has on PATH for its scripts: the base image's, its packages',
 * and the user data's own. The scripts call nothing else (a tool-tier test runs them with exactly
 * this PATH).
 */
export function rolePrograms(cluster: Cluster, role: NodeRole): string[] {
  const packages = rolePackages(cluster, role).map((p) => p.split("=")[0]);
  return [...new Set([...BASE_PROGRAMS, ...packages.flatMap((p) => PACKAGE_PROGRAMS[p] ?? []), ...Object.keys(SHIPPED_PROGRAMS)])].sort();
}
