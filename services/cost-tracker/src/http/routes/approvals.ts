/** The approval routes: ask for GPUs (a reservation, or a rejection for budget) and release a reservation. */
import type { FastifyInstance } from "fastify";
import { deliverAlerts } from "../../alerts";
import { releaseRequest, releaseWorkload, requestGpus, teamOfRequest, type GpuRequestInput } from "../../approvals";
import type { EventFeed } from "../../events";
import type { AppDeps } from "../app";
import {
    adoptedSchema,
    approvedSchema,
    errorSchema,
    gpuRequestBody,
    rejectedSchema,
    requestIdParams,
    workloadReleaseBody,
    workloadReleasedSchema,
} from "../schemas";
import { TRACKER_DEFAULTS } from "@gpu-platform/catalog/contracts";
import { writeRoute, type WriteGuard } from "../write-route";

/** A GPU request is small. */
const GPU_REQUEST_BODY_LIMIT = 16 * 1024;
/** A release carries no body. */
const RELEASE_BODY_LIMIT = 1024;

export function registerApprovals(app: FastifyInstance, deps: AppDeps, guard: WriteGuard, feed: EventFeed): void {
    registerRequest(app, deps, guard);
    registerReleases(app, deps, guard, feed);
}

function registerRequest(app: FastifyInstance, deps: AppDeps, guard: WriteGuard): void {
    const { config, db, metrics, now } = deps;
    writeRoute<{ Body: GpuRequestInput }>(app, guard, {
        url: "/v1/gpu-requests",
        tags: ["approvals"],
        summary:
            "Ask to provision GPUs: approved (201) with a reservation, the workload's live reservation adopted (200), or rejected for budget (409)",
        bodyLimit: GPU_REQUEST_BODY_LIMIT,
        callers: ["admin", "platform", "portal", "team"],
        teams: (request) => [request.body.team],
        body: gpuRequestBody(config),
        responses: { 200: adoptedSchema, 201: approvedSchema, 409: rejectedSchema },
        handler: async (request, reply, key, audit) => {
            const approvers = config.criticalApprovers ?? TRACKER_DEFAULTS.criticalApprovers;
            const decision = await requestGpus(
                db,
                config,
                request.body,
                key,
                now(),
                { identity: request.caller.identity, mayExceedBudget: approvers.includes(request.caller.kind) },
                audit.entry,
            );
            // The decision's transaction holds its audit entry: one commit, and no decision without its entry.
            audit.recordedWithWrite();
            metrics.decisions.inc({ outcome: decision.body.status, team: request.body.team });
            if (decision.alert) {
                metrics.alerts.inc({ kind: decision.alert.kind });
                deliverAlerts(db, deps.notifiers, [decision.alert]).catch((err) =>
                    request.log.warn({ err: String(err) }, "alert not delivered"),
                );
            }
            return reply.code(decision.statusCode).send(decision.body);
        },
    });
}

function registerReleases(app: FastifyInstance, deps: AppDeps, guard: WriteGuard, feed: EventFeed): void {
    const { db, now } = deps;
    writeRoute<{ Params: { id: string } }>(app, guard, {
        url: "/v1/gpu-requests/:id/release",
        tags: ["approvals"],
        summary: "Release a reservation before it expires",
        bodyLimit: RELEASE_BODY_LIMIT,
        callers: ["admin", "platform", "portal", "team"],
        // A reservation's team never changes: a caller may release only what its teams hold.
        teams: async (request) => [await teamOfRequest(db, request.params.id)],
        auditTarget: (request) => request.params.id,
        params: requestIdParams,
        responses: { 200: { $ref: "GpuRequest#" }, 404: errorSchema },
        handler: async (request, reply, key) => {
            const answer = await releaseRequest(db, request.params.id, key, now());
            feed.notify();
            return reply.code(answer.statusCode).send(answer.body);
        },
    });

    writeRoute<{ Body: { uid: string } }>(app, guard, {
        url: "/v1/workloads/release",
        tags: ["approvals"],
        summary: "Release every live reservation bound to a workload's UID (it finished or was deleted)",
        bodyLimit: RELEASE_BODY_LIMIT,
        // Only the budget gate knows a workload finished; a UID may be bound to any team's reservation.
        callers: ["admin", "platform"],
        teams: () => [],
        auditTarget: (request) => request.body.uid,
        body: workloadReleaseBody,
        responses: { 200: workloadReleasedSchema },
        handler: async (request, reply, key) => {
            const answer = await releaseWorkload(db, request.body.uid, key, now());
            feed.notify();
            return reply.code(answer.statusCode).send(answer.body);
        },
    });
}
