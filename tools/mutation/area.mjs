// The StrykerJS settings every area shares (tools/mutation/<area>.config.mjs adds what it mutates
// and which specs judge it). Incremental, so that a second run after new specs only tests the
// mutants whose code or specs changed.
// Option names: @stryker-mutator/api 9.6.1 dist/schema/stryker-core.json; mocha runner options:
// @stryker-mutator/mocha-runner 9.6.1 dist/schema/mocha-runner-options.json.

/**
 * @param {{ area: string, mutate: string[], spec: string[], tsconfigFile: string, thresholds: { high: number, low: number }, childProcesses?: boolean }} options
 * @returns {import("@stryker-mutator/api/core").PartialStrykerOptions}
 */
export function areaConfig({ area, mutate, spec, tsconfigFile, thresholds, childProcesses = false }) {
    return {
        packageManager: "npm",
        testRunner: "mocha",
        // Mutants that do not compile are reported as such, not run (the service's own tsconfig for its area).
        checkers: ["typescript"],
        tsconfigFile,
        mutate,
        // In place, not in a sandbox copy: the workspace packages (@gpu-platform/catalog,
        // gpu-dev-platform-policies, @gpu-platform/offline, …) are symlinks in node_modules to the
        // original folders, so a sandbox's specs would import the original, unmutated code by package
        // name, and every mutant reached that way would survive. Stryker restores the files when the
        // run ends; run it in a worktree of its own, and `git checkout -- .` after a run that was killed.
        inPlace: true,
        mochaOptions: {
            "no-config": true,
            "no-package": true,
            "no-opts": true,
            spec,
            // An area whose specs run its code as a command follows mutants into those processes.
            require: ["esbuild-register", ...(childProcesses ? ["./tools/mutation/child-mutants.cjs"] : [])],
        },
        // Each mutant runs only the specs that reach its line.
        coverageAnalysis: "perTest",
        // Two test runners and two type checkers: Stryker gives half the processes to each (9.6.1
        // concurrency-token-provider.js), and on 2 cores one runner leaves a core idle while the checker waits.
        concurrency: 4,
        // Static mutants (module-level code: a migration's SQL text, a route schema's constants) run
        // every spec of the area, each, since no test can be said to cover them alone: most of a run's
        // time. They are reported as ignored, not counted; the SQL has its own list (npm run mutation:sql),
        // and `--ignoreStatic false` runs them too.
        ignoreStatic: true,
        // A busy machine: a spec three times slower than in the dry run, plus 10 s, is still not a timeout.
        timeoutFactor: 3,
        timeoutMS: 10_000,
        dryRunTimeoutMinutes: 20,
        incremental: true,
        incrementalFile: `reports/mutation/${area}.incremental.json`,
        reporters: ["clear-text", "progress-append-only", "html", "json"],
        htmlReporter: { fileName: `reports/mutation/${area}.html` },
        jsonReporter: { fileName: `reports/mutation/${area}.json` },
        clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true },
        // What no spec of any area reads: not copied into the sandbox.
        // (backstage/ stays: the portal's image build reads its Dockerfile when a spec builds the platform)
        ignorePatterns: ["/docs", "/examples", "/bench", "/reports", "/dist", "**/test-results", "**/.data"],
        thresholds: { ...thresholds, break: null },
    };
}
