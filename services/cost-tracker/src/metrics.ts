/**
 * Prometheus metrics at /metrics (prom-client): spend and budget use per team (read from the
 * database at scrape time), decisions by outcome, request latency, source runs, alerts.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { TeamSummary } from "./api-types";

export interface Metrics {
    readonly registry: Registry;
    readonly decisions: Counter<"outcome" | "team">;
    readonly httpDuration: Histogram<"method" | "route" | "status_code">;
    readonly sourceRuns: Counter<"source" | "outcome">;
    readonly alerts: Counter<"kind">;
}

/** `summaries` is called on each scrape; when it throws (database down) the team gauges are left out of that scrape. */
export function createMetrics(summaries: () => Promise<TeamSummary[]>): Metrics {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    const perTeam = (name: string, help: string, pick: (t: TeamSummary) => number) =>
        new Gauge({
            name,
            help,
            labelNames: ["team"],
            registers: [registry],
            async collect() {
                this.reset();
                for (const team of await summaries().catch(() => [])) this.set({ team: team.name }, pick(team));
            },
        });
    perTeam("cost_tracker_team_month_to_date_usd", "Spend this month so far, USD", (t) => t.monthToDateUsd);
    perTeam("cost_tracker_team_reserved_usd", "Budget held by live reservations, USD", (t) => t.reservedUsd);
    perTeam("cost_tracker_team_budget_usd", "Monthly budget, USD", (t) => t.monthlyBudgetUsd);
    perTeam("cost_tracker_team_forecast_usd", "Month-end forecast, USD", (t) => t.forecastUsd ?? Number.NaN);
    perTeam(
        "cost_tracker_team_budget_used_ratio",
        "Month-to-date spend over the budget",
        (t) => t.monthToDateUsd / t.monthlyBudgetUsd,
    );
    return {
        registry,
        decisions: new Counter({
            name: "cost_tracker_gpu_request_decisions_total",
            help: "GPU request decisions",
            labelNames: ["outcome", "team"],
            registers: [registry],
        }),
        httpDuration: new Histogram({
            name: "cost_tracker_http_request_duration_seconds",
            help: "HTTP request latency",
            labelNames: ["method", "route", "status_code"],
            buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
            registers: [registry],
        }),
        sourceRuns: new Counter({
            name: "cost_tracker_source_runs_total",
            help: "Source runs by outcome",
            labelNames: ["source", "outcome"],
            registers: [registry],
        }),
        alerts: new Counter({
            name: "cost_tracker_alerts_total",
            help: "Alerts raised",
            labelNames: ["kind"],
            registers: [registry],
        }),
    };
}
