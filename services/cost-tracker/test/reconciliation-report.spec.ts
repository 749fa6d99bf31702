/**
 * The monthly reconciliation report and history over every kind of line (a team's own, a team's
 * share of idle, a pool's unsplit idle, unallocated) and a bill that includes AI API spend it
 * does not carry, and the report's CSV (RFC 4180) from a report written by hand. Figures worked
 * by hand in the comments; embedded PGlite.
 */
import * as assert from "assert";
import type { Database } from "../src/db/database";
import type { UsageRecord } from "../src/model";
import { monthlyHistory, monthlyReport, monthlyReportCsv, type MonthlyReport } from "../src/reconciliation";
import { replaceSourceDays } from "../src/usage";
import { resetDatabase, testConfig, testDatabase } from "./helpers";

const DAY = "2026-11-19";
const NOW = new Date("2026-11-20T12:00:00Z");

describe("cost tracker monthly reconciliation report (embedded PGlite)", () => {
    let db: Database;
    before(async () => {
        db = await testDatabase();
    });
    beforeEach(() => resetDatabase(db, testConfig()));

    /**
     * One day of every line:
     * - applied-ml's own: gpu $100 (h100), cpu-memory $15, ai-api $20 → $135; its idle share $12 (h100)
     * - inference's own: gpu $40 (a100-mig) → $40; its idle share $8 (a100-mig)
     * - unsplit idle: h100 $30, a100-mig $10; unallocated: storage $5, other-aws $7 → $12
     * Lines: 135 + 12 + 40 + 8 + 30 + 10 + 12 = $247.
     */
    const records: UsageRecord[] = [
        { day: DAY, team: "applied-ml", category: "gpu", amountUsd: 100, pool: "h100" },
        { day: DAY, team: "applied-ml", category: "cpu-memory", amountUsd: 15 },
        { day: DAY, team: "applied-ml", category: "ai-api", amountUsd: 20 },
        { day: DAY, team: "applied-ml", line: "idle", category: "gpu", amountUsd: 12, pool: "h100" },
        { day: DAY, team: "inference", category: "gpu", amountUsd: 40, pool: "a100-mig" },
        { day: DAY, team: "inference", line: "idle", category: "gpu", amountUsd: 8, pool: "a100-mig" },
        { day: DAY, team: "", line: "idle", category: "gpu", amountUsd: 30, pool: "h100" },
        { day: DAY, team: "", line: "idle", category: "gpu", amountUsd: 10, pool: "a100-mig" },
        { day: DAY, team: "", line: "unallocated", category: "storage", amountUsd: 5 },
        { day: DAY, team: "", line: "unallocated", category: "other-aws", amountUsd: 7 },
    ];
    const bill = [{ day: DAY, metric: "AmortizedCost", totalUsd: 300, clusterUsd: 200, estimated: true }];

    it("puts each dollar on one line, adds a team's idle share to its cost centre, and compares the bill with the AWS spend only", async () => {
        await replaceSourceDays(db, "opencost", [DAY], records, NOW, bill);
        const report = await monthlyReport(db, "2026-11");
        const zero = { gpu: 0, "cpu-memory": 0, storage: 0, network: 0, "ai-api": 0, "other-aws": 0, "credits-tax": 0 };
        assert.deepStrictEqual(report.teams, [
            {
                team: "applied-ml",
                costCenter: "CC-1002",
                byCategory: { ...zero, gpu: 100, "cpu-memory": 15, "ai-api": 20 },
                totalUsd: 135,
                idleShareUsd: 12,
            },
            {
                team: "inference",
                costCenter: "CC-1003",
                byCategory: { ...zero, gpu: 40 },
                totalUsd: 40,
                idleShareUsd: 8,
            },
            { team: "ml-research", costCenter: "CC-1001", byCategory: zero, totalUsd: 0, idleShareUsd: 0 },
        ]);
        // A cost centre pays its teams' own spend and idle shares: CC-1002 135 + 12, CC-1003 40 + 8.
        assert.deepStrictEqual(report.costCenters, [
            { costCenter: "CC-1001", totalUsd: 0 },
            { costCenter: "CC-1002", totalUsd: 147 },
            { costCenter: "CC-1003", totalUsd: 48 },
        ]);
        assert.deepStrictEqual(report.unallocated, {
            byCategory: { ...zero, storage: 5, "other-aws": 7 },
            totalUsd: 12,
        });
        // Idle per pool, split and unsplit alike, pools in name order: a100-mig 8 + 10, h100 12 + 30.
        assert.deepStrictEqual(report.idle, {
            byPool: [
                { pool: "a100-mig", usd: 18 },
                { pool: "h100", usd: 42 },
            ],
            totalUsd: 60,
        });
        assert.deepStrictEqual(
            [report.sources, report.linesTotalUsd, report.sourcesTotalUsd, report.differenceUsd],
            [[{ source: "opencost", totalUsd: 247 }], 247, 247, 0],
        );
        // Tracked AWS spend leaves out the $20 of AI API: 247 - 20 = 227; the bill $300 - 227 = $73.
        assert.deepStrictEqual(report.bill, {
            metric: "AmortizedCost",
            totalUsd: 300,
            clusterUsd: 200,
            trackedAwsUsd: 227,
            differenceUsd: 73,
            estimatedDays: [DAY],
        });
    });

    it("answers the history with a team's idle share in its spend and only unsplit idle on the idle line", async () => {
        await replaceSourceDays(db, "opencost", [DAY], records, NOW);
        const [november] = await monthlyHistory(db, "2026-11", "2026-11");
        // applied-ml 135 + 12 = 147, inference 40 + 8 = 48; unallocated 5 + 7 = 12; unsplit idle 30 + 10 = 40; all $247.
        assert.deepStrictEqual(november, {
            month: "2026-11",
            teams: [
                { team: "applied-ml", costCenter: "CC-1002", usd: 147 },
                { team: "inference", costCenter: "CC-1003", usd: 48 },
                { team: "ml-research", costCenter: "CC-1001", usd: 0 },
            ],
            costCenters: [
                { costCenter: "CC-1001", usd: 0 },
                { costCenter: "CC-1002", usd: 147 },
                { costCenter: "CC-1003", usd: 48 },
            ],
            unallocatedUsd: 12,
            idleUsd: 40,
            totalUsd: 247,
        });
    });
});

describe("cost tracker monthly report as CSV", () => {
    const amounts = (gpu: number, other: Partial<Record<string, number>> = {}) => ({
        gpu,
        "cpu-memory": 0,
        storage: 0,
        network: 0,
        "ai-api": 0,
        "other-aws": 0,
        "credits-tax": 0,
        ...other,
    });
    /** A report written by hand, with a source whose name needs quoting, a pipeline with no inputs and a Job. */
    const report: MonthlyReport = {
        month: "2026-11",
        teams: [
            {
                team: "applied-ml",
                costCenter: "CC-1002",
                byCategory: amounts(100, { "ai-api": 20 }),
                totalUsd: 120,
                idleShareUsd: 12,
            },
        ],
        costCenters: [{ costCenter: "CC-1002", totalUsd: 132 }],
        unallocated: { byCategory: amounts(0, { storage: 5 }), totalUsd: 5 },
        idle: { byPool: [{ pool: "h100", usd: 42.5 }], totalUsd: 42.5 },
        sources: [{ source: 'push:gw,"eu"', totalUsd: 167.5 }],
        linesTotalUsd: 167.5,
        sourcesTotalUsd: 167.5,
        differenceUsd: 0,
        bill: {
            metric: "AmortizedCost",
            totalUsd: 300,
            clusterUsd: 200,
            trackedAwsUsd: 147.5,
            differenceUsd: 152.5,
            estimatedDays: [],
        },
        pipelines: [
            {
                pipeline: "summarise",
                team: "applied-ml",
                inputs: 0,
                byCategory: amounts(3),
                totalUsd: 3,
                usdPerInput: null,
            },
            {
                pipeline: "embed",
                team: "applied-ml",
                inputs: 1000,
                byCategory: amounts(2),
                totalUsd: 2,
                usdPerInput: 0.002,
            },
        ],
        jobs: [
            {
                team: "applied-ml",
                workload: "applied-ml/job/sweep-7",
                byCategory: amounts(6.88),
                totalUsd: 6.88,
                gpuHours: 1,
            },
        ],
    };
    const HEADER =
        "month,line,name,cost_center,gpu,cpu-memory,storage,network,ai-api,other-aws,credits-tax,total_usd,inputs,usd_per_input";

    it("writes every line of money, the sources, the check and the bill, each row as wide as the header, CRLF-terminated", () => {
        const csv = monthlyReportCsv(report, (team) => (team === "applied-ml" ? "CC-1002" : "?"));
        assert.strictEqual(
            csv,
            [
                HEADER,
                "2026-11,team,applied-ml,CC-1002,100,0,0,0,20,0,0,120,,",
                "2026-11,unallocated,,,0,0,5,0,0,0,0,5,,",
                // A pool's idle is GPU money: in the gpu column and the total.
                "2026-11,idle,h100,,42.5,0,0,0,0,0,0,42.5,,",
                // RFC 4180 §2 (6, 7): a field with a comma or a quote is quoted, its quotes doubled.
                '2026-11,source,"push:gw,""eu""",,,,,,,,,167.5,,',
                "2026-11,check,lines minus sources,,,,,,,,,0,,",
                "2026-11,bill,AmortizedCost,,,,,,,,,300,,",
                "2026-11,bill,bill minus tracked AWS spend,,,,,,,,,152.5,,",
                // A pipeline that completed no input has no cost per input: an empty field.
                "2026-11,pipeline,summarise,CC-1002,3,0,0,0,0,0,0,3,0,",
                "2026-11,pipeline,embed,CC-1002,2,0,0,0,0,0,0,2,1000,0.002",
                "2026-11,job,applied-ml/job/sweep-7,CC-1002,6.88,0,0,0,0,0,0,6.88,,",
                "",
            ].join("\r\n"),
        );
    });

    it("leaves the cost centre of pipelines and Jobs empty when not told it, and writes no bill rows without a bill", () => {
        const lines = monthlyReportCsv({ ...report, bill: null }).split("\r\n");
        assert.deepStrictEqual(lines.slice(6), [
            "2026-11,pipeline,summarise,,3,0,0,0,0,0,0,3,0,",
            "2026-11,pipeline,embed,,2,0,0,0,0,0,0,2,1000,0.002",
            "2026-11,job,applied-ml/job/sweep-7,,6.88,0,0,0,0,0,0,6.88,,",
            "",
        ]);
        assert.strictEqual(lines[5], "2026-11,check,lines minus sources,,,,,,,,,0,,");
    });
});
