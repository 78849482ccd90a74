/**
 * No credential in the synthesized JSON, ever: providers take tokens from the environment, and
 * the stack creates no resource that would put a token or key into Terraform state.
 */
import { clusterWith, exampleCluster, findSecrets, synthConsul } from "./helpers";

/** Resources that would store a secret in Terraform state. */
const SECRET_BEARING = ["consul_acl_token", "consul_acl_token_secret_id", "nomad_acl_token", "vault_token", "vault_approle_auth_backend_role_secret_id", "vault_generic_secret", "vault_kv_secret", "vault_kv_secret_v2", "random_password", "random_id", "tls_private_key"];

describe("secrets in the consul stack's JSON", () => {
  const clusters = { example: exampleCluster, other: clusterWith({ namespaces: ["a", "b"], routes: [{ host: "www", service: "web" }] }) };

  for (const [label, cluster] of Object.entries(clusters)) {
    test(`cluster "${label}": no credential attribute or credential-looking value`, () => {
      expect(findSecrets(synthConsul(cluster).parsed)).toEqual([]);
    });
  }

  test("providers carry addresses only; tokens come from CONSUL_HTTP_TOKEN, VAULT_TOKEN, NOMAD_TOKEN", () => {
    const { provider } = synthConsul().parsed;
    expect(Object.keys(provider).sort()).toEqual(["consul", "nomad", "vault"]);
    const allowed: Record<string, string[]> = { consul: ["address", "scheme", "datacenter"], vault: ["address"], nomad: ["address", "region"] };
    for (const [name, keys] of Object.entries(allowed)) {
      for (const block of provider[name]) expect(Object.keys(block).filter((k) => !keys.includes(k))).toEqual([]);
    }
  });

  test("no resource that keeps a token, secret id or key in state", () => {
    const types = Object.keys(synthConsul().parsed.resource);
    expect(types.filter((t) => SECRET_BEARING.includes(t))).toEqual([]);
  });

  test("CA keys are generated inside Vault, never exported", () => {
    const { resource } = synthConsul().parsed;
    const keyed = [...Object.values(resource.vault_pki_secret_backend_root_cert ?? {}), ...Object.values(resource.vault_pki_secret_backend_intermediate_cert_request ?? {})];
    expect(keyed).toHaveLength(2);
    for (const r of keyed) expect(r.type).toBe("internal");
  });

  test("the scanner catches what it looks for (positive control)", () => {
    const planted = {
      provider: { consul: [{ address: "x", token: "anything" }], nomad: [{ secret_id: "y" }] },
      resource: {
        a: { b: { value: "hvs.CAESIJlWQz3dQ1zN1xNq5x1xA1xx" } },
        c: { d: { rules: "id 0b7e1c43-2a1e-4d8e-9b7a-3c7e1f0a9d11 here" } },
        e: { f: { key: "-----BEGIN EC PRIVATE KEY-----\nMHc" } },
        g: { h: { k: "AKIAIOSFODNN7EXAMPLE" } },
        i: { j: { gossip: "pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s=" } },
      },
    };
    const reasons = findSecrets(planted).map((f) => f.path);
    expect(reasons).toEqual(
      expect.arrayContaining([
        "$.provider.consul[0].token",
        "$.provider.nomad[0].secret_id",
        "$.resource.a.b.value",
        "$.resource.c.d.rules",
        "$.resource.e.f.key",
        "$.resource.g.h.k",
        "$.resource.i.j.gossip",
      ]),
    );
  });
});
