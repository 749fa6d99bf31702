/**
 * Writing spend: a pull source's days replaced whole, a pushed batch appended, and after
 * either, the daily roll-up the reads use and the reservations that observed spend replaces.
 */
import type { Database, Queryable } from "./db/database";
import type { UsageRecord } from "./model";

/**
 * Every ingestion takes this transaction-level advisory lock first: two ingestions refreshing
 * the same day's roll-up at once would each delete what the other has not committed yet and
 * then collide on insert. Ingestion is rare (a source run every few minutes, pushes from a few
 * gateways), so serialising it costs nothing; approvals never take this lock.
 */
const ROLLUP_LOCK = 0x726f6c6c; // "roll"
const INSERT_CHUNK = 5000;

/**
 * Replaces what `source` recorded for `days` with `records`, in one transaction: re-reading a
 * window never counts it twice, and a run that fails leaves the previous data in place.
 */
export async function replaceSourceDays(
    db: Database,
    source: string,
    days: readonly string[],
    records: readonly UsageRecord[],
    now: Date,
): Promise<void> {
    await db.transaction(async (tx) => {
        await tx.query("SELECT pg_advisory_xact_lock($1)", [ROLLUP_LOCK]);
        const { rows } = await tx.query<{ team: string }>(
            "SELECT DISTINCT team FROM usage WHERE source = $1 AND day = ANY($2::date[])",
            [source, days],
        );
        await tx.query("DELETE FROM usage WHERE source = $1 AND day = ANY($2::date[])", [source, days]);
        await insertUsage(tx, source, records);
        const teams = new Set([...rows.map((r) => r.team), ...records.map((r) => r.team)]);
        await afterUsageChange(tx, days, [...teams], now);
    });
}

/** Appends pushed records inside the caller's transaction (which holds the batch's idempotency key). */
export async function appendUsage(
    tx: Queryable,
    source: string,
    records: readonly UsageRecord[],
    now: Date,
): Promise<void> {
    await tx.query("SELECT pg_advisory_xact_lock($1)", [ROLLUP_LOCK]);
    await insertUsage(tx, source, records);
    await afterUsageChange(tx, [...new Set(records.map((r) => r.day))], [...new Set(records.map((r) => r.team))], now);
}

async function insertUsage(tx: Queryable, source: string, records: readonly UsageRecord[]): Promise<void> {
    for (let i = 0; i < records.length; i += INSERT_CHUNK) {
        const chunk = records.slice(i, i + INSERT_CHUNK);
        // One statement per chunk: unnest turns parallel arrays into rows.
        await tx.query(
            `INSERT INTO usage (source, day, team, category, pool, amount_usd, gpu_hours, workload, detail)
             SELECT $1, * FROM unnest($2::date[], $3::text[], $4::text[], $5::text[], $6::numeric[], $7::numeric[], $8::text[], $9::text[])`,
            [
                source,
                chunk.map((r) => r.day),
                chunk.map((r) => r.team),
                chunk.map((r) => r.category),
                chunk.map((r) => r.pool ?? null),
                chunk.map((r) => r.amountUsd),
                chunk.map((r) => r.gpuHours ?? 0),
                chunk.map((r) => r.workload ?? null),
                chunk.map((r) => r.detail ?? null),
            ],
        );
    }
}

async function afterUsageChange(
    tx: Queryable,
    days: readonly string[],
    teams: readonly string[],
    now: Date,
): Promise<void> {
    if (days.length === 0) return;
    await tx.query("DELETE FROM daily_spend WHERE day = ANY($1::date[])", [days]);
    await tx.query(
        `INSERT INTO daily_spend (team, day, category, pool, amount_usd, gpu_hours)
         SELECT team, day, category, coalesce(pool, ''), sum(amount_usd), sum(gpu_hours)
         FROM usage WHERE day = ANY($1::date[]) GROUP BY team, day, category, coalesce(pool, '')`,
        [days],
    );
    await replaceReservationsBySpend(tx, teams, now);
}

/**
 * A reservation that names its workload is replaced by that workload's observed GPU spend as it
 * accrues: it holds only its estimate minus what the workload has spent since it was approved
 * (that spend is in month-to-date already), and once the spend reaches the estimate it is
 * released as "replaced-by-spend". Recomputed from all the usage on record, so re-read windows
 * and revised figures give the same answer. A reservation without a workload is held until it
 * is released or expires: the service cannot tell its spend from the team's other work.
 */
async function replaceReservationsBySpend(tx: Queryable, teams: readonly string[], now: Date): Promise<void> {
    if (teams.length === 0) return;
    await tx.query(
        `WITH observed AS (
             SELECT r.id, r.estimated_cost_usd AS estimate, least(r.estimated_cost_usd, coalesce(sum(u.amount_usd), 0)) AS consumed
             FROM gpu_requests r
             LEFT JOIN usage u
               ON u.team = r.team AND u.category = 'gpu'
              AND u.workload = r.workload_namespace || '/' || lower(r.workload_kind) || '/' || r.workload_name
              AND u.day >= (r.created_at AT TIME ZONE 'UTC')::date
             WHERE r.team = ANY($1::text[]) AND r.status = 'approved' AND r.workload_name IS NOT NULL
               AND (r.released_at IS NULL OR r.release_reason = 'replaced-by-spend') AND r.expires_at > $2
             GROUP BY r.id
         )
         UPDATE gpu_requests g
            SET consumed_usd = o.consumed,
                released_at = CASE WHEN o.consumed >= o.estimate THEN coalesce(g.released_at, $2) END,
                release_reason = CASE WHEN o.consumed >= o.estimate THEN 'replaced-by-spend' END
           FROM observed o
          WHERE g.id = o.id`,
        [teams, now],
    );
}

/** Marks reservations past their expiry as expired, so they leave the live index. */
export async function expireReservations(db: Queryable, now: Date): Promise<number> {
    const { rows } = await db.query<{ id: string }>(
        `UPDATE gpu_requests SET released_at = expires_at, release_reason = 'expired'
          WHERE status = 'approved' AND released_at IS NULL AND expires_at <= $1 RETURNING id`,
        [now],
    );
    return rows.length;
}
