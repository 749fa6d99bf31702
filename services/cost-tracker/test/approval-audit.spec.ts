/**
 * An approval's audit entry commits in the decision's own transaction (migration 8): one entry
 * per answer, replays included; no decision stands without its entry; and a refusal the
 * service makes after the database answered (a key reused for another request) is still audited.
 * Expected figures: h100 is p5.48xlarge at $55.04/h for 8 GPUs, $6.88 per GPU-hour (catalog),
 * so 1 GPU for 10 h is $68.80.
 */
import * as assert from "assert";
import type { FastifyInstance } from "fastify";
import type { Database } from "../src/db/database";
import { AUTH, clock, resetDatabase, testApp, testConfig, testDatabase } from "./helpers";

const NOW = "2026-11-10T12:00:00Z";

describe("cost tracker: an approval and its audit entry", () => {
    let db: Database;
    let app: FastifyInstance;

    const ask = (key: string, overrides: Record<string, unknown> = {}) =>
        app.inject({
            method: "POST",
            url: "/v1/gpu-requests",
            headers: { ...AUTH, "idempotency-key": key },
            payload: {
                team: "applied-ml",
                pool: "h100",
                gpus: 1,
                hours: 10,
                priorityClass: "training",
                requester: "ada@example.com",
                ...overrides,
            },
        });
    const entriesSince = async (mark: number) =>
        (
            await db.query<{
                at: Date;
                caller: string;
                teams: string[];
                target: string;
                status_code: number;
                outcome: string;
            }>("SELECT at, caller, teams, target, status_code, outcome FROM audit_log WHERE id > $1 ORDER BY id", [
                mark,
            ])
        ).rows;
    const mark = async () =>
        (await db.query<{ id: number }>("SELECT coalesce(max(id), 0) AS id FROM audit_log")).rows[0].id;

    before(async () => {
        db = await testDatabase();
    });
    beforeEach(async () => {
        await resetDatabase(db, testConfig());
        app = await testApp(db, { now: clock(NOW).now });
    });
    afterEach(() => app.close());

    it("records one entry per answer, at the decision's instant, a replay included", async () => {
        const from = await mark();
        const first = await ask("k-1");
        assert.strictEqual(first.statusCode, 201, first.body);
        assert.strictEqual(first.json<{ estimatedCostUsd: number }>().estimatedCostUsd, 68.8);
        const replay = await ask("k-1");
        assert.strictEqual(replay.statusCode, 201);
        // 8 GPUs × 460 h × $6.88 = $25,318.40, all of it in November (460 h from the 10th at noon end on the 29th):
        // it fits $40,000 − $68.80 once, and the second time only $14,612.80 is left.
        const big = await ask("k-2", { gpus: 8, hours: 460 });
        assert.strictEqual(big.statusCode, 201, big.body);
        const again = await ask("k-3", { gpus: 8, hours: 460 });
        assert.strictEqual(again.statusCode, 409, again.body);
        const id = first.json<{ id: string }>().id;
        assert.deepStrictEqual(
            (await entriesSince(from)).map((e) => [
                e.at.toISOString(),
                e.caller,
                e.teams,
                e.target,
                e.status_code,
                e.outcome,
            ]),
            [
                [new Date(NOW).toISOString(), "admin", ["applied-ml"], id, 201, "approved"],
                [new Date(NOW).toISOString(), "admin", ["applied-ml"], id, 201, "approved"],
                [new Date(NOW).toISOString(), "admin", ["applied-ml"], big.json<{ id: string }>().id, 201, "approved"],
                [
                    new Date(NOW).toISOString(),
                    "admin",
                    ["applied-ml"],
                    again.json<{ id: string }>().id,
                    409,
                    "rejected",
                ],
            ],
        );
    });

    it("audits a key reused for another request once, as the refusal it is", async () => {
        await ask("k-1");
        const from = await mark();
        const reused = await ask("k-1", { hours: 11 });
        assert.strictEqual(reused.statusCode, 400, reused.body);
        const entries = await entriesSince(from);
        assert.deepStrictEqual(
            entries.map((e) => [e.status_code, e.outcome.startsWith("Idempotency-Key")]),
            [[400, true]],
        );
    });

    it("makes no decision when its audit entry cannot be written, and decides on the retry", async () => {
        await db.query(
            `CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit_log is full'; END $$`,
        );
        await db.query(
            "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION refuse_audit()",
        );
        try {
            const failed = await ask("k-1");
            assert.ok(failed.statusCode >= 500, `${failed.statusCode} ${failed.body}`);
            const { rows } = await db.query<{ n: number }>("SELECT count(*) AS n FROM gpu_requests");
            assert.strictEqual(rows[0].n, 0, "the reservation went with its entry");
        } finally {
            await db.query("DROP TRIGGER refuse_audit ON audit_log");
            await db.query("DROP FUNCTION refuse_audit()");
        }
        const from = await mark();
        const retried = await ask("k-1");
        assert.strictEqual(retried.statusCode, 201, "the key was not kept by the failed attempt");
        assert.strictEqual((await entriesSince(from)).length, 1);
    });
});
