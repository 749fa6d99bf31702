/** Pushed usage: spend the service cannot pull, such as AI API spend reported by a team's gateway. */
import type { FastifyInstance } from "fastify";
import { deliverAlerts } from "../../alerts";
import type { EventFeed } from "../../events";
import { once, requestHash } from "../../idempotency";
import { BadInput, workloadKey, type UsageRecord, type WorkloadRef } from "../../model";
import { utcDay } from "../../rules";
import { raiseAlerts } from "../../sources/scheduler";
import { appendUsage } from "../../usage";
import type { AppDeps } from "../app";
import { usageAcceptedSchema, usageBody } from "../schemas";
import { writeRoute, type Authenticate } from "../write-route";

/** A usage batch holds up to 1000 records. */
const USAGE_BODY_LIMIT = 1024 * 1024;

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

export function registerUsage(app: FastifyInstance, deps: AppDeps, authenticate: Authenticate, feed: EventFeed): void {
    const { config, db, now, metrics } = deps;
    writeRoute<{ Body: { records: PushedRecord[] } }>(app, authenticate, {
        url: "/v1/usage",
        tags: ["spend"],
        summary: "Push usage the service cannot pull, such as AI API spend reported by a team's gateway",
        bodyLimit: USAGE_BODY_LIMIT,
        body: usageBody(config),
        responses: { 201: usageAcceptedSchema },
        handler: async (request, reply, key) => {
            const at = now();
            const records = request.body.records.map((r, i) => toUsageRecord(r, i, at));
            const { answer, fresh } = await db.transaction((tx) =>
                once(tx, "usage", key, requestHash(request.body), async () => {
                    await appendUsage(tx, "push", records, at);
                    return {
                        statusCode: 201,
                        body: { accepted: records.length, days: [...new Set(records.map((r) => r.day))].sort() },
                    };
                }),
            );
            feed.notify();
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
    });
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
