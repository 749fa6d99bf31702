/**
 * Every write route is declared through `writeRoute`, so none can be registered without the
 * caller's credential, the Idempotency-Key header and a body limit: the release route once lost
 * its token check when each route repeated these options by hand.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchema, RouteGenericInterface } from "fastify";
import { createHash, timingSafeEqual } from "crypto";
import { errorSchema, idempotencyHeaders } from "./schemas";

/** Who sent a write, as their credential proves it. Per-caller identities and scopes (issue 24) extend this. */
export interface Caller {
    /** The identity recorded with what the caller writes. */
    readonly identity: string;
}

/** Resolves the caller from a request's credential, or undefined when it proves nobody. */
export type Authenticate = (request: FastifyRequest) => Caller | undefined;

/** One bearer token accepted for every write (until per-caller credentials land). */
export function bearerToken(token: string): Authenticate {
    const expected = digest(token);
    return (request) => {
        const header = request.headers.authorization ?? "";
        const presented = header.startsWith("Bearer ") ? header.slice(7) : "";
        // Both sides hashed to the same length, so the comparison takes the same time whatever the token.
        return timingSafeEqual(digest(presented), expected) ? { identity: "api-token" } : undefined;
    };
}

function digest(value: string): Buffer {
    return createHash("sha256").update(value).digest();
}

declare module "fastify" {
    interface FastifyRequest {
        /** Set by writeRoute's authentication before anything else runs. */
        caller?: Caller;
    }
}

export interface WriteRouteOptions<T extends RouteGenericInterface> {
    readonly url: string;
    readonly tags: readonly string[];
    readonly summary: string;
    /** Largest body accepted, in bytes. */
    readonly bodyLimit: number;
    readonly body?: unknown;
    readonly params?: unknown;
    /** The answers besides the errors every write can give (400, 401, 503), which are added here. */
    readonly responses: Record<number, unknown>;
    readonly handler: (
        request: FastifyRequest<T> & { caller: Caller },
        reply: FastifyReply,
        idempotencyKey: string,
    ) => Promise<unknown>;
}

/** Registers a POST route that always authenticates first, needs an Idempotency-Key and caps its body. */
export function writeRoute<T extends RouteGenericInterface>(
    app: FastifyInstance,
    authenticate: Authenticate,
    options: WriteRouteOptions<T>,
): void {
    const schema: FastifySchema & Record<string, unknown> = {
        tags: [...options.tags],
        summary: options.summary,
        security: [{ bearer: [] }],
        headers: idempotencyHeaders,
        ...(options.body === undefined ? {} : { body: options.body }),
        ...(options.params === undefined ? {} : { params: options.params }),
        response: { ...options.responses, 400: errorSchema, 401: errorSchema, 503: errorSchema },
    };
    app.route({
        method: "POST",
        url: options.url,
        bodyLimit: options.bodyLimit,
        schema,
        // onRequest runs before the body is read or validated: an unauthenticated caller learns nothing about the body's rules.
        onRequest: async (request, reply) => {
            const caller = authenticate(request);
            if (!caller) {
                request.log.warn({ route: request.routeOptions.url }, "write refused: missing or wrong bearer token");
                return reply.code(401).header("www-authenticate", 'Bearer realm="cost-tracker"').send({
                    error: "Unauthorized",
                    message: "Authorization: a valid bearer token is required for writes",
                    field: "Authorization",
                });
            }
            request.caller = caller;
        },
        handler: async (request, reply) => {
            const key = (request.headers as Record<string, string>)["idempotency-key"];
            return options.handler(request as unknown as FastifyRequest<T> & { caller: Caller }, reply, key);
        },
    });
}
