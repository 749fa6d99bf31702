// Preloaded into every process a spec starts under `npm run mutation` (child-mutants.cjs): at exit,
// writes which mutants this process reached, and which test was running when it was started, for
// the spec's process to count.
"use strict";
const fs = require("fs");
const path = require("path");

const dir = process.env.GPU_PLATFORM_MUTANT_COVERAGE_DIR;
if (dir) {
    process.on("exit", () => {
        const coverage = globalThis.__stryker__?.mutantCoverage;
        if (!coverage) return;
        const reached = { ...coverage.static };
        for (const perTest of Object.values(coverage.perTest ?? {}))
            for (const [id, hits] of Object.entries(perTest)) reached[id] = (reached[id] ?? 0) + hits;
        if (Object.keys(reached).length === 0) return;
        try {
            const test = process.env.GPU_PLATFORM_MUTANT_TEST ?? "";
            fs.writeFileSync(path.join(dir, `${process.pid}.json`), JSON.stringify({ test, reached }));
        } catch {
            // the spec's process is gone; nothing to count for
        }
    });
}
