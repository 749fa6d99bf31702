/**
 * Every write route is declared through `writeRoute`, so none can be registered without the
 * caller's credential, a scope (the kinds of credential it admits and the teams the write
 * touches), the Idempotency-Key header, a body limit and an audit entry: the release route once
 * lost its token check when each route repeated these options by hand.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchema, RouteGenericInterface } from "fastify";
import type { AuditEntry } from "../audit";
import { assertKind, assertMayActFor, type Authenticate, type Caller, type CallerKind } from "./callers";
import { errorSchema, idempotencyHeaders } from "./schemas";

declare module "fastify" {
    interface FastifyRequest {
        /** Set by writeRoute's authentication before anything else runs. */
        caller?: Caller;
        /** The teams the write touches, once the body is validated. */
        writeTeams?: readonly string[];
        /** Set when the handler's write committed its own audit entry: none is appended after the answer. */
        auditedWithWrite?: boolean;
    }
}

/**
 * What a handler needs to record its audit entry in its own transaction (the approval does, so a
 * decision and its entry are one commit): the entry's caller, action and teams, and a way to say
 * the entry committed. A handler that calls neither is audited after its answer, as every write is.
 */
export interface WriteAudit {
    readonly entry: Pick<AuditEntry, "caller" | "action" | "teams">;
    recordedWithWrite(): void;
}

/** What every write route needs from the app: who the caller is, and where its writes are recorded. */
export interface WriteGuard {
    readonly authenticate: Authenticate;
    readonly audit: (entry: Omit<AuditEntry, "at">) => Promise<void>;
}

export interface WriteRouteOptions<T extends RouteGenericInterface> {
    readonly url: string;
    readonly tags: readonly string[];
    readonly summary: string;
    /** Largest body accepted, in bytes. */
    readonly bodyLimit: number;
    readonly body?: unknown;
    readonly params?: unknown;
    /** The kinds of credential the route admits; any other is refused with a 403 before the body is read. */
    readonly callers: readonly CallerKind[];
    /**
     * The teams the write touches, read from the validated request (a body's team, a reservation's
     * team): a caller not allowed one of them is refused with a 403 before the handler runs.
     */
    readonly teams: (request: FastifyRequest<T>) => readonly string[] | Promise<readonly string[]>;
    /** The answers besides the errors every write can give (400, 401, 403, 503), which are added here. */
    readonly responses: Record<number, unknown>;
    /** What the write is about, for the audit log: a reservation's id, a workload's UID. Default: the answer's `id`. */
    readonly auditTarget?: (
        request: FastifyRequest<T>,
        answer: Record<string, unknown> | undefined,
    ) => string | undefined;
    readonly handler: (
        request: FastifyRequest<T> & { caller: Caller },
        reply: FastifyReply,
        idempotencyKey: string,
        audit: WriteAudit,
    ) => Promise<unknown>;
}

/**
 * Registers a POST route that always authenticates first, admits only the credential kinds it
 * names, refuses a caller acting for a team it may not, needs an Idempotency-Key and caps its body.
 */
export function writeRoute<T extends RouteGenericInterface>(
    app: FastifyInstance,
    guard: WriteGuard,
    options: WriteRouteOptions<T>,
): void {
    const schema: FastifySchema & Record<string, unknown> = {
        tags: [...options.tags],
        summary: options.summary,
        security: [{ bearer: [] }],
        headers: idempotencyHeaders,
        ...(options.body === undefined ? {} : { body: options.body }),
        ...(options.params === undefined ? {} : { params: options.params }),
        response: { ...options.responses, 400: errorSchema, 401: errorSchema, 403: errorSchema, 503: errorSchema },
    };
    app.route({
        method: "POST",
        url: options.url,
        bodyLimit: options.bodyLimit,
        schema,
        // onRequest runs before the body is read or validated: an unauthenticated caller learns nothing about the body's rules.
        onRequest: async (request, reply) => {
            const caller = guard.authenticate(request);
            if (!caller) {
                request.log.warn({ route: request.routeOptions.url }, "write refused: missing or wrong bearer token");
                return reply.code(401).header("www-authenticate", 'Bearer realm="cost-tracker"').send({
                    error: "Unauthorized",
                    message: "Authorization: a valid bearer token is required for writes",
                    field: "Authorization",
                });
            }
            request.caller = caller;
            assertKind(caller, options.callers);
        },
        // After validation: the teams are read from a body the schema has checked.
        preHandler: async (request) => {
            request.writeTeams = await options.teams(request as unknown as FastifyRequest<T>);
            assertMayActFor(request.caller!, request.writeTeams);
        },
        handler: async (request, reply) => {
            // Keys are the caller's own: another caller cannot replay, or take in advance, the key of a write of theirs.
            const key = `${request.caller!.identity} ${(request.headers as Record<string, string>)["idempotency-key"]}`;
            const audit: WriteAudit = {
                entry: {
                    caller: request.caller!.identity,
                    action: `POST ${options.url}`,
                    teams: request.writeTeams ?? [],
                },
                recordedWithWrite: () => {
                    request.auditedWithWrite = true;
                },
            };
            return options.handler(request as unknown as FastifyRequest<T> & { caller: Caller }, reply, key, audit);
        },
        // Before the answer leaves: a write the log cannot record is answered as the failure it is (503), and its retry is recorded.
        onSend: async (request, reply, payload) => {
            if (!request.caller || reply.statusCode === 503 || request.auditedWithWrite) return payload;
            const answer = parsedAnswer(payload);
            const entry = {
                caller: request.caller.identity,
                action: `POST ${options.url}`,
                teams: request.writeTeams ?? [],
                target: auditTarget(options, request as unknown as FastifyRequest<T>, answer),
                statusCode: reply.statusCode,
                outcome: outcomeOf(reply.statusCode, answer),
            };
            if (reply.statusCode < 400) await guard.audit(entry);
            else
                // A refusal changed nothing: its entry is kept when it can be, and its answer is never replaced.
                await guard
                    .audit(entry)
                    .catch((err: unknown) => request.log.warn({ err: String(err) }, "refusal not audited"));
            return payload;
        },
    });
}

function parsedAnswer(payload: unknown): Record<string, unknown> | undefined {
    if (typeof payload !== "string") return undefined;
    try {
        const parsed: unknown = JSON.parse(payload);
        return typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
    } catch {
        return undefined;
    }
}

function auditTarget<T extends RouteGenericInterface>(
    options: WriteRouteOptions<T>,
    request: FastifyRequest<T>,
    answer: Record<string, unknown> | undefined,
): string | undefined {
    // A caller refused before validation (writeTeams unset) has no checked request to name a target from.
    if (options.auditTarget) return request.writeTeams === undefined ? undefined : options.auditTarget(request, answer);
    return typeof answer?.id === "string" ? answer.id : undefined;
}

/** A release's reservation state, a decision's status (approved, rejected), a batch's size, else the error's line. */
function outcomeOf(statusCode: number, answer: Record<string, unknown> | undefined): string {
    if (typeof answer?.reservation === "string" && statusCode < 300) return answer.reservation;
    if (typeof answer?.status === "string") return answer.status;
    if (typeof answer?.accepted === "number") return `accepted ${answer.accepted}`;
    if (Array.isArray(answer?.released)) return `released ${answer.released.length}`;
    if (typeof answer?.message === "string") return answer.message.slice(0, 500);
    return `status ${statusCode}`;
}
