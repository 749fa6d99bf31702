/**
 * The approval's edges, each figure worked by hand: a request costing exactly what is left, one
 * cent short of it, and the 409's reason code at exactly the whole budget (the SQL of
 * decide_new_reservation, migration 4, which `npm run mutation:sql` mutates). Embedded PGlite.
 *
 * Price from catalog/instances.ts: p5.48xlarge $55.04/h for 8 GPUs → $6.88 per GPU-hour.
 */
import * as assert from "assert";
import type { FastifyInstance } from "fastify";
import type { CostTrackerConfig } from "../../../components/costs/tracker-config";
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
    const spend = async (team: string, amountUsd: number) => {
        const res = await post("/v1/usage", { records: [{ team, category: "gpu", amountUsd, occurredAt: NOW }] });
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
