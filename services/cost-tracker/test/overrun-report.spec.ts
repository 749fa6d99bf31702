/**
 * The budget gate's overrun report checked and recorded directly: what makes a report unsound,
 * the alert's words for each thing the gate did (nothing stopped, one workload, several), and one
 * alert per overrun whatever the order the gate lists its stopped workloads in. Embedded PGlite;
 * budgets of the test config (ml-research $120,000).
 */
import * as assert from "assert";
import type { AlertRow } from "../src/api-types";
import type { Database } from "../src/db/database";
import { overrunReportProblems, recordOverrun, type OverrunReport } from "../src/overrun-alerts";
import { resetDatabase, testConfig, testDatabase } from "./helpers";

const NOW = new Date("2026-03-10T12:00:00Z");
const SWEEP = { namespace: "ml-research", kind: "Workload", name: "job-sweep-0b8e0" };
const TRAIN = { namespace: "ml-research", kind: "Workload", name: "job-train-0b8e1" };
/** $118,000 spent and $3,300 reserved: $121,300, over $120,000. */
const REPORT: OverrunReport = {
    team: "ml-research",
    kind: "budget-overrun",
    action: "suspended",
    spentUsd: 118_000,
    reservedUsd: 3300,
    stopped: [SWEEP, TRAIN],
};
const FIGURES =
    "ml-research is over its $120000.00 budget for 2026-03: $118000.00 spent and $3300.00 reserved ($121300.00)";

describe("cost tracker: overrun reports, checked and recorded directly", () => {
    it("finds nothing wrong with a sound report, even one with only reservations", () => {
        assert.deepStrictEqual(overrunReportProblems(REPORT), []);
        assert.deepStrictEqual(overrunReportProblems({ ...REPORT, spentUsd: 0, reservedUsd: 50 }), []);
    });

    it("names every problem of an unsound report with its field", () => {
        const problems = overrunReportProblems({
            ...REPORT,
            action: "queued",
            spentUsd: 0,
            reservedUsd: 0,
            stopped: [SWEEP, { ...TRAIN, namespace: "inference" }],
        });
        assert.deepStrictEqual(
            problems.map((p) => p.message),
            [
                'stopped: must be empty when action is "queued": that mode stops nothing',
                "stopped[1].namespace: is inference, not ml-research's namespace",
                "spentUsd: is 0 and so is reservedUsd: a budget cannot be overrun with nothing spent or reserved",
            ],
        );
    });

    describe("recorded", () => {
        let db: Database;
        let keys = 0;
        const record = async (report: OverrunReport) => {
            const { answer } = await recordOverrun(db, report, `overrun-${++keys}`, NOW);
            return [answer.statusCode, (answer.body as AlertRow).message] as const;
        };
        before(async () => {
            db = await testDatabase();
        });
        beforeEach(() => resetDatabase(db, testConfig()));

        it("says what the gate stopped: nothing, one workload, or several", async () => {
            assert.deepStrictEqual(await record({ ...REPORT, stopped: [] }), [
                201,
                `${FIGURES}. The budget gate stopped nothing: only workloads of critical classes are running.`,
            ]);
            assert.deepStrictEqual(await record({ ...REPORT, stopped: [SWEEP] }), [
                201,
                `${FIGURES}. The budget gate stopped 1 workload, lowest priority first: ml-research/job-sweep-0b8e0 (Workload).`,
            ]);
            assert.deepStrictEqual(await record(REPORT), [
                201,
                `${FIGURES}. The budget gate stopped 2 workloads, lowest priority first: ml-research/job-sweep-0b8e0 (Workload), ml-research/job-train-0b8e1 (Workload).`,
            ]);
        });

        it("keeps one alert per overrun whatever order the stopped workloads come in, and a new one for other workloads", async () => {
            const first = await record(REPORT);
            // The same two workloads listed the other way round, under a new key: the stored alert.
            assert.deepStrictEqual(await record({ ...REPORT, stopped: [TRAIN, SWEEP] }), [200, first[1]]);
            // Two other workloads of the same count: a new overrun.
            const other = await record({
                ...REPORT,
                stopped: [
                    { ...SWEEP, name: "job-a" },
                    { ...TRAIN, name: "job-b" },
                ],
            });
            assert.strictEqual(other[0], 201);
            // The same names as another kind: a new overrun too.
            const kinds = await record({ ...REPORT, stopped: [{ ...SWEEP, kind: "Job" }, TRAIN] });
            assert.strictEqual(kinds[0], 201);
        });
    });
});
