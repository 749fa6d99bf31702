/**
 * The finance views: each team's spend against its budget over the month (the budget a line,
 * the forecast's range at the month's end), the month's report (every team, the unallocated line
 * and each pool's idle line, checked against the sources and the bill), the cost centres, and the
 * monthly history per team and per cost centre. Everything comes from the API: /v1/reports/monthly
 * (its CSV is the report's download), /v1/reports/history and the teams' daily spend.
 */
import { Chart } from "chart.js";
import type { DailySpend, TeamSummary } from "../src/api-types";
import { CATEGORIES } from "../src/model";
import type { MonthTotals, MonthlyReport } from "../src/reconciliation";
import { CATEGORY_LABELS, COLORS, cell, get, money, usdCell } from "./dom";

export async function renderFinance(teams: TeamSummary[], spends: { days: DailySpend[] }[]): Promise<void> {
    const month = teams[0]?.month ?? "";
    const [report, history] = await Promise.all([
        get<MonthlyReport>(`/v1/reports/monthly?month=${month}`),
        get<MonthTotals[]>(`/v1/reports/history?to=${month}`),
    ]);
    document.getElementById("report-month")!.textContent = month;
    const csv = document.getElementById("report-csv") as HTMLAnchorElement;
    csv.href = `/v1/reports/monthly.csv?month=${month}`;
    teams.forEach((t, i) => renderBudgetLine(t, spends[i].days));
    renderReport(report);
    renderCostCentres(report);
    renderUnitCosts(report);
    renderHistory(history);
}

/** The costliest Jobs the page lists; the report's CSV has them all. */
const MAX_JOBS_SHOWN = 25;

/** A price per input to the tenth of a cent: "$0.169" (the exact figure stays in data-usd). */
const perInput = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", maximumFractionDigits: 4 });

function renderUnitCosts(report: MonthlyReport): void {
    const none = (table: string, text: string) =>
        document.querySelector(`#${table} tbody`)!.replaceChildren(row([cell(text, { colspan: "8", class: "muted" })]));
    if (report.pipelines.length === 0) none("pipeline-costs", "No pipeline configured (sources.pipelineInputs).");
    else
        document.querySelector("#pipeline-costs tbody")!.replaceChildren(
            ...report.pipelines.map((p) => {
                const id = `pipeline-${p.pipeline}`;
                const unit =
                    p.usdPerInput === null
                        ? cell("—", { "data-testid": `${id}-per-input`, title: "no input completed this month" })
                        : cell(perInput.format(p.usdPerInput), {
                              "data-testid": `${id}-per-input`,
                              "data-usd": String(p.usdPerInput),
                          });
                return row([
                    cell(p.pipeline),
                    cell(p.team),
                    usdCell(p.byCategory.gpu, `${id}-gpu`),
                    usdCell(p.byCategory["cpu-memory"], `${id}-cpu-memory`),
                    usdCell(p.byCategory.storage, `${id}-storage`),
                    usdCell(p.totalUsd, `${id}-total`),
                    cell(p.inputs.toLocaleString("en-US"), {
                        "data-testid": `${id}-inputs`,
                        "data-count": String(p.inputs),
                    }),
                    unit,
                ]);
            }),
        );
    if (report.jobs.length === 0) none("job-costs", "No Job spent this month.");
    else
        document
            .querySelector("#job-costs tbody")!
            .replaceChildren(
                ...report.jobs
                    .slice(0, MAX_JOBS_SHOWN)
                    .map((j) =>
                        row(
                            [
                                cell(j.workload),
                                cell(j.team),
                                cell(String(j.gpuHours), { "data-hours": String(j.gpuHours) }),
                                usdCell(j.byCategory.gpu, `job-${j.workload}-gpu`),
                                usdCell(j.totalUsd, `job-${j.workload}-total`),
                            ],
                            { "data-workload": j.workload },
                        ),
                    ),
            );
    document.getElementById("jobs-shown")!.textContent =
        report.jobs.length > MAX_JOBS_SHOWN
            ? `The ${MAX_JOBS_SHOWN} costliest of ${report.jobs.length} Jobs; the report's CSV holds every one.`
            : "";
}

/** Cumulative spend per day of the month so far; null for the days still to come, so the line stops there. */
export function cumulativeSpend(month: string, days: readonly DailySpend[]): Array<number | null> {
    const byDay = new Map(days.map((d) => [d.day, d.totalUsd]));
    let total = 0;
    const lastDay = days.length ? days[days.length - 1].day : "";
    return monthDays(month).map((day) => {
        if (day > lastDay) return null;
        total += byDay.get(day) ?? 0;
        return Math.round(total * 100) / 100;
    });
}

function monthDays(month: string): string[] {
    const [y, m] = month.split("-").map(Number);
    const count = new Date(Date.UTC(y, m, 0)).getUTCDate();
    return Array.from({ length: count }, (_, i) => `${month}-${String(i + 1).padStart(2, "0")}`);
}

/** One chart per team: spend so far, the budget as a flat line, and the forecast's point and range at the month's end. */
function renderBudgetLine(team: TeamSummary, days: readonly DailySpend[]): void {
    const spent = cumulativeSpend(team.month, days);
    const labels = monthDays(team.month).map((d) => d.slice(8));
    const last = spent.reduce<number>((at, v, i) => (v === null ? at : i), 0);
    const f = team.forecast;
    const atMonthEnd = (value: number | null) =>
        spent.map((_, i) => (value === null ? null : i === last ? spent[last] : i === spent.length - 1 ? value : null));
    const box = document.createElement("div");
    box.dataset.team = team.name;
    box.dataset.testid = `${team.name}-budget-line`;
    box.dataset.cumulative = JSON.stringify(spent);
    box.dataset.budget = String(team.monthlyBudgetUsd);
    const title = Object.assign(document.createElement("h3"), { textContent: team.name });
    const holder = Object.assign(document.createElement("div"), { className: "chart" });
    const canvas = document.createElement("canvas");
    canvas.setAttribute("aria-label", `Spend of ${team.name} against its budget over ${team.month}`);
    holder.append(canvas);
    box.append(title, holder);
    document.getElementById("budget-lines")!.append(box);
    const line = { pointRadius: 0, borderWidth: 2, spanGaps: true };
    new Chart(canvas, {
        type: "line",
        data: {
            labels,
            datasets: [
                { ...line, label: "Spent", data: spent, borderColor: COLORS.gpu, backgroundColor: COLORS.gpu },
                {
                    ...line,
                    label: "Budget",
                    data: labels.map(() => team.monthlyBudgetUsd),
                    borderColor: COLORS.budget,
                    backgroundColor: COLORS.budget,
                },
                {
                    ...line,
                    label: `Forecast (${f.confidencePct} % range)`,
                    data: atMonthEnd(f.pointUsd),
                    borderColor: COLORS.forecast,
                    borderDash: [6, 4],
                },
                { ...line, label: "Low", data: atMonthEnd(f.lowUsd), borderColor: COLORS.remaining, borderWidth: 1 },
                {
                    ...line,
                    label: "High",
                    data: atMonthEnd(f.highUsd),
                    borderColor: COLORS.remaining,
                    borderWidth: 1,
                    fill: "-1",
                    backgroundColor: "rgba(29, 36, 51, 0.08)",
                },
            ],
        },
        options: {
            maintainAspectRatio: false,
            animation: false,
            plugins: { legend: { labels: { filter: (item) => item.text !== "Low" && item.text !== "High" } } },
            scales: { y: { ticks: { callback: (v) => money.format(Number(v)).replace(/\.00$/, "") } } },
        },
    });
}

function row(cells: HTMLTableCellElement[], attrs: Record<string, string> = {}): HTMLTableRowElement {
    const tr = document.createElement("tr");
    for (const [k, v] of Object.entries(attrs)) tr.setAttribute(k, v);
    tr.append(...cells);
    return tr;
}

function headerRow(labels: readonly string[]): HTMLTableRowElement {
    const tr = document.createElement("tr");
    tr.append(...labels.map((l) => Object.assign(document.createElement("th"), { textContent: l })));
    return tr;
}

/** The month's lines: each team, unallocated and each pool's idle, by category; then the checks. */
function renderReport(report: MonthlyReport): void {
    const table = document.getElementById("report-lines") as HTMLTableElement;
    table.tHead!.replaceChildren(
        headerRow(["Line", "Cost centre", ...CATEGORIES.map((c) => CATEGORY_LABELS[c]), "Total"]),
    );
    const byCategory = (id: string, amounts: Record<string, number>) =>
        CATEGORIES.map((c) => usdCell(amounts[c], `${id}-${c}`));
    const idleOnly = (usd: number) => Object.fromEntries(CATEGORIES.map((c) => [c, c === "gpu" ? usd : 0]));
    table.tBodies[0].replaceChildren(
        ...report.teams.map((t) =>
            row(
                [
                    cell(t.team),
                    cell(t.costCenter),
                    ...byCategory(`report-${t.team}`, t.byCategory),
                    usdCell(t.totalUsd, `report-${t.team}-total`),
                ],
                {
                    "data-line": "team",
                },
            ),
        ),
        row(
            [
                cell("Unallocated"),
                cell("—"),
                ...byCategory("report-unallocated", report.unallocated.byCategory),
                usdCell(report.unallocated.totalUsd, "report-unallocated-total"),
            ],
            { "data-line": "unallocated" },
        ),
        ...report.idle.byPool.map((p) =>
            row(
                [
                    cell(`Idle: ${p.pool}`),
                    cell("—"),
                    ...byCategory(`report-idle-${p.pool}`, idleOnly(p.usd)),
                    usdCell(p.usd, `report-idle-${p.pool}-total`),
                ],
                {
                    "data-line": "idle",
                },
            ),
        ),
    );
    const blank = CATEGORIES.map(() => cell(""));
    table.tFoot!.replaceChildren(
        row([
            cell("All lines"),
            cell(""),
            ...blank.map((c) => c.cloneNode() as HTMLTableCellElement),
            usdCell(report.linesTotalUsd, "report-lines-total"),
        ]),
        row([
            cell("Sum of the sources"),
            cell(""),
            ...blank.map((c) => c.cloneNode() as HTMLTableCellElement),
            usdCell(report.sourcesTotalUsd, "report-sources-total"),
        ]),
    );
    const check = document.getElementById("report-check")!;
    const parts = [`Lines minus sources: ${money.format(report.differenceUsd)}.`];
    if (report.bill)
        parts.push(
            `Bill (${report.bill.metric}): ${money.format(report.bill.totalUsd)}, ${money.format(report.bill.differenceUsd)} more than the AWS spend tracked` +
                (report.bill.estimatedDays.length
                    ? `; ${report.bill.estimatedDays.length} days still estimated.`
                    : "."),
        );
    else parts.push("No bill on record for the month.");
    check.textContent = parts.join(" ");
}

function renderCostCentres(report: MonthlyReport): void {
    const table = document.getElementById("cost-centres") as HTMLTableElement;
    table.tBodies[0].replaceChildren(
        ...report.costCenters.map((c) => {
            const teams = report.teams.filter((t) => t.costCenter === c.costCenter).map((t) => t.team);
            return row([
                cell(c.costCenter),
                cell(teams.join(", ")),
                usdCell(c.totalUsd, `centre-${c.costCenter}-total`),
            ]);
        }),
    );
}

/**
 * Month by month from the first month with spend (the last one alone if none has any): a column
 * per team (or cost centre), then the unallocated and idle lines and the total.
 */
function renderHistory(all: MonthTotals[]): void {
    const first = all.findIndex((m) => m.totalUsd !== 0);
    const history = first < 0 ? all.slice(-1) : all.slice(first);
    const teams = history[0]?.teams.map((t) => t.team) ?? [];
    const centres = history[0]?.costCenters.map((c) => c.costCenter) ?? [];
    const fill = (id: string, names: string[], amounts: (m: MonthTotals) => number[]) => {
        const table = document.getElementById(id) as HTMLTableElement;
        table.tHead!.replaceChildren(headerRow(["Month", ...names, "Unallocated", "Idle", "Total"]));
        table.tBodies[0].replaceChildren(
            ...history.map((m) =>
                row(
                    [
                        cell(m.month),
                        ...amounts(m).map((usd, i) => usdCell(usd, `${id}-${m.month}-${names[i]}`)),
                        usdCell(m.unallocatedUsd, `${id}-${m.month}-unallocated`),
                        usdCell(m.idleUsd, `${id}-${m.month}-idle`),
                        usdCell(m.totalUsd, `${id}-${m.month}-total`),
                    ],
                    { "data-month": m.month },
                ),
            ),
        );
    };
    fill("history-teams", teams, (m) => teams.map((t) => m.teams.find((x) => x.team === t)?.usd ?? 0));
    fill("history-centres", centres, (m) =>
        centres.map((c) => m.costCenters.find((x) => x.costCenter === c)?.usd ?? 0),
    );
    renderHistoryChart(history, teams);
}

function renderHistoryChart(history: MonthTotals[], teams: string[]): void {
    const palette = [
        COLORS.gpu,
        COLORS["cpu-memory"],
        COLORS.storage,
        COLORS.network,
        COLORS["ai-api"],
        COLORS.forecast,
    ];
    const series = [
        ...teams.map((t, i) => ({
            label: t,
            data: history.map((m) => m.teams.find((x) => x.team === t)?.usd ?? 0),
            backgroundColor: palette[i % palette.length],
        })),
        { label: "Unallocated", data: history.map((m) => m.unallocatedUsd), backgroundColor: COLORS["other-aws"] },
        { label: "Idle", data: history.map((m) => m.idleUsd), backgroundColor: COLORS.remaining },
    ];
    new Chart(document.getElementById("history-chart") as HTMLCanvasElement, {
        type: "bar",
        data: { labels: history.map((m) => m.month), datasets: series },
        options: {
            maintainAspectRatio: false,
            animation: false,
            scales: {
                x: { stacked: true },
                y: { stacked: true, ticks: { callback: (v) => money.format(Number(v)).replace(/\.00$/, "") } },
            },
        },
    });
}
