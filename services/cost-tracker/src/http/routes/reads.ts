/** The read routes: budgets and spend per team, pools, recent decisions and alerts. No credential needed. */
import type { FastifyInstance } from "fastify";
import { TRACKER_DEFAULTS } from "@gpu-platform/catalog/contracts";
import { listAlerts } from "../../alerts";
import { listRequests } from "../../approvals";
import { BadInput, NotFound } from "../../model";
import { addDays, monthOf, utcDay } from "../../rules";
import { gpuHoursByPool, poolOffers, teamDailySpend, teamSummaries } from "../../spend";
import type { AppDeps } from "../app";
import {
    errorSchema,
    poolsSchema,
    rangeQuery,
    recentQuery,
    spendSchema,
    teamParams,
    teamSummarySchema,
} from "../schemas";

const MAX_RANGE_DAYS = 366;

export function registerReads(app: FastifyInstance, deps: AppDeps): void {
    registerSpendReads(app, deps);
    registerRecentReads(app, deps);
}

/** Budgets and spend: per team, per day, per pool. */
function registerSpendReads(app: FastifyInstance, deps: AppDeps): void {
    const { config, db, now } = deps;
    const teamNames = config.teams.map((t) => t.name);

    app.get(
        "/v1/teams",
        {
            schema: {
                tags: ["spend"],
                summary: "Every team's budget, month-to-date spend, reservations, remaining and forecast",
                response: { 200: { type: "array", items: teamSummarySchema }, 503: errorSchema },
            },
        },
        // One snapshot: spend and reservations read together, as a reader must see them (the gate's circuit breaker reads this).
        async () => db.snapshot((tx) => teamSummaries(tx, now())),
    );

    app.get<{ Params: { team: string }; Querystring: { from?: string; to?: string } }>(
        "/v1/teams/:team/spend",
        {
            schema: {
                tags: ["spend"],
                summary: "A team's daily spend by category and its GPU hours by pool; default range: this month so far",
                params: teamParams,
                querystring: rangeQuery,
                response: { 200: spendSchema, 400: errorSchema, 404: errorSchema, 503: errorSchema },
            },
        },
        async (request) => {
            const { team } = request.params;
            if (!teamNames.includes(team)) throw new NotFound(`no team "${team}"; known: ${teamNames.join(", ")}`);
            const { from, to } = resolveRange(request.query, now());
            const [spend, pools] = await Promise.all([
                teamDailySpend(db, team, from, to),
                gpuHoursByPool(db, from, to, team),
            ]);
            return { team, from, to, ...spend, gpuHoursByPool: pools };
        },
    );

    app.get<{ Querystring: { from?: string; to?: string } }>(
        "/v1/pools",
        {
            schema: {
                tags: ["spend"],
                summary:
                    "GPU pools, the resources each offers with their catalog price per unit-hour, and GPU hours by pool over the range (default: this month)",
                querystring: rangeQuery,
                response: { 200: poolsSchema, 400: errorSchema, 503: errorSchema },
            },
        },
        async (request) => {
            const { from, to } = resolveRange(request.query, now());
            return {
                from,
                to,
                pools: poolOffers(config),
                gpuHoursByPool: await gpuHoursByPool(db, from, to),
                criticalPriorityClasses: config.criticalPriorityClasses,
                criticalApprovers: config.criticalApprovers ?? TRACKER_DEFAULTS.criticalApprovers,
            };
        },
    );
}

/** The latest decisions and alerts. */
function registerRecentReads(app: FastifyInstance, deps: AppDeps): void {
    const { config, db, now } = deps;

    app.get<{ Querystring: { team?: string; limit: number } }>(
        "/v1/gpu-requests",
        {
            schema: {
                tags: ["approvals"],
                summary: "Recent decisions, newest first",
                querystring: recentQuery(config),
                response: {
                    200: { type: "array", items: { $ref: "GpuRequest#" } },
                    400: errorSchema,
                    503: errorSchema,
                },
            },
        },
        async (request) => listRequests(db, request.query, now()),
    );

    app.get<{ Querystring: { team?: string; limit: number } }>(
        "/v1/alerts",
        {
            schema: {
                tags: ["spend"],
                summary: "Recent alerts, newest first",
                querystring: recentQuery(config),
                response: { 200: { type: "array", items: { $ref: "Alert#" } }, 400: errorSchema, 503: errorSchema },
            },
        },
        async (request) => listAlerts(db, request.query),
    );
}

function resolveRange(query: { from?: string; to?: string }, now: Date): { from: string; to: string } {
    const to = query.to ?? utcDay(now);
    const from =
        query.from ?? (query.to ? addDays(to, 1 - new Date(`${to}T00:00:00Z`).getUTCDate()) : monthOf(now).start);
    if (from > to) throw new BadInput("from", `${from} is after to ${to}`);
    if (addDays(from, MAX_RANGE_DAYS) <= to)
        throw new BadInput("to", `the range ${from}..${to} is longer than ${MAX_RANGE_DAYS} days`);
    return { from, to };
}
