/**
 * Approval at allocation time: a GPU request is priced from the catalog and approved only if the
 * team's month-to-date spend plus its live reservations plus this estimate stays within its
 * budget. Check and reservation are one transaction under the team's budget lock
 * (db/team-locks.ts), as every other write of the team's money is. A request for a workload
 * that already holds a live reservation adopts it instead of reserving twice.
 */
import { randomUUID } from "crypto";
import type { CostTrackerConfig, TrackerPool } from "@gpu-platform/catalog/contracts";
import type { AlertRow, RequestRow } from "./api-types";
import type { AuditEntry } from "./audit";
import type { Database, Queryable } from "./db/database";
import { IDEMPOTENCY_KEY_REUSED, once, requestHash, type StoredAnswer } from "./idempotency";
import { lockTeamBudgets, recordMoneyEvents } from "./db/team-locks";
import { BadInput, NotFound, type BoundWorkload } from "./model";
import { cents, poolResources, type PoolResource } from "./pricing";
import { monthOf } from "./rules";

export interface GpuRequestInput {
    readonly team: string;
    readonly pool: string;
    /** The resource asked for; required when the pool offers several (a MIG pool with several profiles). */
    readonly gpuResource?: string;
    /** Units of the resource: whole GPUs, MIG slices or time-sliced shares. */
    readonly gpus: number;
    readonly hours: number;
    readonly priorityClass: string;
    readonly requester: string;
    readonly purpose?: string;
    /** The workload that will hold the reservation; its observed GPU spend replaces the reservation as it accrues. */
    readonly workload?: BoundWorkload;
}

export interface Decision extends StoredAnswer {
    /** 201 a new reservation, 200 an existing one adopted, 409 rejected for budget. */
    readonly statusCode: 200 | 201 | 409;
    readonly body: DecisionBody;
    readonly alert?: AlertRow;
}

/** The audit entry's who, what and which teams, recorded with the decision in its transaction (migration 8). */
export type DecisionAudit = Pick<AuditEntry, "caller" | "action" | "teams">;

export type DecisionBody =
    | {
          id: string;
          status: "approved";
          estimatedCostUsd: number;
          remainingUsd: number;
          expiresAt: string;
          overBudget: boolean;
          reason: string;
          adopted?: true;
      }
    | {
          id: string;
          status: "rejected";
          reason: RejectionReason;
          message: string;
          estimatedCostUsd: number;
          remainingUsd: number;
      };

/** "over-budget": may fit once money frees up; "exceeds-monthly-budget": larger than the team's whole budget, never fits. */
export type RejectionReason = "over-budget" | "exceeds-monthly-budget";

/** The resource a request takes from its pool, or a 400 naming `gpuResource` or `gpus`. */
export function resolveResource(pool: TrackerPool, input: Pick<GpuRequestInput, "gpuResource" | "gpus">): PoolResource {
    const offered = poolResources(pool);
    const names = offered.map((r) => r.gpuResource).join(", ");
    let resource: PoolResource | undefined;
    if (input.gpuResource === undefined) {
        if (offered.length > 1)
            throw new BadInput("gpuResource", `is required for pool ${pool.name}, which offers ${names}`);
        resource = offered[0];
    } else {
        resource = offered.find((r) => r.gpuResource === input.gpuResource);
        if (!resource)
            throw new BadInput("gpuResource", `pool ${pool.name} offers ${names} (found "${input.gpuResource}")`);
    }
    if (input.gpus > resource.maxUnits) {
        throw new BadInput(
            "gpus",
            `is ${input.gpus}, more than pool ${pool.name} holds at its largest (${resource.maxUnits} ${resource.gpuResource})`,
        );
    }
    return resource;
}

/** The team's spend this month and the part of its live reservations this month carries, read in one statement (one snapshot). */
export async function budgetState(
    q: Queryable,
    team: string,
    now: Date,
): Promise<{ spentUsd: number; reservedUsd: number }> {
    const month = monthOf(now);
    const { rows } = await q.query<{ spent: number; reserved: number }>(
        `SELECT (SELECT coalesce(sum(amount_usd), 0) FROM daily_spend WHERE team = $1 AND day >= $2 AND day < $3) AS spent,
                team_reserved_in($1, $4, $2, $3) AS reserved`,
        [team, month.start, month.next, now],
    );
    return { spentUsd: rows[0].spent, reservedUsd: rows[0].reserved };
}

/** Who asks: the identity the caller's credential proved, and whether its critical-class requests may pass the budget. */
export interface Requester {
    readonly identity: string;
    readonly mayExceedBudget: boolean;
}

export async function requestGpus(
    db: Database,
    config: CostTrackerConfig,
    input: GpuRequestInput,
    idempotencyKey: string,
    now: Date,
    by: Requester,
    audit?: DecisionAudit,
): Promise<Decision> {
    const pool = config.pools.find((p) => p.name === input.pool);
    if (!pool)
        throw new BadInput(
            "pool",
            `unknown pool "${input.pool}"; known: ${config.pools.map((p) => p.name).join(", ")}`,
        );
    if (!config.teams.some((t) => t.name === input.team))
        throw new BadInput(
            "team",
            `unknown team "${input.team}"; known: ${config.teams.map((t) => t.name).join(", ")}`,
        );
    const resource = resolveResource(pool, input);
    const month = monthOf(now);
    // The check and the reservation are one call of approve_gpu_request (migrations 2, 3 and 8): one
    // round trip, one transaction, serialised per team by lock_team_budgets, with the requester the
    // body claims and the audit entry, when given, written in the same transaction.
    const request = {
        ...input,
        // The recorded requester is who the credential proves; what the body claims is kept apart (claimed_requester).
        requester: by.identity,
        ...(input.requester === by.identity ? {} : { claimedRequester: input.requester }),
        id: randomUUID(),
        gpuResource: resource.gpuResource,
        usdPerUnitHour: resource.usdPerUnitHour,
        estimatedCostUsd: cents(resource.usdPerUnitHour * input.gpus * input.hours),
        critical: by.mayExceedBudget && config.criticalPriorityClasses.includes(input.priorityClass),
        graceHours: config.reservationGraceHours,
    };
    const hash = requestHash(input);
    const { rows } = await db
        .query<{ result: ApprovalResult }>("SELECT approve_gpu_request($1, $2, $3, $4, $5, $6, $7) AS result", [
            idempotencyKey,
            hash,
            JSON.stringify(request),
            now,
            month.start,
            month.next,
            audit === undefined ? null : JSON.stringify(audit),
        ])
        .catch((err: unknown) => {
            // The function refuses a request it cannot serve (a UID bound to another team's reservation) with SQLSTATE CTB01: field and problem.
            const e = err as { code?: unknown; message?: string; detail?: string };
            if (e.code === REFUSED_BY_FUNCTION) throw new BadInput(e.message ?? "body", e.detail ?? "is refused");
            throw err;
        });
    const result = rows[0].result;
    if (result.replay) {
        if (result.requestHash !== hash) throw new BadInput("Idempotency-Key", IDEMPOTENCY_KEY_REUSED);
        return { statusCode: result.statusCode, body: result.body };
    }
    const alert = result.alert
        ? { ...result.alert, createdAt: new Date(result.alert.createdAt).toISOString() }
        : undefined;
    return { statusCode: result.statusCode, body: result.body, alert };
}

/** SQLSTATE of a request approve_gpu_request refuses as bad input (migration 3). */
const REFUSED_BY_FUNCTION = "CTB01";

/** What approve_gpu_request answers: the stored answer of an earlier request with the key, or this one's decision. */
type ApprovalResult =
    | { replay: true; requestHash: string; statusCode: Decision["statusCode"]; body: DecisionBody }
    | { replay: false; statusCode: Decision["statusCode"]; body: DecisionBody; alert: AlertRow | null };

const REQUEST_COLUMNS = `id, team, pool, gpu_resource, gpus, hours, priority_class, requester, purpose, workload_namespace, workload_kind, workload_name,
    workload_uid, claimed_requester, status, over_budget, reason, estimated_cost_usd, consumed_usd, created_at, expires_at, released_at, release_reason`;

interface RawRequest {
    id: string;
    team: string;
    pool: string;
    gpu_resource: string;
    gpus: number;
    hours: number;
    priority_class: string;
    requester: string;
    claimed_requester: string | null;
    purpose: string | null;
    workload_namespace: string | null;
    workload_kind: string | null;
    workload_name: string | null;
    workload_uid: string | null;
    status: "approved" | "rejected";
    over_budget: boolean;
    reason: string;
    estimated_cost_usd: number;
    consumed_usd: number;
    created_at: Date;
    expires_at: Date | null;
    released_at: Date | null;
    release_reason: "released" | "expired" | "replaced-by-spend" | null;
}

function toRequestRow(r: RawRequest, now: Date): RequestRow {
    const reservation =
        r.status !== "approved"
            ? null
            : r.release_reason
              ? r.release_reason
              : r.expires_at && r.expires_at.getTime() <= now.getTime()
                ? "expired"
                : "active";
    return {
        id: r.id,
        team: r.team,
        pool: r.pool,
        gpuResource: r.gpu_resource,
        gpus: r.gpus,
        hours: r.hours,
        priorityClass: r.priority_class,
        requester: r.requester,
        ...(r.claimed_requester === null ? {} : { claimedRequester: r.claimed_requester }),
        purpose: r.purpose,
        workload: r.workload_name
            ? {
                  namespace: r.workload_namespace!,
                  kind: r.workload_kind!,
                  name: r.workload_name,
                  ...(r.workload_uid ? { uid: r.workload_uid } : {}),
              }
            : null,
        status: r.status,
        overBudget: r.over_budget,
        reason: r.reason,
        estimatedCostUsd: r.estimated_cost_usd,
        consumedUsd: r.consumed_usd,
        createdAt: r.created_at.toISOString(),
        expiresAt: r.expires_at?.toISOString() ?? null,
        reservation,
    };
}

export async function listRequests(
    db: Queryable,
    filter: { team?: string; limit: number },
    now: Date,
): Promise<RequestRow[]> {
    const { rows } = filter.team
        ? await db.query<RawRequest>(
              `SELECT ${REQUEST_COLUMNS} FROM gpu_requests WHERE team = $1 ORDER BY created_at DESC, id LIMIT $2`,
              [filter.team, filter.limit],
          )
        : await db.query<RawRequest>(
              `SELECT ${REQUEST_COLUMNS} FROM gpu_requests ORDER BY created_at DESC, id LIMIT $1`,
              [filter.limit],
          );
    return rows.map((r) => toRequestRow(r, now));
}

/** The team holding a request, or NotFound: the release route's scope check reads it before the release. */
export async function teamOfRequest(db: Queryable, id: string): Promise<string> {
    const { rows } = await db.query<{ team: string }>("SELECT team FROM gpu_requests WHERE id = $1", [id]);
    if (rows.length === 0) throw new NotFound(`no GPU request ${id}`);
    return rows[0].team;
}

/**
 * Releases a reservation before it expires (the job finished early, the request was dropped).
 * Releasing twice answers with the request as it stands; a rejected request has nothing to release.
 * Under the team's budget lock, so no concurrent write of the team's money can undo it.
 */
export async function releaseRequest(
    db: Database,
    id: string,
    idempotencyKey: string,
    now: Date,
): Promise<StoredAnswer> {
    const { answer } = await db.transaction((tx) =>
        once(tx, "release", idempotencyKey, requestHash({ id }), async () => {
            // A request's team never changes, so it may be read before the lock.
            const found = await tx.query<{ team: string }>("SELECT team FROM gpu_requests WHERE id = $1", [id]);
            if (found.rows.length === 0) throw new NotFound(`no GPU request ${id}`);
            await lockTeamBudgets(tx, [found.rows[0].team]);
            const { rows } = await tx.query<RawRequest>(`SELECT ${REQUEST_COLUMNS} FROM gpu_requests WHERE id = $1`, [
                id,
            ]);
            if (rows[0].status === "rejected")
                throw new BadInput("id", `request ${id} was rejected and holds no reservation`);
            const updated = await tx.query<RawRequest>(
                `UPDATE gpu_requests SET released_at = $2, release_reason = 'released'
                  WHERE id = $1 AND released_at IS NULL AND expires_at > $2 RETURNING ${REQUEST_COLUMNS}`,
                [id, now],
            );
            if (updated.rows.length > 0) await recordMoneyEvents(tx, [rows[0].team], "released", now);
            return { statusCode: 200, body: toRequestRow(updated.rows[0] ?? rows[0], now) };
        }),
    );
    return answer;
}

/**
 * Releases every live reservation bound to a workload's UID (the workload finished or was
 * deleted): the budget gate's call. An unknown UID releases nothing. Under the budget locks of
 * the teams holding such reservations.
 */
export async function releaseWorkload(
    db: Database,
    uid: string,
    idempotencyKey: string,
    now: Date,
): Promise<StoredAnswer> {
    const { answer } = await db.transaction((tx) =>
        once(tx, "workload-release", idempotencyKey, requestHash({ uid }), async () => {
            const holders = await tx.query<{ team: string }>(
                `SELECT DISTINCT team FROM gpu_requests
                  WHERE workload_uid = $1 AND status = 'approved' AND released_at IS NULL`,
                [uid],
            );
            const teams = holders.rows.map((r) => r.team);
            await lockTeamBudgets(tx, teams);
            const { rows } = await tx.query<{ id: string; team: string }>(
                `UPDATE gpu_requests SET released_at = $2, release_reason = 'released'
                  WHERE workload_uid = $1 AND team = ANY($3::text[]) AND status = 'approved'
                    AND released_at IS NULL AND expires_at > $2
                  RETURNING id, team`,
                [uid, now, teams],
            );
            await recordMoneyEvents(
                tx,
                rows.map((r) => r.team),
                "released",
                now,
            );
            return { statusCode: 200, body: { released: rows.map((r) => r.id).sort() } };
        }),
    );
    return answer;
}
