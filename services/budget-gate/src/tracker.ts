/**
 * The cost tracker's API as the gate uses it (docs/cost-tracker-api.md): reservations bound to
 * a workload, release by workload, the long-poll of "money freed" events, every team's
 * figures, and the alert of an overrun. One bearer token (the platform's; a credential of its own with the identity work).
 */

export interface ReservationRequest {
    readonly team: string;
    readonly pool: string;
    readonly gpuResource: string;
    readonly gpus: number;
    readonly hours: number;
    readonly priorityClass: string;
    readonly requester: string;
    readonly purpose: string;
    readonly workload: { namespace: string; kind: string; name: string; uid: string };
}

export type ReservationAnswer =
    | {
          readonly outcome: "approved";
          readonly id: string;
          readonly adopted: boolean;
          readonly estimatedCostUsd: number;
          readonly remainingUsd: number;
          readonly overBudget: boolean;
          readonly expiresAt?: string;
      }
    | {
          readonly outcome: "rejected";
          readonly reason: "over-budget" | "exceeds-monthly-budget";
          readonly estimatedCostUsd: number;
          readonly remainingUsd: number;
      }
    /** The tracker refused the request itself (400): a message naming the field. */
    | { readonly outcome: "invalid"; readonly message: string };

export interface TeamFigures {
    readonly name: string;
    readonly monthlyBudgetUsd: number;
    readonly monthToDateUsd: number;
    readonly reservedUsd: number;
    readonly remainingUsd: number;
}

/** An overrun the breaker saw (POST /v1/alerts): the tracker words and delivers the alert. */
export interface OverrunReport {
    readonly team: string;
    readonly kind: "budget-overrun";
    /** suspended: the breaker deactivated `stopped`; queued: it stops nothing (breaker mode queue). */
    readonly action: "suspended" | "queued";
    readonly spentUsd: number;
    readonly reservedUsd: number;
    /** The stopped workloads as people know them: their top owner (a Job, a Deployment). */
    readonly stopped: readonly { namespace: string; kind: string; name: string }[];
}

export interface MoneyEvent {
    readonly id: string;
    readonly team: string;
    readonly kind: string;
    readonly at: string;
}

/** The tracker could not answer (network, 5xx, 401): the gate leaves the check Pending and tries again. */
export class TrackerUnavailable extends Error {
    constructor(
        message: string,
        readonly status?: number,
    ) {
        super(message);
        this.name = "TrackerUnavailable";
    }
}

export interface TrackerClient {
    reserve(request: ReservationRequest, idempotencyKey: string): Promise<ReservationAnswer>;
    release(uid: string, idempotencyKey: string): Promise<string[]>;
    events(
        after: string | undefined,
        waitSeconds: number,
        signal?: AbortSignal,
    ): Promise<{ events: MoneyEvent[]; cursor: string }>;
    teams(): Promise<TeamFigures[]>;
    /** Records the overrun's alert; a 400 (the tracker refused the report) is an Error, not TrackerUnavailable. */
    alert(report: OverrunReport, idempotencyKey: string): Promise<void>;
}

export interface TrackerClientOptions {
    /** The tracker's base URL, e.g. the internal load balancer's `http://internal-cost-tracker-….elb.amazonaws.com`. */
    readonly url: string;
    /** The bearer token, read when needed (it may rotate). */
    readonly token: () => Promise<string>;
    /** Per-request timeout besides long polls. Default 10 s. */
    readonly timeoutMs?: number;
}

/** A string field of an answer, or `fallback`. */
const textOf = (value: unknown, fallback: string) => (typeof value === "string" ? value : fallback);

export function trackerClient(options: TrackerClientOptions): TrackerClient {
    const call = trackerCaller(options);
    return {
        async reserve(request, key) {
            const { status, body } = await call("POST", "/v1/gpu-requests", { body: request, key });
            return reservationAnswer(status, body);
        },
        async release(uid, key) {
            const { status, body } = await call("POST", "/v1/workloads/release", { body: { uid }, key });
            if (status !== 200)
                throw new TrackerUnavailable(
                    `POST /v1/workloads/release: ${status} ${textOf(body.message, "")}`,
                    status,
                );
            return Array.isArray(body.released) ? body.released.map(String) : [];
        },
        async events(after, waitSeconds, signal) {
            const query = new URLSearchParams({ waitSeconds: String(waitSeconds), ...(after ? { after } : {}) });
            const { status, body } = await call("GET", `/v1/events?${query.toString()}`, {
                signal,
                timeoutMs: (waitSeconds + 10) * 1000,
            });
            if (status !== 200) throw new TrackerUnavailable(`GET /v1/events: ${status}`, status);
            return {
                events: (body.events as MoneyEvent[] | undefined) ?? [],
                cursor: textOf(body.cursor, after ?? ""),
            };
        },
        async teams() {
            const { status, body } = await call("GET", "/v1/teams");
            if (status !== 200) throw new TrackerUnavailable(`GET /v1/teams: ${status}`, status);
            const teams = (Array.isArray(body) ? body : (body.teams as unknown[] | undefined)) ?? [];
            return teams as TeamFigures[];
        },
        async alert(report, key) {
            const { status, body } = await call("POST", "/v1/alerts", { body: report, key });
            if (status === 200 || status === 201) return;
            if (status === 400) throw new Error(`POST /v1/alerts refused: ${textOf(body.message, "400")}`);
            throw new TrackerUnavailable(`POST /v1/alerts: unexpected ${status}`, status);
        },
    };
}

interface CallOptions {
    body?: unknown;
    key?: string;
    signal?: AbortSignal;
    timeoutMs?: number;
}

/**
 * One authenticated JSON call to the tracker. What the gate cannot act on (no answer, 5xx, 401,
 * 403, 429) throws TrackerUnavailable; every other status is returned for the caller to read.
 */
function trackerCaller(options: TrackerClientOptions) {
    const base = options.url.replace(/\/+$/, "");
    const defaultTimeoutMs = options.timeoutMs ?? 10_000;
    return async (method: string, path: string, init: CallOptions = {}) => {
        const headers: Record<string, string> = { authorization: `Bearer ${await options.token()}` };
        if (init.body !== undefined) headers["content-type"] = "application/json";
        if (init.key) headers["idempotency-key"] = init.key;
        const timeout = AbortSignal.timeout(init.timeoutMs ?? defaultTimeoutMs);
        let response: Response;
        try {
            response = await fetch(`${base}${path}`, {
                method,
                headers,
                body: init.body === undefined ? undefined : JSON.stringify(init.body),
                signal: init.signal ? AbortSignal.any([init.signal, timeout]) : timeout,
            });
        } catch (err) {
            throw new TrackerUnavailable(`${method} ${path}: ${err instanceof Error ? err.message : String(err)}`);
        }
        const text = await response.text();
        let body: Record<string, unknown> = {};
        try {
            body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
        } catch {
            // An answer that is not JSON is treated by its status alone.
        }
        if (response.status >= 500 || response.status === 401 || response.status === 403 || response.status === 429)
            throw new TrackerUnavailable(
                `${method} ${path}: ${response.status} ${textOf(body.message, text).slice(0, 200)}`,
                response.status,
            );
        return { status: response.status, body };
    };
}

/** POST /v1/gpu-requests' answer: 200 adopted, 201 approved, 409 rejected, 400/422 refused. */
function reservationAnswer(status: number, body: Record<string, unknown>): ReservationAnswer {
    if (status === 200 || status === 201)
        return {
            outcome: "approved",
            id: String(body.id),
            adopted: body.adopted === true || status === 200,
            estimatedCostUsd: Number(body.estimatedCostUsd),
            remainingUsd: Number(body.remainingUsd),
            overBudget: body.overBudget === true,
            expiresAt: typeof body.expiresAt === "string" ? body.expiresAt : undefined,
        };
    if (status === 409)
        return {
            outcome: "rejected",
            reason: body.reason === "exceeds-monthly-budget" ? "exceeds-monthly-budget" : "over-budget",
            estimatedCostUsd: Number(body.estimatedCostUsd),
            remainingUsd: Number(body.remainingUsd),
        };
    if (status === 400 || status === 422)
        return { outcome: "invalid", message: textOf(body.message, `refused (${status})`) };
    throw new TrackerUnavailable(`POST /v1/gpu-requests: unexpected ${status}`, status);
}
