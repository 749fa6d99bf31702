/**
 * What a team's budget position reads (spend.ts): each team's own spend and reservations, what is
 * left, the month-end forecast from its complete days, its daily series and GPU hours by pool, and
 * the budget changes a config sync records. Figures worked by hand; embedded PGlite.
 *
 * Budgets from test/helpers.ts (Pulumi.prod.yaml's): ml-research $120,000, inference $80,000,
 * applied-ml $40,000. Price from catalog/instances.ts: p5.48xlarge $55.04/h for 8 GPUs → $6.88 per
 * GPU-hour. Forecast (rules.ts, docs/finops.md): the mean of the complete days since the team's
 * first spend (at most the last 14) times the days left, plus this month's spend through yesterday;
 * a two-sided 90 % prediction interval with Student's t (NIST/SEMATECH e-Handbook 1.3.6.7.2).
 */
import * as assert from "assert";
import { syncConfig } from "../src/spend";
import { testConfig, testDatabase, trackerSpecApp } from "./helpers";

const NOW = "2026-11-20T12:00:00.000Z";

type Summary = Record<string, any>;

describe("cost tracker: team summaries and spend reads (embedded PGlite)", () => {
    const { get, post } = trackerSpecApp(NOW, "summaries");
    const spend = async (team: string, category: string, amountUsd: number, occurredAt: string, extra = {}) => {
        const res = await post("/v1/usage", { records: [{ team, category, amountUsd, occurredAt, ...extra }] });
        assert.strictEqual(res.statusCode, 201, res.body);
    };
    const summaries = async (): Promise<Map<string, Summary>> => {
        const res = await get("/v1/teams");
        assert.strictEqual(res.statusCode, 200, res.body);
        return new Map(res.json<Summary[]>().map((t) => [t.name, t]));
    };

    it("gives each team its own month-to-date spend by category, reservations and what is left", async () => {
        await spend("applied-ml", "gpu", 700, "2026-10-31T23:00:00Z"); // October: not this month's
        await spend("applied-ml", "gpu", 1000, "2026-11-01T00:30:00Z");
        await spend("applied-ml", "storage", 200, "2026-11-10T08:00:00Z");
        await spend("inference", "gpu", 5000, "2026-11-10T09:00:00Z");
        const approved = await post("/v1/gpu-requests", {
            team: "applied-ml",
            pool: "h100",
            gpus: 1,
            hours: 10,
            priorityClass: "training",
            requester: "ada@example.com",
        });
        assert.strictEqual(approved.statusCode, 201, approved.body);

        const teams = await summaries();
        assert.deepStrictEqual([...teams.keys()], ["applied-ml", "inference", "ml-research"]);
        const position = (name: string) => {
            const t = teams.get(name)!;
            return [t.month, t.monthToDateUsd, t.reservedUsd, t.remainingUsd, t.byCategory.gpu, t.byCategory.storage];
        };
        // applied-ml: $1,000 + $200 this month; 1 H100 × 10 h × $6.88 = $68.80 reserved;
        // $40,000 − $1,200 − $68.80 = $38,731.20 left.
        assert.deepStrictEqual(position("applied-ml"), ["2026-11", 1200, 68.8, 38731.2, 1000, 200]);
        // inference: its own $5,000 only; $80,000 − $5,000 = $75,000.
        assert.deepStrictEqual(position("inference"), ["2026-11", 5000, 0, 75000, 5000, 0]);
        assert.deepStrictEqual(position("ml-research"), ["2026-11", 0, 0, 120000, 0, 0]);

        // The same positions on /metrics: $1,200 of $40,000 is 0.03 of the budget.
        const metrics = (await get("/metrics")).body;
        for (const line of [
            'cost_tracker_team_month_to_date_usd{team="applied-ml"} 1200',
            'cost_tracker_team_reserved_usd{team="applied-ml"} 68.8',
            'cost_tracker_team_budget_used_ratio{team="applied-ml"} 0.03',
            'cost_tracker_team_budget_used_ratio{team="inference"} 0.0625',
            // The latency histogram's own buckets (prom-client's default has no 2.5 ms), and the counters registered.
            'cost_tracker_http_request_duration_seconds_bucket{le="0.0025"',
            "# TYPE cost_tracker_source_runs_total counter",
            "# TYPE cost_tracker_alerts_total counter",
        ])
            assert.ok(metrics.includes(line), `/metrics has no ${line}`);
    });

    it("forecasts from the complete days since a team's first spend, and makes no forecast without history", async () => {
        // applied-ml's first spend is on the 12th: 8 complete days to the 19th, $80 and $160 among them.
        await spend("applied-ml", "gpu", 80, "2026-11-12T10:00:00Z");
        await spend("applied-ml", "gpu", 160, "2026-11-14T10:00:00Z");
        // inference spent on the 1st, before the 14-day window (the 6th to the 19th): the window is
        // 13 days of $0 and $140 on the 19th. Today's $999 is in neither its history nor its spend to yesterday.
        await spend("inference", "gpu", 300, "2026-11-01T10:00:00Z");
        await spend("inference", "gpu", 140, "2026-11-19T10:00:00Z");
        await spend("inference", "gpu", 999, "2026-11-20T01:00:00Z");

        const teams = await summaries();
        const forecast = (name: string) => {
            const f = teams.get(name)!.forecast;
            return [f.asOfDay, f.historyDays, f.pointUsd, f.lowUsd, f.highUsd];
        };
        // applied-ml: mean $30 (240 / 8); 11 days left (the 20th to the 30th): $240 + 11 × $30 = $570.
        // Sample variance 24,800 / 7; t(7) = 1.895; half width 1.895 × 59.52 × √(11 + 121/8) = $576.52:
        // low is the $240 already spent, high $1,146.52.
        assert.deepStrictEqual(forecast("applied-ml"), ["2026-11-19", 8, 570, 240, 1146.52]);
        // inference: mean $10 (140 / 14); $440 spent through yesterday + 11 × $10 = $550. Variance
        // 18,200 / 13 = 1,400; t(13) = 1.771; half width 1.771 × 37.42 × √(11 + 121/14) = $293.69.
        assert.deepStrictEqual(forecast("inference"), ["2026-11-19", 14, 550, 440, 843.69]);
        assert.strictEqual(teams.get("inference")!.monthToDateUsd, 1439, "$300 + $140 + $999");
        assert.deepStrictEqual(forecast("ml-research"), ["2026-11-19", 0, null, null, null]);
    });

    it("lists every day of a team's range, unestimated where nothing was spent, and only its own GPU hours", async () => {
        await spend("applied-ml", "gpu", 68.8, "2026-11-18T10:00:00Z", { pool: "h100", gpuHours: 10 });
        await spend("inference", "gpu", 137.6, "2026-11-18T11:00:00Z", { pool: "h100", gpuHours: 20 });
        const res = await get("/v1/teams/applied-ml/spend?from=2026-11-17&to=2026-11-19");
        assert.strictEqual(res.statusCode, 200, res.body);
        const body = res.json<Summary>();
        assert.deepStrictEqual(
            body.days.map((d: Summary) => [d.day, d.totalUsd, d.estimated]),
            [
                ["2026-11-17", 0, false],
                ["2026-11-18", 68.8, false],
                ["2026-11-19", 0, false],
            ],
        );
        assert.deepStrictEqual(
            body.gpuHoursByPool.map((p: Summary) => [p.pool, p.gpuHours, p.gpuUsd]),
            [["h100", 10, 68.8]],
        );
    });

    it("records a budget change for the team whose budget changed, and nothing for a sync that changes none", async () => {
        const db = await testDatabase();
        const events = async () =>
            (await db.query<{ team: string; kind: string }>("SELECT team, kind FROM money_events ORDER BY id")).rows;
        const before = (await events()).length;
        const config = testConfig();
        const raised = {
            ...config,
            teams: config.teams.map((t) => (t.name === "inference" ? { ...t, monthlyBudgetUsd: 90000 } : t)),
        };
        await syncConfig(db, raised, new Date(NOW));
        await syncConfig(db, raised, new Date(NOW));
        assert.deepStrictEqual((await events()).slice(before), [{ team: "inference", kind: "budget-changed" }]);
        assert.strictEqual((await summaries()).get("inference")!.monthlyBudgetUsd, 90000);
    });
});
