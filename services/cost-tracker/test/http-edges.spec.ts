/**
 * The HTTP layer's edges as a caller meets them: every error answer's shape (400 naming the
 * field, 403, 404, 415, 503 with Retry-After, 500 without detail), reads behind a credential,
 * the date ranges' limits on both sides, the reports' defaults, readiness, the request metrics,
 * the log's redaction and closing connections when the service stops.
 */
import * as assert from "assert";
import type { FastifyInstance } from "fastify";
import * as fs from "fs";
import * as http from "http";
import type { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import { Writable } from "stream";
import type { Database } from "../src/db/database";
import { EventFeed } from "../src/events";
import { buildApp } from "../src/http/app";
import { createMetrics } from "../src/metrics";
import { AUTH, TOKEN, clock, resetDatabase, testApp, testConfig, testDatabase } from "./helpers";

// Mid-month: this month is November 2026; the range reads default to 2026-11-01..2026-11-20.
const NOW = "2026-11-20T12:00:00.000Z";

/** A logger writing to a list of parsed lines. */
function capturedLog(): { lines: Array<Record<string, any>>; logger: Record<string, unknown> } {
    const lines: Array<Record<string, any>> = [];
    const stream = new Writable({
        write: (chunk, _enc, done) => {
            lines.push(JSON.parse(String(chunk)) as Record<string, any>);
            done();
        },
    });
    return { lines, logger: { level: "info", stream } };
}

describe("cost tracker: the HTTP layer's edges", () => {
    let db: Database;
    let app: FastifyInstance;
    const time = clock(NOW);

    before(async () => {
        db = await testDatabase();
    });
    beforeEach(async () => {
        time.set(NOW);
        await resetDatabase(db, testConfig());
        app = await testApp(db, { now: time.now });
    });
    afterEach(() => app.close());

    const get = (url: string) => app.inject({ method: "GET", url });
    const postJson = (url: string, payload: string, headers: Record<string, string> = {}) =>
        app.inject({
            method: "POST",
            url,
            payload,
            headers: { ...AUTH, "idempotency-key": "edge-1", "content-type": "application/json", ...headers },
        });
    const record = { team: "inference", category: "ai-api", amountUsd: 1, occurredAt: "2026-11-19T10:00:00Z" };

    describe("error answers", () => {
        it("answers an empty JSON body 400: body is empty", async () => {
            const res = await postJson("/v1/usage", "");
            assert.deepStrictEqual(
                [res.statusCode, res.json()],
                [400, { error: "Bad Request", message: "body: is empty; send a JSON object", field: "body" }],
            );
        });

        it("answers a body that is not JSON 400: body is not valid JSON", async () => {
            const res = await postJson("/v1/usage", '{"records": [');
            assert.deepStrictEqual(
                [res.statusCode, res.json()],
                [400, { error: "Bad Request", message: "body: is not valid JSON", field: "body" }],
            );
        });

        it("answers a body shorter than its Content-Length 400 with Node's reason, naming no field", async () => {
            const res = await postJson("/v1/usage", "{}", { "content-length": "50" });
            assert.deepStrictEqual(
                [res.statusCode, res.json()],
                [400, { error: "Bad Request", message: "Request body size did not match Content-Length" }],
            );
        });

        it("names a body field called idempotency-key as written, not as the header", async () => {
            const res = await postJson(
                "/v1/gpu-requests",
                JSON.stringify({
                    team: "ml-research",
                    pool: "h100",
                    gpus: 1,
                    hours: 1,
                    priorityClass: "training",
                    requester: "ada@example.com",
                    "idempotency-key": "x",
                }),
            );
            assert.deepStrictEqual(
                [res.statusCode, res.json()],
                [
                    400,
                    {
                        error: "Bad Request",
                        message: "idempotency-key: is not a known field",
                        field: "idempotency-key",
                    },
                ],
            );
        });

        it("names the 11th record of a batch as records[10] (indices of two digits)", async () => {
            const records = Array.from({ length: 11 }, (_, i) => (i === 10 ? { ...record, team: "sales" } : record));
            const res = await postJson("/v1/usage", JSON.stringify({ records }));
            assert.deepStrictEqual(
                [res.statusCode, res.json()],
                [
                    400,
                    {
                        error: "Bad Request",
                        message: "records[10].team: must be one of ml-research, inference, applied-ml",
                        field: "records[10].team",
                    },
                ],
            );
        });

        it("answers 404 in the API's shape for a team that does not exist", async () => {
            const res = await get("/v1/teams/marketing/spend");
            assert.deepStrictEqual(
                [res.statusCode, res.json()],
                [
                    404,
                    { error: "Not Found", message: 'no team "marketing"; known: ml-research, inference, applied-ml' },
                ],
            );
        });

        it("answers 403 in the API's shape, naming the header the portal left out", async () => {
            await app.close();
            app = await testApp(db, {
                now: time.now,
                credentials: [{ kind: "portal", tokens: ["portal-token-0123456789ab"] }],
            });
            const res = await app.inject({
                method: "POST",
                url: "/v1/usage",
                payload: { records: [record] },
                headers: {
                    authorization: "Bearer portal-token-0123456789ab",
                    "x-acting-user": "user:default/jane",
                    "idempotency-key": "k",
                },
            });
            assert.deepStrictEqual(
                [res.statusCode, res.json()],
                [
                    403,
                    {
                        error: "Forbidden",
                        message:
                            "X-Acting-User-Teams: the portal's credential needs the teams the user belongs to (comma-separated)",
                        field: "X-Acting-User-Teams",
                    },
                ],
            );
        });
    });

    describe("the database out of reach, and a bug", () => {
        const failing = (err: Error): Database => ({
            ...db,
            query: () => Promise.reject(err),
            snapshot: () => Promise.reject(err),
            transaction: () => Promise.reject(err),
        });

        it("answers 503 with Retry-After: 5, writes nothing, and logs the database's message", async () => {
            const log = capturedLog();
            await app.close();
            const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });
            app = await testApp(failing(refused), { now: time.now, logger: log.logger });
            const res = await get("/v1/teams");
            assert.deepStrictEqual(
                [res.statusCode, res.headers["retry-after"], res.json()],
                [
                    503,
                    "5",
                    {
                        error: "Service Unavailable",
                        message: "the database is unavailable; nothing was written, retry later",
                    },
                ],
            );
            const logged = log.lines.filter((l) => l.msg === "database unavailable");
            assert.deepStrictEqual(
                logged.map((l) => [l.level, l.err]),
                [[50, "connect ECONNREFUSED 127.0.0.1:5432"]],
            );
        });

        it("answers a bug 500 without its detail, and logs it in full", async () => {
            const log = capturedLog();
            await app.close();
            app = await testApp(failing(new TypeError("cannot read properties of undefined (reading 'rows')")), {
                now: time.now,
                logger: log.logger,
            });
            const res = await get("/v1/teams");
            assert.deepStrictEqual(
                [res.statusCode, res.json()],
                [500, { error: "Internal Server Error", message: "the request failed; see the service's log" }],
            );
            const logged = log.lines.filter((l) => l.msg === "request failed");
            assert.strictEqual(logged.length, 1);
            assert.strictEqual(logged[0].level, 50);
            assert.strictEqual(logged[0].err.message, "cannot read properties of undefined (reading 'rows')");
        });

        it("is not ready before migrations, nor when the database fails, and ready otherwise", async () => {
            assert.deepStrictEqual((await get("/readyz")).json(), { status: "ready" });
            await app.close();
            app = await testApp(db, { now: time.now, migrated: false });
            const early = await get("/readyz");
            assert.deepStrictEqual(
                [early.statusCode, early.json()],
                [503, { status: "not ready", reason: "database not reached or migrations not applied yet" }],
            );
            await app.close();
            app = await testApp(failing(new Error("PGlite is closed")), { now: time.now });
            const down = await get("/readyz");
            assert.deepStrictEqual(
                [down.statusCode, down.json()],
                [503, { status: "not ready", reason: "database unreachable: PGlite is closed" }],
            );
        });
    });

    describe("reads behind a credential (readsNeedCredential)", () => {
        beforeEach(async () => {
            await app.close();
            app = await testApp(db, { now: time.now, readsNeedCredential: true });
        });

        it("answers GET and HEAD without a token 401 with the challenge, and with the token 200", async () => {
            for (const method of ["GET", "HEAD"] as const) {
                const res = await app.inject({ method, url: "/v1/teams" });
                assert.strictEqual(res.statusCode, 401, method);
                assert.strictEqual(res.headers["www-authenticate"], 'Bearer realm="cost-tracker"', method);
                const ok = await app.inject({ method, url: "/v1/teams", headers: AUTH });
                assert.strictEqual(ok.statusCode, 200, method);
            }
            const res = await get("/v1/pools?from=2026-11-01");
            assert.deepStrictEqual(res.json(), {
                error: "Unauthorized",
                message: "Authorization: this service's reads need a bearer token (readsNeedCredential)",
                field: "Authorization",
            });
        });

        it("leaves writes to their own check: a write without a token is refused as a write", async () => {
            const res = await app.inject({
                method: "POST",
                url: "/v1/usage",
                payload: { records: [record] },
                headers: { "idempotency-key": "k" },
            });
            assert.deepStrictEqual(
                [res.statusCode, res.json().message],
                [401, "Authorization: a valid bearer token is required for writes"],
            );
            const ok = await app.inject({
                method: "POST",
                url: "/v1/usage",
                payload: { records: [record] },
                headers: { ...AUTH, "idempotency-key": "k" },
            });
            assert.strictEqual(ok.statusCode, 201, ok.body);
        });

        it("keeps health, readiness and metrics open, with or without a query string", async () => {
            for (const url of ["/healthz", "/readyz", "/metrics", "/healthz?probe=lb"])
                assert.strictEqual((await get(url)).statusCode, 200, url);
        });
    });

    describe("date ranges", () => {
        it("takes a team's spend over 366 days (a year and a day) and refuses 367", async () => {
            // 2025-11-20..2026-11-20 inclusive: 365 days apart, 366 days.
            const year = await get("/v1/teams/inference/spend?from=2025-11-20&to=2026-11-20");
            assert.strictEqual(year.statusCode, 200, year.body);
            assert.strictEqual(year.json().days.length, 366);
            const longer = await get("/v1/teams/inference/spend?from=2025-11-20&to=2026-11-21");
            assert.deepStrictEqual(
                [longer.statusCode, longer.json()],
                [
                    400,
                    {
                        error: "Bad Request",
                        message: "to: the range 2025-11-20..2026-11-21 is longer than 366 days",
                        field: "to",
                    },
                ],
            );
            const pools = await get("/v1/pools?from=2025-11-20&to=2026-11-21");
            assert.strictEqual(pools.statusCode, 400);
        });

        it("takes a range of one day (from = to)", async () => {
            const day = await get("/v1/teams/inference/spend?from=2026-11-10&to=2026-11-10");
            assert.strictEqual(day.statusCode, 200, day.body);
            assert.deepStrictEqual(
                day.json().days.map((d: { day: string }) => d.day),
                ["2026-11-10"],
            );
        });

        it("starts a range given only its end at the first of that end's month", async () => {
            const res = await get("/v1/teams/inference/spend?to=2026-10-15");
            assert.deepStrictEqual(
                [res.json().from, res.json().to, res.json().days.length],
                ["2026-10-01", "2026-10-15", 15],
            );
            const pools = await get("/v1/pools?to=2026-02-28");
            assert.deepStrictEqual([pools.json().from, pools.json().to], ["2026-02-01", "2026-02-28"]);
        });

        it("defaults to this month so far", async () => {
            const res = await get("/v1/pools");
            assert.deepStrictEqual([res.json().from, res.json().to], ["2026-11-01", "2026-11-20"]);
        });
    });

    describe("reports' defaults and limits", () => {
        it("answers the last 12 months by default, ending with this month", async () => {
            const res = await get("/v1/reports/history");
            assert.strictEqual(res.statusCode, 200, res.body);
            // 2025-12 … 2026-11: twelve months.
            const months = res.json<Array<{ month: string }>>().map((m) => m.month);
            assert.strictEqual(months.length, 12);
            assert.deepStrictEqual([months[0], months[11]], ["2025-12", "2026-11"]);
            const toOnly = await get("/v1/reports/history?to=2026-03");
            const back = toOnly.json<Array<{ month: string }>>().map((m) => m.month);
            assert.deepStrictEqual([back.length, back[0], back[11]], [12, "2025-04", "2026-03"]);
        });

        it("takes a history of 36 months and one of a single month, and refuses 37", async () => {
            // 2024-01 … 2026-12 is 3 years: 36 months.
            const three = await get("/v1/reports/history?from=2024-01&to=2026-12");
            assert.strictEqual(three.statusCode, 200, three.body);
            assert.strictEqual(three.json().length, 36);
            const one = await get("/v1/reports/history?from=2026-05&to=2026-05");
            assert.deepStrictEqual(
                one.json<Array<{ month: string }>>().map((m) => m.month),
                ["2026-05"],
            );
            const longer = await get("/v1/reports/history?from=2024-01&to=2027-01");
            assert.deepStrictEqual(
                [longer.statusCode, longer.json()],
                [400, { error: "Bad Request", message: "to: 2024-01..2027-01 is more than 36 months", field: "to" }],
            );
        });

        it("reports this month by default, as JSON and as a CSV attachment named for the month", async () => {
            assert.strictEqual((await get("/v1/reports/monthly")).json().month, "2026-11");
            const csv = await get("/v1/reports/monthly.csv");
            assert.strictEqual(csv.statusCode, 200);
            assert.strictEqual(csv.headers["content-type"], "text/csv; charset=utf-8");
            assert.strictEqual(csv.headers["content-disposition"], 'attachment; filename="cost-report-2026-11.csv"');
            assert.match(csv.body, /^month,line,name,cost_center,/);
            const october = await get("/v1/reports/monthly.csv?month=2026-10");
            assert.strictEqual(
                october.headers["content-disposition"],
                'attachment; filename="cost-report-2026-10.csv"',
            );
        });
    });

    describe("what the service records about itself", () => {
        it("times requests in seconds, by route, with unknown routes as unmatched", async () => {
            assert.strictEqual((await get("/v1/budgets")).statusCode, 404);
            assert.strictEqual((await get("/v1/teams")).statusCode, 200);
            const scrape = await get("/metrics");
            // Prometheus' text exposition format, version 0.0.4 (prometheus.io/docs/instrumenting/exposition_formats).
            assert.strictEqual(scrape.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
            const metrics = scrape.body;
            assert.match(
                metrics,
                /cost_tracker_http_request_duration_seconds_count\{method="GET",route="unmatched",status_code="404"\} 1\n/,
            );
            const sum =
                /cost_tracker_http_request_duration_seconds_sum\{method="GET",route="\/v1\/teams",status_code="200"\} (\S+)\n/.exec(
                    metrics,
                );
            assert.ok(sum, metrics);
            // An in-process read of an emptied database takes milliseconds: well under 10 s, above 0.
            assert.ok(Number(sum[1]) > 0 && Number(sum[1]) < 10, `seconds: ${sum[1]}`);
        });

        it("redacts the bearer token from logged headers, whatever the logger's serializers", async () => {
            const log = capturedLog();
            await app.close();
            app = await testApp(db, {
                now: time.now,
                logger: {
                    ...log.logger,
                    serializers: { req: (req: { headers: unknown }) => ({ headers: req.headers }) },
                },
            });
            assert.strictEqual((await app.inject({ method: "GET", url: "/v1/teams", headers: AUTH })).statusCode, 200);
            app.log.info({ headers: { authorization: `Bearer ${TOKEN}` } }, "a line of headers");
            const incoming = log.lines.filter((l) => l.msg === "incoming request");
            assert.strictEqual(incoming.length, 1);
            assert.strictEqual(incoming[0].req.headers.authorization, "[redacted]");
            const own = log.lines.filter((l) => l.msg === "a line of headers");
            assert.deepStrictEqual(own[0].headers, { authorization: "[redacted]" });
            assert.ok(!JSON.stringify(log.lines).includes(TOKEN), "no token in the log");
        });

        it("warns, naming the folder, when the dashboard's assets are absent", async () => {
            const log = capturedLog();
            await app.close();
            const missing = path.join(os.tmpdir(), "cost-tracker-no-such-dashboard");
            app = await testApp(db, { now: time.now, logger: log.logger, publicDir: missing });
            const warned = log.lines.filter((l) => l.level === 40);
            assert.deepStrictEqual(
                warned.map((l) => [l.msg, l.publicDir]),
                [["dashboard assets not found; build them with npm run build -w services/cost-tracker", missing]],
            );
            assert.strictEqual((await get("/")).statusCode, 404);
        });

        it("serves the dashboard's files and sends /favicon.ico to the SVG icon, outside the API document", async () => {
            await app.close();
            const publicDir = fs.mkdtempSync(path.join(os.tmpdir(), "cost-tracker-dashboard-"));
            try {
                fs.writeFileSync(path.join(publicDir, "index.html"), "<!doctype html><title>costs</title>");
                fs.writeFileSync(path.join(publicDir, "favicon.svg"), "<svg xmlns='http://www.w3.org/2000/svg'/>");
                app = await testApp(db, { now: time.now, publicDir });
                const page = await get("/");
                assert.deepStrictEqual([page.statusCode, page.body], [200, "<!doctype html><title>costs</title>"]);
                const icon = await get("/favicon.ico");
                assert.deepStrictEqual([icon.statusCode, icon.headers.location], [301, "/favicon.svg"]);
                // A file added after the start is not served: the assets are fixed when the service starts.
                fs.writeFileSync(path.join(publicDir, "late.js"), "1");
                assert.strictEqual((await get("/late.js")).statusCode, 404);
                const doc = (await get("/openapi.json")).json();
                assert.ok(
                    !Object.hasOwn(doc.paths, "/favicon.ico") && !Object.hasOwn(doc.paths, "/"),
                    Object.keys(doc.paths).join(", "),
                );
            } finally {
                fs.rmSync(publicDir, { recursive: true, force: true });
            }
        });
    });
});

describe("cost tracker: stopping with a poll in flight", () => {
    it("answers the waiting poll with Connection: close, after keeping connections alive before", async () => {
        const db = await testDatabase();
        await resetDatabase(db, testConfig());
        const feed = new EventFeed(db);
        let waiting!: () => void;
        const polled = new Promise<void>((resolve) => (waiting = resolve));
        const wait = feed.wait.bind(feed);
        feed.wait = (after, ms) => {
            const page = wait(after, ms);
            waiting();
            return page;
        };
        const now = clock(NOW).now;
        const app = await buildApp({
            config: testConfig(),
            db,
            isMigrated: () => true,
            apiToken: TOKEN,
            notifiers: [],
            metrics: createMetrics(() => Promise.resolve([])),
            now,
            logger: false,
            feed,
        });
        await app.listen({ host: "127.0.0.1", port: 0 });
        const { port } = app.server.address() as AddressInfo;
        const agent = new http.Agent({ keepAlive: true });
        const request = (url: string) =>
            new Promise<http.IncomingMessage>((resolve, reject) => {
                const req = http.get({ host: "127.0.0.1", port, path: url, agent }, (res) => {
                    res.resume();
                    res.on("end", () => resolve(res));
                });
                req.on("error", reject);
            });
        try {
            const before = await request("/healthz");
            assert.strictEqual(before.headers.connection, "keep-alive");
            const poll = request("/v1/events?waitSeconds=30");
            await polled;
            const closing = app.close();
            const answer = await poll;
            assert.deepStrictEqual([answer.statusCode, answer.headers.connection], [200, "close"]);
            await closing;
        } finally {
            agent.destroy();
            await app.close();
        }
    });
});
