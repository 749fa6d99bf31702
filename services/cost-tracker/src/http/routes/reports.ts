/** Finance's read routes: the monthly reconciliation of teams, unallocated and idle with the sources and the bill. */
import type { FastifyInstance } from "fastify";
import { BadInput } from "../../model";
import { monthlyHistory, monthlyReport, monthlyReportCsv } from "../../reconciliation";
import { monthOf } from "../../rules";
import type { AppDeps } from "../app";
import { csvSchema, errorSchema, historyQuery, historySchema, monthQuery, monthlyReportSchema } from "../schemas";

/** The most months one history answers. */
const MAX_HISTORY_MONTHS = 36;

export function registerReports(app: FastifyInstance, deps: AppDeps): void {
    const { db, now } = deps;
    const pipelines = deps.config.sources.pipelineInputs?.pipelines ?? [];
    app.get<{ Querystring: { from?: string; to?: string } }>(
        "/v1/reports/history",
        {
            schema: {
                tags: ["spend"],
                summary:
                    "Monthly history per team and cost centre, with the unallocated and idle lines; default the last 12 months",
                querystring: historyQuery,
                response: { 200: historySchema, 400: errorSchema, 503: errorSchema },
            },
        },
        async (request) => {
            const to = request.query.to ?? monthOf(now()).start.slice(0, 7);
            const from = request.query.from ?? shiftMonth(to, -11);
            if (from > to) throw new BadInput("from", `${from} is after to ${to}`);
            if (shiftMonth(from, MAX_HISTORY_MONTHS - 1) < to)
                throw new BadInput("to", `${from}..${to} is more than ${MAX_HISTORY_MONTHS} months`);
            return monthlyHistory(db, from, to);
        },
    );
    app.get<{ Querystring: { month?: string } }>(
        "/v1/reports/monthly",
        {
            schema: {
                tags: ["spend"],
                summary:
                    "A month's spend per team and cost centre, the unallocated and idle lines, the sum of the sources, and the bill's total",
                querystring: monthQuery,
                response: { 200: monthlyReportSchema, 400: errorSchema, 503: errorSchema },
            },
        },
        async (request) => monthlyReport(db, request.query.month ?? monthOf(now()).start.slice(0, 7), pipelines),
    );
    app.get<{ Querystring: { month?: string } }>(
        "/v1/reports/monthly.csv",
        {
            schema: {
                tags: ["spend"],
                summary:
                    "The monthly report as CSV: a row per team, unallocated and each pool's idle, then the sources and the bill, then each pipeline (inputs, cost per input) and each Job",
                querystring: monthQuery,
                produces: ["text/csv"],
                response: { 200: csvSchema, 400: errorSchema, 503: errorSchema },
            },
        },
        async (request, reply) => {
            const month = request.query.month ?? monthOf(now()).start.slice(0, 7);
            const report = await monthlyReport(db, month, pipelines);
            const csv = monthlyReportCsv(report, (team) => report.teams.find((t) => t.team === team)?.costCenter ?? "");
            return reply
                .type("text/csv; charset=utf-8")
                .header("content-disposition", `attachment; filename="cost-report-${month}.csv"`)
                .send(csv);
        },
    );
}

function shiftMonth(month: string, by: number): string {
    const [y, m] = month.split("-").map(Number);
    const at = new Date(Date.UTC(y, m - 1 + by, 1));
    return at.toISOString().slice(0, 7);
}
