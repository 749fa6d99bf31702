/**
 * The approval's edges, each figure worked by hand: a request costing exactly what is left, one
 * cent short of it, and the 409's reason code at exactly the whole budget (the SQL of
 * decide_new_reservation, migration 4, which `npm run mutation:sql` mutates). Embedded PGlite.
 *
 * Price from catalog/instances.ts: p5.48xlarge $55.04/h for 8 GPUs → $6.88 per GPU-hour.
 */
import * as assert from "assert";
import type { FastifyInstance } from "fastify";
import type { CostTrackerConfig } from "@gpu-platform/catalog/contracts";
import type { Database } from "../src/db/database";
import { AUTH, clock, resetDatabase, testApp, testConfig, testDatabase } from "./helpers";

// Mid-month, so a 10-hour request (ending 22:00 the same day) falls in November alone.
const NOW = "2026-11-20T12:00:00.000Z";
// 1 H100 × 10 h × $6.88 = $68.80.
const ONE_GPU_TEN_HOURS = { pool: "h100", gpus: 1, hours: 10, priorityClass: "training", requester: "ada@example.com" };

describe("cost tracker approval boundaries (embedded PGlite)", () => {
    let db: Database;
    let app: FastifyInstance;
    let keys = 0;
    const time = clock(NOW);

    before(async () => {
        db = await testDatabase();
    });
    afterEach(() => app?.close());

    async function start(config: CostTrackerConfig = testConfig()): Promise<void> {
        time.set(NOW);
        await resetDatabase(db, config);
        app = await testApp(db, { config, now: time.now });
    }
    const post = (url: string, payload: object) =>
        app.inject({ method: "POST", url, payload, headers: { ...AUTH, "idempotency-key": `edge-${++keys}` } });
    const spend = async (team: string, amountUsd: number, occurredAt = NOW, extra: object = {}) => {
        const res = await post("/v1/usage", { records: [{ team, category: "gpu", amountUsd, occurredAt, ...extra }] });
        assert.strictEqual(res.statusCode, 201, res.body);
    };

    it("approves a request that costs exactly what is left of the month, leaving $0", async () => {
        await start();
        // applied-ml: $40,000 − $39,931.20 spent = $68.80 left, the request's cost to the cent.
        await spend("applied-ml", 39931.2);
        const res = await post("/v1/gpu-requests", { team: "applied-ml", ...ONE_GPU_TEN_HOURS });
        assert.strictEqual(res.statusCode, 201, res.body);
        const body = res.json<Record<string, unknown>>();
        assert.deepStrictEqual(
            [body.status, body.estimatedCostUsd, body.remainingUsd, body.overBudget, body.reason],
            ["approved", 68.8, 0, false, "within budget"],
        );
    });

    it("refuses it one cent short, as over-budget (it may fit once money frees up)", async () => {
        await start();
        // $40,000 − $39,931.21 = $68.79 left, one cent less than the $68.80 asked.
        await spend("applied-ml", 39931.21);
        const res = await post("/v1/gpu-requests", { team: "applied-ml", ...ONE_GPU_TEN_HOURS });
        assert.strictEqual(res.statusCode, 409, res.body);
        const body = res.json<Record<string, unknown>>();
        assert.deepStrictEqual(
            [body.reason, body.remainingUsd, body.message],
            [
                "over-budget",
                68.79,
                "over budget: $68.8 asked, $68.79 of $40000 left after $39931.21 spent and $0 reserved this month",
            ],
        );
    });

    describe("a reservation past its expiry", () => {
        // $39,000 spent; reservation A: 1 H100 × 100 h × $6.88 = $688 from 2026-11-20T12:00Z, expiring after
        // its 100 h and the 2 h grace, at 2026-11-24T18:00:00.000Z. While A holds, $40,000 − $39,000 − $688 = $312
        // is left: B (the same 1 × 100 h, $688, ending within November) does not fit; once A lapses, $1,000 does.
        const B = { team: "applied-ml", ...ONE_GPU_TEN_HOURS, hours: 100 };
        async function reserveA(): Promise<void> {
            await start();
            await spend("applied-ml", 39000);
            const a = await post("/v1/gpu-requests", B);
            assert.deepStrictEqual(
                [a.statusCode, a.json<{ expiresAt: string }>().expiresAt],
                [201, "2026-11-24T18:00:00.000Z"],
            );
        }

        it("still holds its money a millisecond before it expires", async () => {
            await reserveA();
            time.set("2026-11-24T17:59:59.999Z");
            const b = await post("/v1/gpu-requests", B);
            assert.deepStrictEqual([b.statusCode, b.json<{ remainingUsd: number }>().remainingUsd], [409, 312]);
        });

        it("holds none from the instant it expires", async () => {
            await reserveA();
            time.set("2026-11-24T18:00:00.000Z");
            const b = await post("/v1/gpu-requests", B);
            // $1,000 left once A lapsed, less B's $688.
            assert.deepStrictEqual([b.statusCode, b.json<{ remainingUsd: number }>().remainingUsd], [201, 312]);
        });
    });

    describe("the month's spend", () => {
        // B: 1 H100 × 100 h × $6.88 = $688 from 2026-11-20T12:00Z, ending on the 24th: November's alone.
        const B = { team: "applied-ml", ...ONE_GPU_TEN_HOURS, hours: 100 };

        it("counts spend of the 1st of the month against it", async () => {
            await start();
            await spend("applied-ml", 39500, "2026-11-01T00:00:00Z");
            // $40,000 − $39,500 = $500 left, less than $688.
            const b = await post("/v1/gpu-requests", B);
            assert.deepStrictEqual([b.statusCode, b.json<{ remainingUsd: number }>().remainingUsd], [409, 500]);
        });

        it("does not count spend of the 1st of next month against it", async () => {
            await start();
            // Two tasks of the service, their clocks a second apart: one takes December's first spend
            // just after midnight while the other still judges a request in November.
            time.set("2026-12-01T00:00:00.500Z");
            await spend("applied-ml", 39500, "2026-12-01T00:00:00Z");
            time.set("2026-11-30T23:59:59.500Z");
            // C: 1 H100 × 0.1 h = $0.688, $0.69 to the cent, ending at 00:05:59.5 on December 1st:
            // November carries 0.5 s of its 360 s (under a cent), December the rest. November's $40,000
            // is untouched; December has $40,000 − $39,500 = $500 left, enough for C's part there.
            const c = await post("/v1/gpu-requests", { ...B, hours: 0.1 });
            assert.deepStrictEqual([c.statusCode, c.json<{ remainingUsd: number }>().remainingUsd], [201, 40000]);
        });

        it("stops holding the part of a reservation its workload's spend has replaced", async () => {
            await start();
            const workload = { namespace: "applied-ml", kind: "Job", name: "sweep-3" };
            // A: 8 H100s × 10 h × $6.88 = $550.40 for the workload, approved at noon with no spend of its own yet.
            const a = await post("/v1/gpu-requests", { ...B, gpus: 8, hours: 10, workload });
            assert.strictEqual(a.statusCode, 201, a.body);
            time.set("2026-11-20T15:00:00.000Z");
            await spend("applied-ml", 39000, "2026-11-20T09:00:00Z");
            // The workload spends $200 after the approval: A now holds $550.40 − $200 = $350.40, so
            // $40,000 − $39,000 − $200 − $350.40 = $449.60 is left (counting A whole would leave $249.60).
            await spend("applied-ml", 200, "2026-11-20T14:00:00Z", { workload });
            // C: 1 H100 × 50 h = $344, from 15:00 to the 22nd at 17:00.
            const c = await post("/v1/gpu-requests", { ...B, hours: 50 });
            assert.deepStrictEqual([c.statusCode, c.json<{ remainingUsd: number }>().remainingUsd], [201, 105.6]);
        });
    });

    it("takes a workload's spend off the earliest month of its reservation first", async () => {
        await start();
        time.set("2026-11-30T12:00:00.000Z");
        const workload = { namespace: "applied-ml", kind: "Job", name: "sweep-5" };
        const ask = { team: "applied-ml", pool: "h100", priorityClass: "training", requester: "ada@example.com" };
        // A: 8 × 48 h × $6.88 = $2,641.92 from noon: November 12/48 ($660.48), December 36/48 ($1,981.44).
        assert.strictEqual((await post("/v1/gpu-requests", { ...ask, gpus: 8, hours: 48, workload })).statusCode, 201);
        time.set("2026-11-30T14:00:00.000Z");
        // The workload spends $500: it replaces $500 of November's $660.48; December's part stays $1,981.44.
        await spend("applied-ml", 500, "2026-11-30T13:00:00Z", { workload });
        // R: 28 × 200 h × $6.88 = $38,528 from 14:00: November 10/200 ($1,926.40), December 190/200 ($36,601.60).
        assert.strictEqual((await post("/v1/gpu-requests", { ...ask, gpus: 28, hours: 200 })).statusCode, 201);
        // December: $40,000 − $1,981.44 − $36,601.60 = $1,416.96 left. B: 8 × 40 h = $2,201.60, December 30/40 of it
        // = $1,651.20, which does not fit (taking the $500 off December too would leave $1,916.96, and it would).
        const b = await post("/v1/gpu-requests", { ...ask, gpus: 8, hours: 40 });
        assert.deepStrictEqual(
            [b.statusCode, b.json<{ message: string }>().message],
            [
                409,
                "over budget in 2026-12: $1651.2 of the $2201.6 asked falls in that month, $1416.96 of $40000 left there after $38583.04 reserved",
            ],
        );
    });

    it("leaves a workload's spend of the days before its approval out of what replaces the reservation", async () => {
        await start();
        const workload = { namespace: "applied-ml", kind: "Job", name: "sweep-6" };
        // $300 the day before; then A: 8 × 10 h × $6.88 = $550.40 at noon; then $200 after the approval.
        await spend("applied-ml", 300, "2026-11-19T10:00:00Z", { workload });
        const a = await post("/v1/gpu-requests", { ...ONE_GPU_TEN_HOURS, team: "applied-ml", gpus: 8, workload });
        assert.strictEqual(a.statusCode, 201, a.body);
        time.set("2026-11-20T15:00:00.000Z");
        await spend("applied-ml", 200, "2026-11-20T14:00:00Z", { workload });
        // Only the $200 replaces A: it holds $350.40 (counting the 19th's $300 against it would leave $550.40).
        const teams = (await app.inject({ method: "GET", url: "/v1/teams" })).json<Array<Record<string, unknown>>>();
        assert.strictEqual(teams.find((t) => t.name === "applied-ml")?.reservedUsd, 350.4);
    });

    describe("a team whose whole budget is $68.80", () => {
        const tiny = () =>
            testConfig({
                teams: [...testConfig().teams, { name: "tiny", costCenter: "CC-9999", monthlyBudgetUsd: 68.8 }],
            });

        it("calls a request of exactly the whole budget over-budget, not exceeds-monthly-budget, when a cent is spent", async () => {
            await start(tiny());
            await spend("tiny", 0.01);
            const res = await post("/v1/gpu-requests", { team: "tiny", ...ONE_GPU_TEN_HOURS });
            assert.strictEqual(res.statusCode, 409, res.body);
            assert.strictEqual(res.json<{ reason: string }>().reason, "over-budget");
        });

        it("calls a request one cent above the whole budget exceeds-monthly-budget, though nothing is spent", async () => {
            await start(tiny());
            // 1 × 10.01 h × $6.88 = $68.8688, $68.87 to the cent: more than the $68.80 budget.
            const res = await post("/v1/gpu-requests", { team: "tiny", ...ONE_GPU_TEN_HOURS, hours: 10.01 });
            assert.strictEqual(res.statusCode, 409, res.body);
            assert.deepStrictEqual(
                [res.json<{ reason: string }>().reason, res.json<{ estimatedCostUsd: number }>().estimatedCostUsd],
                ["exceeds-monthly-budget", 68.87],
            );
        });
    });
});
