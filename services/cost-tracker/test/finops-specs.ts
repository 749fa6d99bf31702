/**
 * Issue 20's findings as a caller sees them, each with its figure worked by hand: one owner per
 * dollar, spend before an approval, reservations across a month boundary (an injected clock at
 * 23:30 on the last day and just after midnight on the 1st), the forecast's fixed point, units.
 * Run on embedded PGlite by `npm test` and on PostgreSQL by the integration run.
 *
 * Prices from catalog/instances.ts: p5.48xlarge $55.04/h for 8 GPUs → $6.88 per GPU-hour;
 * p4de.24xlarge $27.44705/h → $3.43088125 per GPU-hour, a 3g.40gb slice 3/7 of it.
 */
import * as assert from "assert";
import type { FastifyInstance } from "fastify";
import type { Database } from "../src/db/database";
import { replaceSourceDays } from "../src/usage";
import { AUTH, clock, resetDatabase, testApp, testConfig, testDatabase } from "./helpers";

const NOW = "2026-11-20T12:00:00.000Z";
const WORKLOAD = { namespace: "applied-ml", kind: "Job", name: "sweep-7" };

export function describeFinopsSpecs(label: string): void {
    describe(`cost tracker FinOps (${label})`, () => {
        let db: Database;
        let app: FastifyInstance;
        const time = clock(NOW);
        let keys = 0;

        before(async () => {
            db = await testDatabase();
        });
        beforeEach(async () => {
            time.set(NOW);
            await resetDatabase(db, testConfig());
            app = await testApp(db, { now: time.now });
        });
        afterEach(() => app.close());

        const post = (url: string, payload: unknown) =>
            app.inject({
                method: "POST",
                url,
                payload: payload as object,
                headers: { ...AUTH, "idempotency-key": `finops-${++keys}` },
            });
        const push = async (records: unknown[], source?: string) => {
            const res = await post("/v1/usage", { ...(source ? { source } : {}), records });
            assert.strictEqual(res.statusCode, 201, res.body);
        };
        const team = async (name: string) =>
            (await app.inject({ method: "GET", url: "/v1/teams" }))
                .json<Array<Record<string, any>>>()
                .find((t) => t.name === name)!;
        const ask = (overrides: Record<string, unknown> = {}) => ({
            team: "applied-ml",
            pool: "h100",
            gpus: 8,
            hours: 48,
            priorityClass: "training",
            requester: "ada@example.com",
            ...overrides,
        });
        const gpu = (amountUsd: number, occurredAt = NOW, extra: Record<string, unknown> = {}) => ({
            team: "applied-ml",
            category: "gpu",
            amountUsd,
            occurredAt,
            ...extra,
        });

        describe("one owner per dollar", () => {
            it("counts a workload's day once when a gateway sends its total again under a new key", async () => {
                await push([gpu(200, NOW, { workload: WORKLOAD })]);
                await push([gpu(200, "2026-11-20T13:00:00Z", { workload: WORKLOAD })]);
                // Before: $200 + $200 = $400. The second record has the first's key (push:default, team, gpu, day, workload).
                assert.strictEqual((await team("applied-ml")).monthToDateUsd, 200);
            });

            it("shadows pushed spend a pulled source reports for the same workload and day, whichever came first", async () => {
                await push([gpu(200, NOW, { workload: WORKLOAD })]);
                await replaceSourceDays(
                    db,
                    "gpu-allocation",
                    ["2026-11-20"],
                    [
                        {
                            day: "2026-11-20",
                            team: "applied-ml",
                            category: "gpu",
                            amountUsd: 200,
                            workload: "applied-ml/job/sweep-7",
                        },
                    ],
                    time.now(),
                );
                assert.strictEqual((await team("applied-ml")).monthToDateUsd, 200, "not $400");
            });

            it("refuses a push of a category a configured pulled source owns, naming the field and the owner", async () => {
                await app.close();
                const base = testConfig();
                app = await testApp(db, {
                    now: time.now,
                    config: {
                        ...base,
                        sources: {
                            ...base.sources,
                            opencost: { url: "http://opencost.opencost:9003" },
                            prometheus: { url: "http://prometheus.monitoring", namespaceLabel: "namespace" },
                            costExplorer: { region: "us-east-1", tagKey: "team" },
                        },
                    },
                });
                const cases: Array<[Record<string, unknown>, string]> = [
                    [
                        gpu(200, NOW, { workload: WORKLOAD }),
                        "records[0].category: gpu spend of workload applied-ml/job/sweep-7 is owned by gpu-allocation (GPU requests from kube-state-metrics priced from the catalog); pushed usage may not claim it",
                    ],
                    [
                        { ...gpu(5), category: "cpu-memory", workload: WORKLOAD },
                        "records[0].category: cpu-memory spend of workload applied-ml/job/sweep-7 is owned by opencost (OpenCost's allocation); pushed usage may not claim it",
                    ],
                    [
                        { ...gpu(5), category: "other-aws" },
                        "records[0].category: other-aws spend of the account is owned by cost-explorer (Cost Explorer's bill); pushed usage may not claim it",
                    ],
                ];
                for (const [record, message] of cases) {
                    const res = await post("/v1/usage", { records: [record] });
                    assert.deepStrictEqual([res.statusCode, res.json().message], [400, message]);
                }
                // AI API spend is nobody else's.
                await push([{ ...gpu(12.5), category: "ai-api" }], "openai-gateway");
                assert.strictEqual((await team("applied-ml")).byCategory["ai-api"], 12.5);
            });

            it("adds up a batch's records of one key into that key's total, which a later push replaces", async () => {
                // $1 + $2 in one batch = $3 for the day; then a push of $5 for the same key replaces it: $5, not $8.
                await push([gpu(1), gpu(2, "2026-11-20T01:00:00Z")]);
                assert.strictEqual((await team("applied-ml")).monthToDateUsd, 3);
                await push([gpu(5, "2026-11-20T02:00:00Z")]);
                assert.strictEqual((await team("applied-ml")).monthToDateUsd, 5);
            });

            it("does not let spend before an approval consume the new reservation", async () => {
                // $300 spent by the workload at 08:00, approval at noon: 8 × 10 h × $6.88 = $550.40 stays reserved (not $250.40).
                await push([gpu(300, "2026-11-20T08:00:00Z", { workload: WORKLOAD })]);
                const approved = await post("/v1/gpu-requests", ask({ hours: 10, workload: WORKLOAD }));
                assert.strictEqual(approved.statusCode, 201, approved.body);
                assert.strictEqual((await team("applied-ml")).reservedUsd, 550.4);
                // The day's total becomes $500: $200 after the approval replaces $200 of it → $350.40.
                time.set("2026-11-20T15:00:00Z");
                await push([gpu(500, "2026-11-20T14:00:00Z", { workload: WORKLOAD })]);
                assert.deepStrictEqual(
                    [(await team("applied-ml")).reservedUsd, (await team("applied-ml")).monthToDateUsd],
                    [350.4, 500],
                );
            });
        });

        describe("month boundary, injected clock", () => {
            it("charges a 48-hour ask at 23:30 on the 30th to November for half an hour, and the rest to December", async () => {
                await push([gpu(39900, "2026-11-15T10:00:00Z")]);
                time.set("2026-11-30T23:30:00Z");
                // 8 × 48 h × $6.88 = $2,641.92; November's part 0.5/48 = $27.52 of the $100 left; December's $2,614.40.
                const res = await post("/v1/gpu-requests", ask());
                assert.strictEqual(res.statusCode, 201, res.body);
                assert.deepStrictEqual([res.json().estimatedCostUsd, res.json().remainingUsd], [2641.92, 72.48]);
                assert.strictEqual((await team("applied-ml")).reservedUsd, 27.52);
                time.set("2026-12-01T00:00:01Z");
                const december = await team("applied-ml");
                assert.deepStrictEqual(
                    [december.month, december.monthToDateUsd, december.reservedUsd, december.remainingUsd],
                    ["2026-12", 0, 2614.4, 37385.6],
                );
            });

            it("approves the same ask one second after midnight, all of it December's", async () => {
                await push([gpu(39900, "2026-11-15T10:00:00Z")]);
                time.set("2026-12-01T00:00:01Z");
                const res = await post("/v1/gpu-requests", ask());
                assert.deepStrictEqual([res.statusCode, res.json().remainingUsd], [201, 37358.08]);
            });

            it("rejects an ask whose December part does not fit December, naming the month", async () => {
                time.set("2026-11-30T23:00:00Z");
                // 8 × 700 h × $6.88 = $38,528 from 23:00: November 1/700 of it ($55.04), December the rest ($38,472.96).
                assert.strictEqual((await post("/v1/gpu-requests", ask({ hours: 700 }))).statusCode, 201);
                time.set("2026-11-30T23:30:00Z");
                const res = await post("/v1/gpu-requests", ask());
                assert.deepStrictEqual(
                    [res.statusCode, res.json().reason, res.json().message],
                    [
                        409,
                        "over-budget",
                        "over budget in 2026-12: $2614.4 of the $2641.92 asked falls in that month, $1527.04 of $40000 left there after $38472.96 reserved",
                    ],
                );
            });

            it("checks an adopted reservation's growth against every month it spans, not only this one", async () => {
                time.set("2026-11-30T12:00:00Z");
                const sweep = { namespace: "applied-ml", kind: "Job", name: "sweep-9" };
                // A: 4 × 48 h × $6.88 = $1,320.96 from noon: November 12/48 ($330.24), December 36/48 ($990.72).
                const first = await post("/v1/gpu-requests", ask({ gpus: 4, workload: sweep }));
                assert.strictEqual(first.statusCode, 201, first.body);
                // B: 32 × 180 h × $6.88 = $39,628.80: November 12/180 ($2,641.92), December 168/180 ($36,986.88).
                assert.strictEqual((await post("/v1/gpu-requests", ask({ gpus: 32, hours: 180 }))).statusCode, 201);
                // December has $40,000 − $990.72 − $36,986.88 = $2,022.40 left; November $40,000 − $330.24 − $2,641.92 = $37,027.84.
                // Admitted at 16 GPUs: $5,283.84, a growth of $3,962.88, December's part 36/48 = $2,972.16: too much there
                // (the old check set the whole growth against November's $37,027.84 and adopted it).
                const grown = await post(
                    "/v1/gpu-requests",
                    ask({ gpus: 16, workload: { ...sweep, uid: "8f14e45f-ceea-467f-a0e6-2f3c1d9b7a10" } }),
                );
                assert.deepStrictEqual(
                    [grown.statusCode, grown.json().message],
                    [
                        409,
                        `growing reservation ${first.json().id}: over budget in 2026-12: $2972.16 of the $3962.88 growth falls in that month, $2022.4 of $40000 left there after $37977.6 reserved`,
                    ],
                );
                // At 8 GPUs: $2,641.92, a growth of $1,320.96: December's part $990.72 fits its $2,022.40; November's $330.24
                // leaves $37,027.84 − $330.24 = $36,697.60 this month.
                const fits = await post(
                    "/v1/gpu-requests",
                    ask({ workload: { ...sweep, uid: "8f14e45f-ceea-467f-a0e6-2f3c1d9b7a10" } }),
                );
                assert.deepStrictEqual(
                    [fits.statusCode, fits.json().adopted, fits.json().estimatedCostUsd, fits.json().remainingUsd],
                    [200, true, 2641.92, 36697.6],
                );
            });

            it("forecasts at 23:30 on the last day from the day before, and on the 1st from the whole month ahead", async () => {
                // $500 a day on 14–29 November: at 23:30 on the 30th the 30th is not complete. Through the 29th:
                // 16 × $500 = $8,000, plus 1 day left × $500 = $8,500.
                time.set("2026-11-30T23:30:00Z");
                await push(
                    Array.from({ length: 16 }, (_, i) =>
                        gpu(500, `2026-11-${String(14 + i).padStart(2, "0")}T10:00:00Z`),
                    ),
                );
                await push([gpu(5000, "2026-11-30T23:00:00Z")]);
                let f = (await team("applied-ml")).forecast;
                assert.deepStrictEqual([f.asOfDay, f.pointUsd, f.lowUsd, f.highUsd], ["2026-11-29", 8500, 8500, 8500]);
                time.set("2026-12-01T00:00:00Z");
                f = (await team("applied-ml")).forecast;
                // The 30th ($5,000) is now a complete day in the 14-day window (17–30 Nov): mean (13 × 500 + 5000) / 14
                // = $821.43 × 31 = $25,464.29; s = √((13 × 321.43² + 4178.57²) / 13) = $1,202.68;
                // half-width 1.771 × 1202.68 × √(31 + 31²/14) = $21,261.32.
                assert.deepStrictEqual(
                    [f.asOfDay, f.pointUsd, f.lowUsd, f.highUsd],
                    ["2026-11-30", 25464.29, 4202.97, 46725.6],
                );
            });

            it("raises a late alert naming the closed month when spend for its last day arrives on the 1st", async () => {
                // $35,500 in December by the 31st at 20:00: 88.75 % of $40,000, so 50 % and 80 % are alerted in December.
                time.set("2026-12-31T20:00:00Z");
                await push([gpu(35500, "2026-12-15T10:00:00Z")]);
                // 1 January 08:00: $6,500 for 23:00 on the 31st arrives; December is $42,000, 105 %.
                time.set("2027-01-01T08:00:00Z");
                await push([gpu(6500, "2026-12-31T23:00:00Z")]);
                const alerts = (await app.inject({ method: "GET", url: "/v1/alerts?team=applied-ml" })).json<
                    Array<{ kind: string; message: string }>
                >();
                const thresholds = alerts.filter((a) => a.kind.endsWith("budget-threshold"));
                assert.deepStrictEqual(thresholds.map((a) => [a.kind, a.message]).sort(), [
                    ["budget-threshold", "applied-ml has spent $35500 of its $40000 budget for 2026-12: 50 % reached"],
                    ["budget-threshold", "applied-ml has spent $35500 of its $40000 budget for 2026-12: 80 % reached"],
                    [
                        "late-budget-threshold",
                        "applied-ml: revised figures for 2026-12, a closed month, bring its spend to $42000 of its $40000 budget: 100 % reached",
                    ],
                ]);
            });

            it("keeps the forecast still through the day, whatever today's spend so far", async () => {
                await push(
                    Array.from({ length: 14 }, (_, i) =>
                        gpu(700, `2026-11-${String(6 + i).padStart(2, "0")}T10:00:00Z`),
                    ),
                );
                time.set("2026-11-20T10:00:00Z");
                const first = (await team("applied-ml")).forecast;
                await push([gpu(3000, "2026-11-20T10:30:00Z")]);
                time.set("2026-11-20T11:00:00Z");
                assert.deepStrictEqual((await team("applied-ml")).forecast, first);
                // 14 × $700 = $9,800 through the 19th, plus 11 days × $700.
                assert.strictEqual(first.pointUsd, 17500);
            });
        });

        describe("the monthly report", () => {
            it("answers a month's teams, unallocated and idle lines with the sources' sum, and refuses a month that is not YYYY-MM", async () => {
                // $120 of AI API spend pushed for 19 November: on the team's line and the push source's, not on the AWS bill (none read).
                await push([{ ...gpu(120, "2026-11-19T09:00:00Z"), category: "ai-api" }], "openai-gateway");
                const res = await app.inject({ method: "GET", url: "/v1/reports/monthly?month=2026-11" });
                assert.strictEqual(res.statusCode, 200, res.body);
                const report = res.json();
                assert.deepStrictEqual(
                    [
                        report.teams.find((t: any) => t.team === "applied-ml").totalUsd,
                        report.sources,
                        report.differenceUsd,
                    ],
                    [120, [{ source: "push:openai-gateway", totalUsd: 120 }], 0],
                );
                assert.strictEqual(report.bill, null);
                const csv = await app.inject({ method: "GET", url: "/v1/reports/monthly.csv?month=2026-11" });
                assert.deepStrictEqual(
                    [csv.statusCode, csv.headers["content-type"], csv.body.split("\r\n").slice(0, 2)],
                    [
                        200,
                        "text/csv; charset=utf-8",
                        [
                            "month,line,name,cost_center,gpu,cpu-memory,storage,network,ai-api,other-aws,credits-tax,total_usd,inputs,usd_per_input",
                            "2026-11,team,applied-ml,CC-1002,0,0,0,0,120,0,0,120,,",
                        ],
                    ],
                );
                const bad = await app.inject({ method: "GET", url: "/v1/reports/monthly?month=2026-13" });
                assert.deepStrictEqual([bad.statusCode, bad.json().field], [400, "month"]);
            });
        });

        describe("monthly history", () => {
            it("answers every month of the range per team and cost centre, and refuses a range backwards", async () => {
                // October: applied-ml $300 (CC-1002); November: applied-ml $120 + $80, inference $50 (CC-1003); December none.
                time.set("2026-12-02T12:00:00Z");
                await push([gpu(300, "2026-10-20T10:00:00Z"), gpu(120, "2026-11-03T10:00:00Z")]);
                await push([{ ...gpu(80, "2026-11-04T10:00:00Z"), category: "ai-api" }], "openai-gateway");
                await push([{ ...gpu(50, "2026-11-05T10:00:00Z"), team: "inference" }]);
                const res = await app.inject({ method: "GET", url: "/v1/reports/history?from=2026-10&to=2026-12" });
                assert.strictEqual(res.statusCode, 200, res.body);
                const history = res.json<Array<Record<string, any>>>();
                assert.deepStrictEqual(
                    history.map((m) => [
                        m.month,
                        m.totalUsd,
                        m.costCenters.map((c: any) => `${c.costCenter}=${c.usd}`),
                    ]),
                    [
                        ["2026-10", 300, ["CC-1001=0", "CC-1002=300", "CC-1003=0"]],
                        ["2026-11", 250, ["CC-1001=0", "CC-1002=200", "CC-1003=50"]],
                        ["2026-12", 0, ["CC-1001=0", "CC-1002=0", "CC-1003=0"]],
                    ],
                );
                const bad = await app.inject({ method: "GET", url: "/v1/reports/history?from=2026-12&to=2026-10" });
                assert.deepStrictEqual(
                    [bad.statusCode, bad.json().message],
                    [400, "from: 2026-12 is after to 2026-10"],
                );
            });
        });

        describe("units and input", () => {
            it("counts a MIG slice's hours at its compute fraction beside its raw hours, and refuses GPU hours there", async () => {
                // 10 h on one 3g.40gb slice: 10 × 3/7 = 4.29 GPU-equivalent hours, $14.70 (10 × 3/7 × $3.43088125).
                await push([
                    gpu(14.7, NOW, { pool: "a100-mig", gpuResource: "nvidia.com/mig-3g.40gb", resourceHours: 10 }),
                ]);
                const pools = (await app.inject({ method: "GET", url: "/v1/pools" })).json();
                assert.deepStrictEqual(pools.gpuHoursByPool[0].resources, [
                    { gpuResource: "nvidia.com/mig-3g.40gb", resourceHours: 10, gpuHours: 4.29, gpuUsd: 14.7 },
                ]);
                const res = await post("/v1/usage", { records: [gpu(14.7, NOW, { pool: "a100-mig", gpuHours: 10 })] });
                assert.deepStrictEqual(
                    [res.statusCode, res.json().message],
                    [
                        400,
                        "records[0].gpuHours: pool a100-mig's units (nvidia.com/mig-3g.40gb) are not whole GPUs; send gpuResource and resourceHours, and the service counts GPU-equivalent hours",
                    ],
                );
            });

            it("refuses hours with more decimals than the service keeps, naming the field, and writes nothing", async () => {
                for (const [hours, message] of [
                    [1.005, "hours: must have at most 2 decimal places (what the database keeps)"],
                    [0.001, "hours: must be >= 0.01"],
                ] as const) {
                    const res = await post("/v1/gpu-requests", ask({ hours }));
                    assert.deepStrictEqual(
                        [res.statusCode, res.json().message, res.json().field],
                        [400, message, "hours"],
                    );
                }
                const { rows } = await db.query<{ n: number }>("SELECT count(*) AS n FROM gpu_requests");
                assert.strictEqual(rows[0].n, 0);
            });
        });
    });
}
