/**
 * Reading spend: per-team budget summaries, daily spend by category, GPU hours by pool. Every
 * read goes to the daily roll-up (`daily_spend`), never the raw usage rows.
 */
import type { CostTrackerConfig } from "../../../components/costs/tracker-config";
import type { Database, Queryable } from "./db/database";
import { lockTeamBudgets, recordMoneyEvents } from "./db/team-locks";
import type { CategoryAmounts, DailySpend, PoolUsage, TeamSummary } from "./api-types";
import { CATEGORIES, type Category } from "./model";
import { cents, poolResources, type PoolResource } from "./pricing";
import { FORECAST_TRAILING_DAYS, addDays, daysBetween, forecastMonthEnd, monthOf, utcDay } from "./rules";

/**
 * Stores the config's teams and pools (read-only through the API); entries no longer in the
 * config are kept, inactive, for their history. A budget that changes does so under the team's
 * budget lock, with a "budget-changed" event.
 */
export async function syncConfig(db: Database, config: CostTrackerConfig, now: Date): Promise<void> {
    await db.transaction(async (tx) => {
        await lockTeamBudgets(
            tx,
            config.teams.map((t) => t.name),
        );
        const changed: string[] = [];
        for (const team of config.teams) {
            const { rows } = await tx.query<{ changed: boolean }>(
                `WITH prior AS (SELECT monthly_budget_usd FROM teams WHERE name = $1)
                 INSERT INTO teams (name, cost_center, monthly_budget_usd, active, updated_at) VALUES ($1, $2, $3, true, $4)
                 ON CONFLICT (name) DO UPDATE SET cost_center = $2, monthly_budget_usd = $3, active = true, updated_at = $4
                 RETURNING (SELECT monthly_budget_usd FROM prior) IS DISTINCT FROM $3::numeric AND EXISTS (SELECT 1 FROM prior) AS changed`,
                [team.name, team.costCenter, team.monthlyBudgetUsd, now],
            );
            if (rows[0]?.changed) changed.push(team.name);
        }
        await tx.query("UPDATE teams SET active = false WHERE NOT (name = ANY($1::text[]))", [
            config.teams.map((t) => t.name),
        ]);
        for (const pool of config.pools) {
            await tx.query(
                `INSERT INTO pools (name, instance_type, gpu_sharing, max_nodes, active) VALUES ($1, $2, $3::jsonb, $4, true)
                 ON CONFLICT (name) DO UPDATE SET instance_type = $2, gpu_sharing = $3::jsonb, max_nodes = $4, active = true`,
                [pool.name, pool.instanceType, JSON.stringify(pool.gpuSharing), pool.maxNodes],
            );
        }
        await tx.query("UPDATE pools SET active = false WHERE NOT (name = ANY($1::text[]))", [
            config.pools.map((p) => p.name),
        ]);
        await recordMoneyEvents(tx, changed, "budget-changed", now);
    });
}

function emptyCategories(): CategoryAmounts {
    return Object.fromEntries(CATEGORIES.map((c) => [c, 0])) as CategoryAmounts;
}

/** Every active team's budget position now. */
export async function teamSummaries(q: Queryable, now: Date): Promise<TeamSummary[]> {
    const month = monthOf(now);
    const today = utcDay(now);
    const trailingFrom = addDays(today, -FORECAST_TRAILING_DAYS);
    const [teams, spent, trailing, reserved, utilisation] = await Promise.all([
        q.query<{ name: string; cost_center: string; monthly_budget_usd: number }>(
            "SELECT name, cost_center, monthly_budget_usd FROM teams WHERE active ORDER BY name",
        ),
        q.query<{ team: string; category: Category; usd: number }>(
            "SELECT team, category, sum(amount_usd) AS usd FROM daily_spend WHERE day >= $1 AND day < $2 GROUP BY team, category",
            [month.start, month.next],
        ),
        q.query<{ team: string; day: string; usd: number }>(
            "SELECT team, day, sum(amount_usd) AS usd FROM daily_spend WHERE day >= $1 AND day < $2 GROUP BY team, day",
            [trailingFrom, today],
        ),
        q.query<{ team: string; usd: number }>(
            `SELECT team, sum(greatest(estimated_cost_usd - consumed_usd, 0)) AS usd FROM gpu_requests
              WHERE status = 'approved' AND released_at IS NULL AND expires_at > $1 GROUP BY team`,
            [now],
        ),
        q.query<{
            team: string;
            average_pct: number | null;
            gpus_reporting: number;
            gpus_requested: number;
            observed_at: Date;
        }>("SELECT team, average_pct, gpus_reporting, gpus_requested, observed_at FROM gpu_utilisation"),
    ]);
    return teams.rows.map((team) => {
        const byCategory = emptyCategories();
        for (const r of spent.rows) if (r.team === team.name) byCategory[r.category] = cents(r.usd);
        const monthToDateUsd = cents(spent.rows.filter((r) => r.team === team.name).reduce((sum, r) => sum + r.usd, 0));
        const byDay = new Map(trailing.rows.filter((r) => r.team === team.name).map((r) => [r.day, r.usd]));
        const firstDay = [...byDay.keys()].sort()[0];
        // Complete days since the team's first spend on record, with no spend as 0.
        const trailingDays = firstDay ? daysBetween(firstDay, addDays(today, -1)).map((d) => byDay.get(d) ?? 0) : [];
        const reservedUsd = cents(reserved.rows.find((r) => r.team === team.name)?.usd ?? 0);
        const util = utilisation.rows.find((r) => r.team === team.name);
        return {
            name: team.name,
            costCenter: team.cost_center,
            monthlyBudgetUsd: team.monthly_budget_usd,
            month: month.start.slice(0, 7),
            monthToDateUsd,
            reservedUsd,
            remainingUsd: cents(team.monthly_budget_usd - monthToDateUsd - reservedUsd),
            forecastUsd: cents(forecastMonthEnd(monthToDateUsd, trailingDays, now)),
            byCategory,
            gpuUtilisation: util
                ? {
                      averagePct: util.average_pct,
                      gpusReporting: util.gpus_reporting,
                      gpusRequested: util.gpus_requested,
                      observedAt: util.observed_at.toISOString(),
                  }
                : null,
        };
    });
}

/** A team's spend per day from `from` to `to` (both included), every day present. */
export async function teamDailySpend(
    q: Queryable,
    team: string,
    from: string,
    to: string,
): Promise<{ days: DailySpend[]; totals: CategoryAmounts; totalUsd: number }> {
    const { rows } = await q.query<{ day: string; category: Category; usd: number }>(
        "SELECT day, category, sum(amount_usd) AS usd FROM daily_spend WHERE team = $1 AND day >= $2 AND day <= $3 GROUP BY day, category",
        [team, from, to],
    );
    const totals = emptyCategories();
    const byDay = new Map<string, CategoryAmounts>();
    for (const r of rows) {
        if (!byDay.has(r.day)) byDay.set(r.day, emptyCategories());
        byDay.get(r.day)![r.category] += r.usd;
        totals[r.category] += r.usd;
    }
    const days = daysBetween(from, to).map((day) => {
        const amounts = byDay.get(day) ?? emptyCategories();
        const byCategory = Object.fromEntries(CATEGORIES.map((c) => [c, cents(amounts[c])])) as CategoryAmounts;
        return { day, byCategory, totalUsd: cents(CATEGORIES.reduce((sum, c) => sum + amounts[c], 0)) };
    });
    const roundedTotals = Object.fromEntries(CATEGORIES.map((c) => [c, cents(totals[c])])) as CategoryAmounts;
    return { days, totals: roundedTotals, totalUsd: cents(CATEGORIES.reduce((sum, c) => sum + totals[c], 0)) };
}

/** GPU hours and GPU spend by pool from `from` to `to` (both included), for one team or all; spend no source could place on a pool is under "unattributed". */
export async function gpuHoursByPool(q: Queryable, from: string, to: string, team?: string): Promise<PoolUsage[]> {
    const { rows } = await q.query<{ pool: string; hours: number; usd: number }>(
        `SELECT pool, sum(gpu_hours) AS hours, sum(amount_usd) AS usd FROM daily_spend
          WHERE category = 'gpu' AND day >= $1 AND day <= $2 AND ($3::text IS NULL OR team = $3) GROUP BY pool ORDER BY pool = '', pool`,
        [from, to, team ?? null],
    );
    return rows.map((r) => ({
        pool: r.pool || "unattributed",
        gpuHours: Math.round(r.hours * 100) / 100,
        gpuUsd: cents(r.usd),
    }));
}

export interface PoolOffer {
    name: string;
    instanceType: string;
    gpuSharing: CostTrackerConfig["pools"][number]["gpuSharing"];
    maxNodes: number;
    resources: Array<Omit<PoolResource, "usdPerUnitHour"> & { usdPerUnitHour: number }>;
}

/** The pools and what one unit of each of their resources costs per hour (to the tenth of a cent). */
export function poolOffers(config: CostTrackerConfig): PoolOffer[] {
    return config.pools.map((pool) => ({
        name: pool.name,
        instanceType: pool.instanceType,
        gpuSharing: pool.gpuSharing,
        maxNodes: pool.maxNodes,
        resources: poolResources(pool).map((r) => ({
            ...r,
            usdPerUnitHour: Math.round(r.usdPerUnitHour * 10000) / 10000,
        })),
    }));
}
