import { Audit } from "@cdktf/provider-vault/lib/audit";
import { KvSecretBackendV2 } from "@cdktf/provider-vault/lib/kv-secret-backend-v2";
import { Mount } from "@cdktf/provider-vault/lib/mount";
import { PkiSecretBackendConfigUrls } from "@cdktf/provider-vault/lib/pki-secret-backend-config-urls";
import { PkiSecretBackendIntermediateCertRequest } from "@cdktf/provider-vault/lib/pki-secret-backend-intermediate-cert-request";
import { PkiSecretBackendIntermediateSetSigned } from "@cdktf/provider-vault/lib/pki-secret-backend-intermediate-set-signed";
import { PkiSecretBackendRole } from "@cdktf/provider-vault/lib/pki-secret-backend-role";
import { PkiSecretBackendRootCert } from "@cdktf/provider-vault/lib/pki-secret-backend-root-cert";
import { PkiSecretBackendRootSignIntermediate } from "@cdktf/provider-vault/lib/pki-secret-backend-root-sign-intermediate";
import { Construct } from "constructs";
import { VAULT } from "./names";

const DAY = 86400;

export interface VaultKvProps {
  /**
   * Versions kept per secret.
   * @default 10
   */
  readonly maxVersions?: number;
}

/** KV v2 mounts: `secret` for applications, `infra` for node secrets. */
export class VaultKv extends Construct {
  readonly secret: Mount;
  readonly infra: Mount;

  constructor(scope: Construct, id: string, props: VaultKvProps = {}) {
    super(scope, id);
    const kv = (path: string, description: string): Mount => {
      const mount = new Mount(this, path, { path, type: "kv", options: { version: "2" }, description });
      new KvSecretBackendV2(this, `${path}-config`, { mount: mount.path, maxVersions: props.maxVersions ?? 10 });
      return mount;
    };
    this.secret = kv(VAULT.kvMount, "Application secrets: <nomad namespace>/<job>/…");
    this.infra = kv(VAULT.infraMount, "Node secrets: <node role>/…");
  }
}

export interface VaultPkiProps {
  /** Cluster domain: names the CAs and bounds what they may sign. */
  readonly domain: string;
  /** Vault's public address, for the issuing-certificate and CRL URLs. */
  readonly vaultAddress: string;
  /**
   * Accessor of the JWT auth backend workloads log in with: the role's allowed domains are
   * templated on the caller's `nomad_job_id` alias metadata.
   */
  readonly workloadAuthAccessor: string;
  /**
   * Key type of the CAs and issued certificates.
   * @default "ec" (P-256)
   */
  readonly keyType?: "ec" | "rsa";
  /**
   * Longest lifetime of a workload certificate.
   * @default "72h"
   */
  readonly maxCertTtl?: string;
}

/**
 * Workload PKI: a root CA mount (`pki`, 10 years) that only signs the intermediate, and the
 * intermediate issuing CA (`pki_int`, 5 years) with a `workloads` role. Both keys are generated
 * inside Vault (`type = "internal"`) and never leave it; Terraform state holds only the public
 * CSR and certificates. Workloads may get certificates only for `<their job>.service.consul`.
 */
export class VaultPki extends Construct {
  readonly root: Mount;
  readonly intermediate: Mount;
  readonly role: PkiSecretBackendRole;

  constructor(scope: Construct, id: string, props: VaultPkiProps) {
    super(scope, id);
    const keyType = props.keyType ?? "ec";
    const keyBits = keyType === "ec" ? 256 : 4096;
    const permittedDnsDomains = ["consul", props.domain];

    this.root = new Mount(this, "root", { path: VAULT.rootPkiPath, type: "pki", description: "Root CA of workload certificates", defaultLeaseTtlSeconds: 365 * DAY, maxLeaseTtlSeconds: 3650 * DAY });
    const rootCert = new PkiSecretBackendRootCert(this, "root-cert", {
      backend: this.root.path,
      type: "internal",
      commonName: `${props.domain} root CA`,
      ttl: `${3650 * DAY}`,
      keyType,
      keyBits,
      maxPathLength: 1,
      permittedDnsDomains,
      issuerName: "root",
    });

    this.intermediate = new Mount(this, "intermediate", { path: VAULT.pkiPath, type: "pki", description: "Intermediate CA issuing workload certificates", defaultLeaseTtlSeconds: DAY, maxLeaseTtlSeconds: 1825 * DAY });
    const csr = new PkiSecretBackendIntermediateCertRequest(this, "intermediate-csr", {
      backend: this.intermediate.path,
      type: "internal",
      commonName: `${props.domain} intermediate CA`,
      keyType,
      keyBits,
    });
    const signed = new PkiSecretBackendRootSignIntermediate(this, "intermediate-signed", {
      backend: this.root.path,
      csr: csr.csr,
      commonName: `${props.domain} intermediate CA`,
      ttl: `${1825 * DAY}`,
      maxPathLength: 0,
      permittedDnsDomains,
      dependsOn: [rootCert],
    });
    new PkiSecretBackendIntermediateSetSigned(this, "intermediate-set-signed", { backend: this.intermediate.path, certificate: signed.certificate });

    for (const [mount, name] of [[this.root, "root"], [this.intermediate, "intermediate"]] as const) {
      new PkiSecretBackendConfigUrls(this, `${name}-urls`, {
        backend: mount.path,
        issuingCertificates: [`${props.vaultAddress}/v1/${mount.path}/ca`],
        crlDistributionPoints: [`${props.vaultAddress}/v1/${mount.path}/crl`],
      });
    }

    this.role = new PkiSecretBackendRole(this, "role", {
      backend: this.intermediate.path,
      name: VAULT.pkiRole,
      // Templated on the caller's identity: a job may only name its own service. The JWT
      // backend's alias metadata carries nomad_job_id (see VaultWorkloadIdentity).
      allowedDomainsTemplate: true,
      allowedDomains: [`{{identity.entity.aliases.${props.workloadAuthAccessor}.metadata.nomad_job_id}}.service.consul`],
      allowBareDomains: true,
      allowSubdomains: true,
      allowGlobDomains: false,
      allowAnyName: false,
      allowIpSans: true,
      allowLocalhost: true,
      enforceHostnames: true,
      serverFlag: true,
      clientFlag: true,
      keyType,
      keyBits,
      ttl: "24h",
      maxTtl: props.maxCertTtl ?? "72h",
      noStore: true,
      dependsOn: [signed],
    });
  }
}

export interface VaultFileAuditProps {
  /**
   * Log file on the Vault servers; the node configuration creates its directory, rotates it
   * (SIGHUP to Vault) and ships it.
   * @default "/var/log/vault/audit.log"
   */
  readonly filePath?: string;
}

/**
 * A file audit device: every request and response, secrets HMAC'd. Vault refuses requests when
 * no enabled audit device can write, so the node must keep the file writable.
 */
export class VaultFileAudit extends Construct {
  readonly device: Audit;

  constructor(scope: Construct, id: string, props: VaultFileAuditProps = {}) {
    super(scope, id);
    this.device = new Audit(this, "file", { type: "file", path: "file", description: "Every request, secrets HMAC'd", options: { file_path: props.filePath ?? VAULT.auditFile } });
  }
}
