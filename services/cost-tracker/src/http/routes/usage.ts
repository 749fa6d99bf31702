/** Pushed usage: spend the service cannot pull, such as AI API spend reported by a team's gateway. */
import type { FastifyInstance } from "fastify";
import { deliverAlerts } from "../../alerts";
import type { EventFeed } from "../../events";
import { once, requestHash } from "../../idempotency";
import { pushedRecords, type PushedBatch } from "../../push";
import { raiseAlerts } from "../../sources/scheduler";
import { upsertPushedUsage } from "../../usage";
import type { AppDeps } from "../app";
import { usageAcceptedSchema, usageBody } from "../schemas";
import { writeRoute, type WriteGuard } from "../write-route";

/** A usage batch holds up to 1000 records. */
const USAGE_BODY_LIMIT = 1024 * 1024;

export function registerUsage(app: FastifyInstance, deps: AppDeps, guard: WriteGuard, feed: EventFeed): void {
    const { config, db, now, metrics } = deps;
    writeRoute<{ Body: PushedBatch }>(app, guard, {
        url: "/v1/usage",
        tags: ["spend"],
        summary: "Push usage the service cannot pull, such as AI API spend reported by a team's gateway",
        bodyLimit: USAGE_BODY_LIMIT,
        // The portal asks for GPUs for people; spend comes from the teams' pushers, the platform and the admin.
        callers: ["admin", "platform", "team"],
        teams: (request) => [...new Set(request.body.records.map((r) => r.team))],
        auditTarget: (request) => `${request.body.records.length} records`,
        body: usageBody(config),
        responses: { 201: usageAcceptedSchema },
        handler: async (request, reply, key) => {
            const at = now();
            const { source, records } = pushedRecords(request.body, config, at);
            const { answer, fresh } = await db.transaction((tx) =>
                once(tx, "usage", key, requestHash(request.body), async () => {
                    await upsertPushedUsage(tx, source, records, at);
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
