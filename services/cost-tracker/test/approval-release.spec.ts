/**
 * Approval and release called directly, without the HTTP routes' own checks in front of them:
 * unknown pools and teams, releasing an unknown or rejected request, a release's events on the
 * feed the budget gate polls (one per release that frees money, none for a repeat), idempotency
 * keys reused for another request, and a team's spend and reservations as an approval counts
 * them. Embedded PGlite; figures worked by hand.
 *
 * Price from catalog/instances.ts: p5.48xlarge $55.04/h for 8 GPUs → $6.88 per GPU-hour.
 */
import * as assert from "assert";
import { budgetState, listRequests, releaseRequest, releaseWorkload, requestGpus } from "../src/approvals";
import type { Database } from "../src/db/database";
import { lockTeamBudgets, recordMoneyEvents } from "../src/db/team-locks";
import { eventsAfter } from "../src/events";
import { replaceSourceDays } from "../src/usage";
import { resetDatabase, testConfig, testDatabase } from "./helpers";

const NOW = new Date("2026-11-20T12:00:00Z");
const LATER = new Date("2026-11-20T13:00:00Z");
const UID = "0b6d4a52-4f1e-4c59-9c3e-7f2a61d0c002";
const ADA = { identity: "ada@example.com", mayExceedBudget: false };
const ASK = {
    team: "applied-ml",
    pool: "h100",
    gpus: 1,
    hours: 10,
    priorityClass: "training",
    requester: "ada@example.com",
};

describe("cost tracker approval and release, called directly (embedded PGlite)", () => {
    const config = testConfig();
    let db: Database;
    let keys = 0;
    const key = () => `direct-${++keys}`;
    const events = async () => (await eventsAfter(db, "0")).events.map((e) => `${e.team} ${e.kind}`);
    const approve = async (ask: object = {}) => {
        const decision = await requestGpus(db, config, { ...ASK, ...ask }, key(), NOW, ADA);
        return decision.body as { id: string; status: string };
    };

    before(async () => {
        db = await testDatabase();
    });
    beforeEach(() => resetDatabase(db, config));

    it("refuses an unknown pool and an unknown team, naming the ones it knows", async () => {
        await assert.rejects(requestGpus(db, config, { ...ASK, pool: "h200" }, key(), NOW, ADA), {
            name: "BadInput",
            field: "pool",
            // The config's GPU pools (the system pool has no GPUs to ask for).
            message: 'pool: unknown pool "h200"; known: a100-shared, a100-mig, h100',
        });
        await assert.rejects(requestGpus(db, config, { ...ASK, team: "marketing" }, key(), NOW, ADA), {
            name: "BadInput",
            field: "team",
            message: 'team: unknown team "marketing"; known: ml-research, inference, applied-ml',
        });
        // Each known team is accepted, the last one named and the first.
        assert.strictEqual((await approve({ team: "applied-ml" })).status, "approved");
        assert.strictEqual((await approve({ team: "ml-research" })).status, "approved");
    });

    it("refuses to release an unknown request and a rejected one, and records nothing", async () => {
        const unknown = "7e0c2a1b-0000-4000-8000-000000000001";
        await assert.rejects(releaseRequest(db, unknown, key(), NOW), {
            name: "NotFound",
            message: `no GPU request ${unknown}`,
        });
        // 8 GPUs × 1,000 h × $6.88 = $55,040, over applied-ml's $40,000.
        const rejected = await approve({ gpus: 8, hours: 1000 });
        assert.strictEqual(rejected.status, "rejected");
        await assert.rejects(releaseRequest(db, rejected.id, key(), NOW), {
            name: "BadInput",
            field: "id",
            message: `id: request ${rejected.id} was rejected and holds no reservation`,
        });
        assert.deepStrictEqual(await events(), []);
    });

    it("puts one 'released' event on the feed when a release frees money, none when it is released again", async () => {
        const a = await approve();
        const first = await releaseRequest(db, a.id, key(), NOW);
        assert.strictEqual((first.body as { reservation: string }).reservation, "released");
        assert.deepStrictEqual(await events(), ["applied-ml released"]);
        const again = await releaseRequest(db, a.id, key(), LATER);
        assert.deepStrictEqual(
            [again.statusCode, (again.body as { reservation: string }).reservation],
            [200, "released"],
        );
        assert.deepStrictEqual(await events(), ["applied-ml released"]);
    });

    it("refuses a release key sent again for another request or another workload", async () => {
        const a = await approve();
        const b = await approve({ team: "inference" });
        const reused = key();
        await releaseRequest(db, a.id, reused, NOW);
        await assert.rejects(releaseRequest(db, b.id, reused, NOW), { name: "BadInput", field: "Idempotency-Key" });
        // The same key and request: the first answer, nothing released twice.
        assert.strictEqual((await releaseRequest(db, a.id, reused, LATER)).statusCode, 200);
        const workloadKey = key();
        await releaseWorkload(db, UID, workloadKey, NOW);
        await assert.rejects(releaseWorkload(db, "another-uid", workloadKey, NOW), {
            name: "BadInput",
            field: "Idempotency-Key",
        });
        assert.deepStrictEqual(await events(), ["applied-ml released"]);
    });

    it("releases a workload's reservation by its UID with one event, and lists the request with its UID", async () => {
        const a = await approve({ workload: { namespace: "applied-ml", kind: "Job", name: "train-2", uid: UID } });
        const [listed] = await listRequests(db, { team: "applied-ml", limit: 10 }, NOW);
        assert.deepStrictEqual(listed.workload, { namespace: "applied-ml", kind: "Job", name: "train-2", uid: UID });
        const released = await releaseWorkload(db, UID, key(), NOW);
        assert.deepStrictEqual(released, { statusCode: 200, body: { released: [a.id] } });
        assert.deepStrictEqual(await events(), ["applied-ml released"]);
    });

    it("counts a team's month-to-date spend and its live reservations", async () => {
        // $100 of GPU spend on 19 November; a reservation of 1 × 10 h × $6.88 = $68.80; inference's own not counted.
        await replaceSourceDays(
            db,
            "opencost",
            ["2026-11-19"],
            [
                { day: "2026-11-19", team: "applied-ml", category: "gpu", amountUsd: 100 },
                { day: "2026-11-19", team: "inference", category: "gpu", amountUsd: 7 },
            ],
            NOW,
        );
        await approve();
        assert.deepStrictEqual(await budgetState(db, "applied-ml", NOW), { spentUsd: 100, reservedUsd: 68.8 });
    });
});

describe("cost tracker team locks and money events (embedded PGlite)", () => {
    let db: Database;
    before(async () => {
        db = await testDatabase();
    });
    beforeEach(() => resetDatabase(db, testConfig()));

    it("holds the teams' rows FOR UPDATE (a row-share lock on teams) until the transaction ends, and takes none for no team", async () => {
        const teamsLock = (tx: { query: Database["query"] }) =>
            tx
                .query<{ n: number }>(
                    "SELECT count(*)::int AS n FROM pg_locks WHERE relation = 'teams'::regclass AND mode = 'RowShareLock' AND pid = pg_backend_pid()",
                )
                .then((r) => r.rows[0].n);
        const [none, taken] = await db.transaction(async (tx) => {
            await lockTeamBudgets(tx, []);
            const before = await teamsLock(tx);
            await lockTeamBudgets(tx, ["inference", "applied-ml", "inference"]);
            return [before, await teamsLock(tx)];
        });
        assert.deepStrictEqual([none, taken], [0, 1]);
    });

    it("records one event per team, and a deduplicated kind once per team however often it is recorded", async () => {
        const at = new Date("2026-12-01T00:00:00Z");
        await db.transaction(async (tx) => {
            await recordMoneyEvents(tx, [], "released", at);
            await recordMoneyEvents(tx, ["inference", "applied-ml", "inference"], "released", at);
            await recordMoneyEvents(tx, ["inference"], "month-started", at, "2026-12");
            await recordMoneyEvents(tx, ["inference"], "month-started", at, "2026-12");
        });
        const page = await eventsAfter(db, "0");
        assert.deepStrictEqual(page.events.map((e) => `${e.team} ${e.kind}`).sort(), [
            "applied-ml released",
            "inference month-started",
            "inference released",
        ]);
    });
});
