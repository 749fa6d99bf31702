/**
 * The HTTP service: the /v1 API, health and readiness, metrics, the OpenAPI document generated
 * from the route schemas, and the dashboard's static assets.
 */
import fastifyStatic from "@fastify/static";
import fastifySwagger from "@fastify/swagger";
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { createHash, timingSafeEqual } from "crypto";
import * as fs from "fs";
import type { CostTrackerConfig } from "../../../../components/costs/tracker-config";
import { deliverAlerts, listAlerts, type Notifier } from "../alerts";
import { listRequests, releaseRequest, requestGpus, type GpuRequestInput } from "../approvals";
import { isDatabaseUnavailable, type Database } from "../db/database";
import { once, requestHash } from "../idempotency";
import type { Metrics } from "../metrics";
import { BadInput, NotFound, workloadKey, type UsageRecord, type WorkloadRef } from "../model";
import { addDays, monthOf, utcDay } from "../rules";
import { raiseAlerts } from "../sources/scheduler";
import { gpuHoursByPool, poolOffers, teamDailySpend, teamSummaries } from "../spend";
import { appendUsage } from "../usage";
import {
    alertSchema,
    errorSchema,
    gpuRequestBody,
    idempotencyHeaders,
    poolUsageSchema,
    requestSchema,
    spendSchema,
    teamSummarySchema,
    usageBody,
} from "./schemas";

export interface AppDeps {
    readonly config: CostTrackerConfig;
    readonly db: Database;
    /** Whether migrations have been applied on this database; /readyz also pings it. */
    readonly isMigrated: () => boolean;
    /** Bearer token every write must carry. */
    readonly apiToken: string;
    readonly notifiers: readonly Notifier[];
    readonly metrics: Metrics;
    readonly now: () => Date;
    /** The built dashboard (index.html, app.js, app.css); absent, `/` answers 404. */
    readonly publicDir?: string;
    /** Fastify's logger: false, or pino options; the bearer token is redacted either way. */
    readonly logger: boolean | Record<string, unknown>;
}

/** Write bodies: a GPU request is small, a usage batch holds up to 1000 records. */
const BODY_LIMITS = { gpuRequest: 16 * 1024, usage: 1024 * 1024 } as const;
const MAX_RANGE_DAYS = 366;

declare module "fastify" {
    interface FastifyContextConfig {
        /** Needs the bearer token. */
        write?: boolean;
    }
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
    const { config, db, metrics, now } = deps;
    const app = Fastify({
        logger:
            deps.logger === false
                ? false
                : {
                      ...(deps.logger === true ? {} : deps.logger),
                      redact: { paths: ["req.headers.authorization", "headers.authorization"], censor: "[redacted]" },
                  },
        bodyLimit: BODY_LIMITS.usage,
        // Unknown fields are errors, not silently dropped (Fastify's default removes them).
        ajv: { customOptions: { removeAdditional: false } },
    });
    const expectedToken = digest(deps.apiToken);

    await app.register(fastifySwagger, {
        openapi: {
            openapi: "3.0.3",
            info: {
                title: "GPU cost tracker",
                version: "1.0.0",
                description: "Team budgets, live spend per team, and approval of GPU requests against budget.",
            },
            components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
        },
    });
    app.addSchema(poolUsageSchema);
    app.addSchema(requestSchema);
    app.addSchema(alertSchema);

    app.addHook("onRequest", async (request, reply) => {
        if (!request.routeOptions.config.write) return;
        const header = request.headers.authorization ?? "";
        const token = header.startsWith("Bearer ") ? header.slice(7) : "";
        // Both sides hashed to the same length, so the comparison takes the same time whatever the token.
        if (!timingSafeEqual(digest(token), expectedToken)) {
            request.log.warn({ route: request.routeOptions.url }, "write refused: missing or wrong bearer token");
            return reply.code(401).header("www-authenticate", 'Bearer realm="cost-tracker"').send({
                error: "Unauthorized",
                message: "Authorization: a valid bearer token is required for writes",
                field: "Authorization",
            });
        }
    });
    app.addHook("onResponse", async (request, reply) => {
        metrics.httpDuration.observe(
            {
                method: request.method,
                route: request.routeOptions.url ?? "unmatched",
                status_code: String(reply.statusCode),
            },
            reply.elapsedTime / 1000,
        );
    });
    app.setErrorHandler((err: FastifyError, request, reply) => sendError(err, request, reply));
    // Unknown routes answer in the API's error shape too.
    app.setNotFoundHandler((request, reply) =>
        reply.code(404).send({
            error: "Not Found",
            message: `no route ${request.method} ${request.url.split("?")[0]}; see /openapi.json`,
        }),
    );

    registerOperations(app, deps);
    registerReads(app, deps);

    app.post<{ Body: GpuRequestInput; Headers: { "idempotency-key": string } }>(
        "/v1/gpu-requests",
        {
            config: { write: true },
            bodyLimit: BODY_LIMITS.gpuRequest,
            schema: {
                tags: ["approvals"],
                summary: "Ask to provision GPUs: approved (201) with a reservation, or rejected for budget (409)",
                security: [{ bearer: [] }],
                headers: idempotencyHeaders,
                body: gpuRequestBody(config),
                response: {
                    201: {
                        type: "object",
                        properties: {
                            id: { type: "string", format: "uuid" },
                            status: { type: "string", enum: ["approved"] },
                            estimatedCostUsd: { type: "number" },
                            remainingUsd: {
                                type: "number",
                                description:
                                    "What is left after this reservation; negative for a critical class approved past the budget",
                            },
                            expiresAt: { type: "string", format: "date-time" },
                            overBudget: { type: "boolean" },
                            reason: { type: "string" },
                        },
                    },
                    409: {
                        type: "object",
                        properties: {
                            id: { type: "string", format: "uuid" },
                            status: { type: "string", enum: ["rejected"] },
                            reason: { type: "string" },
                            estimatedCostUsd: { type: "number" },
                            remainingUsd: { type: "number" },
                        },
                    },
                    400: errorSchema,
                    401: errorSchema,
                    503: errorSchema,
                },
            },
        },
        async (request, reply) => {
            const decision = await requestGpus(db, config, request.body, request.headers["idempotency-key"], now());
            metrics.decisions.inc({ outcome: decision.body.status, team: request.body.team });
            if (decision.alert) {
                metrics.alerts.inc({ kind: decision.alert.kind });
                deliverAlerts(db, deps.notifiers, [decision.alert]).catch((err) =>
                    request.log.warn({ err: String(err) }, "alert not delivered"),
                );
            }
            return reply.code(decision.statusCode).send(decision.body);
        },
    );

    app.post<{ Params: { id: string }; Headers: { "idempotency-key": string } }>(
        "/v1/gpu-requests/:id/release",
        {
            config: { write: true },
            schema: {
                tags: ["approvals"],
                summary: "Release a reservation before it expires",
                security: [{ bearer: [] }],
                headers: idempotencyHeaders,
                params: { type: "object", properties: { id: { type: "string", format: "uuid" } } },
                response: {
                    200: { $ref: "GpuRequest#" },
                    400: errorSchema,
                    401: errorSchema,
                    404: errorSchema,
                    503: errorSchema,
                },
            },
        },
        async (request, reply) => {
            const answer = await releaseRequest(db, request.params.id, request.headers["idempotency-key"], now());
            return reply.code(answer.statusCode).send(answer.body);
        },
    );

    app.post<{ Body: { records: PushedRecord[] }; Headers: { "idempotency-key": string } }>(
        "/v1/usage",
        {
            config: { write: true },
            schema: {
                tags: ["spend"],
                summary: "Push usage the service cannot pull, such as AI API spend reported by a team's gateway",
                security: [{ bearer: [] }],
                headers: idempotencyHeaders,
                body: usageBody(config),
                response: {
                    201: {
                        type: "object",
                        properties: {
                            accepted: { type: "integer" },
                            days: { type: "array", items: { type: "string" } },
                        },
                    },
                    400: errorSchema,
                    401: errorSchema,
                    503: errorSchema,
                },
            },
        },
        async (request, reply) => {
            const at = now();
            const records = request.body.records.map((r, i) => toUsageRecord(r, i, at));
            const { answer, fresh } = await db.transaction((tx) =>
                once(tx, "usage", request.headers["idempotency-key"], requestHash(request.body), async () => {
                    await appendUsage(tx, "push", records, at);
                    return {
                        statusCode: 201,
                        body: { accepted: records.length, days: [...new Set(records.map((r) => r.day))].sort() },
                    };
                }),
            );
            if (fresh) {
                // The usage is committed whatever happens here: a failure to raise alerts is logged, and the next scheduled run raises them.
                try {
                    const raised = await raiseAlerts({ db, config, now, metrics });
                    deliverAlerts(db, deps.notifiers, raised).catch((err) =>
                        request.log.warn({ err: String(err) }, "alerts not delivered"),
                    );
                } catch (err) {
                    request.log.warn({ err: String(err) }, "alerts not raised after a push");
                }
            }
            return reply.code(answer.statusCode).send(answer.body);
        },
    );

    if (deps.publicDir && fs.existsSync(deps.publicDir)) {
        await app.register(fastifyStatic, { root: deps.publicDir, wildcard: false, index: "index.html" });
    } else {
        app.log.warn(
            { publicDir: deps.publicDir },
            "dashboard assets not found; build them with npm run build -w services/cost-tracker",
        );
    }
    app.get("/openapi.json", { schema: { hide: true } }, () => app.swagger());
    return app;
}

interface PushedRecord {
    team: string;
    category: UsageRecord["category"];
    amountUsd: number;
    occurredAt: string;
    pool?: string;
    gpuHours?: number;
    workload?: WorkloadRef;
    description?: string;
}

/** Spend from more than an hour ahead or more than 400 days back is a client's clock or a bug, not usage. */
function toUsageRecord(r: PushedRecord, i: number, now: Date): UsageRecord {
    const at = Date.parse(r.occurredAt);
    if (at > now.getTime() + 3_600_000)
        throw new BadInput(`records[${i}].occurredAt`, `${r.occurredAt} is in the future`);
    if (at < now.getTime() - 400 * 86_400_000)
        throw new BadInput(`records[${i}].occurredAt`, `${r.occurredAt} is more than 400 days ago`);
    return {
        day: utcDay(new Date(at)),
        team: r.team,
        category: r.category,
        amountUsd: r.amountUsd,
        pool: r.pool,
        gpuHours: r.gpuHours,
        workload: r.workload && workloadKey(r.workload),
        detail: r.description,
    };
}

function registerOperations(app: FastifyInstance, deps: AppDeps): void {
    app.get("/healthz", { schema: { hide: true } }, () => ({ status: "ok" }));
    app.get("/readyz", { schema: { hide: true } }, async (_request, reply) => {
        if (!deps.isMigrated())
            return reply
                .code(503)
                .send({ status: "not ready", reason: "database not reached or migrations not applied yet" });
        try {
            await deps.db.query("SELECT 1");
            return { status: "ready" };
        } catch (err) {
            return reply.code(503).send({
                status: "not ready",
                reason: `database unreachable: ${err instanceof Error ? err.message : String(err)}`,
            });
        }
    });
    app.get("/metrics", { schema: { hide: true } }, async (_request, reply) => {
        reply.header("content-type", deps.metrics.registry.contentType);
        return deps.metrics.registry.metrics();
    });
}

function registerReads(app: FastifyInstance, deps: AppDeps): void {
    const { config, db, now } = deps;
    const teamNames = config.teams.map((t) => t.name);
    const rangeQuery = {
        type: "object",
        properties: { from: { type: "string", format: "date" }, to: { type: "string", format: "date" } },
    } as const;

    app.get(
        "/v1/teams",
        {
            schema: {
                tags: ["spend"],
                summary: "Every team's budget, month-to-date spend, reservations, remaining and forecast",
                response: { 200: { type: "array", items: teamSummarySchema }, 503: errorSchema },
            },
        },
        async () => teamSummaries(db, now()),
    );

    app.get<{ Params: { team: string }; Querystring: { from?: string; to?: string } }>(
        "/v1/teams/:team/spend",
        {
            schema: {
                tags: ["spend"],
                summary: "A team's daily spend by category and its GPU hours by pool; default range: this month so far",
                params: { type: "object", properties: { team: { type: "string" } } },
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
                response: {
                    200: {
                        type: "object",
                        properties: {
                            from: { type: "string" },
                            to: { type: "string" },
                            pools: {
                                type: "array",
                                items: {
                                    type: "object",
                                    properties: {
                                        name: { type: "string" },
                                        instanceType: { type: "string" },
                                        gpuSharing: { type: "object", additionalProperties: true },
                                        maxNodes: { type: "integer" },
                                        resources: {
                                            type: "array",
                                            items: {
                                                type: "object",
                                                properties: {
                                                    gpuResource: { type: "string" },
                                                    fractionOfGpu: { type: "number" },
                                                    usdPerUnitHour: { type: "number" },
                                                    maxUnits: { type: "integer" },
                                                },
                                            },
                                        },
                                    },
                                },
                            },
                            gpuHoursByPool: { type: "array", items: { $ref: "PoolUsage#" } },
                            criticalPriorityClasses: {
                                type: "array",
                                items: { type: "string" },
                                description:
                                    "Priority classes approved past the budget (flagged), so a form can label them before a request",
                            },
                        },
                    },
                    400: errorSchema,
                    503: errorSchema,
                },
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
            };
        },
    );

    app.get<{ Querystring: { team?: string; limit: number } }>(
        "/v1/gpu-requests",
        {
            schema: {
                tags: ["approvals"],
                summary: "Recent decisions, newest first",
                querystring: {
                    type: "object",
                    properties: {
                        team: { type: "string", enum: teamNames },
                        limit: { type: "integer", minimum: 1, maximum: 500, default: 50 },
                    },
                },
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
                querystring: {
                    type: "object",
                    properties: {
                        team: { type: "string", enum: teamNames },
                        limit: { type: "integer", minimum: 1, maximum: 500, default: 50 },
                    },
                },
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

function digest(value: string): Buffer {
    return createHash("sha256").update(value).digest();
}

/** One line naming the field for a caller's mistake; 503 when the database is out of reach; nothing else leaks. */
function sendError(err: FastifyError, request: FastifyRequest, reply: FastifyReply) {
    const bad = (field: string, problem: string) =>
        reply.code(400).send({ error: "Bad Request", message: `${field}: ${problem}`, field });
    if (err.validation && err.validation.length > 0) {
        const issue = err.validation[0];
        const params = issue.params;
        const path = issue.instancePath
            .replace(/^\//, "")
            .replace(/\/(\d+)(?=\/|$)/g, "[$1]")
            .replace(/\//g, ".");
        const missing = typeof params.missingProperty === "string" ? params.missingProperty : undefined;
        const extra = typeof params.additionalProperty === "string" ? params.additionalProperty : undefined;
        const child = missing ?? extra;
        let field = child ? (path ? `${path}.${child}` : child) : path || err.validationContext || "body";
        if (err.validationContext === "headers" && field === "idempotency-key") field = "Idempotency-Key";
        const problem = missing
            ? "is required"
            : extra
              ? "is not a known field"
              : Array.isArray(params.allowedValues)
                ? `must be one of ${params.allowedValues.join(", ")}`
                : (issue.message ?? "is invalid");
        return bad(field, problem);
    }
    if (err instanceof BadInput) return bad(err.field, err.problem);
    if (err instanceof NotFound) return reply.code(404).send({ error: "Not Found", message: err.message });
    if (err.code === "FST_ERR_CTP_BODY_TOO_LARGE")
        return bad("body", `is larger than this route's limit of ${request.routeOptions.bodyLimit} bytes`);
    if (err.code === "FST_ERR_CTP_INVALID_JSON_BODY" || (err.statusCode === 400 && err instanceof SyntaxError))
        return bad("body", "is not valid JSON");
    if (err.code === "FST_ERR_CTP_EMPTY_JSON_BODY") return bad("body", "is empty; send a JSON object");
    if (isDatabaseUnavailable(err)) {
        request.log.error({ err: err.message }, "database unavailable");
        return reply.code(503).header("retry-after", "5").send({
            error: "Service Unavailable",
            message: "the database is unavailable; nothing was written, retry later",
        });
    }
    if (err.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE") {
        return reply.code(415).send({
            error: "Unsupported Media Type",
            message: "Content-Type: send application/json",
            field: "Content-Type",
        });
    }
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500)
        return reply.code(err.statusCode).send({ error: "Bad Request", message: err.message });
    request.log.error({ err }, "request failed");
    return reply
        .code(500)
        .send({ error: "Internal Server Error", message: "the request failed; see the service's log" });
}
