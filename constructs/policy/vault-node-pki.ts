import { PkiSecretBackendRole } from "@cdktf/provider-vault/lib/pki-secret-backend-role";
import { Construct } from "constructs";
import { VAULT } from "./names";

/** The Nomad region every agent of a Bitte cluster is in (constructs/node-config/nomad.ts). */
export const NOMAD_REGION = "global";

/** The name every Nomad client certificate carries: Nomad's RPC checks `client.<region>.nomad`. */
export const NOMAD_CLIENT_NAME = `client.${NOMAD_REGION}.nomad`;

/**
 * DNS names the node CA may sign (its name constraints): the Nomad region's names, and localhost,
 * which every agent's certificate carries for its local API. IP SANs are not constrained.
 */
export const NODE_PKI_PERMITTED_DOMAINS = Object.freeze([`${NOMAD_REGION}.nomad`, "localhost"]);

/** A client's own name in its certificate. */
export function nomadClientNodeName(instanceId: string): string {
  return `${instanceId}.${NOMAD_CLIENT_NAME}`;
}

export interface VaultNodePkiProps {
  /**
   * Accessor of the AWS auth backend the clients log in with: the role's allowed names are
   * templated on the login's `inferred_entity_id` alias metadata (the EC2 instance id).
   */
  readonly awsAuthAccessor: string;
  /**
   * Lifetime of a client certificate when the client asks for none. Nomad checks no CRL, so this
   * bounds how long a stolen certificate works; the client renews at half of it.
   * @default "24h"
   */
  readonly ttl?: string;
  /**
   * Longest lifetime a client may ask for.
   * @default "72h"
   */
  readonly maxTtl?: string;
}

/**
 * Per-node Nomad client certificates (issue 12, finding 3). The mount `pki_nodes` and its issuing
 * CA are made at first boot by the Vault init-lock owner (bitte-bootstrap `vault_node_pki`): an
 * intermediate whose key Vault generates (`intermediate/generate/internal`), signed by the Bitte
 * CA on that node (CA:true, pathlen 0, name constraints `global.nomad`), so Nomad's servers accept
 * it through the one CA file they trust and neither key reaches Terraform state. This stack adds
 * only the role: a client may ask for `client.global.nomad` and `<its instance id>.client.global.nomad`
 * (plus localhost and IP SANs), nothing else. Certificates are stored (`no_store = false`) so one
 * can be revoked by serial.
 */
export class VaultNodePki extends Construct {
  readonly role: PkiSecretBackendRole;

  constructor(scope: Construct, id: string, props: VaultNodePkiProps) {
    super(scope, id);
    this.role = new PkiSecretBackendRole(this, "nomad-client", {
      backend: VAULT.nodePkiPath,
      name: VAULT.nomadClientPkiRole,
      // builtin/logical/pki/issuing/cert_verify.go ValidateNames: with allowed_domains_template,
      // each entry is populated from the caller's entity; an entry that cannot be (no alias
      // metadata: a login without an inferred instance) is skipped, never matched literally.
      allowedDomainsTemplate: true,
      allowedDomains: [NOMAD_CLIENT_NAME, `{{identity.entity.aliases.${props.awsAuthAccessor}.metadata.inferred_entity_id}}.${NOMAD_CLIENT_NAME}`],
      // Exactly those names: no subdomains (another instance's name is a subdomain of
      // client.global.nomad), no globs, no wildcards, no other names.
      allowBareDomains: true,
      allowSubdomains: false,
      allowGlobDomains: false,
      allowWildcardCertificates: false,
      allowAnyName: false,
      enforceHostnames: true,
      allowLocalhost: true,
      allowIpSans: true,
      allowedUriSans: [],
      serverFlag: true,
      clientFlag: true,
      keyType: "ec",
      keyBits: 256,
      ttl: props.ttl ?? "24h",
      maxTtl: props.maxTtl ?? "72h",
      noStore: false,
      generateLease: false,
    });
  }
}
