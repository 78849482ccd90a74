/**
 * The app keeps compressed user data between synths (constructs/user-data.ts, wired in main.ts).
 * A store must never change what is synthesized: the same bytes as compressing afresh, and a
 * damaged entry compressed again.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { directoryUserDataStore, type UserDataStore, USER_DATA_LIMIT, userDataBase64, useUserDataStore } from "../../constructs/user-data";

const work = mkdtempSync(join(tmpdir(), "bitte-user-data-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
afterEach(() => useUserDataStore(undefined));

const TEXTS = ["#cloud-config\npackages: []\n", "#cloud-config\nruncmd:\n  - [echo, \"${HOME}\"]\n".repeat(200), "ünïcødé — \u2028 \\ '\"\n"];

/** A directory store that counts what it is asked. */
function counting(dir: string): UserDataStore & { gets: number; sets: number } {
  const inner = directoryUserDataStore(dir);
  const s = {
    gets: 0,
    sets: 0,
    get: (k: string) => (s.gets++, inner.get(k)),
    set: (k: string, v: Uint8Array) => (s.sets++, inner.set(k, v)),
  };
  return s;
}

test("with a store the output is byte for byte what compressing afresh gives, and a hit writes nothing", () => {
  const fresh = TEXTS.map((t) => userDataBase64(t));
  const store = counting(join(work, "hit"));
  useUserDataStore(store);
  expect(TEXTS.map((t) => userDataBase64(t))).toEqual(fresh);
  expect({ gets: store.gets, sets: store.sets }).toEqual({ gets: 3, sets: 3 });
  expect(TEXTS.map((t) => userDataBase64(t))).toEqual(fresh);
  expect({ gets: store.gets, sets: store.sets }).toEqual({ gets: 6, sets: 3 });
  expect(fresh.map((b) => gunzipSync(Buffer.from(b, "base64")).toString("utf8"))).toEqual(TEXTS);
});

test("a damaged entry, or another text's, is compressed again and rewritten", () => {
  const dir = join(work, "damaged");
  const text = TEXTS[1];
  const want = userDataBase64(text);
  useUserDataStore(directoryUserDataStore(dir));
  userDataBase64(text);
  const [name] = readdirSync(dir);
  const good = readFileSync(join(dir, name));
  const faults: Record<string, Buffer> = {
    empty: Buffer.alloc(0),
    truncated: good.subarray(0, good.length - 9),
    "flipped bit": Buffer.from(good.map((b, i) => (i === 40 ? b ^ 0x01 : b))),
    "another text's gzip": Buffer.from(userDataBase64(TEXTS[0]), "base64"),
    "not gzip": Buffer.from("#cloud-config\n"),
  };
  for (const [fault, data] of Object.entries(faults)) {
    writeFileSync(join(dir, name), data);
    expect({ fault, out: userDataBase64(text) }).toEqual({ fault, out: want });
    expect({ fault, rewritten: readFileSync(join(dir, name)).equals(good) }).toEqual({ fault, rewritten: true });
  }
});

test("a store that cannot be written costs speed, not the synth", () => {
  const blocker = join(work, "file");
  writeFileSync(blocker, "");
  useUserDataStore(directoryUserDataStore(join(blocker, "store")));
  expect(userDataBase64(TEXTS[0])).toEqual((useUserDataStore(undefined), userDataBase64(TEXTS[0])));
});

test("user data over EC2's limit is refused with or without a store", () => {
  // Incompressible: every line differs.
  const big = Array.from({ length: 4000 }, (_, i) => `${i}:${(i * 2654435761) % 4294967296}`).join("\n");
  const message = /bytes compressed, over EC2's 16384; move large files out of the node configuration/;
  expect(() => userDataBase64(big)).toThrow(message);
  useUserDataStore(directoryUserDataStore(join(work, "limit")));
  expect(() => userDataBase64(big)).toThrow(message);
  expect(() => userDataBase64(big)).toThrow(message);
  expect(USER_DATA_LIMIT).toBe(16384);
});
