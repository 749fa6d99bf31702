/**
 * What a write does besides its answer: the alerts counted in /metrics by kind, the overrun
 * alert's audit entry, a delivery that fails logged and never failing the write, and a usage
 * batch's days answered in calendar order. Prices: h100 is p5.48xlarge, $55.04/h for 8 GPUs,
 * $6.88 per GPU-hour (catalog); applied-ml's budget is $40,000 (the test config).
 */
import * as assert from "assert";
import type { FastifyInstance } from "fastify";
import { Writable } from "stream";
import type { Database } from "../src/db/database";
import { AUTH, clock, recordingNotifier, resetDatabase, testApp, testConfig, testDatabase } from "./helpers";

const NOW = "2026-11-20T12:00:00Z";
const DASHBOARD_ABSENT = "dashboard assets not found; build them with npm run build -w services/cost-tracker";

describe("cost tracker: what a write does besides its answer", () => {
    let db: Database;
    let app: FastifyInstance;
    let keys = 0;
    let lines: Array<Record<string, any>>;

    /** The database, with the notifiers' delivery record failing as an outage would. */
    const deliveryUnrecorded = (): Database => ({
        ...db,
        query: (sql: string, params?: unknown[]) =>
            sql.startsWith("UPDATE alerts SET delivered_at")
                ? Promise.reject(new Error("Connection terminated unexpectedly"))
                : db.query(sql, params),
    });
    const start = async (database: Database) => {
        lines = [];
        app = await testApp(database, {
            now: clock(NOW).now,
            notifiers: [recordingNotifier()],
            logger: {
                level: "warn",
                stream: new Writable({ write: (chunk, _enc, done) => (lines.push(JSON.parse(String(chunk))), done()) }),
            },
        });
    };
    const post = (url: string, payload: object) =>
        app.inject({ method: "POST", url, payload, headers: { ...AUTH, "idempotency-key": `effects-${++keys}` } });
    const warnings = async () => {
        // Delivery runs after the answer: let it finish.
        await new Promise((resolve) => setTimeout(resolve, 50));
        return lines.filter((l) => l.msg !== DASHBOARD_ABSENT).map((l) => [l.msg, l.err]);
    };
    const alertsCounted = async () =>
        (await app.inject({ method: "GET", url: "/metrics" })).body
            .split("\n")
            .filter((l) => l.startsWith("cost_tracker_alerts_total{"));
    const overrun = {
        team: "applied-ml",
        kind: "budget-overrun",
        action: "suspended",
        spentUsd: 41000,
        reservedUsd: 0,
        stopped: [{ namespace: "applied-ml", kind: "Workload", name: "job-a" }],
    };

    before(async () => {
        db = await testDatabase();
    });
    beforeEach(() => resetDatabase(db, testConfig()));
    afterEach(() => app.close());

    it("counts a critical approval past the budget by its alert's kind, and logs a delivery it could not record", async () => {
        await start(deliveryUnrecorded());
        // 32 H100s × 200 h × $6.88 = $44,032, all of it in November (202 h with the grace ends on the 28th), past
        // applied-ml's $40,000: the admin passes it as production inference.
        const res = await post("/v1/gpu-requests", {
            team: "applied-ml",
            pool: "h100",
            gpus: 32,
            hours: 200,
            priorityClass: "production-inference",
            requester: "ada@example.com",
        });
        assert.deepStrictEqual([res.statusCode, res.json().overBudget], [201, true], res.body);
        assert.deepStrictEqual(await alertsCounted(), ['cost_tracker_alerts_total{kind="critical-over-budget"} 1']);
        assert.deepStrictEqual(await warnings(), [
            ["alert not delivered", "Error: Connection terminated unexpectedly"],
        ]);
    });

    it("counts the gate's overrun alert, audits it under the alert's number and team, and logs a failed delivery record", async () => {
        await start(deliveryUnrecorded());
        const mark = (await db.query<{ id: number }>("SELECT coalesce(max(id), 0) AS id FROM audit_log")).rows[0].id;
        const res = await post("/v1/alerts", overrun);
        assert.strictEqual(res.statusCode, 201, res.body);
        const id = res.json().id as number;
        assert.deepStrictEqual(await alertsCounted(), ['cost_tracker_alerts_total{kind="budget-overrun"} 1']);
        const { rows } = await db.query<{ teams: string[]; target: string }>(
            "SELECT teams, target FROM audit_log WHERE id > $1 ORDER BY id",
            [mark],
        );
        assert.deepStrictEqual(rows, [{ teams: ["applied-ml"], target: `alert ${id}` }]);
        assert.deepStrictEqual(await warnings(), [
            ["alert not delivered", "Error: Connection terminated unexpectedly"],
        ]);
    });

    it("answers a batch's days in calendar order whatever the records' order, and logs alerts it could not record", async () => {
        await start(deliveryUnrecorded());
        // $21,000 on the 19th takes applied-ml past 50 % of $40,000: a threshold alert, whose delivery record fails.
        const res = await post("/v1/usage", {
            records: [
                { team: "applied-ml", category: "gpu", amountUsd: 21000, occurredAt: "2026-11-19T10:00:00Z" },
                { team: "applied-ml", category: "ai-api", amountUsd: 5, occurredAt: "2026-11-02T10:00:00Z" },
                { team: "applied-ml", category: "ai-api", amountUsd: 5, occurredAt: "2026-11-11T10:00:00Z" },
            ],
        });
        assert.deepStrictEqual(
            [res.statusCode, res.json()],
            [201, { accepted: 3, days: ["2026-11-02", "2026-11-11", "2026-11-19"] }],
        );
        const warned = await warnings();
        assert.ok(warned.length >= 1, "at least the 50 % alert was raised");
        for (const w of warned)
            assert.deepStrictEqual(w, ["alerts not delivered", "Error: Connection terminated unexpectedly"]);
    });

    it("takes the usage and logs it when alerts cannot be raised after a push", async () => {
        // The push's own writes go through its transaction; the alerts raised after it are stored outside it, and that fails.
        await start({
            ...db,
            query: (sql: string, params?: unknown[]) =>
                sql.startsWith("INSERT INTO alerts")
                    ? Promise.reject(new Error("Connection terminated unexpectedly"))
                    : db.query(sql, params),
        });
        const res = await post("/v1/usage", {
            records: [{ team: "applied-ml", category: "gpu", amountUsd: 21000, occurredAt: "2026-11-19T10:00:00Z" }],
        });
        assert.strictEqual(res.statusCode, 201, res.body);
        const stored = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM usage");
        assert.strictEqual(stored.rows[0].n, 1);
        assert.deepStrictEqual(await warnings(), [
            ["alerts not raised after a push", "Error: Connection terminated unexpectedly"],
        ]);
    });
});
