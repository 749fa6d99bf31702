/** Finance's read routes: the monthly reconciliation of teams, unallocated and idle with the sources and the bill. */
import type { FastifyInstance } from "fastify";
import { monthlyReport } from "../../reconciliation";
import { monthOf } from "../../rules";
import type { AppDeps } from "../app";
import { errorSchema, monthQuery, monthlyReportSchema } from "../schemas";

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
}
