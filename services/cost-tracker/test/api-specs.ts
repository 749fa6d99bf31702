/**
 * The API's behaviour, as a caller sees it. Run in-process (fastify.inject) on embedded PGlite
 * by `npm test`, and on a real PostgreSQL server by the integration run (api.postgres.spec.ts).
 *
 * Prices in expectations are worked by hand from catalog/instances.ts (p5.48xlarge $55.04/h for
 * 8 GPUs → $6.88 per GPU-hour; p4de.24xlarge $27.44705/h → $3.43088125; p4d.24xlarge
 * $21.957642/h → $2.74470525).
 */
import * as assert from "assert";
import type { FastifyInstance, LightMyRequestResponse } from "fastify";
import { Writable } from "stream";
import type { Database } from "../src/db/database";
import { AUTH, TOKEN, clock, recordingNotifier, resetDatabase, testApp, testConfig, testDatabase } from "./helpers";

// Mid-month, so spend, reservations and forecasts all fall in November 2026 (30 days).
const NOW = "2026-11-20T12:00:00.000Z";

export function describeApiSpecs(label: string): void {
    describe(`cost tracker API (${label})`, () => {
        let db: Database;
        let app: FastifyInstance;
        const time = clock(NOW);
        const notifier = recordingNotifier();
        let keys = 0;

        before(async () => {
            db = await testDatabase();
        });
        beforeEach(async () => {
            time.set(NOW);
            notifier.sent.length = 0;
            await resetDatabase(db, testConfig());
            app = await testApp(db, { now: time.now, notifiers: [notifier] });
        });
        afterEach(() => app.close());

        const post = (url: string, payload: unknown, headers: Record<string, string> = {}) =>
            app.inject({
                method: "POST",
                url,
                payload: payload as object,
                headers: { ...AUTH, "idempotency-key": `key-${++keys}`, ...headers },
            });
        const get = async (url: string) => {
            const res = await app.inject({ method: "GET", url });
            assert.strictEqual(res.statusCode, 200, `${url}: ${res.body}`);
            return res.json();
        };
        const ask = (overrides: Record<string, unknown> = {}) => ({
            team: "ml-research",
            pool: "h100",
            gpus: 2,
            hours: 10,
            priorityClass: "training",
            requester: "ada@example.com",
            purpose: "fine-tune",
            ...overrides,
        });
        const pushSpend = async (
            team: string,
            amountUsd: number,
            occurredAt = NOW,
            extra: Record<string, unknown> = {},
        ) => {
            const res = await post("/v1/usage", {
                records: [{ team, category: "gpu", amountUsd, occurredAt, ...extra }],
            });
            assert.strictEqual(res.statusCode, 201, res.body);
        };
        const team = async (name: string) =>
            ((await get("/v1/teams")) as Array<{ name: string }>).find((t) => t.name === name) as Record<string, any>;
        const counts = async () => {
            const { rows } = await db.query<{ requests: number; keys: number; usage: number }>(
                "SELECT (SELECT count(*) FROM gpu_requests) AS requests, (SELECT count(*) FROM idempotency_keys) AS keys, (SELECT count(*) FROM usage) AS usage",
            );
            return rows[0];
        };

        describe("approvals", () => {
            it("approves a request within budget, priced from the catalog, and reserves it", async () => {
                const res = await post("/v1/gpu-requests", ask());
                assert.strictEqual(res.statusCode, 201, res.body);
                const body = res.json();
                // 2 H100s × 10 h × $6.88; reservation lasts 10 h + the 2 h grace.
                assert.deepStrictEqual(
                    { ...body, id: undefined },
                    {
                        id: undefined,
                        status: "approved",
                        estimatedCostUsd: 137.6,
                        remainingUsd: 119862.4,
                        expiresAt: "2026-11-21T00:00:00.000Z",
                        overBudget: false,
                        reason: "within budget",
                    },
                );
                const t = await team("ml-research");
                assert.strictEqual(t.reservedUsd, 137.6);
                assert.strictEqual(t.remainingUsd, 119862.4);
            });

            it("prices a MIG slice and a time-sliced share as their fraction of a GPU", async () => {
                const mig = await post(
                    "/v1/gpu-requests",
                    ask({
                        team: "inference",
                        pool: "a100-mig",
                        gpuResource: "nvidia.com/mig-3g.40gb",
                        gpus: 1,
                        hours: 7,
                    }),
                );
                assert.strictEqual(mig.statusCode, 201, mig.body);
                assert.strictEqual(mig.json().estimatedCostUsd, 10.29, "3/7 × $3.43088125 × 7 h = $10.2926");
                const shared = await post(
                    "/v1/gpu-requests",
                    ask({ team: "applied-ml", pool: "a100-shared", gpus: 3, hours: 10 }),
                );
                assert.strictEqual(shared.json().estimatedCostUsd, 27.45, "3 × ($2.74470525 / 3) × 10 h = $27.447");
            });

            it("rejects a request the budget cannot cover, counting spend and live reservations, and records the decision", async () => {
                await pushSpend("applied-ml", 26000);
                // 8 H100s × 240 h × $6.88 = $13,209.60 reserved, all of it in November (it ends on the 30th at noon):
                // $40,000 − $26,000 − $13,209.60 = $790.40 left, less than 8 × 15 h × $6.88 = $825.60.
                assert.strictEqual(
                    (await post("/v1/gpu-requests", ask({ team: "applied-ml", gpus: 8, hours: 240 }))).statusCode,
                    201,
                );
                time.advanceHours(0.1);
                const res = await post("/v1/gpu-requests", ask({ team: "applied-ml", gpus: 8, hours: 15 }));
                assert.strictEqual(res.statusCode, 409, res.body);
                const body = res.json();
                assert.deepStrictEqual(
                    {
                        status: body.status,
                        estimatedCostUsd: body.estimatedCostUsd,
                        remainingUsd: body.remainingUsd,
                        reason: body.reason,
                        message: body.message,
                    },
                    {
                        status: "rejected",
                        estimatedCostUsd: 825.6,
                        remainingUsd: 790.4,
                        // $825.60 is less than the $40,000 budget: it would fit in an empty month.
                        reason: "over-budget",
                        message:
                            "over budget: $825.6 asked, $790.4 of $40000 left after $26000 spent and $13209.6 reserved this month",
                    },
                );
                const decisions = await get("/v1/gpu-requests?team=applied-ml");
                assert.deepStrictEqual(
                    decisions.map((d: any) => [d.status, d.requester, d.claimedRequester, d.purpose, d.reservation]),
                    [
                        // The admin's credential made both; the body's requester is kept as a claim beside it.
                        ["rejected", "admin", "ada@example.com", "fine-tune", null],
                        ["approved", "admin", "ada@example.com", "fine-tune", "active"],
                    ],
                );
            });

            it("frees the budget when a reservation is released, and releasing again changes nothing", async () => {
                // $40,000 − $25,000 spent − 8 × 240 h × $6.88 ($13,209.60, all in November) = $1,790.40 left: 8 × 40 h ($2,201.60) does not fit.
                await pushSpend("applied-ml", 25000);
                const big = (await post("/v1/gpu-requests", ask({ team: "applied-ml", gpus: 8, hours: 240 }))).json();
                assert.strictEqual(
                    (await post("/v1/gpu-requests", ask({ team: "applied-ml", gpus: 8, hours: 40 }))).statusCode,
                    409,
                );
                const released = await post(`/v1/gpu-requests/${big.id}/release`, undefined);
                assert.strictEqual(released.statusCode, 200, released.body);
                assert.strictEqual(released.json().reservation, "released");
                assert.strictEqual(
                    (await post(`/v1/gpu-requests/${big.id}/release`, undefined)).json().reservation,
                    "released",
                );
                assert.strictEqual(
                    (await post("/v1/gpu-requests", ask({ team: "applied-ml", gpus: 8, hours: 40 }))).statusCode,
                    201,
                );
                assert.strictEqual((await team("applied-ml")).reservedUsd, 2201.6, "8 × 40 h × $6.88");
            });

            it("lets a reservation lapse after its hours plus the grace period", async () => {
                await post("/v1/gpu-requests", ask({ hours: 10 }));
                time.advanceHours(11.9);
                assert.strictEqual((await team("ml-research")).reservedUsd, 137.6);
                time.advanceHours(0.2);
                assert.strictEqual((await team("ml-research")).reservedUsd, 0);
                assert.strictEqual((await get("/v1/gpu-requests"))[0].reservation, "expired");
            });

            it("counts a reservation as lapsed at the very instant it expires, not a moment later", async () => {
                // 10 h asked + 2 h grace (tracker-config's default reservationGraceHours): it expires at exactly 12 h;
                // a reservation is live while expires_at > now (migration 3), so at 12 h it holds nothing.
                await post("/v1/gpu-requests", ask({ hours: 10 }));
                time.advanceHours(12);
                assert.strictEqual((await team("ml-research")).reservedUsd, 0);
                assert.strictEqual((await get("/v1/gpu-requests"))[0].reservation, "expired");
            });

            it("replaces a reservation that names its workload by that workload's observed GPU spend", async () => {
                const workload = { namespace: "ml-research", kind: "Job", name: "llama-ft" };
                const approved = (await post("/v1/gpu-requests", ask({ workload }))).json();
                // OpenCost reports controller kinds in lower case; the match ignores case.
                await pushSpend("ml-research", 100, NOW, {
                    workload: { namespace: "ml-research", kind: "job", name: "llama-ft" },
                });
                let t = await team("ml-research");
                assert.deepStrictEqual(
                    [t.monthToDateUsd, t.reservedUsd],
                    [100, 37.6],
                    "$137.60 estimate − $100 observed",
                );
                // A push is the day's total for its key: $150 replaces the $100.
                await pushSpend("ml-research", 150, NOW, { workload });
                t = await team("ml-research");
                assert.deepStrictEqual([t.monthToDateUsd, t.reservedUsd], [150, 0]);
                const [request] = await get("/v1/gpu-requests");
                assert.deepStrictEqual(
                    [request.id, request.reservation, request.consumedUsd, request.workload],
                    [approved.id, "replaced-by-spend", 137.6, workload],
                );
            });

            it("approves a critical class past the budget, flagged, and alerts once", async () => {
                await pushSpend("inference", 79990);
                const res = await post(
                    "/v1/gpu-requests",
                    ask({ team: "inference", priorityClass: "production-inference", gpus: 1, hours: 10 }),
                );
                assert.strictEqual(res.statusCode, 201, res.body);
                const body = res.json();
                assert.deepStrictEqual(
                    [body.overBudget, body.remainingUsd, body.reason],
                    [true, -58.8, "approved past the budget: production-inference is a critical class; $58.8 over"],
                );
                const alerts = await get("/v1/alerts?team=inference");
                const critical = alerts.filter((a: any) => a.kind === "critical-over-budget");
                assert.strictEqual(critical.length, 1);
                assert.strictEqual(
                    critical[0].message,
                    "inference: admin was approved 1 × nvidia.com/gpu on h100 for 10 h ($68.8) past the budget as production-inference; $58.8 over",
                );
                await new Promise((resolve) => setTimeout(resolve, 50)); // delivery runs after the answer
                assert.ok(
                    notifier.sent.includes(`critical-over-budget: ${critical[0].message}`),
                    notifier.sent.join("\n"),
                );
            });

            it("leaves nothing half-written when an approval fails midway", async () => {
                await pushSpend("inference", 79990);
                const before = await counts();
                // The critical approval's last step stores an alert: without the table, the transaction fails after the reservation's insert.
                await db.query("ALTER TABLE alerts RENAME TO alerts_unavailable");
                try {
                    const res = await post(
                        "/v1/gpu-requests",
                        ask({ team: "inference", priorityClass: "production-inference", gpus: 1, hours: 10 }),
                    );
                    assert.deepStrictEqual(
                        [res.statusCode, res.json().message],
                        [500, "the request failed; see the service's log"],
                    );
                } finally {
                    await db.query("ALTER TABLE alerts_unavailable RENAME TO alerts");
                }
                assert.deepStrictEqual(await counts(), before, "no request, no idempotency key");
            });

            it("answers a repeated Idempotency-Key with the first answer and writes nothing more", async () => {
                const headers = { "idempotency-key": "backstage-run-42" };
                const first = await post("/v1/gpu-requests", ask(), headers);
                const again = await post("/v1/gpu-requests", ask(), headers);
                assert.strictEqual(again.statusCode, 201);
                assert.deepStrictEqual(again.json(), first.json());
                assert.strictEqual((await counts()).requests, 1);
                const other = await post("/v1/gpu-requests", ask({ gpus: 3 }), headers);
                assert.strictEqual(other.statusCode, 400);
                assert.strictEqual(
                    other.json().message,
                    "Idempotency-Key: was already used for a different request; send a new key with a new request",
                );
            });

            it("repeats a rejection for a repeated key even after the budget has room", async () => {
                await pushSpend("applied-ml", 40000);
                const headers = { "idempotency-key": "retry-me" };
                assert.strictEqual(
                    (await post("/v1/gpu-requests", ask({ team: "applied-ml" }), headers)).statusCode,
                    409,
                );
                await db.query("UPDATE teams SET monthly_budget_usd = 90000 WHERE name = 'applied-ml'");
                assert.strictEqual(
                    (await post("/v1/gpu-requests", ask({ team: "applied-ml" }), headers)).statusCode,
                    409,
                );
            });
        });

        describe("bad input", () => {
            const cases: Array<[string, () => Promise<LightMyRequestResponse>, string]> = [
                [
                    "malformed JSON",
                    () =>
                        app.inject({
                            method: "POST",
                            url: "/v1/gpu-requests",
                            payload: '{"team": ',
                            headers: { ...AUTH, "idempotency-key": "k1", "content-type": "application/json" },
                        }),
                    "body: is not valid JSON",
                ],
                [
                    "an unknown team",
                    () => post("/v1/gpu-requests", ask({ team: "marketing" })),
                    "team: must be one of ml-research, inference, applied-ml",
                ],
                [
                    "an unknown pool",
                    () => post("/v1/gpu-requests", ask({ pool: "tpu" })),
                    "pool: must be one of a100-shared, a100-mig, h100",
                ],
                ["zero GPUs", () => post("/v1/gpu-requests", ask({ gpus: 0 })), "gpus: must be >= 1"],
                ["negative GPUs", () => post("/v1/gpu-requests", ask({ gpus: -2 })), "gpus: must be >= 1"],
                ["fractional GPUs", () => post("/v1/gpu-requests", ask({ gpus: 1.5 })), "gpus: must be integer"],
                ["an absurd GPU count", () => post("/v1/gpu-requests", ask({ gpus: 100000 })), "gpus: must be <= 4096"],
                [
                    "more GPUs than the pool holds",
                    () => post("/v1/gpu-requests", ask({ gpus: 33 })),
                    "gpus: is 33, more than pool h100 holds at its largest (32 nvidia.com/gpu)",
                ],
                ["zero hours", () => post("/v1/gpu-requests", ask({ hours: 0 })), "hours: must be >= 0.01"],
                ["absurd hours", () => post("/v1/gpu-requests", ask({ hours: 10000 })), "hours: must be <= 744"],
                [
                    "an unknown priority class",
                    () => post("/v1/gpu-requests", ask({ priorityClass: "urgent" })),
                    "priorityClass: must be one of production-inference, critical-agents, training, research, development",
                ],
                [
                    "no requester",
                    () => post("/v1/gpu-requests", { ...ask(), requester: undefined }),
                    "requester: is required",
                ],
                [
                    "an unknown field",
                    () => post("/v1/gpu-requests", ask({ colour: "blue" })),
                    "colour: is not a known field",
                ],
                [
                    "a MIG pool without gpuResource",
                    () => post("/v1/gpu-requests", ask({ pool: "a100-mig" })),
                    "gpuResource: is required for pool a100-mig, which offers nvidia.com/mig-3g.40gb, nvidia.com/mig-2g.20gb, nvidia.com/mig-1g.10gb",
                ],
                [
                    "a workload without a name",
                    () => post("/v1/gpu-requests", ask({ workload: { namespace: "ml-research", kind: "Job" } })),
                    "workload.name: is required",
                ],
                [
                    "no Idempotency-Key",
                    () => app.inject({ method: "POST", url: "/v1/gpu-requests", payload: ask(), headers: AUTH }),
                    "Idempotency-Key: is required",
                ],
                [
                    "an oversized body",
                    () => post("/v1/gpu-requests", ask({ purpose: "x".repeat(20000) })),
                    "body: is larger than this route's limit of 16384 bytes",
                ],
                [
                    "a usage record of an unknown team",
                    () =>
                        post("/v1/usage", {
                            records: [
                                { team: "ml-research", category: "ai-api", amountUsd: 1, occurredAt: NOW },
                                { team: "x", category: "ai-api", amountUsd: 1, occurredAt: NOW },
                            ],
                        }),
                    "records[1].team: must be one of ml-research, inference, applied-ml",
                ],
                [
                    "a usage record from the future",
                    () =>
                        post("/v1/usage", {
                            records: [
                                {
                                    team: "ml-research",
                                    category: "ai-api",
                                    amountUsd: 1,
                                    occurredAt: "2026-11-22T00:00:00Z",
                                },
                            ],
                        }),
                    "records[0].occurredAt: 2026-11-22T00:00:00Z is in the future",
                ],
                [
                    "a negative usage amount",
                    () =>
                        post("/v1/usage", {
                            records: [{ team: "ml-research", category: "ai-api", amountUsd: -1, occurredAt: NOW }],
                        }),
                    "records[0].amountUsd: must be >= 0",
                ],
                [
                    "an empty usage batch",
                    () => post("/v1/usage", { records: [] }),
                    "records: must NOT have fewer than 1 items",
                ],
            ];
            for (const [what, send, message] of cases) {
                it(`answers 400 naming the field for ${what}, and writes nothing`, async () => {
                    const before = await counts();
                    const res = await send();
                    assert.strictEqual(res.statusCode, 400, res.body);
                    assert.strictEqual(res.json().message, message);
                    assert.deepStrictEqual(await counts(), before);
                });
            }

            it("answers an unknown route and a form-encoded body in the API's error shape", async () => {
                const route = await app.inject({ method: "GET", url: "/v1/budgets?team=x" });
                assert.deepStrictEqual(
                    [route.statusCode, route.json()],
                    [404, { error: "Not Found", message: "no route GET /v1/budgets; see /openapi.json" }],
                );
                const text = await app.inject({
                    method: "POST",
                    url: "/v1/gpu-requests",
                    payload: "team=ml-research",
                    headers: {
                        ...AUTH,
                        "idempotency-key": "k-form",
                        "content-type": "application/x-www-form-urlencoded",
                    },
                });
                assert.deepStrictEqual(
                    [text.statusCode, text.json()],
                    [
                        415,
                        {
                            error: "Unsupported Media Type",
                            message: "Content-Type: send application/json",
                            field: "Content-Type",
                        },
                    ],
                );
            });

            it("answers 404 for an unknown team's spend and a request that does not exist", async () => {
                const spend = await app.inject({ method: "GET", url: "/v1/teams/marketing/spend" });
                assert.deepStrictEqual(
                    [spend.statusCode, spend.json().message],
                    [404, 'no team "marketing"; known: ml-research, inference, applied-ml'],
                );
                const release = await post("/v1/gpu-requests/6f1c1f0e-2b8e-4c7a-9d55-0a4f6f3a2b10/release", undefined);
                assert.deepStrictEqual(
                    [release.statusCode, release.json().message],
                    [404, "no GPU request 6f1c1f0e-2b8e-4c7a-9d55-0a4f6f3a2b10"],
                );
                assert.strictEqual((await counts()).keys, 0, "the failed release left no idempotency key");
            });

            it("refuses a range that runs backwards", async () => {
                const res = await app.inject({
                    method: "GET",
                    url: "/v1/teams/inference/spend?from=2026-11-10&to=2026-11-01",
                });
                assert.deepStrictEqual(
                    [res.statusCode, res.json().message],
                    [400, "from: 2026-11-10 is after to 2026-11-01"],
                );
            });
        });

        describe("writes need the bearer token", () => {
            it("answers 401 without a token or with a wrong one, writes nothing, and never logs the token", async () => {
                const lines: string[] = [];
                const logged = await testApp(db, {
                    now: time.now,
                    logger: {
                        level: "trace",
                        stream: new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) }),
                    },
                });
                try {
                    for (const authorization of [undefined, "Bearer wrong-token-wrong-token", `Basic ${TOKEN}`]) {
                        const res = await logged.inject({
                            method: "POST",
                            url: "/v1/gpu-requests",
                            payload: ask(),
                            headers: { "idempotency-key": "k", ...(authorization ? { authorization } : {}) },
                        });
                        assert.strictEqual(res.statusCode, 401);
                        assert.strictEqual(
                            res.json().message,
                            "Authorization: a valid bearer token is required for writes",
                        );
                        assert.strictEqual(res.headers["www-authenticate"], 'Bearer realm="cost-tracker"');
                    }
                    assert.strictEqual((await counts()).requests, 0);
                    const ok = await logged.inject({
                        method: "POST",
                        url: "/v1/gpu-requests",
                        payload: ask(),
                        headers: { ...AUTH, "idempotency-key": "k" },
                    });
                    assert.strictEqual(ok.statusCode, 201);
                    const log = lines.join("");
                    assert.ok(log.includes("write refused: missing or wrong bearer token"), "refusals are logged");
                    assert.ok(!log.includes(TOKEN) && !log.includes("wrong-token-wrong-token"), "no token in the log");
                } finally {
                    await logged.close();
                }
            });
        });

        describe("spend", () => {
            it("takes pushed usage once per key and shows it by day and category", async () => {
                const batch = {
                    records: [
                        {
                            team: "inference",
                            category: "ai-api",
                            amountUsd: 120.5,
                            occurredAt: "2026-11-19T08:00:00Z",
                            description: "openai gpt-4.1",
                        },
                        {
                            team: "inference",
                            category: "ai-api",
                            amountUsd: 30.25,
                            occurredAt: "2026-11-19T23:59:59Z",
                            workload: { namespace: "inference", kind: "Deployment", name: "rag-gateway" },
                        },
                        {
                            team: "inference",
                            category: "gpu",
                            amountUsd: 400,
                            gpuHours: 58.14,
                            pool: "h100",
                            occurredAt: "2026-11-20T01:00:00Z",
                        },
                    ],
                };
                const headers = { "idempotency-key": "gateway-batch-7" };
                const first = await post("/v1/usage", batch, headers);
                assert.deepStrictEqual(
                    [first.statusCode, first.json()],
                    [201, { accepted: 3, days: ["2026-11-19", "2026-11-20"] }],
                );
                assert.deepStrictEqual((await post("/v1/usage", batch, headers)).json(), first.json());
                const spend = await get("/v1/teams/inference/spend?from=2026-11-18&to=2026-11-20");
                assert.deepStrictEqual(
                    spend.days.map((d: any) => [d.day, d.totalUsd, d.byCategory["ai-api"], d.byCategory.gpu]),
                    [
                        ["2026-11-18", 0, 0, 0],
                        ["2026-11-19", 150.75, 150.75, 0],
                        ["2026-11-20", 400, 0, 400],
                    ],
                );
                assert.deepStrictEqual(
                    [spend.totalUsd, spend.gpuHoursByPool],
                    [
                        550.75,
                        [
                            {
                                pool: "h100",
                                gpuHours: 58.14,
                                gpuUsd: 400,
                                idleGpuHours: 0,
                                idleUsd: 0,
                                resources: [
                                    {
                                        gpuResource: "nvidia.com/gpu",
                                        resourceHours: 58.14,
                                        gpuHours: 58.14,
                                        gpuUsd: 400,
                                    },
                                ],
                            },
                        ],
                    ],
                );
                const t = await team("inference");
                assert.deepStrictEqual(
                    [t.monthToDateUsd, t.byCategory["ai-api"], t.byCategory.gpu],
                    [550.75, 150.75, 400],
                );
            });

            it("forecasts from the last 14 complete days' spend, leaving out today's", async () => {
                // $700 on each of 6–19 Nov and $5,000 so far today (the 20th, not a complete day): run rate $700/day;
                // through the 19th $9,800, plus 11 days left (20–30) × $700 = $17,500; every day alike, so no spread.
                const records = Array.from({ length: 15 }, (_, i) => ({
                    team: "applied-ml",
                    category: "gpu",
                    amountUsd: i === 14 ? 5000 : 700,
                    occurredAt: `2026-11-${String(6 + i).padStart(2, "0")}T10:00:00Z`,
                }));
                assert.strictEqual((await post("/v1/usage", { records })).statusCode, 201);
                const t = await team("applied-ml");
                assert.deepStrictEqual(
                    [t.monthToDateUsd, t.forecastUsd, t.forecast.lowUsd, t.forecast.highUsd, t.forecast.asOfDay],
                    [14800, 17500, 17500, 17500, "2026-11-19"],
                );
            });

            it("alerts at 50 and 80 % of budget and on a forecast past it, once each per month", async () => {
                // $4,000 on each of 13–19 Nov: $28,000 spent (50 %), and 7 complete days of history, all alike:
                // forecast $28,000 + 11 days left × $4,000 = $72,000, past the $40,000 budget.
                const week = [13, 14, 15, 16, 17, 18, 19].map((d) => ({
                    team: "applied-ml",
                    category: "gpu",
                    amountUsd: 4000,
                    occurredAt: `2026-11-${d}T10:00:00Z`,
                }));
                assert.strictEqual((await post("/v1/usage", { records: week })).statusCode, 201);
                // A push is the day's total so far: $4,000, then $4,100 for the 20th ($32,100: 80 %, once; not 3× the median day).
                await pushSpend("applied-ml", 4000, "2026-11-20T10:00:00Z");
                await pushSpend("applied-ml", 4100, "2026-11-20T11:00:00Z");
                await new Promise((resolve) => setTimeout(resolve, 50)); // delivery runs after the answer
                const alerts = (await get("/v1/alerts?team=applied-ml")) as Array<{ kind: string; message: string }>;
                const messages = alerts.map((a) => a.message).sort();
                assert.deepStrictEqual(messages, [
                    "applied-ml has spent $28000 of its $40000 budget for 2026-11: 50 % reached",
                    "applied-ml has spent $32000 of its $40000 budget for 2026-11: 80 % reached",
                    "applied-ml is forecast to spend $72000 in 2026-11 (90 % range $72000–$72000), over its $40000 budget",
                ]);
                assert.strictEqual(notifier.sent.length, 3);
            });

            it("reports GPU hours by pool over all teams with the pools' catalog prices", async () => {
                await pushSpend("inference", 68.8, NOW, { pool: "h100", gpuHours: 10 });
                await pushSpend("ml-research", 34.4, NOW, { pool: "h100", gpuHours: 5 });
                await pushSpend("applied-ml", 12, NOW);
                const pools = await get("/v1/pools");
                const h100 = { gpuResource: "nvidia.com/gpu", resourceHours: 15, gpuHours: 15, gpuUsd: 103.2 };
                assert.deepStrictEqual(pools.gpuHoursByPool, [
                    { pool: "h100", gpuHours: 15, gpuUsd: 103.2, idleGpuHours: 0, idleUsd: 0, resources: [h100] },
                    { pool: "unattributed", gpuHours: 0, gpuUsd: 12, idleGpuHours: 0, idleUsd: 0, resources: [] },
                ]);
                const h100Pool = pools.pools.find((p: any) => p.name === "h100");
                assert.deepStrictEqual(h100Pool.resources, [
                    { gpuResource: "nvidia.com/gpu", fractionOfGpu: 1, usdPerUnitHour: 6.88, maxUnits: 32 },
                ]);
                // The config's default: production-inference, when the stack has it (catalog/contracts/tracker-config.ts).
                assert.deepStrictEqual(pools.criticalPriorityClasses, ["production-inference"]);
                // Who passes the budget with them, by default the platform team and the gate only (tracker-config.ts).
                assert.deepStrictEqual(pools.criticalApprovers, ["admin", "platform"]);
            });
        });

        describe("operations", () => {
            it("serves health, readiness, metrics and an OpenAPI document generated from the routes", async () => {
                assert.deepStrictEqual(await get("/healthz"), { status: "ok" });
                assert.deepStrictEqual(await get("/readyz"), { status: "ready" });
                await post("/v1/gpu-requests", ask());
                await pushSpend("ml-research", 250);
                const metrics = (await app.inject({ method: "GET", url: "/metrics" })).body;
                assert.match(metrics, /cost_tracker_team_month_to_date_usd\{team="ml-research"\} 250\n/);
                assert.match(
                    metrics,
                    /cost_tracker_gpu_request_decisions_total\{outcome="approved",team="ml-research"\} 1\n/,
                );
                assert.match(
                    metrics,
                    /cost_tracker_http_request_duration_seconds_count\{method="POST",route="\/v1\/gpu-requests",status_code="201"\} 1\n/,
                );
                const doc = await get("/openapi.json");
                assert.strictEqual(doc.openapi, "3.0.3");
                assert.deepStrictEqual(Object.keys(doc.paths).sort(), [
                    "/v1/alerts",
                    "/v1/audit",
                    "/v1/events",
                    "/v1/gpu-requests",
                    "/v1/gpu-requests/{id}/release",
                    "/v1/pools",
                    "/v1/reports/history",
                    "/v1/reports/monthly",
                    "/v1/reports/monthly.csv",
                    "/v1/teams",
                    "/v1/teams/{team}/spend",
                    "/v1/usage",
                    "/v1/workloads/release",
                ]);
                const create = doc.paths["/v1/gpu-requests"].post;
                assert.deepStrictEqual(create.security, [{ bearer: [] }]);
                assert.deepStrictEqual(create.requestBody.content["application/json"].schema.properties.team.enum, [
                    "ml-research",
                    "inference",
                    "applied-ml",
                ]);
                assert.deepStrictEqual(Object.keys(create.responses).sort(), [
                    "200",
                    "201",
                    "400",
                    "401",
                    "403",
                    "409",
                    "503",
                ]);
                assert.ok(
                    create.parameters.some((p: any) => p.in === "header" && p.name === "idempotency-key" && p.required),
                );
            });
        });
    });
}
