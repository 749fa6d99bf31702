/**
 * The dashboard: reads the service's own /v1 API and draws it with Chart.js, bundled into
 * app.js at build time (no CDN: the service runs inside a VPC). Every figure shown carries its
 * exact value in a data-usd attribute, so a test can compare the page with the API.
 */
import { Chart, registerables } from "chart.js";
import type { AlertRow, DailySpend, PoolUsage, RequestRow, TeamSummary } from "../src/api-types";
import { CATEGORIES } from "../src/model";
import {
    CATEGORY_LABELS,
    COLORS,
    addCsvButtons,
    cell,
    formatAmounts,
    get,
    hours,
    isoMinute,
    money,
    usdCell,
} from "./dom";
import { renderFinance } from "./finance";

Chart.register(...registerables);

/** The forecast's point with its range beneath; a dash without enough history (see rules.ts). */
function forecastCell(t: TeamSummary): HTMLTableCellElement {
    const f = t.forecast;
    if (f.pointUsd === null || f.lowUsd === null || f.highUsd === null)
        return cell("—", {
            "data-testid": `${t.name}-forecast`,
            title: `no forecast: ${f.historyDays} complete days of history`,
        });
    const td = usdCell(f.pointUsd, `${t.name}-forecast`, f.pointUsd > t.monthlyBudgetUsd ? "over" : "");
    const range = document.createElement("small");
    range.className = "range";
    range.dataset.testid = `${t.name}-forecast-range`;
    range.textContent = `${f.confidencePct} %: ${money.format(f.lowUsd)}–${money.format(f.highUsd)}`;
    td.append(document.createElement("br"), range);
    td.title = `as of ${f.asOfDay} (UTC), from ${f.historyDays} complete days`;
    return td;
}

function renderBudgets(teams: TeamSummary[]): void {
    const body = document.querySelector("#budgets tbody")!;
    body.replaceChildren(
        ...teams.map((t) => {
            const row = document.createElement("tr");
            row.dataset.team = t.name;
            const util = t.gpuUtilisation;
            row.append(
                cell(`${t.name} (${t.costCenter})`),
                usdCell(t.monthlyBudgetUsd, `${t.name}-budget`),
                usdCell(t.monthToDateUsd, `${t.name}-spent`),
                usdCell(t.reservedUsd, `${t.name}-reserved`),
                usdCell(t.remainingUsd, `${t.name}-remaining`, t.remainingUsd < 0 ? "over" : ""),
                forecastCell(t),
                cell(
                    util && util.averagePct !== null
                        ? `${util.averagePct} % of ${util.gpusReporting} GPUs (${util.gpusRequested} requested)`
                        : "—",
                ),
            );
            return row;
        }),
    );
    new Chart(document.getElementById("budget-chart") as HTMLCanvasElement, {
        type: "bar",
        data: {
            labels: teams.map((t) => t.name),
            datasets: [
                {
                    label: "Spent",
                    data: teams.map((t) => t.monthToDateUsd),
                    backgroundColor: COLORS.gpu,
                    stack: "budget",
                },
                {
                    label: "Reserved",
                    data: teams.map((t) => t.reservedUsd),
                    backgroundColor: COLORS.reserved,
                    stack: "budget",
                },
                {
                    label: "Remaining",
                    data: teams.map((t) => Math.max(0, t.remainingUsd)),
                    backgroundColor: COLORS.remaining,
                    stack: "budget",
                },
                {
                    label: "Forecast",
                    data: teams.map((t) => t.forecastUsd ?? 0),
                    backgroundColor: COLORS.forecast,
                    stack: "forecast",
                    barPercentage: 0.35,
                },
                // The budget as a mark across each team's bars, so spend past it shows.
                {
                    type: "line",
                    label: "Budget",
                    data: teams.map((t) => t.monthlyBudgetUsd),
                    stack: "budget-mark",
                    showLine: false,
                    pointStyle: "line",
                    pointRotation: 90,
                    indexAxis: "y",
                    pointRadius: 16,
                    pointHoverRadius: 16,
                    borderWidth: 3,
                    borderColor: COLORS.budget,
                    backgroundColor: COLORS.budget,
                },
            ],
        },
        options: {
            indexAxis: "y",
            maintainAspectRatio: false,
            animation: false,
            scales: {
                x: { stacked: true, ticks: { callback: (v) => money.format(Number(v)).replace(/\.00$/, "") } },
                y: { stacked: true },
            },
        },
    });
}

function renderDaily(team: string, spend: { days: DailySpend[] }): void {
    const box = document.createElement("div");
    box.dataset.team = team;
    const title = document.createElement("h3");
    title.textContent = team;
    const holder = document.createElement("div");
    holder.className = "chart";
    const canvas = document.createElement("canvas");
    canvas.setAttribute("aria-label", `Daily spend of ${team}`);
    holder.append(canvas);
    box.append(title, holder);
    document.getElementById("daily-charts")!.append(box);
    new Chart(canvas, {
        type: "bar",
        data: {
            labels: spend.days.map((d) => d.day.slice(5)),
            datasets: CATEGORIES.map((c) => ({
                label: CATEGORY_LABELS[c],
                data: spend.days.map((d) => d.byCategory[c]),
                backgroundColor: COLORS[c],
            })),
        },
        options: {
            maintainAspectRatio: false,
            animation: false,
            scales: { x: { stacked: true }, y: { stacked: true } },
        },
    });
}

function renderPools(pools: PoolUsage[]): void {
    document.querySelector("#pools tbody")!.replaceChildren(
        ...pools.map((p) => {
            const row = document.createElement("tr");
            row.append(
                cell(p.pool),
                cell(hours.format(p.gpuHours), {
                    "data-testid": `${p.pool}-gpu-hours`,
                    "data-hours": String(p.gpuHours),
                }),
                usdCell(p.gpuUsd, `${p.pool}-gpu-usd`),
            );
            return row;
        }),
    );
    new Chart(document.getElementById("pool-chart") as HTMLCanvasElement, {
        type: "bar",
        data: {
            labels: pools.map((p) => p.pool),
            datasets: [{ label: "GPU hours", data: pools.map((p) => p.gpuHours), backgroundColor: COLORS.gpu }],
        },
        options: { maintainAspectRatio: false, animation: false },
    });
}

function renderDecisions(decisions: RequestRow[]): void {
    document.querySelector("#decisions tbody")!.replaceChildren(
        ...decisions.map((d) => {
            const row = document.createElement("tr");
            row.dataset.id = d.id;
            const verdict = cell(
                d.status === "approved" ? (d.overBudget ? "approved past budget" : "approved") : "rejected",
                { class: d.status, title: d.reason },
            );
            row.append(
                cell(isoMinute(d.createdAt), { "data-testid": `decision-${d.id}-at` }),
                cell(d.team),
                cell(`${d.gpus} × ${d.gpuResource} on ${d.pool}, ${d.hours} h`),
                cell(d.priorityClass),
                cell(d.requester),
                verdict,
                usdCell(d.estimatedCostUsd, `decision-${d.id}-estimate`, "num"),
                cell(d.reservation ?? "—"),
            );
            return row;
        }),
    );
}

function renderAlerts(alerts: AlertRow[]): void {
    const list = document.getElementById("alerts")!;
    if (alerts.length === 0) {
        list.replaceChildren(Object.assign(document.createElement("li"), { textContent: "No alerts." }));
        return;
    }
    list.replaceChildren(
        ...alerts.map((a) => {
            const item = document.createElement("li");
            const kind = Object.assign(document.createElement("span"), { className: "kind", textContent: a.kind });
            item.append(kind, `${isoMinute(a.createdAt)} — ${formatAmounts(a.message)}`);
            return item;
        }),
    );
}

async function load(): Promise<void> {
    const [teams, pools, decisions, alerts] = await Promise.all([
        get<TeamSummary[]>("/v1/teams"),
        get<{ gpuHoursByPool: PoolUsage[] }>("/v1/pools"),
        get<RequestRow[]>("/v1/gpu-requests?limit=20"),
        get<AlertRow[]>("/v1/alerts?limit=20"),
    ]);
    renderBudgets(teams);
    const spends = await Promise.all(
        teams.map((t) => get<{ days: DailySpend[] }>(`/v1/teams/${encodeURIComponent(t.name)}/spend`)),
    );
    teams.forEach((t, i) => renderDaily(t.name, spends[i]));
    renderPools(pools.gpuHoursByPool);
    renderDecisions(decisions);
    renderAlerts(alerts);
    await renderFinance(teams, spends);
    addCsvButtons(teams[0]?.month ?? "");
    const asOf = document.getElementById("as-of")!;
    asOf.textContent = `${teams[0]?.month ?? ""} · as of ${isoMinute(new Date())} · amounts in USD`;
    document.body.dataset.loaded = "true";
}

load().catch((err: Error) => {
    document.getElementById("as-of")!.textContent = `Could not load: ${err.message}`;
    document.body.dataset.loaded = "error";
});
