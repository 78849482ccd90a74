#!/usr/bin/env node
// The `bitte` command: registers tsx so Node runs the TypeScript sources directly, then hands
// over to cli/main.ts. Works right after `npm ci`, no build step.
"use strict";
require("tsx/cjs");
require("../cli/main.ts")
  .cli()
  .catch((err) => {
    process.stderr.write(`bitte: ${err && err.stack ? err.stack : err}\n`);
    process.exitCode = 1;
  });
