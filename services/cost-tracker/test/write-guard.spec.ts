/**
 * Who a write's credential proves, what the refusal says, and what the audit log keeps: the
 * identity of each kind of caller, the portal's acting-user headers, the outcome recorded for
 * each kind of answer, and what happens when the log cannot be written. Tokens are read from
 * the environment's forms (a token, or {"current", "previous"} during a rotation).
 */
import * as assert from "assert";
import type { FastifyInstance } from "fastify";
import { Writable } from "stream";
import type { Database } from "../src/db/database";
import { BadInput } from "../src/model";
import { tokensOf, type CallerCredential } from "../src/http/callers";
import { AUTH, TOKEN, clock, resetDatabase, testApp, testConfig, testDatabase } from "./helpers";

const PLATFORM = "platform-token-0123456789";
const PORTAL = "portal-token-0123456789ab";
const ML_RESEARCH = "ml-research-token-0123456";
const CREDENTIALS: CallerCredential[] = [
    { kind: "platform", tokens: [PLATFORM] },
    { kind: "portal", tokens: [PORTAL] },
    { kind: "team", team: "ml-research", tokens: [ML_RESEARCH] },
];

const NOW = "2026-11-10T12:00:00Z";
/** The warning every app without a publicDir logs at start-up. */
const DASHBOARD_ABSENT = "dashboard assets not found; build them with npm run build -w services/cost-tracker";
const UID = "0b7f8c52-3f4e-4a51-9f3e-2f1f4f0c9a11";

interface Entry {
    caller: string;
    action: string;
    teams: string[];
    target: string | null;
    status_code: number;
    outcome: string;
}

describe("cost tracker: the write guard and the audit log", () => {
    let db: Database;
    let app: FastifyInstance;
    let keys = 0;
    let mark = 0;

    const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
    const post = (url: string, headers: Record<string, string>, payload?: object) =>
        app.inject({ method: "POST", url, payload, headers: { ...headers, "idempotency-key": `guard-${++keys}` } });
    const ask = (team: string) => ({
        team,
        pool: "h100",
        gpus: 1,
        hours: 10,
        priorityClass: "training",
        requester: "ada@example.com",
    });
    const usage = (team: string) => ({
        records: [{ team, category: "ai-api", amountUsd: 2, occurredAt: "2026-11-09T10:00:00Z" }],
    });
    const entries = async () =>
        (
            await db.query<Entry>(
                "SELECT caller, action, teams, target, status_code, outcome FROM audit_log WHERE id > $1 ORDER BY id",
                [mark],
            )
        ).rows;

    before(async () => {
        db = await testDatabase();
    });
    beforeEach(async () => {
        await resetDatabase(db, testConfig());
        mark = (await db.query<{ id: number }>("SELECT coalesce(max(id), 0) AS id FROM audit_log")).rows[0].id;
        app = await testApp(db, { credentials: CREDENTIALS, now: clock(NOW).now });
    });
    afterEach(() => app.close());

    describe("credentials", () => {
        it("takes only the Bearer scheme: the token after another 7-character prefix is refused", async () => {
            for (const authorization of [`Token: ${TOKEN}`, `bearer ${TOKEN}`, TOKEN, `Bearer  ${TOKEN}`]) {
                const res = await post("/v1/usage", { authorization }, usage("inference"));
                assert.deepStrictEqual(
                    [res.statusCode, res.headers["www-authenticate"], res.json()],
                    [
                        401,
                        'Bearer realm="cost-tracker"',
                        {
                            error: "Unauthorized",
                            message: "Authorization: a valid bearer token is required for writes",
                            field: "Authorization",
                        },
                    ],
                    authorization,
                );
            }
            assert.deepStrictEqual(await entries(), [], "an unproven caller is not in the log");
        });

        it("logs a refused token with the route it was sent to", async () => {
            const lines: Array<Record<string, any>> = [];
            await app.close();
            app = await testApp(db, {
                credentials: CREDENTIALS,
                now: clock(NOW).now,
                logger: {
                    level: "warn",
                    stream: new Writable({
                        write: (chunk, _enc, done) => (lines.push(JSON.parse(String(chunk))), done()),
                    }),
                },
            });
            await post("/v1/workloads/release", {}, { uid: UID });
            assert.deepStrictEqual(
                lines.filter((l) => l.msg !== DASHBOARD_ABSENT).map((l) => [l.msg, l.route]),
                [["write refused: missing or wrong bearer token", "/v1/workloads/release"]],
            );
        });

        it("records the platform as platform:budget-gate and a team as team:<name>", async () => {
            assert.strictEqual((await post("/v1/workloads/release", bearer(PLATFORM), { uid: UID })).statusCode, 200);
            assert.strictEqual((await post("/v1/usage", bearer(ML_RESEARCH), usage("ml-research"))).statusCode, 201);
            assert.deepStrictEqual(
                (await entries()).map((e) => [e.caller, e.action, e.teams, e.target, e.status_code, e.outcome]),
                [
                    ["platform:budget-gate", "POST /v1/workloads/release", [], UID, 200, "released 0"],
                    ["team:ml-research", "POST /v1/usage", ["ml-research"], "1 records", 201, "accepted 1"],
                ],
            );
        });

        it("refuses a credential kind the route does not take with a 403 naming Authorization, audited without teams", async () => {
            const res = await post("/v1/workloads/release", bearer(ML_RESEARCH), { uid: UID });
            const message =
                "Authorization: a team credential may not call this route; it takes admin, platform credentials";
            assert.deepStrictEqual(
                [res.statusCode, res.json()],
                [403, { error: "Forbidden", message, field: "Authorization" }],
            );
            assert.deepStrictEqual(
                (await entries()).map((e) => [e.caller, e.teams, e.target, e.status_code, e.outcome]),
                [["team:ml-research", [], null, 403, message]],
            );
        });

        it("needs the portal's acting user as an entity ref, naming the header", async () => {
            for (const headers of [{}, { "x-acting-user": "jane" }] as Array<Record<string, string>>) {
                const res = await post(
                    "/v1/gpu-requests",
                    { ...bearer(PORTAL), ...headers, "x-acting-user-teams": "ml-research" },
                    ask("ml-research"),
                );
                assert.deepStrictEqual([res.statusCode, res.json().field], [403, "X-Acting-User"]);
                assert.strictEqual(
                    res.json().message,
                    "X-Acting-User: the portal's credential acts for a signed-in user; send their entity ref, user:default/<name>",
                );
            }
        });

        it("reads the portal user's teams with spaces around the commas, and says when it may act for none", async () => {
            const portal = (teams: string) => ({
                ...bearer(PORTAL),
                "x-acting-user": "user:default/Jane",
                "x-acting-user-teams": teams,
            });
            const ok = await post("/v1/gpu-requests", portal("inference , ml-research"), ask("ml-research"));
            assert.strictEqual(ok.statusCode, 201, ok.body);
            const none = await post("/v1/gpu-requests", portal("sales, marketing"), ask("ml-research"));
            assert.deepStrictEqual(
                [none.statusCode, none.json()],
                [
                    403,
                    {
                        error: "Forbidden",
                        message:
                            "team: user:default/jane via portal may not act for ml-research; it may act for no team of this service",
                        field: "team",
                    },
                ],
            );
            const other = await post("/v1/gpu-requests", portal("inference,applied-ml"), ask("ml-research"));
            assert.strictEqual(
                other.json().message,
                "team: user:default/jane via portal may not act for ml-research; it may act for inference, applied-ml",
            );
        });
    });

    describe("the audit log's entries", () => {
        it("records a refused body's line, cut at 500 characters", async () => {
            const key = "k".repeat(600);
            const res = await post("/v1/usage", AUTH, { ...usage("inference"), [key]: 1 });
            // "<600 k>: is not a known field" is 622 characters; the entry keeps the first 500.
            assert.strictEqual(res.json().message, `${key}: is not a known field`);
            const [entry] = await entries();
            assert.deepStrictEqual([entry.status_code, entry.outcome], [400, "k".repeat(500)]);
        });

        it("records a release's reservation state and a batch's size", async () => {
            const made = await post("/v1/gpu-requests", AUTH, ask("inference"));
            const id = made.json().id as string;
            assert.strictEqual((await post(`/v1/gpu-requests/${id}/release`, AUTH)).statusCode, 200);
            await post("/v1/usage", AUTH, {
                records: [usage("inference").records[0], { ...usage("applied-ml").records[0], amountUsd: 3 }],
            });
            assert.deepStrictEqual(
                (await entries()).map((e) => [e.action, e.teams, e.target, e.status_code, e.outcome]),
                [
                    ["POST /v1/gpu-requests", ["inference"], id, 201, "approved"],
                    ["POST /v1/gpu-requests/:id/release", ["inference"], id, 200, "released"],
                    ["POST /v1/usage", ["inference", "applied-ml"], "2 records", 201, "accepted 2"],
                ],
            );
        });

        it("answers the audit log only to the admin: 401 with the challenge without a token", async () => {
            const res = await app.inject({ method: "GET", url: "/v1/audit" });
            assert.deepStrictEqual(
                [res.statusCode, res.headers["www-authenticate"], res.json()],
                [
                    401,
                    'Bearer realm="cost-tracker"',
                    {
                        error: "Unauthorized",
                        message: "Authorization: the audit log needs the admin's bearer token",
                        field: "Authorization",
                    },
                ],
            );
            const team = await app.inject({ method: "GET", url: "/v1/audit", headers: bearer(ML_RESEARCH) });
            assert.deepStrictEqual([team.statusCode, team.json().field], [403, "Authorization"]);
        });
    });

    describe("when the audit log cannot be written", () => {
        /** The database, but every INSERT into the audit log fails as an outage would. */
        const withoutAudit = (): Database => ({
            ...db,
            query: (sql: string, params?: unknown[]) =>
                sql.includes("INSERT INTO audit_log")
                    ? Promise.reject(new Error("Connection terminated unexpectedly"))
                    : db.query(sql, params),
        });
        let lines: Array<Record<string, any>>;
        beforeEach(async () => {
            lines = [];
            await app.close();
            app = await testApp(withoutAudit(), {
                credentials: CREDENTIALS,
                now: clock(NOW).now,
                logger: {
                    level: "warn",
                    stream: new Writable({
                        write: (chunk, _enc, done) => (lines.push(JSON.parse(String(chunk))), done()),
                    }),
                },
            });
        });

        it("answers a write it could not record 503", async () => {
            const res = await post("/v1/usage", AUTH, usage("inference"));
            assert.strictEqual(res.statusCode, 503, res.body);
        });

        it("keeps a refusal's answer (400 and 403) and logs that it was not audited", async () => {
            const bad = await post("/v1/usage", AUTH, { records: [] });
            assert.strictEqual(bad.statusCode, 400, bad.body);
            const refused = await post("/v1/workloads/release", bearer(ML_RESEARCH), { uid: UID });
            assert.strictEqual(refused.statusCode, 403, refused.body);
            assert.deepStrictEqual(
                lines.filter((l) => l.msg === "refusal not audited").map((l) => l.err),
                ["Error: Connection terminated unexpectedly", "Error: Connection terminated unexpectedly"],
            );
        });
    });

    describe("a write answered 503 by the database", () => {
        it("is not audited: nothing was written, and the retry is what the log records", async () => {
            await app.close();
            const outage = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });
            app = await testApp({ ...db, transaction: () => Promise.reject(outage) }, { now: clock(NOW).now });
            const res = await post("/v1/usage", AUTH, usage("inference"));
            assert.strictEqual(res.statusCode, 503, res.body);
            assert.deepStrictEqual(await entries(), []);
        });
    });
});

describe("cost tracker: credentials' tokens from the environment", () => {
    const problem = (value: string): string => {
        try {
            tokensOf("COST_TRACKER_TOKEN_PORTAL", value, 16);
        } catch (err) {
            assert.ok(err instanceof BadInput);
            return `${err.field}: ${err.problem}`;
        }
        assert.fail(`${value} was taken`);
    };

    it("reads a rotation's pair, with or without a previous token, and JSON after leading spaces", () => {
        assert.deepStrictEqual(tokensOf("V", '  {"current": "token-0123456789ab"}', 16), ["token-0123456789ab"]);
        assert.deepStrictEqual(tokensOf("V", '{"current": "token-0123456789ab", "previous": ""}', 16), [
            "token-0123456789ab",
        ]);
        assert.deepStrictEqual(
            tokensOf("V", '{"current": "token-0123456789ab", "previous": "token-old-0123456"}', 16),
            ["token-0123456789ab", "token-old-0123456"],
        );
        assert.deepStrictEqual(tokensOf("V", "plain-token-0123456", 16), ["plain-token-0123456"]);
    });

    it("names what is wrong with a token's value", () => {
        assert.strictEqual(
            problem('{"current": "token-0123456789ab", "old": "x", "older": "y"}'),
            "COST_TRACKER_TOKEN_PORTAL: has unknown keys old, older; expected current, previous",
        );
        assert.strictEqual(
            problem('{"previous": "token-0123456789ab"}'),
            "COST_TRACKER_TOKEN_PORTAL: needs a string `current`",
        );
        assert.strictEqual(problem('{"current": 42}'), "COST_TRACKER_TOKEN_PORTAL: needs a string `current`");
        // One short token in a JSON document, with and without leading spaces: the JSON form's message.
        for (const value of ['{"current": "short"}', ' {"current": "short"}'])
            assert.strictEqual(
                problem(value),
                "COST_TRACKER_TOKEN_PORTAL: current and previous must each be a string of at least 16 characters",
                value,
            );
        assert.strictEqual(problem("short"), "COST_TRACKER_TOKEN_PORTAL: must be at least 16 characters");
    });
});
