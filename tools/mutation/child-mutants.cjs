// Mutants in the processes a spec starts (`node tools/plan/bin.js …`, and the program the plan
// starts in turn), for areas whose specs run the code under test as a command. Stryker's mocha
// runner activates a mutant, and records which test reached which mutant, in its own process only
// (@stryker-mutator/mocha-runner 9.6.1 mocha-test-runner.js); a child runs the same instrumented
// files in place, so it needs two things:
//
// - the active mutant: the instrumenter's preamble reads it from __STRYKER_ACTIVE_MUTANT__ when
//   its own is unset (@stryker-mutator/instrumenter 9.6.1 dist/src/util/syntax-helpers.js), and the
//   environment reaches every descendant;
// - the coverage: each descendant writes the mutants it reached when it exits (child-coverage.cjs,
//   preloaded through NODE_OPTIONS), with the test that was running when it was started (the
//   environment at spawn time); they count for that test, or as static coverage when a `before`
//   hook started it, exactly as Stryker counts its own process.
//
// Loaded as a mocha root-hook plugin (`require` in the area's mocha options).
"use strict";
const fs = require("fs");
const os = require("os");
const path = require("path");

const ACTIVE_MUTANT = "__STRYKER_ACTIVE_MUTANT__";
const COVERAGE_DIR = "GPU_PLATFORM_MUTANT_COVERAGE_DIR";
const RUNNING_TEST = "GPU_PLATFORM_MUTANT_TEST";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stryker-children-"));
process.env[COVERAGE_DIR] = dir;
process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ""} -r ${path.join(__dirname, "child-coverage.cjs")}`.trim();
process.on("exit", () => fs.rmSync(dir, { recursive: true, force: true }));

const stryker = () => globalThis.__stryker__;

function passOnActiveMutant() {
    const id = stryker()?.activeMutant;
    if (id === undefined) delete process.env[ACTIVE_MUTANT];
    else process.env[ACTIVE_MUTANT] = String(id);
}

/** Adds what the children that ended since the last call reached to the coverage of the test that started each. */
function collectChildCoverage() {
    const coverage = stryker()?.mutantCoverage;
    for (const file of fs.readdirSync(dir)) {
        const { test, reached } = JSON.parse(fs.readFileSync(path.join(dir, file), "utf8"));
        fs.rmSync(path.join(dir, file));
        if (!coverage) continue;
        const into = test ? (coverage.perTest[test] ??= {}) : coverage.static;
        for (const [id, hits] of Object.entries(reached)) into[id] = (into[id] ?? 0) + hits;
    }
}

exports.mochaHooks = {
    beforeAll: passOnActiveMutant,
    beforeEach() {
        passOnActiveMutant();
        collectChildCoverage();
        // The test's id as Stryker's mocha runner names it (mocha-test-runner.js: `currentTest.fullTitle()`).
        process.env[RUNNING_TEST] = this.currentTest?.fullTitle() ?? "";
    },
    afterEach() {
        delete process.env[RUNNING_TEST];
        collectChildCoverage();
    },
    afterAll: collectChildCoverage,
};
