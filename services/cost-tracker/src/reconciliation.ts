/**
 * The monthly reconciliation report: every dollar the sources recorded for a month, on exactly
 * one line (a team's, unallocated, or idle), beside the sum of the sources it came from and the
 * account's bill as Cost Explorer answered it.
 *
 * - Lines: the daily roll-up (daily_spend). A team's row holds its own usage ("team" line); idle
 *   GPU capacity split over teams by share of use stays on the idle line (shown per team as
 *   `idleShareUsd`), so teams + unallocated + idle counts each dollar once.
 * - Sources: the usage the roll-up is built from (counted_usage: a pushed record a pulled source
 *   owns for the same workload and day is not counted). Lines minus sources is the report's own
 *   check and is $0.00 unless a dollar was lost or counted twice.
 * - Bill: the account total of the month's days on record (amortised unless configured
 *   otherwise), against the AWS spend tracked (every line except ai-api, which is not on the AWS
 *   bill). The difference is mostly the cluster's nodes: the in-cluster sources price them at the
 *   catalog's on-demand rate, the bill at what was paid (Savings Plans, reservations, credits).
 */
import type { TrackerPipeline } from "@gpu-platform/catalog/contracts";
import type { Queryable } from "./db/database";
import type { CategoryAmounts } from "./api-types";
import { CATEGORIES, type Category } from "./model";
import { cents } from "./pricing";
import { monthOf } from "./rules";
import { jobCosts, pipelineUnitCosts, type JobCost, type PipelineUnitCost } from "./unit-costs";

export interface MonthlyReport {
    month: string;
    teams: Array<{
        team: string;
        costCenter: string;
        byCategory: CategoryAmounts;
        totalUsd: number;
        idleShareUsd: number;
    }>;
    costCenters: Array<{ costCenter: string; totalUsd: number }>;
    unallocated: { byCategory: CategoryAmounts; totalUsd: number };
    idle: { byPool: Array<{ pool: string; usd: number }>; totalUsd: number };
    sources: Array<{ source: string; totalUsd: number }>;
    linesTotalUsd: number;
    sourcesTotalUsd: number;
    /** Lines minus sources: $0 when every dollar is on exactly one line. */
    differenceUsd: number;
    bill: {
        metric: string;
        totalUsd: number;
        clusterUsd: number;
        trackedAwsUsd: number;
        differenceUsd: number;
        estimatedDays: string[];
    } | null;
    /** Each configured inference pipeline's spend per input it completed (unit-costs.ts). */
    pipelines: PipelineUnitCost[];
    /** Each batch Job's cost, costliest first. */
    jobs: JobCost[];
}

interface LineRow {
    line: "team" | "unallocated" | "idle";
    team: string;
    category: Category;
    pool: string;
    usd: number;
}

/** `month`: "YYYY-MM"; `pipelines`: the config's, whose cost per input the report shows. */
export async function monthlyReport(
    q: Queryable,
    month: string,
    pipelines: readonly TrackerPipeline[] = [],
): Promise<MonthlyReport> {
    const { start, next } = monthOf(new Date(`${month}-01T00:00:00Z`));
    const [lines, sources, teams, bill, pipelineCosts, jobs] = await Promise.all([
        q.query<LineRow>(
            `SELECT line, team, category, pool, sum(amount_usd) AS usd FROM daily_spend
              WHERE day >= $1 AND day < $2 GROUP BY line, team, category, pool`,
            [start, next],
        ),
        q.query<{ source: string; usd: number }>(
            `SELECT source, sum(amount_usd) AS usd FROM counted_usage WHERE day >= $1 AND day < $2 GROUP BY source ORDER BY source`,
            [start, next],
        ),
        q.query<{ name: string; cost_center: string }>("SELECT name, cost_center FROM teams ORDER BY name"),
        q.query<{ metric: string; total: number; cluster: number; day: string; estimated: boolean }>(
            `SELECT metric, total_usd AS total, cluster_usd AS cluster, day, estimated FROM bill_days
              WHERE day >= $1 AND day < $2 ORDER BY day`,
            [start, next],
        ),
        pipelineUnitCosts(q, start, next, pipelines),
        jobCosts(q, start, next, pipelines),
    ]);
    const sum = (rows: readonly { usd: number }[]) => rows.reduce((s, r) => s + Number(r.usd), 0);
    const teamRows = teams.rows.map((t) => teamLine(t.name, t.cost_center, lines.rows));
    const unallocated = lines.rows.filter((r) => r.line === "unallocated");
    const idle = lines.rows.filter((r) => r.line === "idle");
    const linesTotal = sum(lines.rows);
    const sourcesTotal = sum(sources.rows);
    return {
        month,
        teams: teamRows,
        costCenters: costCenterTotals(teamRows),
        unallocated: { byCategory: byCategory(unallocated), totalUsd: cents(sum(unallocated)) },
        idle: { byPool: idleByPool(idle), totalUsd: cents(sum(idle)) },
        sources: sources.rows.map((s) => ({ source: s.source, totalUsd: cents(s.usd) })),
        linesTotalUsd: cents(linesTotal),
        sourcesTotalUsd: cents(sourcesTotal),
        differenceUsd: cents(linesTotal - sourcesTotal),
        bill: billComparison(bill.rows, linesTotal - sum(lines.rows.filter((r) => r.category === "ai-api"))),
        pipelines: pipelineCosts,
        jobs,
    };
}

function teamLine(team: string, costCenter: string, rows: readonly LineRow[]): MonthlyReport["teams"][number] {
    const own = rows.filter((r) => r.line === "team" && r.team === team);
    const idleShare = rows.filter((r) => r.line === "idle" && r.team === team);
    return {
        team,
        costCenter,
        byCategory: byCategory(own),
        totalUsd: cents(own.reduce((s, r) => s + Number(r.usd), 0)),
        idleShareUsd: cents(idleShare.reduce((s, r) => s + Number(r.usd), 0)),
    };
}

function byCategory(rows: readonly LineRow[]): CategoryAmounts {
    const amounts = Object.fromEntries(CATEGORIES.map((c) => [c, 0])) as CategoryAmounts;
    for (const c of CATEGORIES)
        amounts[c] = cents(rows.filter((r) => r.category === c).reduce((s, r) => s + Number(r.usd), 0));
    return amounts;
}

function costCenterTotals(teams: MonthlyReport["teams"]): MonthlyReport["costCenters"] {
    const totals = new Map<string, number>();
    for (const t of teams) totals.set(t.costCenter, (totals.get(t.costCenter) ?? 0) + t.totalUsd + t.idleShareUsd);
    return [...totals]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([costCenter, usd]) => ({ costCenter, totalUsd: cents(usd) }));
}

function idleByPool(rows: readonly LineRow[]): MonthlyReport["idle"]["byPool"] {
    const pools = [...new Set(rows.map((r) => r.pool))].sort();
    return pools.map((pool) => ({
        pool,
        usd: cents(rows.filter((r) => r.pool === pool).reduce((s, r) => s + Number(r.usd), 0)),
    }));
}

function billComparison(
    days: readonly { metric: string; total: number; cluster: number; day: string; estimated: boolean }[],
    trackedAws: number,
): MonthlyReport["bill"] {
    if (days.length === 0) return null;
    const total = days.reduce((s, d) => s + Number(d.total), 0);
    return {
        metric: days[days.length - 1].metric,
        totalUsd: cents(total),
        clusterUsd: cents(days.reduce((s, d) => s + Number(d.cluster), 0)),
        trackedAwsUsd: cents(trackedAws),
        differenceUsd: cents(total - trackedAws),
        estimatedDays: days.filter((d) => d.estimated).map((d) => d.day),
    };
}

export interface MonthTotals {
    month: string;
    teams: Array<{ team: string; costCenter: string; usd: number }>;
    costCenters: Array<{ costCenter: string; usd: number }>;
    unallocatedUsd: number;
    idleUsd: number;
    totalUsd: number;
}

/**
 * Monthly history from `from` to `to` ("YYYY-MM", both included, every month present): each
 * team's spend (its own usage and its share of split idle, as its budget counts it), each cost
 * centre's, and the unallocated and unsplit idle lines.
 */
export async function monthlyHistory(q: Queryable, from: string, to: string): Promise<MonthTotals[]> {
    const next = monthOf(new Date(`${to}-01T00:00:00Z`)).next;
    const [spend, teams] = await Promise.all([
        q.query<{ month: string; line: string; team: string; usd: number }>(
            `SELECT to_char(day, 'YYYY-MM') AS month, line, team, sum(amount_usd) AS usd FROM daily_spend
              WHERE day >= $1 AND day < $2 GROUP BY 1, 2, 3`,
            [`${from}-01`, next],
        ),
        q.query<{ name: string; cost_center: string }>("SELECT name, cost_center FROM teams ORDER BY name"),
    ]);
    const months: MonthTotals[] = [];
    for (let m = from; m <= to; m = monthOf(new Date(`${m}-01T00:00:00Z`)).next.slice(0, 7)) {
        const rows = spend.rows.filter((r) => r.month === m);
        const usdOf = (keep: (r: (typeof rows)[number]) => boolean) =>
            cents(rows.filter(keep).reduce((sum, r) => sum + Number(r.usd), 0));
        const teamRows = teams.rows.map((t) => ({
            team: t.name,
            costCenter: t.cost_center,
            usd: usdOf((r) => r.team === t.name),
        }));
        const centres = [...new Set(teamRows.map((t) => t.costCenter))].sort();
        months.push({
            month: m,
            teams: teamRows,
            costCenters: centres.map((c) => ({
                costCenter: c,
                usd: cents(teamRows.filter((t) => t.costCenter === c).reduce((sum, t) => sum + t.usd, 0)),
            })),
            unallocatedUsd: usdOf((r) => r.line === "unallocated"),
            idleUsd: usdOf((r) => r.line === "idle" && r.team === ""),
            totalUsd: usdOf(() => true),
        });
    }
    return months;
}

/**
 * The report as CSV (RFC 4180): one row per line of money (each team, unallocated, each pool's
 * idle), a column per category and the total, then the sources, the check and the bill.
 */
export function monthlyReportCsv(report: MonthlyReport, costCenterOf: (team: string) => string = () => ""): string {
    const rows: Array<Array<string | number>> = [
        ["month", "line", "name", "cost_center", ...CATEGORIES, "total_usd", "inputs", "usd_per_input"],
    ];
    for (const t of report.teams)
        rows.push([report.month, "team", t.team, t.costCenter, ...CATEGORIES.map((c) => t.byCategory[c]), t.totalUsd]);
    const u = report.unallocated;
    rows.push([report.month, "unallocated", "", "", ...CATEGORIES.map((c) => u.byCategory[c]), u.totalUsd]);
    for (const p of report.idle.byPool)
        rows.push([report.month, "idle", p.pool, "", ...CATEGORIES.map((c) => (c === "gpu" ? p.usd : 0)), p.usd]);
    const blank = CATEGORIES.map(() => "");
    for (const s of report.sources) rows.push([report.month, "source", s.source, "", ...blank, s.totalUsd]);
    rows.push([report.month, "check", "lines minus sources", "", ...blank, report.differenceUsd]);
    if (report.bill) {
        rows.push([report.month, "bill", report.bill.metric, "", ...blank, report.bill.totalUsd]);
        rows.push([report.month, "bill", "bill minus tracked AWS spend", "", ...blank, report.bill.differenceUsd]);
    }
    rows.push(...unitCostRows(report, costCenterOf));
    // Every row as wide as the header: the unit-cost columns are empty on the money lines.
    return (
        rows
            .map((r) => [...r, ...Array<string>(rows[0].length - r.length).fill("")].map(csvField).join(","))
            .join("\r\n") + "\r\n"
    );
}

/** A row per pipeline (with its inputs and cost per input) and per Job, after the money lines and checks. */
function unitCostRows(report: MonthlyReport, costCenterOf: (team: string) => string): Array<Array<string | number>> {
    return [
        ...report.pipelines.map((p) => [
            report.month,
            "pipeline",
            p.pipeline,
            costCenterOf(p.team),
            ...CATEGORIES.map((c) => p.byCategory[c]),
            p.totalUsd,
            p.inputs,
            p.usdPerInput ?? "",
        ]),
        ...report.jobs.map((j) => [
            report.month,
            "job",
            j.workload,
            costCenterOf(j.team),
            ...CATEGORIES.map((c) => j.byCategory[c]),
            j.totalUsd,
        ]),
    ];
}

function csvField(value: string | number): string {
    const text = String(value);
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
