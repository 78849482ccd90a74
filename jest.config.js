/** Transpile-only (swc); `tsc --noEmit` type-checks separately in `npm test`. */
const transform = { "^.+\\.ts$": ["@swc/jest", { jsc: { target: "es2022", parser: { syntax: "typescript" } }, module: { type: "commonjs" } }] };
const common = { testEnvironment: "node", transform, moduleFileExtensions: ["ts", "js", "json"], setupFilesAfterEnv: ["<rootDir>/__tests__/harness/setup.ts"] };

module.exports = {
  projects: [
    // Unit tier: pure functions, synthesis, snapshots, property tests.
    { ...common, displayName: "unit", testMatch: ["<rootDir>/__tests__/**/*.test.ts"], testPathIgnorePatterns: ["\\.tool\\.test\\.ts$", "\\.machine\\.test\\.ts$"] },
    // Tool tier: real programs (terraform, cloud-init, shellcheck, haproxy, victoria-metrics, openssl).
    { ...common, displayName: "tools", testMatch: ["<rootDir>/__tests__/**/*.tool.test.ts"] },
    // Machine tier: the roles' user data booted under systemd and cloud-init in systemd-nspawn
    // containers (root; see README, "How the machine tier works").
    { ...common, displayName: "machines", testMatch: ["<rootDir>/__tests__/machines/**/*.machine.test.ts"] },
  ],
  testTimeout: 300000,
};
