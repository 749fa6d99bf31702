/** GET /v1/events: the long poll the budget gate uses to learn that money has freed up. */
import type { FastifyInstance } from "fastify";
import type { EventFeed } from "../../events";
import { errorSchema, eventsQuery, eventsSchema } from "../schemas";

export function registerEvents(app: FastifyInstance, feed: EventFeed): void {
    app.get<{ Querystring: { after?: string; waitSeconds: number } }>(
        "/v1/events",
        {
            schema: {
                tags: ["approvals"],
                summary:
                    "Money freed up (released, expired, spend-replaced, budget-changed, month-started), after a cursor; waits up to waitSeconds when there is none yet",
                querystring: eventsQuery,
                response: { 200: eventsSchema, 400: errorSchema, 503: errorSchema },
            },
        },
        async (request) => feed.wait(request.query.after ?? "0", request.query.waitSeconds * 1000),
    );
    // Waiting polls are answered before the server waits for in-flight requests to finish.
    app.addHook("preClose", (done) => {
        feed.close();
        done();
    });
}
