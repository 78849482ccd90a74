/** The machine environment the harness adds where the runner differs from an instance. */
import { haproxyEnvironment, hardNofile } from "./harness/world";

const routing = (maxconn: number) => `#cloud-config\nwrite_files:\n- path: /etc/haproxy/haproxy.cfg\n  content: |\n    global\n        log stdout format raw local0\n        maxconn ${maxconn}\n    defaults\n        maxconn 10\n`;

describe("machine environment", () => {
  test("the runner's hard NOFILE limit is read from /proc/self/limits", () => {
    expect(hardNofile("Limit  Soft  Hard  Units\nMax open files            1024                 20000                files     \n")).toBe(20000);
    expect(hardNofile("Max open files            unlimited            unlimited            files\n")).toBe(Infinity);
    expect(hardNofile()).toBeGreaterThan(0);
  });

  test("HAProxy gets a command-line maxconn only where the cap is below what its global maxconn needs", () => {
    expect(haproxyEnvironment(routing(20000), 524288)).toEqual({});
    const env = haproxyEnvironment(routing(20000), 20000)["/etc/default/haproxy"];
    expect(env).toContain('EXTRAOPTS="-S /run/haproxy-master.sock -n 9950"');
    // The global section's maxconn counts, not a later section's.
    expect(haproxyEnvironment(routing(5000), 20000)).toEqual({});
  });

  test("a routing user data without HAProxy's config is an error, not a silent default", () => {
    expect(() => haproxyEnvironment("#cloud-config\nwrite_files: []\n", 20000)).toThrow(/no \/etc\/haproxy\/haproxy.cfg/);
  });
});
