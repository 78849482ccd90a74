/**
 * The project's own rendered configurations against the stand-ins' key schemas: every Consul,
 * Nomad and Vault file of every role passes, so the machine tier fails on real faults only; and a
 * key the product does not know fails here first.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describeWithTools, run } from "../../harness/tools";
import { NODES, renderNodeFiles } from "../../node-config/render-helpers";
import { PY, tempDir } from "./harness";

const PRODUCT_DIRS = { consul: "/etc/consul.d", nomad: "/etc/nomad.d", vault: "/etc/vault.d" } as const;

function py(code: string): { status: number; stdout: string; stderr: string } {
  return run("python3", ["-c", `import sys, json; sys.path.insert(0, ${JSON.stringify(PY)})\n${code}`]);
}

describeWithTools(["python3"], "rendered configurations against the stand-ins' key schemas", () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir("standins-configs-");
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Writes the node's files for one product's directory under a fresh root; the directory. */
  function write(label: string, props: (typeof NODES)[number], product: keyof typeof PRODUCT_DIRS): string | undefined {
    const files = renderNodeFiles(props).filter((f) => f.path.startsWith(`${PRODUCT_DIRS[product]}/`) && /\.(json|hcl)$/.test(f.path));
    if (files.length === 0) return undefined;
    const root = join(dir, label.replace(/\W+/g, "-"));
    for (const f of files) {
      const p = join(root, f.path);
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, f.content);
    }
    return join(root, PRODUCT_DIRS[product]);
  }

  test.each(NODES.map((n) => [n.label, n] as const))("%s: consul, nomad and vault accept every key", (label, props) => {
    let checked = 0;
    const consul = write(label, props, "consul");
    if (consul) {
      const r = py(`from bitte_standins.consul import load; from bitte_standins.common import Fatal\ntry:\n  load([${JSON.stringify(consul)}]); print("ok")\nexcept Fatal as e:\n  print(e)`);
      expect(r.stdout.trim()).toBe("ok");
      checked++;
    }
    const nomad = write(label, props, "nomad");
    if (nomad) {
      const r = py(`from bitte_standins.nomad import load; from bitte_standins.common import Fatal\ntry:\n  load([${JSON.stringify(nomad)}]); print("ok")\nexcept Fatal as e:\n  print(e)`);
      expect(r.stdout.trim()).toBe("ok");
      checked++;
    }
    const vault = write(label, props, "vault");
    if (vault) {
      const r = py(`from bitte_standins.vault import load\nprint(json.dumps(load([${JSON.stringify(vault)}])[2]))`);
      expect(JSON.parse(r.stdout) as string[]).toEqual([]);
      checked++;
    }
    expect(checked).toBeGreaterThan(0);
  });

  test("a key the product does not know is refused (consul, nomad) or warned about (vault)", () => {
    const d = join(dir, "bad");
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, "c.json"), JSON.stringify({ ports: { https: 8501, htps: 1 } }));
    const c = py(`from bitte_standins.consul import load; from bitte_standins.common import Fatal\ntry:\n  load([${JSON.stringify(d)}])\nexcept Fatal as e:\n  print(e)`);
    expect(c.stdout).toContain("invalid config key ports.htps");
    writeFileSync(join(d, "c.json"), JSON.stringify({ client: { enabled: true, drain_on_shutdown: { deadline: "1h", bogus: 1 } } }));
    const n = py(`from bitte_standins.nomad import load; from bitte_standins.common import Fatal\ntry:\n  load([${JSON.stringify(d)}])\nexcept Fatal as e:\n  print(e)`);
    expect(n.stdout).toContain("unexpected keys bogus");
    writeFileSync(join(d, "c.json"), JSON.stringify({ listener: [{ tcp: { address: "x", tls_cert: "y" } }], storage: { raft: { path: "/x" } } }));
    const v = py(`from bitte_standins.vault import load\nprint(json.dumps(load([${JSON.stringify(d)}])[2]))`);
    expect(JSON.parse(v.stdout) as string[]).toEqual([`unknown or unsupported field tls_cert found in configuration at ${d}/c.json`]);
  });

  test("the vendors' sample HCL configurations parse and pass the schemas", () => {
    const r = py(`from bitte_standins import consul, nomad, vault\nimport os\nbase = ${JSON.stringify(join(__dirname, "packages"))}\nconsul.load([os.path.join(base, "consul/etc/consul.d/consul.hcl")])\nnomad.load([os.path.join(base, "nomad/etc/nomad.d/nomad.hcl")])\nprint(json.dumps(vault.load([os.path.join(base, "vault/etc/vault.d/vault.hcl")])[0]))`);
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toMatchObject({ ui: true, storage: { file: { path: "/opt/vault/data" } }, listener: { tcp: { address: "0.0.0.0:8200" } } });
  });
});
