import { bar, streamProgress } from "../../cli/progress";

function sink(isTTY: boolean) {
  const chunks: string[] = [];
  return { stream: { isTTY, write: (t: string) => chunks.push(t) }, text: () => chunks.join("") };
}

describe("progress on stderr", () => {
  test("off a terminal: plain lines, no control characters, repeated updates once", () => {
    const s = sink(false);
    const p = streamProgress(s.stream);
    p.start("core-2: terraform apply");
    p.update("50%");
    p.update("50%");
    p.succeed();
    p.start("core-3");
    p.fail("core-3: quorum not healthy");
    expect(s.text()).toBe("… core-2: terraform apply\n  50%\n✓ core-2: terraform apply\n… core-3\n✗ core-3: quorum not healthy\n");
    expect(s.text()).not.toMatch(/\x1b|\r/);
  });

  test("on a terminal: a spinner line redrawn in place, ended with a mark", () => {
    const s = sink(true);
    const p = streamProgress(s.stream);
    p.start("waiting");
    p.update("still waiting");
    p.succeed("done");
    expect(s.text()).toContain("\r\x1b[K");
    expect(s.text().endsWith("✓ done\n")).toBe(true);
  });

  test("bar", () => {
    expect(bar(0, 10)).toBe("[----------]   0%");
    expect(bar(67, 10)).toBe("[#######---]  67%");
    expect(bar(150, 10)).toBe("[##########] 100%");
  });
});
