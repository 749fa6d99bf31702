/**
 * Hostile input: wrong JSON types, numbers the database columns cannot hold, strings PostgreSQL
 * refuses or that are not identifiers, dates that are not real instants. Each must be a 400
 * naming the field, with nothing written. Run on embedded PGlite by `npm test`
 * (hostile-input.spec.ts) and on a PostgreSQL server by the integration run.
 *
 * The limits come from the columns (migrations.ts, migration 1): gpu_requests.hours numeric(8, 2),
 * usage.amount_usd numeric(16, 6), usage.gpu_hours numeric(14, 4), daily_spend.amount_usd
 * numeric(16, 6); PostgreSQL's text type cannot hold U+0000 (PostgreSQL docs, "Character Types").
 * Dates follow RFC 3339 section 5.6 (full-date, date-time; no leap second is accepted here
 * because JavaScript's Date cannot represent one).
 */
import * as assert from "assert";
import type { FastifyInstance, LightMyRequestResponse } from "fastify";
import type { Database } from "../src/db/database";
import { AUTH, clock, resetDatabase, testApp, testConfig, testDatabase } from "./helpers";

const NOW = "2026-11-20T12:00:00.000Z";

type Send = (app: FastifyInstance, key: string) => Promise<LightMyRequestResponse>;

const gpuRequest = (overrides: Record<string, unknown>) => ({
    team: "ml-research",
    pool: "h100",
    gpus: 2,
    hours: 10,
    priorityClass: "training",
    requester: "ada@example.com",
    ...overrides,
});
const usageRecord = (overrides: Record<string, unknown>) => ({
    team: "ml-research",
    category: "ai-api",
    amountUsd: 1,
    occurredAt: NOW,
    ...overrides,
});

/** A POST of `body` as JSON text, so that values JSON.stringify cannot write (1e999) can be sent as a client would. */
const postRaw =
    (url: string, body: string): Send =>
    (app, key) =>
        app.inject({
            method: "POST",
            url,
            payload: body,
            headers: { ...AUTH, "idempotency-key": key, "content-type": "application/json" },
        });
const post = (url: string, body: unknown): Send => postRaw(url, JSON.stringify(body));
const askFor = (overrides: Record<string, unknown>) => post("/v1/gpu-requests", gpuRequest(overrides));
const pushRecord = (overrides: Record<string, unknown>) =>
    post("/v1/usage", { records: [usageRecord({}), usageRecord(overrides)] });

/** 200,000 nested arrays (400 kB, within the usage route's 1 MB): deep enough to overflow a recursive walk. */
const DEEP = `${"[".repeat(200_000)}${"]".repeat(200_000)}`;

/** [what, request, the field the 400 must name]. */
export const HOSTILE_WRITES: ReadonlyArray<readonly [string, Send, string]> = [
    ["gpus as a string", askFor({ gpus: "2" }), "gpus"],
    ["gpus as a boolean", askFor({ gpus: true }), "gpus"],
    ["gpus as an array", askFor({ gpus: [1] }), "gpus"],
    ["gpus as null", askFor({ gpus: null }), "gpus"],
    ["gpus as a fraction", askFor({ gpus: 1.5 }), "gpus"],
    ["hours as a string", askFor({ hours: "1" }), "hours"],
    ["hours as the string Infinity", askFor({ hours: "Infinity" }), "hours"],
    ["hours of 1e999 (Infinity once parsed)", postRaw("/v1/gpu-requests", rawAsk("hours", "1e999")), "hours"],
    ["hours below the column's 0.01 (0.001)", askFor({ hours: 0.001 }), "hours"],
    ["hours of 1e-300", askFor({ hours: 1e-300 }), "hours"],
    ["hours with three decimals (the column keeps two)", askFor({ hours: 10.005 }), "hours"],
    ["requester as a number", askFor({ requester: 123 }), "requester"],
    ["requester with NUL", askFor({ requester: "ada\u0000@example.com" }), "requester"],
    ["requester with a lone high surrogate", askFor({ requester: "ada\ud800" }), "requester"],
    ["requester with a lone low surrogate", askFor({ requester: "\udc00ada" }), "requester"],
    ["requester with a control character", askFor({ requester: "ada\u0007@example.com" }), "requester"],
    ["requester with a newline", askFor({ requester: "ada\n@example.com" }), "requester"],
    ["requester with a right-to-left override", askFor({ requester: "ada\u202e@example.com" }), "requester"],
    ["purpose with NUL", askFor({ purpose: "fine\u0000tune" }), "purpose"],
    ["purpose with a lone surrogate", askFor({ purpose: "fine-tune \udfff" }), "purpose"],
    ["gpuResource with NUL", askFor({ gpuResource: "nvidia.com/gpu\u0000" }), "gpuResource"],
    [
        "a workload namespace with a control character",
        askFor({ workload: { namespace: "ml-research\u0001", kind: "Job", name: "train" } }),
        "workload.namespace",
    ],
    [
        "a workload name with a slash (not a Kubernetes name)",
        askFor({ workload: { namespace: "ml-research", kind: "Job", name: "a/b" } }),
        "workload.name",
    ],
    [
        "a workload kind with NUL",
        askFor({ workload: { namespace: "ml-research", kind: "Job\u0000", name: "train" } }),
        "workload.kind",
    ],
    ["a field name with NUL", askFor({ "purpose\u0000": "x" }), "purpose\\u0000"],
    ["a release of a workload UID as a number", post("/v1/workloads/release", { uid: 123 }), "uid"],
    ["a usage record nested 200,000 arrays deep", postRaw("/v1/usage", `{"records":[${DEEP}]}`), "records[0]"],
    ["usage amountUsd as a boolean", pushRecord({ amountUsd: true }), "records[1].amountUsd"],
    ["usage amountUsd as a string", pushRecord({ amountUsd: "1" }), "records[1].amountUsd"],
    [
        "usage amountUsd with seven decimals (the column keeps six)",
        pushRecord({ amountUsd: 1e-7 }),
        "records[1].amountUsd",
    ],
    [
        "usage gpuHours with five decimals (the column keeps four)",
        pushRecord({ gpuHours: 0.00001 }),
        "records[1].gpuHours",
    ],
    ["usage gpuHours as a string", pushRecord({ gpuHours: "2" }), "records[1].gpuHours"],
    ["a leap second", pushRecord({ occurredAt: "2026-06-30T23:59:60Z" }), "records[1].occurredAt"],
    ["February 30th", pushRecord({ occurredAt: "2026-02-30T10:00:00Z" }), "records[1].occurredAt"],
    ["the 31st of a 30-day month", pushRecord({ occurredAt: "2026-11-31T10:00:00Z" }), "records[1].occurredAt"],
    ["year 0", pushRecord({ occurredAt: "0000-01-01T00:00:00Z" }), "records[1].occurredAt"],
    ["hour 24", pushRecord({ occurredAt: "2026-11-19T24:00:00Z" }), "records[1].occurredAt"],
    ["an offset of +24:00", pushRecord({ occurredAt: "2026-11-19T10:00:00+24:00" }), "records[1].occurredAt"],
    ["a date without a time", pushRecord({ occurredAt: "2026-11-19" }), "records[1].occurredAt"],
    ["a time without an offset", pushRecord({ occurredAt: "2026-11-19T10:00:00" }), "records[1].occurredAt"],
    ["usage description with NUL", pushRecord({ description: "gpt\u0000" }), "records[1].description"],
    ["usage description with a lone surrogate", pushRecord({ description: "gpt \ud83d" }), "records[1].description"],
    [
        "a usage workload name with NUL",
        pushRecord({ category: "gpu", workload: { namespace: "ml-research", kind: "Job", name: "t\u0000" } }),
        "records[1].workload.name",
    ],
];

/** A GPU request whose `field` is the raw JSON text `value`. */
function rawAsk(field: string, value: string): string {
    const body = JSON.stringify({ ...gpuRequest({}), [field]: 0 });
    return body.replace(`"${field}":0`, `"${field}":${value}`);
}

/** Values that are unusual but valid: refusing them would be a bug of its own. */
const VALID_EDGES: ReadonlyArray<readonly [string, Send, number]> = [
    ["hours of 0.01, the column's smallest", askFor({ hours: 0.01 }), 201],
    ["a purpose with newlines and an emoji (a surrogate pair)", askFor({ purpose: "fine-tune\n\tstep 2 🚀" }), 201],
    ["a requester with letters beyond Latin-1", askFor({ requester: "Zoë Łukasz 李" }), 201],
    ["amountUsd with six decimals", pushRecord({ amountUsd: 0.000001 }), 201],
    ["an offset and fractional seconds", pushRecord({ occurredAt: "2026-11-20T13:00:00.123456+02:00" }), 201],
    ["lower-case t and z (RFC 3339 allows them)", pushRecord({ occurredAt: "2026-11-20t10:00:00z" }), 201],
];

export function describeHostileInputSpecs(label: string): void {
    describe(`cost tracker: hostile input is a 400 naming the field, nothing written (${label})`, () => {
        let db: Database;
        let app: FastifyInstance;
        const time = clock(NOW);
        let keys = 0;

        before(async () => {
            db = await testDatabase();
            await resetDatabase(db, testConfig());
            app = await testApp(db, { now: time.now });
        });
        after(() => app.close());

        const counts = async () =>
            (
                await db.query<Record<string, number>>(
                    `SELECT (SELECT count(*) FROM gpu_requests) AS requests, (SELECT count(*) FROM usage) AS usage,
                            (SELECT count(*) FROM idempotency_keys) AS keys, (SELECT count(*) FROM daily_spend) AS days`,
                )
            ).rows[0];

        for (const [what, send, field] of HOSTILE_WRITES) {
            it(`refuses ${what}: 400 naming ${field}`, async () => {
                const before = await counts();
                const res = await send(app, `hostile-${++keys}`);
                assert.strictEqual(res.statusCode, 400, res.body);
                const body = res.json();
                assert.strictEqual(body.field, field, res.body);
                assert.ok(body.message.startsWith(`${field}: `), body.message);
                assert.doesNotMatch(body.message, /\n|at .*\.ts:/, "one line, no stack trace");
                assert.deepStrictEqual(await counts(), before);
            });
        }

        for (const [what, send, status] of VALID_EDGES) {
            it(`accepts ${what}`, async () => {
                const res = await send(app, `edge-${++keys}`);
                assert.strictEqual(res.statusCode, status, res.body);
            });
        }

        it("refuses a push that would take a day's total past what daily_spend.amount_usd holds, naming the record", async () => {
            // numeric(16, 6) holds up to 9,999,999,999.999999; a day already at $9,999,999,000 leaves room for $999.99.
            await db.query(
                `INSERT INTO daily_spend (team, day, category, pool, amount_usd, gpu_hours)
                 VALUES ('inference', '2026-11-19', 'ai-api', '', 9999999000, 0)`,
            );
            const before = await counts();
            const record = { team: "inference", category: "ai-api", occurredAt: "2026-11-19T08:00:00Z" };
            const res = await post("/v1/usage", {
                records: [
                    { ...record, amountUsd: 500 },
                    { ...record, amountUsd: 600 },
                ],
            })(app, `overflow-${++keys}`);
            assert.strictEqual(res.statusCode, 400, res.body);
            assert.strictEqual(res.json().field, "records[1].amountUsd");
            assert.deepStrictEqual(await counts(), before);
        });

        for (const [what, url, field] of [
            [
                "a spend range ending on February 30th",
                "/v1/teams/ml-research/spend?from=2026-02-01&to=2026-02-30",
                "to",
            ],
            ["a spend range from year 0", "/v1/pools?from=0000-01-01&to=0000-01-31", "from"],
            ["an events cursor that is not a number", "/v1/events?after=1e3", "after"],
            ["a fractional long-poll wait", "/v1/events?waitSeconds=1.5", "waitSeconds"],
            ["a decision list limit with NUL", "/v1/gpu-requests?limit=5%00", "limit"],
        ] as const) {
            it(`refuses ${what} in a query string: 400 naming ${field}`, async () => {
                const res = await app.inject({ method: "GET", url });
                assert.strictEqual(res.statusCode, 400, res.body);
                assert.strictEqual(res.json().field, field, res.body);
            });
        }

        it("still coerces a query string's numbers (they arrive as text)", async () => {
            const res = await app.inject({ method: "GET", url: "/v1/events?waitSeconds=0&after=0" });
            assert.strictEqual(res.statusCode, 200, res.body);
        });
    });
}
