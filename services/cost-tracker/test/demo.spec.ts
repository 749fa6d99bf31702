/**
 * The demo seed (`--demo`): a month of data that shows every line the report has (teams,
 * unallocated, each pool's idle) from every kind of GPU resource, and reconciles to the cent.
 * Seeded at a fixed instant (30 November 2026, 18:00 UTC), so the 30 demo days are November's.
 *
 * Prices from catalog/instances.ts: p4d.24xlarge $21.957642/h for 8 A100s, time-sliced 3 ways
 * → $0.91490175 per share-hour; p4de.24xlarge $27.44705/h; p5.48xlarge $55.04/h.
 * MIG fractions: an A100's 3g, 2g and 1g profiles take 3, 2 and 1 of its 7 compute slices
 * (NVIDIA MIG user guide, "Supported MIG profiles").
 */
import * as assert from "assert";
import type { Database } from "../src/db/database";
import { seedDemo } from "../src/demo/seed";
import { monthlyReport } from "../src/reconciliation";
import { resetDatabase, testConfig, testDatabase } from "./helpers";

const AT = new Date("2026-11-30T18:00:00Z");
const toCents = (usd: number) => Math.round(usd * 100);

describe("cost tracker demo seed", () => {
    let db: Database;
    before(async () => {
        db = await testDatabase();
        await resetDatabase(db, testConfig());
        await seedDemo(db, testConfig(), AT);
    });

    it("shows every line: each team, unallocated GPU, storage and AWS spend, and every pool's idle", async () => {
        const report = await monthlyReport(db, "2026-11");
        for (const t of report.teams) assert.ok(t.totalUsd > 0, t.team);
        const u = report.unallocated.byCategory;
        assert.ok(u.gpu > 0 && u.storage > 0 && u["other-aws"] > 0, JSON.stringify(u));
        assert.deepStrictEqual(
            report.idle.byPool.filter((p) => p.usd > 0).map((p) => p.pool),
            ["a100-mig", "a100-shared", "h100"],
        );
        assert.deepStrictEqual(
            report.sources.map((s) => s.source),
            ["demo:cost-explorer", "demo:gpu-allocation", "demo:opencost", "demo:push"],
        );
    });

    it("reconciles: teams + unallocated + idle = the sum of the sources, to the cent", async () => {
        const report = await monthlyReport(db, "2026-11");
        const lines =
            report.teams.reduce((s, t) => s + toCents(t.totalUsd), 0) +
            toCents(report.unallocated.totalUsd) +
            report.idle.byPool.reduce((s, p) => s + toCents(p.usd), 0);
        const sources = report.sources.reduce((s, x) => s + toCents(x.totalUsd), 0);
        assert.strictEqual(lines, sources);
        assert.strictEqual(toCents(report.sourcesTotalUsd), sources);
        assert.strictEqual(report.differenceUsd, 0);
    });

    it("prices all three GPU resource kinds in GPU-equivalent hours beside their raw unit-hours", async () => {
        const { rows } = await db.query<{ gpu_resource: string; resource_hours: number; gpu_hours: number }>(
            "SELECT gpu_resource, sum(resource_hours) AS resource_hours, sum(gpu_hours) AS gpu_hours FROM usage WHERE category = 'gpu' AND line <> 'idle' GROUP BY 1 ORDER BY 1",
        );
        const fraction: Record<string, number> = {
            "nvidia.com/gpu": 1,
            "nvidia.com/gpu.shared": 1 / 3,
            "nvidia.com/mig-1g.10gb": 1 / 7,
            "nvidia.com/mig-2g.20gb": 2 / 7,
            "nvidia.com/mig-3g.40gb": 3 / 7,
        };
        assert.deepStrictEqual(
            rows.map((r) => r.gpu_resource),
            Object.keys(fraction),
        );
        for (const r of rows) {
            const expected = Number(r.resource_hours) * fraction[r.gpu_resource];
            // Each record's hours are kept to 4 decimals: at most 0.00005 off each, ~30–90 records a resource.
            assert.ok(
                Math.abs(Number(r.gpu_hours) - expected) < 0.01,
                `${r.gpu_resource}: ${r.gpu_hours} vs ${expected}`,
            );
        }
    });

    it("puts the sandbox's weekday shares on the unallocated line: 2 shares × 6 h × $0.91490175 = $10.98", async () => {
        // Monday 2 November 2026.
        const { rows } = await db.query<{ usd: number; hours: number }>(
            "SELECT amount_usd AS usd, resource_hours AS hours FROM usage WHERE day = '2026-11-02' AND line = 'unallocated' AND category = 'gpu'",
        );
        assert.deepStrictEqual(
            rows.map((r) => [Number(r.usd), Number(r.hours)]),
            [[10.98, 12]],
        );
        const weekend = await db.query(
            "SELECT 1 FROM usage WHERE day = '2026-11-01' AND line = 'unallocated' AND category = 'gpu'",
        );
        assert.strictEqual(weekend.rows.length, 0, "Sunday 1 November: the sandbox is quiet");
    });

    it("charges each pool whole node-hours a day: its idle and allocated dollars add up to a whole number of hours at the instance price", async () => {
        const prices: Record<string, number> = { "a100-shared": 21.957642, "a100-mig": 27.44705, h100: 55.04 };
        const { rows } = await db.query<{ day: string; pool: string; usd: number }>(
            "SELECT day::text AS day, pool, sum(amount_usd) AS usd FROM usage WHERE category = 'gpu' AND day < '2026-11-30' GROUP BY 1, 2",
        );
        assert.strictEqual(rows.length, 29 * 3);
        for (const r of rows) {
            const hours = Number(r.usd) / prices[r.pool];
            // Every record is rounded to the cent: a few cents at most from a whole number of hours.
            assert.ok(Math.abs(hours - Math.round(hours)) * prices[r.pool] < 0.05, `${r.day} ${r.pool}: ${hours} h`);
        }
    });

    it("changes nothing when seeded again the same day", async () => {
        const before = await monthlyReport(db, "2026-11");
        await seedDemo(db, testConfig(), AT);
        const after = await monthlyReport(db, "2026-11");
        assert.deepStrictEqual(after.teams, before.teams);
        assert.deepStrictEqual(after.sources, before.sources);
    });
});
