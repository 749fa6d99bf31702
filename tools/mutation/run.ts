// `npm run mutation [-- <area>... [stryker options]]`: runs StrykerJS on each named area (all four
// when none is named), one after the other, then prints each area's mutation score from its JSON
// report. Too slow for CI on 2 cores: a command with a report, like the benchmarks.
// e.g. npm run mutation -- cost-tracker --mutate services/cost-tracker/src/approvals.ts
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { scoreOf, type MutationReport } from "./score";

const AREAS = ["cost-tracker", "policies", "plan", "catalog"];

const args = process.argv.slice(2);
const named = args.filter((a) => AREAS.includes(a));
const unknown = args.filter((a) => !a.startsWith("-") && !AREAS.includes(a) && !isOptionValue(a));
if (unknown.length > 0) {
    for (const a of unknown) console.error(`mutation: "${a}" is not an area; areas: ${AREAS.join(", ")}`);
    process.exit(2);
}
const strykerArgs = args.filter((a) => !AREAS.includes(a));
const areas = named.length > 0 ? named : AREAS;

let failed = false;
for (const area of areas) {
    const run = spawnSync("npx", ["stryker", "run", `tools/mutation/${area}.config.mjs`, ...strykerArgs], {
        stdio: "inherit",
    });
    if (run.status !== 0) {
        console.error(`mutation: stryker exited ${run.status} for ${area}`);
        failed = true;
    }
}

console.log("\narea          score   killed  timeout  survived  no-coverage  compile-errors  ignored  report");
for (const area of areas) {
    const path = `reports/mutation/${area}.json`;
    if (!existsSync(path)) {
        console.log(`${area.padEnd(13)} (no report)`);
        continue;
    }
    const s = scoreOf(JSON.parse(readFileSync(path, "utf8")) as MutationReport);
    const score = s.score === undefined ? "n/a" : `${s.score.toFixed(1)}%`;
    console.log(
        `${area.padEnd(13)} ${score.padStart(6)}  ${String(s.killed).padStart(6)}  ${String(s.timeout).padStart(7)}  ` +
            `${String(s.survived).padStart(8)}  ${String(s.noCoverage).padStart(11)}  ${String(s.compileErrors).padStart(14)}  ` +
            `${String(s.ignored).padStart(7)}  ` +
            `reports/mutation/${area}.html`,
    );
}
process.exit(failed ? 1 : 0);

/** A value that follows an option (`--mutate a.ts`), not an area. */
function isOptionValue(arg: string): boolean {
    const i = args.indexOf(arg);
    return i > 0 && args[i - 1].startsWith("-") && !args[i - 1].includes("=");
}
