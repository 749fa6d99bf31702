/**
 * POST /v1/alerts: the budget gate records an overrun as an alert, stored beside the tracker's own
 * (GET /v1/alerts) and sent to the notifiers once; only the platform's credential and the admin
 * may; bad input is a 400 naming the field, with nothing written.
 */
import * as assert from "assert";
import type { FastifyInstance } from "fastify";
import type { Database } from "../src/db/database";
import { TOKEN, clock, recordingNotifier, resetDatabase, testApp, testConfig, testDatabase } from "./helpers";

const PLATFORM = "platform-token-0123456789abcdef";
const ML_RESEARCH = "team-ml-research-0123456789abcdef";
const PORTAL = "portal-token-0123456789abcdef";

/** ml-research (budget $120,000 in testConfig) over by $1,300: $118,000 spent, $3,300 reserved; two workloads stopped. */
const OVERRUN = {
    team: "ml-research",
    kind: "budget-overrun",
    action: "suspended",
    spentUsd: 118_000,
    reservedUsd: 3300,
    stopped: [
        { namespace: "ml-research", kind: "Workload", name: "job-sweep-0b8e0" },
        { namespace: "ml-research", kind: "Workload", name: "job-train-0b8e1" },
    ],
};

describe("cost tracker: overrun alerts from the budget gate (POST /v1/alerts)", () => {
    let db: Database;
    let app: FastifyInstance;
    const notifier = recordingNotifier();
    const time = clock("2026-03-10T12:00:00Z");

    before(async () => {
        db = await testDatabase();
    });
    beforeEach(async () => {
        await resetDatabase(db, testConfig());
        notifier.sent.length = 0;
        app = await testApp(db, {
            now: time.now,
            notifiers: [notifier],
            credentials: [
                { kind: "platform", tokens: [PLATFORM] },
                { kind: "team", team: "ml-research", tokens: [ML_RESEARCH] },
                { kind: "portal", tokens: [PORTAL] },
            ],
        });
    });
    afterEach(() => app.close());

    const raise = (body: unknown, key: string, token = PLATFORM, extra: Record<string, string> = {}) =>
        app.inject({
            method: "POST",
            url: "/v1/alerts",
            headers: { authorization: `Bearer ${token}`, "idempotency-key": key, ...extra },
            payload: body as Record<string, unknown>,
        });
    const alerts = async () =>
        (await app.inject({ method: "GET", url: "/v1/alerts?team=ml-research" })).json<
            { id: number; kind: string; message: string }[]
        >();
    const stored = async () =>
        (
            await db.query<{ n: number }>(
                "SELECT (SELECT count(*) FROM alerts) + (SELECT count(*) FROM idempotency_keys) AS n",
            )
        ).rows[0].n;

    it("stores the overrun as an alert worded from the tracker's own budget, lists it with the others and delivers it once", async () => {
        const res = await raise(OVERRUN, "gate-overrun-1");
        assert.strictEqual(res.statusCode, 201, res.body);
        const alert = res.json<{ id: number; team: string; kind: string; message: string }>();
        // $118,000 + $3,300 = $121,300 against the $120,000 budget.
        const message =
            "ml-research is over its $120000.00 budget for 2026-03: $118000.00 spent and $3300.00 reserved ($121300.00). " +
            "The budget gate stopped 2 workloads, lowest priority first: ml-research/job-sweep-0b8e0 (Workload), ml-research/job-train-0b8e1 (Workload).";
        assert.deepStrictEqual([alert.team, alert.kind, alert.message], ["ml-research", "budget-overrun", message]);
        assert.deepStrictEqual(
            (await alerts()).map((a) => [a.id, a.kind]),
            [[alert.id, "budget-overrun"]],
        );
        await new Promise((resolve) => setImmediate(resolve));
        assert.deepStrictEqual(notifier.sent, [`budget-overrun: ${message}`]);
    });

    it("the same key replays its answer; the same overrun under a new key answers the stored alert (200) and notifies no one again", async () => {
        const first = (await raise(OVERRUN, "gate-overrun-1")).json<{ id: number }>();
        const replay = await raise(OVERRUN, "gate-overrun-1");
        assert.deepStrictEqual([replay.statusCode, replay.json<{ id: number }>().id], [201, first.id]);
        // The next breaker pass sees more spend but stops the same workloads: the overrun is already alerted.
        const again = await raise({ ...OVERRUN, spentUsd: 118_500 }, "gate-overrun-2");
        assert.deepStrictEqual([again.statusCode, again.json<{ id: number }>().id], [200, first.id]);
        // A pass that stops another workload is news: a new alert.
        const more = await raise(
            { ...OVERRUN, stopped: [{ namespace: "ml-research", kind: "Workload", name: "job-eval-0b8e2" }] },
            "gate-overrun-3",
        );
        assert.strictEqual(more.statusCode, 201, more.body);
        assert.strictEqual((await alerts()).length, 2);
        await new Promise((resolve) => setImmediate(resolve));
        assert.strictEqual(notifier.sent.length, 2);
    });

    it("queue mode: one alert saying new workloads wait, running ones continue", async () => {
        const res = await raise({ ...OVERRUN, action: "queued", stopped: [] }, "gate-queue-1");
        assert.strictEqual(res.statusCode, 201, res.body);
        assert.match(
            res.json<{ message: string }>().message,
            /\(\$121300\.00\)\. The budget gate admits none of its new GPU workloads until money frees up; running workloads continue/,
        );
    });

    it("the admin may raise it too; a team's credential and the portal's are refused with a 403 before the body is read", async () => {
        assert.strictEqual((await raise(OVERRUN, "admin-1", TOKEN)).statusCode, 201);
        const portalUser = { "x-acting-user": "user:default/ada", "x-acting-user-teams": "ml-research" };
        for (const [token, extra] of [
            [ML_RESEARCH, {}],
            [PORTAL, portalUser],
        ] as const) {
            const res = await raise(OVERRUN, `refused-${token}`, token, extra);
            assert.strictEqual(res.statusCode, 403, res.body);
            assert.match(res.json<{ message: string }>().message, /admin|platform/);
        }
        assert.strictEqual((await alerts()).length, 1);
    });

    const BAD: [string, unknown, string][] = [
        ["an unknown team", { ...OVERRUN, team: "finance" }, "team"],
        ["a kind callers may not raise", { ...OVERRUN, kind: "critical-over-budget" }, "kind"],
        ["an unknown action", { ...OVERRUN, action: "deleted" }, "action"],
        ["a figure sent as a string", { ...OVERRUN, spentUsd: "118000" }, "spentUsd"],
        ["a negative figure", { ...OVERRUN, reservedUsd: -1 }, "reservedUsd"],
        ["fractions of a cent", { ...OVERRUN, reservedUsd: 3300.001 }, "reservedUsd"],
        ["a figure past the column", { ...OVERRUN, spentUsd: 1e11 }, "spentUsd"],
        ["nothing spent or reserved", { ...OVERRUN, spentUsd: 0, reservedUsd: 0 }, "spentUsd"],
        ["a free-text message", { ...OVERRUN, message: "ignore the budget" }, "message"],
        ["a missing list of stopped workloads", { ...OVERRUN, stopped: undefined }, "stopped"],
        [
            "a stopped workload in another team's namespace",
            { ...OVERRUN, stopped: [{ namespace: "inference", kind: "Workload", name: "job-x-1" }] },
            "stopped[0].namespace",
        ],
        [
            "a stopped workload whose name is no Kubernetes name",
            { ...OVERRUN, stopped: [{ namespace: "ml-research", kind: "Workload", name: "Job\u0000X" }] },
            "stopped[0].name",
        ],
        ["stopped workloads in queue mode", { ...OVERRUN, action: "queued" }, "stopped"],
    ];
    for (const [label, body, field] of BAD) {
        it(`400 naming ${field} for ${label}, nothing written`, async () => {
            const before = await stored();
            const res = await raise(body, `bad-${field}`);
            assert.strictEqual(res.statusCode, 400, res.body);
            assert.strictEqual(res.json<{ field: string }>().field, field, res.body);
            assert.strictEqual(await stored(), before);
        });
    }

    it("400 naming Idempotency-Key when it is missing, or reused for a different overrun", async () => {
        const missing = await app.inject({
            method: "POST",
            url: "/v1/alerts",
            headers: { authorization: `Bearer ${PLATFORM}` },
            payload: OVERRUN,
        });
        assert.deepStrictEqual([missing.statusCode, missing.json<{ field: string }>().field], [400, "Idempotency-Key"]);
        await raise(OVERRUN, "gate-overrun-1");
        const reused = await raise({ ...OVERRUN, reservedUsd: 4000 }, "gate-overrun-1");
        assert.deepStrictEqual([reused.statusCode, reused.json<{ field: string }>().field], [400, "Idempotency-Key"]);
    });
});
