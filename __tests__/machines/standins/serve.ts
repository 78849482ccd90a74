/**
 * Starts the stand-in AWS endpoints and shared state (Python, `bitte_standins.serve`) with the given
 * config file, forwarding SIGTERM/SIGINT and its exit status. The machine tier runs it inside the
 * service namespace: `ip netns exec <svc> node --import tsx __tests__/machines/standins/serve.ts <config.json>`.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";

const config = process.argv[2];
if (!config) {
  process.stderr.write("usage: serve.ts <config.json> (see __tests__/machines/standins/README.md)\n");
  process.exit(2);
}
const child = spawn("python3", ["-m", "bitte_standins.serve", config], {
  stdio: "inherit",
  env: { ...process.env, PYTHONPATH: join(__dirname, "py"), PYTHONDONTWRITEBYTECODE: "1" },
});
for (const sig of ["SIGTERM", "SIGINT"] as const) process.on(sig, () => child.kill(sig));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 0 : 1)));
