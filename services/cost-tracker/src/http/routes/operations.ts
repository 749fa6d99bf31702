/** Liveness, readiness and metrics: for the load balancer, ECS and Prometheus, not in the OpenAPI document. */
import type { FastifyInstance } from "fastify";
import type { AppDeps } from "../app";

export function registerOperations(app: FastifyInstance, deps: AppDeps): void {
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
