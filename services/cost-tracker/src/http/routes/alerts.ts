/** The alert a caller raises: the budget gate's overruns, stored and delivered as the tracker's own alerts are. */
import type { FastifyInstance } from "fastify";
import { deliverAlerts } from "../../alerts";
import { type OverrunReport, recordOverrun } from "../../overrun-alerts";
import type { AppDeps } from "../app";
import { overrunAlertBody } from "../schemas";
import { writeRoute, type WriteGuard } from "../write-route";

/** A report names at most 100 workloads. */
const OVERRUN_BODY_LIMIT = 64 * 1024;

export function registerAlerts(app: FastifyInstance, deps: AppDeps, guard: WriteGuard): void {
    const { config, db, metrics, now } = deps;
    writeRoute<{ Body: OverrunReport }>(app, guard, {
        url: "/v1/alerts",
        tags: ["alerts"],
        summary:
            "Record a budget overrun the budget gate observed: a new alert (201, then delivered to the notifiers), or the one already stored for it (200)",
        bodyLimit: OVERRUN_BODY_LIMIT,
        // The gate (the platform's credential) and the admin: a team must not raise or silence alerts about itself.
        callers: ["admin", "platform"],
        teams: (request) => [request.body.team],
        auditTarget: (_request, answer) => (typeof answer?.id === "number" ? `alert ${answer.id}` : undefined),
        body: overrunAlertBody(config),
        responses: { 200: { $ref: "Alert#" }, 201: { $ref: "Alert#" } },
        handler: async (request, reply, key) => {
            const { answer, raised } = await recordOverrun(db, request.body, key, now());
            if (raised) {
                metrics.alerts.inc({ kind: raised.kind });
                deliverAlerts(db, deps.notifiers, [raised]).catch((err) =>
                    request.log.warn({ err: String(err) }, "alert not delivered"),
                );
            }
            return reply.code(answer.statusCode).send(answer.body);
        },
    });
}
