/**
 * Reading spend: per-team budget summaries, daily spend by category, GPU hours by pool. Every
 * read goes to the daily roll-up (`daily_spend`), never the raw usage rows.
 */
import type { CostTrackerConfig } from "@gpu-platform/catalog/contracts";
import type { Database, Queryable } from "./db/database";
import { lockTeamBudgets, recordMoneyEvents } from "./db/team-locks";
import type { CategoryAmounts, DailySpend, PoolUsage, TeamSummary } from "./api-types";
import { CATEGORIES, type Category } from "./model";
import { cents, poolResources, type PoolResource } from "./pricing";
import { FORECAST_WINDOW_DAYS, addDays, daysBetween, forecastMonthEnd, monthOf, utcDay, type Forecast } from "./rules";

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
    // The forecast's window, and the whole month so far (its spend through yesterday), whichever starts first.
    const windowStart = addDays(today, -FORECAST_WINDOW_DAYS);
    const trailingFrom = windowStart < month.start ? windowStart : month.start;
    const [teams, spent, trailing, firstDays, reserved, utilisation] = await Promise.all([
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
        q.query<{ team: string; day: string }>(
            "SELECT team, min(day) AS day FROM daily_spend WHERE team <> '' GROUP BY team",
        ),
        // The part of each live reservation this month carries (a reservation reaching into next month charges each its part).
        q.query<{ team: string; usd: number }>(
            `SELECT team, sum(reservation_held_in(estimated_cost_usd, consumed_usd, created_at, hours, $2, $3)) AS usd FROM gpu_requests
              WHERE status = 'approved' AND released_at IS NULL AND expires_at > $1 GROUP BY team`,
            [now, month.start, month.next],
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
        const forecast = teamForecast(
            trailing.rows.filter((r) => r.team === team.name),
            firstDays.rows.find((r) => r.team === team.name)?.day,
            month.start,
            today,
        );
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
            forecastUsd: forecast.pointUsd,
            forecast,
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

/**
 * The team's forecast (rules.ts) from its complete days: the last 14, counting days with no
 * spend as $0 from its first day on record, and its spend this month up to yesterday.
 */
function teamForecast(
    days: readonly { day: string; usd: number }[],
    firstDay: string | undefined,
    monthStart: string,
    today: string,
): Forecast {
    const byDay = new Map(days.map((r) => [r.day, r.usd]));
    const from =
        firstDay && firstDay > addDays(today, -FORECAST_WINDOW_DAYS) ? firstDay : addDays(today, -FORECAST_WINDOW_DAYS);
    const history =
        firstDay && firstDay < today ? daysBetween(from, addDays(today, -1)).map((d) => byDay.get(d) ?? 0) : [];
    const spentThroughYesterday = days
        .filter((r) => r.day >= monthStart && r.day < today)
        .reduce((sum, r) => sum + r.usd, 0);
    const f = forecastMonthEnd(spentThroughYesterday, history, today);
    const round = (v: number | null) => (v === null ? null : cents(v));
    return { ...f, pointUsd: round(f.pointUsd), lowUsd: round(f.lowUsd), highUsd: round(f.highUsd) };
}

/** A team's spend per day from `from` to `to` (both included), every day present; idle split to the team counts as its GPU spend. */
export async function teamDailySpend(
    q: Queryable,
    team: string,
    from: string,
    to: string,
): Promise<{ days: DailySpend[]; totals: CategoryAmounts; totalUsd: number }> {
    const { rows } = await q.query<{ day: string; category: Category; usd: number; estimated: boolean }>(
        `SELECT day, category, sum(amount_usd) AS usd, bool_or(estimated) AS estimated FROM daily_spend
          WHERE team = $1 AND day >= $2 AND day <= $3 GROUP BY day, category`,
        [team, from, to],
    );
    return dailySeries(rows, from, to);
}

/** Rows of (day, category, usd, estimated) as every day of the range, with totals, rounded to the cent. */
export function dailySeries(
    rows: readonly { day: string; category: Category; usd: number; estimated: boolean }[],
    from: string,
    to: string,
): { days: DailySpend[]; totals: CategoryAmounts; totalUsd: number } {
    const totals = emptyCategories();
    const byDay = new Map<string, { amounts: CategoryAmounts; estimated: boolean }>();
    for (const r of rows) {
        const entry = byDay.get(r.day) ?? { amounts: emptyCategories(), estimated: false };
        entry.amounts[r.category] += r.usd;
        entry.estimated ||= r.estimated;
        byDay.set(r.day, entry);
        totals[r.category] += r.usd;
    }
    const days = daysBetween(from, to).map((day) => {
        const { amounts, estimated } = byDay.get(day) ?? { amounts: emptyCategories(), estimated: false };
        return { day, byCategory: roundedAmounts(amounts), totalUsd: cents(sumOf(amounts)), estimated };
    });
    return { days, totals: roundedAmounts(totals), totalUsd: cents(sumOf(totals)) };
}

export function roundedAmounts(amounts: CategoryAmounts): CategoryAmounts {
    return Object.fromEntries(CATEGORIES.map((c) => [c, cents(amounts[c])])) as CategoryAmounts;
}

function sumOf(amounts: CategoryAmounts): number {
    return CATEGORIES.reduce((sum, c) => sum + amounts[c], 0);
}

/**
 * GPU use by pool from `from` to `to` (both included), for one team or all: GPU-equivalent hours
 * and spend requested, each resource's raw unit-hours beside them, and the pool's idle capacity
 * (for all teams: the pool's idle line; for a team: the idle split to it, if any). GPU spend no
 * source could place on a pool is under "unattributed".
 */
export async function gpuHoursByPool(q: Queryable, from: string, to: string, team?: string): Promise<PoolUsage[]> {
    const { rows } = await q.query<{
        pool: string;
        line: string;
        gpu_resource: string;
        hours: number;
        resource_hours: number;
        usd: number;
    }>(
        `SELECT pool, line, gpu_resource, sum(gpu_hours) AS hours, sum(resource_hours) AS resource_hours, sum(amount_usd) AS usd
           FROM daily_spend
          WHERE category = 'gpu' AND day >= $1 AND day <= $2 AND ($3::text IS NULL OR team = $3)
          GROUP BY pool, line, gpu_resource ORDER BY pool = '', pool, gpu_resource`,
        [from, to, team ?? null],
    );
    const pools = new Map<string, PoolUsage>();
    for (const r of rows) {
        const name = r.pool || "unattributed";
        const pool = pools.get(name) ?? {
            pool: name,
            gpuHours: 0,
            gpuUsd: 0,
            idleGpuHours: 0,
            idleUsd: 0,
            resources: [],
        };
        pools.set(name, pool);
        if (r.line === "idle") {
            pool.idleGpuHours += r.hours;
            pool.idleUsd += r.usd;
            continue;
        }
        pool.gpuHours += r.hours;
        pool.gpuUsd += r.usd;
        if (!r.gpu_resource) continue;
        const resource = pool.resources.find((x) => x.gpuResource === r.gpu_resource);
        if (resource) {
            resource.resourceHours += r.resource_hours;
            resource.gpuHours += r.hours;
            resource.gpuUsd += r.usd;
        } else
            pool.resources.push({
                gpuResource: r.gpu_resource,
                resourceHours: r.resource_hours,
                gpuHours: r.hours,
                gpuUsd: r.usd,
            });
    }
    const hours = (h: number) => Math.round(h * 100) / 100;
    return [...pools.values()].map((p) => ({
        ...p,
        gpuHours: hours(p.gpuHours),
        gpuUsd: cents(p.gpuUsd),
        idleGpuHours: hours(p.idleGpuHours),
        idleUsd: cents(p.idleUsd),
        resources: p.resources.map((x) => ({
            ...x,
            resourceHours: hours(x.resourceHours),
            gpuHours: hours(x.gpuHours),
            gpuUsd: cents(x.gpuUsd),
        })),
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
