/**
 * Concurrency on a real PostgreSQL server (PGlite has one connection and isolates nothing):
 * many approvals at once never over-allocate a budget, a key sent many times at once is one
 * decision, and services starting together migrate once.
 */
import * as assert from "assert";
import type { FastifyInstance } from "fastify";
import type { AddressInfo } from "net";
import { postgresDatabase, type Database } from "../../src/db/database";
import { LATEST_VERSION, MIGRATIONS, migrate } from "../../src/db/migrations";
import { AUTH, resetDatabase, testApp, testConfig, testDatabase } from "../helpers";

describe("cost tracker on PostgreSQL: concurrency", () => {
    let db: Database;
    let app: FastifyInstance;
    let base: string;

    before(async () => {
        db = await testDatabase();
        assert.strictEqual(db.kind, "postgres");
    });
    beforeEach(async () => {
        await resetDatabase(db, testConfig());
        app = await testApp(db);
        await app.listen({ port: 0, host: "127.0.0.1" });
        base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    });
    afterEach(() => app.close());

    const request = (key: string, body: Record<string, unknown>) =>
        fetch(`${base}/v1/gpu-requests`, {
            method: "POST",
            headers: { ...AUTH, "idempotency-key": key, "content-type": "application/json" },
            body: JSON.stringify({
                pool: "h100",
                gpus: 1,
                hours: 30,
                priorityClass: "training",
                requester: "load@example.com",
                ...body,
            }),
        }).then(async (res) => ({ status: res.status, body: (await res.json()) as Record<string, any> }));

    it("approves no more than the budget when 240 requests arrive at once, and answers every one", async () => {
        // Each asks 1 H100 × 30 h × $6.88 = $206.40; 240 of them ($49,536) exceed applied-ml's $40,000.
        // $40,000 / $206.40 = 193.8: exactly 193 fit. The other teams' requests run alongside.
        const asks = Array.from({ length: 240 }, (_, i) => request(`load-${i}`, { team: "applied-ml" }));
        const others = Array.from({ length: 40 }, (_, i) =>
            request(`other-${i}`, { team: i % 2 ? "inference" : "ml-research" }),
        );
        const answers = await Promise.all(asks);
        const otherAnswers = await Promise.all(others);
        assert.deepStrictEqual(
            [...new Set(answers.map((a) => a.status))].sort(),
            [201, 409],
            "every request answered: approved or rejected",
        );
        const approved = answers.filter((a) => a.status === 201);
        assert.strictEqual(approved.length, 193);
        const total = approved.reduce((sum, a) => sum + a.body.estimatedCostUsd, 0);
        assert.ok(total <= 40000, `approved $${total}`);
        assert.ok(
            otherAnswers.every((a) => a.status === 201),
            "other teams were not held up or refused",
        );
        const { rows } = await db.query<{ n: number; usd: number }>(
            "SELECT count(*) AS n, sum(estimated_cost_usd) AS usd FROM gpu_requests WHERE team = 'applied-ml' AND status = 'approved'",
        );
        assert.deepStrictEqual(rows[0], { n: 193, usd: 39835.2 });
        assert.strictEqual(Math.min(...approved.map((a) => a.body.remainingUsd)), 164.8, "$40,000 − 193 × $206.40");
    });

    it("makes one decision for one key sent 100 times at once", async () => {
        const answers = await Promise.all(
            Array.from({ length: 100 }, () => request("same-key", { team: "inference" })),
        );
        assert.ok(answers.every((a) => a.status === 201));
        assert.strictEqual(new Set(answers.map((a) => a.body.id)).size, 1);
        const { rows } = await db.query<{ n: number }>("SELECT count(*) AS n FROM gpu_requests");
        assert.strictEqual(rows[0].n, 1);
    });
});

describe("cost tracker on PostgreSQL: migrations", () => {
    it("migrates once when several services start together", async () => {
        const admin = await testDatabase();
        const name = `migrate_race_${process.pid}`;
        await admin.query(`DROP DATABASE IF EXISTS ${name}`);
        await admin.query(`CREATE DATABASE ${name}`);
        const url = new URL(process.env.TEST_DATABASE_URL!);
        url.pathname = `/${name}`;
        const tasks = Array.from({ length: 4 }, () => postgresDatabase(url.toString(), { max: 2 }));
        try {
            const applied = await Promise.all(tasks.map((db) => migrate(db)));
            // Every version applied exactly once, all by whichever task took the lock first.
            assert.deepStrictEqual(
                applied.filter((versions) => versions.length > 0),
                [MIGRATIONS.map((m) => m.version)],
                "one task applied them, the others found nothing to do",
            );
            const { rows } = await tasks[0].query<{ n: number }>("SELECT count(*) AS n FROM schema_migrations");
            assert.strictEqual(rows[0].n, LATEST_VERSION);
        } finally {
            await Promise.all(tasks.map((db) => db.close()));
            await admin.query(`DROP DATABASE ${name}`);
        }
    });
});
