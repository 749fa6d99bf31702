/** The audit log: every authenticated write's caller, action, teams, target and outcome, in order. */
import type { Queryable } from "./db/database";

export interface AuditEntry {
    readonly at: Date;
    /** The identity the credential proved, e.g. `team:ml-research`. */
    readonly caller: string;
    /** The route, e.g. `POST /v1/gpu-requests`. */
    readonly action: string;
    readonly teams: readonly string[];
    /** What the write was about: a reservation's id, a workload's UID, a usage batch's size. */
    readonly target?: string;
    readonly statusCode: number;
    /** approved, rejected, released, accepted, refused: or the error's one line. */
    readonly outcome: string;
}

export interface AuditRow extends Omit<AuditEntry, "at"> {
    readonly id: string;
    readonly at: string;
}

export async function appendAudit(db: Queryable, entry: AuditEntry): Promise<void> {
    await db.query(
        `INSERT INTO audit_log (at, caller, action, teams, target, status_code, outcome)
         VALUES ($1, $2, $3, $4::text[], $5, $6, $7)`,
        [entry.at, entry.caller, entry.action, [...entry.teams], entry.target ?? null, entry.statusCode, entry.outcome],
    );
}

/** Newest first; `before` pages back from an id. */
export async function listAudit(
    db: Queryable,
    filter: { team?: string; before?: string; limit: number },
): Promise<AuditRow[]> {
    const { rows } = await db.query<{
        id: string;
        at: Date;
        caller: string;
        action: string;
        teams: string[];
        target: string | null;
        status_code: number;
        outcome: string;
    }>(
        // Ordered by the column, not the text alias: "99" sorts after "134" as text.
        `SELECT a.id::text AS id, a.at, a.caller, a.action, a.teams, a.target, a.status_code, a.outcome FROM audit_log a
          WHERE ($1::text IS NULL OR $1 = ANY(a.teams)) AND ($2::bigint IS NULL OR a.id < $2::bigint)
          ORDER BY a.id DESC LIMIT $3`,
        [filter.team ?? null, filter.before ?? null, filter.limit],
    );
    return rows.map((r) => ({
        id: r.id,
        at: r.at.toISOString(),
        caller: r.caller,
        action: r.action,
        teams: r.teams,
        ...(r.target === null ? {} : { target: r.target }),
        statusCode: r.status_code,
        outcome: r.outcome,
    }));
}
