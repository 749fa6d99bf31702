#!/usr/bin/env node
// `npx gpu-platform-plan …` and `npm run plan -- …`: the offline plan's command (tools/plan/cli.ts).
// A bin, so `--json` output is one JSON document with no npm banner before it.
"use strict";
const { installCompiledCodeCache, installTypeScriptHook } = require("./compile-cache");

installCompiledCodeCache("plan");
installTypeScriptHook();
// The plan prints no stack trace for a user's mistake; Node's source-map support only costs time.
process.setSourceMapsEnabled = () => {};
// `… --json | head` closes the pipe early: stop quietly, as other command-line tools do.
process.stdout.on("error", (err) => {
    if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw err;
});

require("./cli")
    .main(process.argv.slice(2))
    .then(
        (code) => {
            process.exitCode = code;
        },
        (err) => {
            // Not a user error: keep the trace, it is a bug in the plan itself.
            console.error(err);
            process.exitCode = 3;
        },
    );
