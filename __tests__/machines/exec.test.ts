/** The machine tier's process runner: a program's exit is its result, whatever it did with stdin. */
import { shAsync } from "./harness/exec";

describe("shAsync", () => {
  test("a program that exits without reading its input reports its status, not EPIPE", async () => {
    // 4 MiB is far beyond a pipe's buffer: the write is still pending when `true` exits.
    const runs = await Promise.all(Array.from({ length: 8 }, () => shAsync(["true"], { input: "x".repeat(4 << 20), check: false })));
    expect(runs.map((r) => r.status)).toEqual(Array(8).fill(0));
  });

  test("without input, stdin is at EOF at once", async () => {
    const r = await shAsync(["cat"], { timeoutMs: 10_000 });
    expect(r).toEqual({ status: 0, stdout: "", stderr: "" });
  });

  test("input reaches the program", async () => {
    expect((await shAsync(["cat"], { input: "hello\n" })).stdout).toBe("hello\n");
  });
});
