/** Finance's read routes: the monthly reconciliation of teams, unallocated and idle with the sources and the bill. */
import type { FastifyInstance } from "fastify";
import { monthlyReport, monthlyReportCsv } from "../../reconciliation";
import { monthOf } from "../../rules";
import type { AppDeps } from "../app";
import { csvSchema, errorSchema, monthQuery, monthlyReportSchema } from "../schemas";

export function registerReports(app: FastifyInstance, deps: AppDeps): void {
    const { db, now } = deps;
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
        async (request) => monthlyReport(db, request.query.month ?? monthOf(now()).start.slice(0, 7)),
    );
    app.get<{ Querystring: { month?: string } }>(
        "/v1/reports/monthly.csv",
        {
            schema: {
                tags: ["spend"],
                summary:
                    "The monthly report as CSV: a row per team, unallocated and each pool's idle, then the sources and the bill",
                querystring: monthQuery,
                produces: ["text/csv"],
                response: { 200: csvSchema, 400: errorSchema, 503: errorSchema },
            },
        },
        async (request, reply) => {
            const month = request.query.month ?? monthOf(now()).start.slice(0, 7);
            const csv = monthlyReportCsv(await monthlyReport(db, month));
            return reply
                .type("text/csv; charset=utf-8")
                .header("content-disposition", `attachment; filename="cost-report-${month}.csv"`)
                .send(csv);
        },
    );
}
