/** Certificates for the test's AWS endpoints, issued per run by the image's test CA. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { sh } from "./exec";
import type { Image } from "./image";

export interface IssuedCert {
  readonly cert: string;
  readonly key: string;
}

/** A P-256 server certificate for `names` (DNS SANs), valid for the run. */
export function issueServerCert(image: Image, dir: string, base: string, names: readonly string[]): IssuedCert {
  const key = join(dir, `${base}-key.pem`);
  const csr = join(dir, `${base}.csr`);
  const cert = join(dir, `${base}.pem`);
  const ext = join(dir, `${base}.ext`);
  writeFileSync(ext, `subjectAltName=${names.map((n) => `DNS:${n}`).join(",")}\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature\nbasicConstraints=critical,CA:FALSE\n`);
  sh(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", `/CN=${names[0]}`, "-keyout", key, "-out", csr]);
  sh(["openssl", "x509", "-req", "-in", csr, "-CA", image.caCert, "-CAkey", image.caKey, "-CAcreateserial", "-CAserial", join(dir, "ca.srl"), "-days", "2", "-extfile", ext, "-out", cert]);
  return { cert, key };
}
