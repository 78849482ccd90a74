import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", "cdktf.out/", "dist/", "coverage/", "**/*.js", "**/*.mjs"] },
  ...tseslint.configs.recommended,
  {
    rules: {
      // Deep imports only: a provider package's root loads every resource binding (DESIGN.md).
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              regex: "^@cdktf/provider-[a-z0-9-]+$",
              message: "Import the resource deeply, e.g. @cdktf/provider-aws/lib/vpc: the package root loads every binding.",
            },
            {
              regex: "^@cdktf/provider-[a-z0-9-]+/lib$",
              message: "Import the resource deeply, e.g. @cdktf/provider-aws/lib/vpc.",
            },
          ],
        },
      ],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
    },
  },
);
