/** GET /v1/audit: the audit log, newest first, for the admin credential only. */
import type { FastifyInstance } from "fastify";
import { listAudit } from "../../audit";
import type { Database } from "../../db/database";
import { assertKind, type Authenticate } from "../callers";
import { auditQuery, auditSchema, errorSchema } from "../schemas";

export function registerAudit(app: FastifyInstance, db: Database, authenticate: Authenticate): void {
    app.get<{ Querystring: { team?: string; before?: string; limit: number } }>(
        "/v1/audit",
        {
            schema: {
                tags: ["audit"],
                summary: "Every authenticated write: caller, action, teams, target and outcome; admin only",
                security: [{ bearer: [] }],
                querystring: auditQuery,
                response: { 200: auditSchema, 400: errorSchema, 401: errorSchema, 403: errorSchema, 503: errorSchema },
            },
            onRequest: async (request, reply) => {
                const caller = authenticate(request);
                if (!caller)
                    return reply.code(401).header("www-authenticate", 'Bearer realm="cost-tracker"').send({
                        error: "Unauthorized",
                        message: "Authorization: the audit log needs the admin's bearer token",
                        field: "Authorization",
                    });
                assertKind(caller, ["admin"]);
            },
        },
        async (request) => listAudit(db, request.query),
    );
}
