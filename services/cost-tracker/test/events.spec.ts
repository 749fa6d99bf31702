/**
 * The money-freed feed the budget gate long-polls (GET /v1/events, src/events.ts): paging by
 * cursor, a cursor the database no longer reaches, and what answers a waiting poll (events
 * already there, a commit of this process, the poll of the table, the end of the wait, a failed
 * read, a shutdown). Events are written as the service writes them, through record_money_events
 * (migration 3), or straight into money_events where a spec needs hundreds.
 *
 * No spec waits on the wall clock to pass: a feed that should not answer yet is given an hour to
 * wait and an hour between polls, and "not answered yet" is read once every read the feed started
 * has returned and what awaited it has run (the embedded database answers reads one at a time).
 */
import * as assert from "assert";
import type { FastifyInstance } from "fastify";
import type { Database, Queryable } from "../src/db/database";
import { EventFeed, type EventPage } from "../src/events";
import { AUTH, clock, resetDatabase, testApp, testConfig, testDatabase } from "./helpers";

const HOUR_MS = 3_600_000;
const NOW = "2026-11-20T12:00:00Z";

/** The database as the feed sees it, counting the reads it starts and able to wait for them to return. */
function observedDb(db: Queryable) {
    const started: Promise<unknown>[] = [];
    const queryable: Queryable = {
        query: <R>(sql: string, params?: readonly unknown[]) => {
            const answer = db.query<R>(sql, params);
            started.push(answer.catch(() => undefined));
            return answer;
        },
    };
    /** Every read started so far has returned, and what awaited it has run. */
    async function quiet(): Promise<void> {
        await Promise.all(started);
        await new Promise((resolve) => setImmediate(resolve));
    }
    /** Returns once the feed has started `n` reads and they have returned (bounded: the spec fails rather than hangs). */
    async function untilReads(n: number): Promise<void> {
        for (let turns = 0; started.length < n; turns++) {
            if (turns > 10_000) throw new Error(`the feed started ${started.length} reads, expected ${n}`);
            await new Promise((resolve) => setImmediate(resolve));
        }
        await quiet();
    }
    return { queryable, reads: () => started.length, quiet, untilReads };
}

/** A promise's outcome so far, read without awaiting it. */
function outcome<T>(promise: Promise<T>) {
    const state: { settled: boolean; value?: T; error?: unknown } = { settled: false };
    promise.then(
        (value) => Object.assign(state, { settled: true, value }),
        (error: unknown) => Object.assign(state, { settled: true, error }),
    );
    return state;
}

/** `n` events of ml-research, released one second apart from 12:00:01 (ids 1..n after the reset). */
async function insertEvents(db: Queryable, n: number): Promise<void> {
    await db.query(
        `INSERT INTO money_events (team, kind, at)
         SELECT 'ml-research', 'released', timestamptz '2026-11-20T12:00:00Z' + s * interval '1 second' FROM generate_series(1, $1::int) AS s`,
        [n],
    );
}

/** One event per team, as the service records them when it frees money. */
async function recordEvents(db: Queryable, teams: string[], kind: string, at: string): Promise<void> {
    await db.query("SELECT record_money_events($1::text[], $2, $3)", [teams, kind, at]);
}

describe("cost tracker: the money-freed feed (GET /v1/events)", () => {
    let db: Database;
    let app: FastifyInstance | undefined;
    const feeds: EventFeed[] = [];
    const time = clock(NOW);

    before(async () => {
        db = await testDatabase();
    });
    beforeEach(async () => {
        time.set(NOW);
        await resetDatabase(db, testConfig());
    });
    afterEach(async () => {
        // A waiter left behind would hold its hour-long timer: answer them all.
        for (const feed of feeds.splice(0)) feed.close();
        await app?.close();
        app = undefined;
    });

    /** A feed on the observed database that polls the table every `pollMs` while anyone waits. */
    function feedOn(pollMs = HOUR_MS) {
        const observed = observedDb(db);
        const feed = new EventFeed(observed.queryable, pollMs);
        feeds.push(feed);
        return { feed, ...observed };
    }

    async function events(query: string): Promise<EventPage> {
        app ??= await testApp(db, { now: time.now });
        const res = await app.inject({ method: "GET", url: `/v1/events${query}` });
        assert.strictEqual(res.statusCode, 200, res.body);
        return res.json<EventPage>();
    }

    describe("pages", () => {
        it("answers the events after the cursor oldest first, each as id, team, kind and time", async () => {
            await recordEvents(db, ["ml-research", "inference"], "released", "2026-11-20T10:00:00Z");
            await recordEvents(db, ["applied-ml"], "budget-changed", "2026-11-20T11:30:00Z");
            // record_money_events inserts one row per team, in the order unnest gives them: ids 1, 2, then 3.
            const all = await events("?after=0");
            assert.deepStrictEqual(all.events.map((e) => [e.team, e.kind, e.at]).sort(), [
                ["applied-ml", "budget-changed", "2026-11-20T11:30:00.000Z"],
                ["inference", "released", "2026-11-20T10:00:00.000Z"],
                ["ml-research", "released", "2026-11-20T10:00:00.000Z"],
            ]);
            assert.deepStrictEqual(
                all.events.map((e) => e.id),
                ["1", "2", "3"],
            );
            assert.strictEqual(all.cursor, "3");
            const later = await events("?after=2");
            assert.deepStrictEqual(later, {
                events: [{ id: "3", team: "applied-ml", kind: "budget-changed", at: "2026-11-20T11:30:00.000Z" }],
                cursor: "3",
            });
        });

        it("starts from the oldest event when the caller has no cursor yet", async () => {
            await insertEvents(db, 2);
            assert.deepStrictEqual(await events(""), {
                events: [
                    { id: "1", team: "ml-research", kind: "released", at: "2026-11-20T12:00:01.000Z" },
                    { id: "2", team: "ml-research", kind: "released", at: "2026-11-20T12:00:02.000Z" },
                ],
                cursor: "2",
            });
        });

        it("carries 500 events an answer and continues from the cursor: 501 events take two pages", async () => {
            // 500: the page size the feed documents (EVENTS_PER_PAGE, "most events one answer carries").
            await insertEvents(db, 501);
            const first = await events("?after=0");
            assert.strictEqual(first.events.length, 500);
            assert.deepStrictEqual(
                first.events.map((e) => Number(e.id)),
                Array.from({ length: 500 }, (_, i) => i + 1),
            );
            assert.strictEqual(first.cursor, "500");
            assert.deepStrictEqual(await events(`?after=${first.cursor}`), {
                events: [{ id: "501", team: "ml-research", kind: "released", at: "2026-11-20T12:08:21.000Z" }], // 12:00 + 501 s
                cursor: "501",
            });
            assert.deepStrictEqual(await events("?after=501"), { events: [], cursor: "501" });
        });

        it("answers nothing new with the caller's own cursor, as the caller wrote it", async () => {
            assert.deepStrictEqual(await events("?after=0"), { events: [], cursor: "0" });
            await insertEvents(db, 3);
            assert.deepStrictEqual(await events("?after=3"), { events: [], cursor: "3" });
            // A cursor with leading zeros names event 3 too: handed back unchanged, so the gate sees no change.
            assert.deepStrictEqual(await events("?after=0003"), { events: [], cursor: "0003" });
        });

        it("answers a cursor past the newest event (the database was restored) with the newest id, to start over from", async () => {
            await insertEvents(db, 3);
            assert.deepStrictEqual(await events("?after=9"), { events: [], cursor: "3" });
            await resetDatabase(db, testConfig());
            assert.deepStrictEqual(await events("?after=7"), { events: [], cursor: "0" });
        });
    });

    describe("waiting", () => {
        it("answers at once when events are past the cursor or the cursor is past the newest, however long the caller would wait", async () => {
            const { feed, quiet } = feedOn();
            await insertEvents(db, 2);
            const fromStart = outcome(feed.wait("0", HOUR_MS));
            const pastNewest = outcome(feed.wait("9", HOUR_MS));
            await quiet();
            assert.deepStrictEqual(
                fromStart.value?.events.map((e) => e.id),
                ["1", "2"],
            );
            assert.strictEqual(fromStart.value?.cursor, "2");
            assert.deepStrictEqual(pastNewest.value, { events: [], cursor: "2" });
        });

        it("does not wait when the caller asks not to", async () => {
            const { feed, quiet } = feedOn();
            await insertEvents(db, 2);
            const page = outcome(feed.wait("2", 0));
            await quiet();
            assert.deepStrictEqual(page, { settled: true, value: { events: [], cursor: "2" } });
        });

        it("waits while nothing is past the cursor, then answers the caller's cursor when the wait ends", async () => {
            const { feed, quiet } = feedOn();
            await insertEvents(db, 2);
            const waiting = feed.wait("2", 50);
            const page = outcome(waiting);
            await quiet();
            assert.strictEqual(page.settled, false, "answered before the wait ended");
            assert.deepStrictEqual(await waiting, { events: [], cursor: "2" });
        });

        it("wakes every waiter at once when this process commits events, with one read per cursor", async () => {
            const { feed, quiet, reads } = feedOn();
            await insertEvents(db, 2);
            // "2" and "02" name the same event but are two cursors: each gets its own read.
            const first = outcome(feed.wait("2", HOUR_MS));
            const second = outcome(feed.wait("2", HOUR_MS));
            const zeroPadded = outcome(feed.wait("02", HOUR_MS));
            await quiet();
            assert.strictEqual(reads(), 3);
            assert.deepStrictEqual([first.settled, second.settled, zeroPadded.settled], [false, false, false]);
            await recordEvents(db, ["inference"], "expired", "2026-11-20T12:30:00Z");
            feed.notify();
            await quiet();
            assert.strictEqual(reads(), 5, "one read for the two waiters on 2, one for the waiter on 02");
            const expected = {
                events: [{ id: "3", team: "inference", kind: "expired", at: "2026-11-20T12:30:00.000Z" }],
                cursor: "3",
            };
            assert.deepStrictEqual([first.value, second.value, zeroPadded.value], [expected, expected, expected]);
        });

        it("reads nothing on a commit while no one waits, and keeps waiting when a look finds nothing new", async () => {
            const { feed, quiet, reads } = feedOn();
            feed.notify();
            assert.strictEqual(reads(), 0);
            const page = outcome(feed.wait("0", HOUR_MS));
            await quiet();
            feed.notify();
            await quiet();
            assert.strictEqual(reads(), 2);
            assert.strictEqual(page.settled, false, "answered with nothing new");
        });

        it("finds events other tasks wrote at the next poll of the table, then stops polling", async () => {
            const { feed, quiet, reads } = feedOn(5);
            const waiting = feed.wait("0", HOUR_MS);
            await quiet();
            await recordEvents(db, ["applied-ml"], "month-started", "2026-12-01T00:00:00Z");
            assert.deepStrictEqual(await waiting, {
                events: [{ id: "1", team: "applied-ml", kind: "month-started", at: "2026-12-01T00:00:00.000Z" }],
                cursor: "1",
            });
            await quiet();
            const afterAnswer = reads();
            // Ten poll periods with no one waiting: no read.
            await new Promise((resolve) => setTimeout(resolve, 50));
            assert.strictEqual(reads(), afterAnswer);
        });

        it("answers a waiter whose cursor the database no longer reaches (restored while it waited) with the newest id", async () => {
            const { feed, quiet } = feedOn();
            await insertEvents(db, 2);
            const page = outcome(feed.wait("2", HOUR_MS));
            await quiet();
            assert.strictEqual(page.settled, false);
            await db.query("TRUNCATE money_events RESTART IDENTITY");
            feed.notify();
            await quiet();
            assert.deepStrictEqual(page.value, { events: [], cursor: "0" });
        });

        it("keeps polling for the waiters still waiting when another's wait ends, and leaves no timer once none waits", async () => {
            const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
            const { feed, quiet } = feedOn(5);
            // A read that does not wait: whatever timers the database keeps are counted in `idle`.
            await feed.wait("0", 0);
            const idle = timers();
            const short = feed.wait("0", 20);
            const long = feed.wait("0", HOUR_MS);
            await quiet();
            // Each waiter's end of wait, and one poll for both.
            assert.strictEqual(timers(), idle + 3);
            assert.deepStrictEqual(await short, { events: [], cursor: "0" });
            await recordEvents(db, ["inference"], "spend-replaced", "2026-11-20T13:00:00Z");
            assert.deepStrictEqual(await long, {
                events: [{ id: "1", team: "inference", kind: "spend-replaced", at: "2026-11-20T13:00:00.000Z" }],
                cursor: "1",
            });
            await quiet();
            assert.strictEqual(timers(), idle, "a timer left behind once no one waits");
        });

        it("fails the waiters of a look whose read fails, with the database's error", async () => {
            const { feed, quiet } = feedOn();
            const page = outcome(feed.wait("0", HOUR_MS));
            await quiet();
            await db.query("ALTER TABLE money_events RENAME TO money_events_away");
            try {
                feed.notify();
                await quiet();
            } finally {
                await db.query("ALTER TABLE money_events_away RENAME TO money_events");
            }
            assert.strictEqual(page.settled, true, "still waiting after the read failed");
            assert.match(String(page.error), /money_events/);
        });

        it("answers every waiter with nothing new on shutdown, and later polls without waiting", async () => {
            const { feed, quiet } = feedOn();
            const first = outcome(feed.wait("0", HOUR_MS));
            const second = outcome(feed.wait("0", HOUR_MS));
            await quiet();
            assert.deepStrictEqual([first.settled, second.settled], [false, false]);
            feed.close();
            await quiet();
            assert.deepStrictEqual(
                [first.value, second.value],
                [
                    { events: [], cursor: "0" },
                    { events: [], cursor: "0" },
                ],
            );
            const afterClose = outcome(feed.wait("0", HOUR_MS));
            await quiet();
            assert.deepStrictEqual(afterClose.value, { events: [], cursor: "0" });
        });
    });

    describe("the route", () => {
        it("is documented in the OpenAPI document: its query, its answers and every kind of event it carries", async () => {
            app = await testApp(db, { now: time.now });
            const res = await app.inject({ method: "GET", url: "/openapi.json" });
            const route = res.json<{ paths: Record<string, { get: Record<string, unknown> }> }>().paths["/v1/events"]
                .get;
            assert.deepStrictEqual(route.tags, ["approvals"]);
            // The kinds money_events accepts (migration 3's CHECK constraint), each named for the gate's authors.
            for (const kind of ["released", "expired", "spend-replaced", "budget-changed", "month-started"])
                assert.ok(String(route.summary).includes(kind), `summary names ${kind}: ${String(route.summary)}`);
            assert.deepStrictEqual(Object.keys(route.responses as object).sort(), ["200", "400", "503"]);
            assert.deepStrictEqual(
                (route.parameters as Array<{ in: string; name: string }>).map((p) => `${p.in}:${p.name}`).sort(),
                ["query:after", "query:waitSeconds"],
            );
        });

        it("answers a waiting poll with the event a release commits", async () => {
            const { feed, untilReads } = feedOn();
            app = await testApp(db, { now: time.now, feed });
            const approval = await app.inject({
                method: "POST",
                url: "/v1/gpu-requests",
                headers: { ...AUTH, "idempotency-key": "events-approve" },
                payload: {
                    team: "ml-research",
                    pool: "h100",
                    gpus: 2,
                    hours: 10,
                    priorityClass: "training",
                    requester: "ada@example.com",
                    purpose: "fine-tune",
                },
            });
            assert.strictEqual(approval.statusCode, 201, approval.body);
            // An approval frees no money: the feed is still empty, and the poll waits.
            const poll = app.inject({ method: "GET", url: "/v1/events?after=0&waitSeconds=30" });
            const answered = outcome(poll);
            await untilReads(1);
            assert.strictEqual(answered.settled, false);
            const release = await app.inject({
                method: "POST",
                url: `/v1/gpu-requests/${approval.json<{ id: string }>().id}/release`,
                headers: { ...AUTH, "idempotency-key": "events-release" },
            });
            assert.strictEqual(release.statusCode, 200, release.body);
            const res = await poll;
            assert.strictEqual(res.statusCode, 200, res.body);
            assert.deepStrictEqual(res.json(), {
                events: [{ id: "1", team: "ml-research", kind: "released", at: "2026-11-20T12:00:00.000Z" }],
                cursor: "1",
            });
        });

        it("waits waitSeconds in seconds, and a shutdown answers the waiting poll with nothing new", async () => {
            const { feed, untilReads } = feedOn();
            app = await testApp(db, { now: time.now, feed });
            const poll = app.inject({ method: "GET", url: "/v1/events?after=0&waitSeconds=1" });
            const answered = outcome(poll);
            await untilReads(1);
            // The poll's one-second timer was set before this one; timers fire in the order they fall due,
            // so at 200 ms the poll is still waiting (it would not be, waiting 1 ms).
            await new Promise((resolve) => setTimeout(resolve, 200));
            assert.strictEqual(answered.settled, false, "answered before one second");
            const closing = app;
            app = undefined;
            await closing.close();
            const res = await poll;
            assert.strictEqual(res.statusCode, 200, res.body);
            assert.deepStrictEqual(res.json(), { events: [], cursor: "0" });
        });
    });
});
