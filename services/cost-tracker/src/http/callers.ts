/**
 * Who may write what: every caller holds a credential of its own, and the credential's kind
 * decides which teams it may act for.
 *
 * - `admin`: the platform team; any team.
 * - `platform`: the budget gate; any team (it asks for the workloads Kueue holds in every team namespace).
 * - `portal`: Backstage acting for a signed-in user; only the teams its catalog says the user
 *   belongs to, sent as `X-Acting-User` and `X-Acting-User-Teams` on every write.
 * - `team`: a team's own usage pusher and pipelines; that team only.
 *
 * Tokens are kept only as SHA-256 digests and compared in constant time; each caller may hold
 * two at once (the current and the previous one) so that a rotation needs no downtime.
 */
import { createHash, timingSafeEqual } from "crypto";
import type { FastifyRequest } from "fastify";
import { CALLER_KINDS, type CallerKind } from "@gpu-platform/catalog/contracts";
import { BadInput } from "../model";

export { CALLER_KINDS, type CallerKind };

/** A caller's credential as the service is configured with it: its name and up to two valid tokens. */
export interface CallerCredential {
    readonly kind: CallerKind;
    /** The team of a `team` credential. */
    readonly team?: string;
    /** The current token first; the previous one while a rotation is under way. */
    readonly tokens: readonly string[];
}

/** Who sent a write, as their credential proves it. */
export interface Caller {
    readonly kind: CallerKind;
    /** The identity recorded with what the caller writes: `admin`, `platform:budget-gate`, `user:default/jane via portal`, `team:ml-research`. */
    readonly identity: string;
    /** The teams it may act for; "any" for admin and the platform. */
    readonly teams: "any" | readonly string[];
}

/** A caller that proved its identity but may not do what it asked: a 403 naming what it may do. */
export class Forbidden extends Error {
    constructor(
        readonly field: string,
        message: string,
    ) {
        super(message);
    }
}

/** Resolves the caller from a request's credential: undefined when it proves nobody, Forbidden or BadInput when it cannot act at all. */
export type Authenticate = (request: FastifyRequest) => Caller | undefined;

/** Checks every presented token against every known digest (no early exit), so timing reveals no match. */
export function authenticateCallers(
    credentials: readonly CallerCredential[],
    knownTeams: () => readonly string[],
): Authenticate {
    const digests = credentials.flatMap((credential) =>
        credential.tokens.map((token) => ({ credential, digest: digest(token) })),
    );
    return (request) => {
        const header = request.headers.authorization ?? "";
        const presented = digest(header.startsWith("Bearer ") ? header.slice(7) : "");
        let matched: CallerCredential | undefined;
        for (const known of digests) if (timingSafeEqual(presented, known.digest)) matched ??= known.credential;
        if (!matched) return undefined;
        return callerOf(matched, request, knownTeams());
    };
}

function callerOf(credential: CallerCredential, request: FastifyRequest, knownTeams: readonly string[]): Caller {
    switch (credential.kind) {
        case "admin":
            return { kind: "admin", identity: "admin", teams: "any" };
        case "platform":
            return { kind: "platform", identity: "platform:budget-gate", teams: "any" };
        case "team":
            return { kind: "team", identity: `team:${credential.team}`, teams: [credential.team!] };
        case "portal":
            return portalCaller(request, knownTeams);
    }
}

/** A Backstage user ref, `user:<namespace>/<name>` (Backstage's entity ref, lower-cased). */
const USER_REF = /^user:[a-z0-9][a-z0-9._-]{0,62}\/[a-z0-9][a-z0-9._@-]{0,252}$/;

/** The portal acts for a signed-in user: both headers are required, and only teams of this service count. */
function portalCaller(request: FastifyRequest, knownTeams: readonly string[]): Caller {
    const user = header(request, "x-acting-user");
    const teamsHeader = header(request, "x-acting-user-teams");
    if (user === undefined || !USER_REF.test(user.toLowerCase()))
        throw new Forbidden(
            "X-Acting-User",
            "X-Acting-User: the portal's credential acts for a signed-in user; send their entity ref, user:default/<name>",
        );
    if (teamsHeader === undefined)
        throw new Forbidden(
            "X-Acting-User-Teams",
            "X-Acting-User-Teams: the portal's credential needs the teams the user belongs to (comma-separated)",
        );
    const claimed = teamsHeader
        .split(",")
        .map((t) => t.trim())
        .filter((t) => t !== "");
    return {
        kind: "portal",
        identity: `${user.toLowerCase()} via portal`,
        teams: claimed.filter((t) => knownTeams.includes(t)),
    };
}

function header(request: FastifyRequest, name: string): string | undefined {
    const value = request.headers[name];
    return typeof value === "string" ? value : undefined;
}

/** Refuses, with a 403 naming the teams the caller may act for, a write touching any other team. */
export function assertMayActFor(caller: Caller, teams: readonly string[], field = "team"): void {
    if (caller.teams === "any") return;
    const allowed = caller.teams;
    const outside = [...new Set(teams)].filter((t) => !allowed.includes(t));
    if (outside.length === 0) return;
    const may = allowed.length > 0 ? `it may act for ${allowed.join(", ")}` : "it may act for no team of this service";
    throw new Forbidden(field, `${field}: ${caller.identity} may not act for ${outside.join(", ")}; ${may}`);
}

/** Refuses a caller whose kind the route does not admit. */
export function assertKind(caller: Caller, kinds: readonly CallerKind[]): void {
    if (kinds.includes(caller.kind)) return;
    throw new Forbidden(
        "Authorization",
        `Authorization: a ${caller.kind} credential may not call this route; it takes ${kinds.join(", ")} credentials`,
    );
}

/**
 * A credential's value as Secrets Manager holds it: a token, or `{"current": …, "previous": …}`
 * while a rotation is under way. Throws BadInput naming `variable` for anything else.
 */
export function tokensOf(variable: string, value: string, minLength: number): string[] {
    let tokens: unknown[] = [value];
    if (value.trimStart().startsWith("{")) {
        let parsed: unknown;
        try {
            parsed = JSON.parse(value);
        } catch {
            throw new BadInput(variable, 'is not valid JSON; expected a token or {"current": "…", "previous": "…"}');
        }
        const doc = parsed as Record<string, unknown>;
        const unknown = Object.keys(doc).filter((k) => k !== "current" && k !== "previous");
        if (unknown.length > 0)
            throw new BadInput(variable, `has unknown keys ${unknown.join(", ")}; expected current, previous`);
        if (typeof doc.current !== "string") throw new BadInput(variable, "needs a string `current`");
        tokens = [doc.current, ...(doc.previous === undefined || doc.previous === "" ? [] : [doc.previous])];
    }
    for (const token of tokens) {
        if (typeof token !== "string" || token.length < minLength)
            throw new BadInput(
                variable,
                tokens.length > 1 || value.trimStart().startsWith("{")
                    ? `current and previous must each be a string of at least ${minLength} characters`
                    : `must be at least ${minLength} characters`,
            );
    }
    return tokens as string[];
}

function digest(value: string): Buffer {
    return createHash("sha256").update(value).digest();
}
