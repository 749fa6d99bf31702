/**
 * No caller acts as another: each credential's kind and team decide what it may write, the
 * recorded requester is the identity the credential proves, a team cannot make its own job
 * critical, keys are the caller's own, rotation keeps two tokens valid, and every write is in
 * the audit log. Expected figures: the test config's prices (h100: p5.48xlarge $55.04/h for 8
 * GPUs = $6.88 per GPU-hour, catalog) and budgets (ml-research $120,000, inference $80,000).
 */
import * as assert from "assert";
import type { FastifyInstance } from "fastify";
import type { Database } from "../src/db/database";
import type { CallerCredential } from "../src/http/callers";
import { readSettings } from "../src/settings";
import { TOKEN, clock, resetDatabase, testApp, testConfig, testDatabase } from "./helpers";
import { routesOf } from "./write-routes.spec";

const PLATFORM = "platform-token-0123456789";
const PORTAL = "portal-token-0123456789ab";
const ML_RESEARCH = "ml-research-token-0123456";
const ML_RESEARCH_OLD = "ml-research-old-token-0123";
const INFERENCE = "inference-token-012345678";

const CREDENTIALS: CallerCredential[] = [
    { kind: "platform", tokens: [PLATFORM] },
    { kind: "portal", tokens: [PORTAL] },
    { kind: "team", team: "ml-research", tokens: [ML_RESEARCH, ML_RESEARCH_OLD] },
    { kind: "team", team: "inference", tokens: [INFERENCE] },
];

const NOW = "2026-11-10T12:00:00Z";
const UID = "0b7f8c52-3f4e-4a51-9f3e-2f1f4f0c9a11";

describe("cost tracker: identity on every write", () => {
    let db: Database;
    let app: FastifyInstance;
    let keys = 0;

    const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
    const asPortal = (user: string, teams: string) => ({
        ...bearer(PORTAL),
        "x-acting-user": user,
        "x-acting-user-teams": teams,
    });
    const post = (url: string, headers: Record<string, string>, payload: object = {}, key = `k-${++keys}`) =>
        app.inject({ method: "POST", url, payload, headers: { ...headers, "idempotency-key": key } });
    const ask = (team: string, overrides: Record<string, unknown> = {}) => ({
        team,
        pool: "h100",
        gpus: 1,
        hours: 10,
        priorityClass: "training",
        requester: "ada@example.com",
        ...overrides,
    });

    before(async () => {
        db = await testDatabase();
    });
    beforeEach(async () => {
        await resetDatabase(db, testConfig());
        app = await testApp(db, { credentials: CREDENTIALS, now: clock(NOW).now });
    });
    afterEach(() => app.close());

    describe("who may ask for GPUs for ml-research", () => {
        const cases: Array<[string, () => Record<string, string>, number, string?]> = [
            ["the admin", () => bearer(TOKEN), 201],
            ["the platform (budget gate)", () => bearer(PLATFORM), 201],
            [
                "the portal for a member of ml-research",
                () => asPortal("user:default/jane", "inference,ml-research"),
                201,
            ],
            ["ml-research's own token", () => bearer(ML_RESEARCH), 201],
            ["ml-research's previous token, during a rotation", () => bearer(ML_RESEARCH_OLD), 201],
            [
                "inference's token",
                () => bearer(INFERENCE),
                403,
                "team: team:inference may not act for ml-research; it may act for inference",
            ],
            [
                "the portal for a user who is only in inference",
                () => asPortal("user:default/eve", "inference"),
                403,
                "team: user:default/eve via portal may not act for ml-research; it may act for inference",
            ],
            [
                "the portal naming teams this service does not know",
                () => asPortal("user:default/eve", "platform-admins"),
                403,
                "team: user:default/eve via portal may not act for ml-research; it may act for no team of this service",
            ],
            [
                "the portal without an acting user",
                () => bearer(PORTAL),
                403,
                "X-Acting-User: the portal's credential acts for a signed-in user; send their entity ref, user:default/<name>",
            ],
        ];
        for (const [who, headers, status, message] of cases) {
            it(`${who}: ${status}`, async () => {
                const res = await post("/v1/gpu-requests", headers(), ask("ml-research"));
                assert.strictEqual(res.statusCode, status, res.body);
                if (message) assert.strictEqual(res.json().message, message);
                const { rows } = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM gpu_requests");
                assert.strictEqual(rows[0].n, status === 201 ? 1 : 0, "a refused request writes nothing");
            });
        }
    });

    it("records the identity the credential proves, and the body's requester only as a claim", async () => {
        const byPortal = await post(
            "/v1/gpu-requests",
            asPortal("user:default/Jane", "ml-research"),
            ask("ml-research"),
        );
        const byTeam = await post(
            "/v1/gpu-requests",
            bearer(INFERENCE),
            ask("inference", { requester: "team:inference" }),
        );
        assert.strictEqual(byPortal.statusCode, 201, byPortal.body);
        assert.strictEqual(byTeam.statusCode, 201, byTeam.body);
        const rows = (await app.inject({ method: "GET", url: "/v1/gpu-requests" })).json<
            Array<Record<string, unknown>>
        >();
        assert.deepStrictEqual(rows.map((r) => [r.team, r.requester, r.claimedRequester]).sort(), [
            ["inference", "team:inference", undefined],
            ["ml-research", "user:default/jane via portal", "ada@example.com"],
        ]);
    });

    it("approves a team's critical-class request past its budget only for the admin and the platform", async () => {
        // 8 GPUs × 300 h × $6.88 = $16,512 on inference's $80,000: spend $70,000 first, leaving $10,000.
        const spend = await post("/v1/usage", bearer(TOKEN), {
            records: [{ team: "inference", category: "gpu", amountUsd: 70000, occurredAt: NOW }],
        });
        assert.strictEqual(spend.statusCode, 201, spend.body);
        const critical = ask("inference", { gpus: 8, hours: 300, priorityClass: "production-inference" });
        const byTeam = await post("/v1/gpu-requests", bearer(INFERENCE), critical);
        assert.strictEqual(byTeam.statusCode, 409, byTeam.body);
        assert.strictEqual(byTeam.json().reason, "over-budget");
        const byPortal = await post("/v1/gpu-requests", asPortal("user:default/jane", "inference"), critical);
        assert.strictEqual(byPortal.statusCode, 409, byPortal.body);
        const byPlatform = await post("/v1/gpu-requests", bearer(PLATFORM), critical);
        assert.strictEqual(byPlatform.statusCode, 201, byPlatform.body);
        assert.strictEqual(byPlatform.json().overBudget, true);
        assert.strictEqual(byPlatform.json().estimatedCostUsd, 16512);
    });

    it("lets a config name who may approve critical classes", async () => {
        await app.close();
        app = await testApp(db, {
            credentials: CREDENTIALS,
            now: clock(NOW).now,
            config: testConfig({ criticalApprovers: ["admin"] }),
        });
        await post("/v1/usage", bearer(TOKEN), {
            records: [{ team: "inference", category: "gpu", amountUsd: 70000, occurredAt: NOW }],
        });
        const critical = ask("inference", { gpus: 8, hours: 300, priorityClass: "production-inference" });
        assert.strictEqual((await post("/v1/gpu-requests", bearer(PLATFORM), critical)).statusCode, 409);
        assert.strictEqual((await post("/v1/gpu-requests", bearer(TOKEN), critical)).statusCode, 201);
        // The portal's cost preview reads who passes the budget from the pools, so it never promises more.
        const pools = (await app.inject({ method: "GET", url: "/v1/pools" })).json();
        assert.deepStrictEqual(pools.criticalApprovers, ["admin"]);
    });

    it("releases a reservation only for a caller of its team", async () => {
        const made = await post("/v1/gpu-requests", bearer(ML_RESEARCH), ask("ml-research"));
        const id = made.json().id as string;
        const url = `/v1/gpu-requests/${id}/release`;
        const byOther = await post(url, bearer(INFERENCE));
        assert.strictEqual(byOther.statusCode, 403, byOther.body);
        assert.strictEqual(
            byOther.json().message,
            "team: team:inference may not act for ml-research; it may act for inference",
        );
        const byOutsider = await post(url, asPortal("user:default/eve", "inference"));
        assert.strictEqual(byOutsider.statusCode, 403, byOutsider.body);
        const state = (await app.inject({ method: "GET", url: "/v1/gpu-requests?team=ml-research" })).json();
        assert.strictEqual(state[0].reservation, "active", "nothing released by the refused calls");
        const byOwner = await post(url, asPortal("user:default/jane", "ml-research"));
        assert.strictEqual(byOwner.statusCode, 200, byOwner.body);
        assert.strictEqual(byOwner.json().reservation, "released");
    });

    it("releases by workload only for the platform and the admin", async () => {
        const made = await post(
            "/v1/gpu-requests",
            bearer(PLATFORM),
            ask("ml-research", { workload: { namespace: "ml-research", kind: "Job", name: "train", uid: UID } }),
        );
        assert.strictEqual(made.statusCode, 201, made.body);
        for (const headers of [bearer(ML_RESEARCH), asPortal("user:default/jane", "ml-research")]) {
            const res = await post("/v1/workloads/release", headers, { uid: UID });
            assert.strictEqual(res.statusCode, 403, res.body);
            assert.match(
                res.json().message,
                /^Authorization: a (team|portal) credential may not call this route; it takes admin, platform credentials$/,
            );
        }
        const res = await post("/v1/workloads/release", bearer(PLATFORM), { uid: UID });
        assert.deepStrictEqual(res.json(), { released: [made.json().id] });
    });

    it("takes a team's usage for its own team only, and none from the portal", async () => {
        const record = (team: string) => ({
            records: [{ team, category: "ai-api", amountUsd: 12.5, occurredAt: NOW }],
        });
        assert.strictEqual((await post("/v1/usage", bearer(ML_RESEARCH), record("ml-research"))).statusCode, 201);
        const mixed = await post("/v1/usage", bearer(ML_RESEARCH), {
            records: [...record("ml-research").records, ...record("inference").records],
        });
        assert.strictEqual(mixed.statusCode, 403, mixed.body);
        assert.match(mixed.json().message, /may not act for inference/);
        const byPortal = await post("/v1/usage", asPortal("user:default/jane", "ml-research"), record("ml-research"));
        assert.strictEqual(byPortal.statusCode, 403, byPortal.body);
        const { rows } = await db.query<{ total: number }>(
            "SELECT coalesce(sum(amount_usd), 0)::float AS total FROM usage",
        );
        assert.strictEqual(rows[0].total, 12.5, "only the first push was written");
    });

    it("keeps each caller's idempotency keys apart: another caller's key is neither replayed nor taken", async () => {
        const first = await post("/v1/gpu-requests", bearer(ML_RESEARCH), ask("ml-research"), "shared-key");
        const other = await post("/v1/gpu-requests", bearer(INFERENCE), ask("inference"), "shared-key");
        assert.strictEqual(first.statusCode, 201, first.body);
        assert.strictEqual(other.statusCode, 201, other.body);
        assert.notStrictEqual(other.json().id, first.json().id);
        const again = await post("/v1/gpu-requests", bearer(ML_RESEARCH), ask("ml-research"), "shared-key");
        assert.strictEqual(again.json().id, first.json().id, "the same caller's retry is replayed");
    });

    it("refuses a token once its rotation is over, and every token of no caller", async () => {
        await app.close();
        const rotated = CREDENTIALS.map((c) => (c.team === "ml-research" ? { ...c, tokens: [ML_RESEARCH] } : c));
        app = await testApp(db, { credentials: rotated, now: clock(NOW).now });
        assert.strictEqual(
            (await post("/v1/gpu-requests", bearer(ML_RESEARCH_OLD), ask("ml-research"))).statusCode,
            401,
        );
        assert.strictEqual((await post("/v1/gpu-requests", bearer(ML_RESEARCH), ask("ml-research"))).statusCode, 201);
    });

    it("records every authenticated write in an append-only audit log the admin reads", async () => {
        const { rows: mark } = await db.query<{ id: string }>("SELECT coalesce(max(id), 0)::text AS id FROM audit_log");
        const made = await post("/v1/gpu-requests", bearer(ML_RESEARCH), ask("ml-research"));
        await post("/v1/gpu-requests", bearer(INFERENCE), ask("ml-research"));
        await post(`/v1/gpu-requests/${made.json().id}/release`, bearer(ML_RESEARCH));
        await post("/v1/gpu-requests", bearer("nobody-0123456789abcdef"), ask("ml-research"));
        const log = await app.inject({ method: "GET", url: "/v1/audit?limit=10", headers: bearer(TOKEN) });
        assert.strictEqual(log.statusCode, 200, log.body);
        const entries = log
            .json<Array<Record<string, unknown>>>()
            .filter((e) => BigInt(e.id as string) > BigInt(mark[0].id));
        assert.deepStrictEqual(
            entries.map((e) => [e.caller, e.action, e.teams, e.statusCode, e.outcome]).reverse(),
            [
                ["team:ml-research", "POST /v1/gpu-requests", ["ml-research"], 201, "approved"],
                [
                    "team:inference",
                    "POST /v1/gpu-requests",
                    ["ml-research"],
                    403,
                    "team: team:inference may not act for ml-research; it may act for inference",
                ],
                ["team:ml-research", "POST /v1/gpu-requests/:id/release", ["ml-research"], 200, "released"],
            ],
            "the unauthenticated call is not an entry",
        );
        assert.strictEqual(entries.at(-1)!.target, made.json().id);
        assert.strictEqual(
            (await app.inject({ method: "GET", url: "/v1/audit", headers: bearer(ML_RESEARCH) })).statusCode,
            403,
        );
        assert.strictEqual((await app.inject({ method: "GET", url: "/v1/audit" })).statusCode, 401);
        await assert.rejects(db.query("UPDATE audit_log SET caller = 'someone'"), /append-only/);
        await assert.rejects(db.query("DELETE FROM audit_log"), /append-only/);
    });

    it("lists the audit log newest first by number, across a digit boundary, and pages back with before", async () => {
        // Twelve refusals from 9 entries up: ids pass from one digit to two (or more), which text order would scramble.
        for (let i = 0; i < 12; i++) await post("/v1/gpu-requests", bearer(INFERENCE), ask("ml-research"));
        const page = (query: string) =>
            app
                .inject({ method: "GET", url: `/v1/audit?${query}`, headers: bearer(TOKEN) })
                .then((r) => r.json<Array<{ id: string }>>().map((e) => BigInt(e.id)));
        const first = await page("limit=5");
        assert.deepStrictEqual(
            first,
            [...first].sort((a, b) => (a > b ? -1 : 1)),
            "newest first",
        );
        const { rows } = await db.query<{ id: string }>("SELECT max(id)::text AS id FROM audit_log");
        assert.strictEqual(first[0], BigInt(rows[0].id), "the newest entry comes first");
        assert.strictEqual(first[0] - first[4], 4n, "consecutive entries");
        const next = await page(`limit=5&before=${first[4]}`);
        assert.strictEqual(next[0], first[4] - 1n);
    });

    it("puts reads behind a credential when the setting asks for it, health and metrics excepted", async () => {
        await app.close();
        app = await testApp(db, { credentials: CREDENTIALS, now: clock(NOW).now, readsNeedCredential: true });
        assert.strictEqual((await app.inject({ method: "GET", url: "/v1/teams" })).statusCode, 401);
        assert.strictEqual(
            (await app.inject({ method: "GET", url: "/v1/teams", headers: bearer(INFERENCE) })).statusCode,
            200,
        );
        assert.strictEqual(
            (await app.inject({ method: "GET", url: "/v1/teams", headers: bearer(PORTAL) })).statusCode,
            200,
        );
        assert.strictEqual((await app.inject({ method: "GET", url: "/healthz" })).statusCode, 200);
    });

    it("scopes every write route: a table of refusals that must name each route the app serves", async () => {
        const made = await post("/v1/gpu-requests", bearer(TOKEN), ask("ml-research"));
        const refusals: Record<string, () => Promise<{ statusCode: number }>> = {
            "POST /v1/gpu-requests": () => post("/v1/gpu-requests", bearer(INFERENCE), ask("ml-research")),
            "POST /v1/gpu-requests/:id/release": () =>
                post(`/v1/gpu-requests/${made.json().id}/release`, bearer(INFERENCE)),
            "POST /v1/workloads/release": () => post("/v1/workloads/release", bearer(ML_RESEARCH), { uid: UID }),
            // A team may not write the gate's overrun alert about itself (platform and admin only).
            "POST /v1/alerts": () =>
                post("/v1/alerts", bearer(ML_RESEARCH), {
                    team: "ml-research",
                    kind: "budget-overrun",
                    action: "suspended",
                    spentUsd: 1,
                    reservedUsd: 0,
                    stopped: [{ namespace: "ml-research", kind: "Workload", name: "job-a" }],
                }),
            "POST /v1/usage": () =>
                post("/v1/usage", bearer(INFERENCE), {
                    records: [{ team: "ml-research", category: "ai-api", amountUsd: 1, occurredAt: NOW }],
                }),
        };
        const writes = routesOf(app)
            .filter((r) => r.method !== "GET" && r.method !== "HEAD")
            .map((r) => `${r.method} ${r.url}`)
            .sort();
        assert.deepStrictEqual(writes, Object.keys(refusals).sort(), "every write route has a refusal case");
        for (const [route, call] of Object.entries(refusals)) assert.strictEqual((await call()).statusCode, 403, route);
    });
});

describe("cost tracker: caller credentials from the environment", () => {
    const base = { COST_TRACKER_CONFIG: "/etc/tracker.json", COST_TRACKER_API_TOKEN: "admin-token-0123456789" };

    it("reads each caller's token, a team's from its upper-cased name, two during a rotation", () => {
        const { settings, problems } = readSettings(
            {
                ...base,
                COST_TRACKER_API_TOKEN: JSON.stringify({
                    current: "admin-token-new-012345",
                    previous: "admin-token-0123456789",
                }),
                COST_TRACKER_TOKEN_PLATFORM: PLATFORM,
                COST_TRACKER_TOKEN_PORTAL: JSON.stringify({ current: PORTAL, previous: "" }),
                COST_TRACKER_TOKEN_TEAM_ML_RESEARCH: JSON.stringify({
                    current: ML_RESEARCH,
                    previous: ML_RESEARCH_OLD,
                }),
            },
            [],
        );
        assert.deepStrictEqual(problems, []);
        assert.strictEqual(settings!.apiToken, "admin-token-new-012345");
        assert.deepStrictEqual(settings!.credentials, [
            { kind: "platform", tokens: [PLATFORM] },
            { kind: "portal", tokens: [PORTAL] },
            { kind: "team", team: "ml-research", tokens: [ML_RESEARCH, ML_RESEARCH_OLD] },
            { kind: "admin", tokens: ["admin-token-0123456789"] },
        ]);
        assert.strictEqual(settings!.readsNeedCredential, false);
    });

    it("names every bad credential variable, one line each", () => {
        const { problems } = readSettings(
            {
                ...base,
                COST_TRACKER_TOKEN_GATE: PLATFORM,
                COST_TRACKER_TOKEN_PORTAL: "short",
                COST_TRACKER_TOKEN_TEAM_INFERENCE: '{"current": "inference-token-012345678", "old": "x"}',
                COST_TRACKER_TOKEN_TEAM_APPLIED_ML: "{not json",
                COST_TRACKER_READS_NEED_CREDENTIAL: "yes",
            },
            [],
        );
        assert.deepStrictEqual(problems, [
            "COST_TRACKER_TOKEN_GATE: unknown caller; use COST_TRACKER_TOKEN_PLATFORM, COST_TRACKER_TOKEN_PORTAL or COST_TRACKER_TOKEN_TEAM_<TEAM>",
            "COST_TRACKER_TOKEN_PORTAL: must be at least 16 characters",
            'COST_TRACKER_TOKEN_TEAM_APPLIED_ML: is not valid JSON; expected a token or {"current": "…", "previous": "…"}',
            "COST_TRACKER_TOKEN_TEAM_INFERENCE: has unknown keys old; expected current, previous",
            'COST_TRACKER_READS_NEED_CREDENTIAL: must be true or false (found "yes")',
        ]);
    });
});
