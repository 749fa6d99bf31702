/**
 * Writing spend: a pull source's days replaced whole, a pushed record replacing the earlier one
 * of its natural key, and after either, the daily roll-up the reads use and the reservations
 * that observed spend replaces.
 *
 * Every write here changes teams' money, so it takes the per-team lock the approval takes (the
 * team's budget row, `FOR UPDATE`), for every team it touches, in name order (two writers never
 * wait on each other in a cycle). Approvals never take the roll-up lock, so the two orders
 * cannot deadlock.
 */
import type { Database, Queryable } from "./db/database";
import type { UsageRecord } from "./model";
import type { BillDay } from "./sources/source";

/**
 * Every ingestion takes this transaction-level advisory lock first: two ingestions refreshing
 * the same day's roll-up at once would each delete what the other has not committed yet and
 * then collide on insert. Ingestion is rare (a source run every few minutes, pushes from a few
 * gateways), so serialising it costs nothing; approvals never take this lock.
 */
const ROLLUP_LOCK = 0x726f6c6c; // "roll"
const INSERT_CHUNK = 5000;

/** Source names of pushed usage start with this; pulled sources never do. */
export const PUSH_SOURCE_PREFIX = "push:";

/**
 * Replaces what `source` recorded for `days` with `records`, in one transaction: re-reading a
 * window never counts it twice, a revised figure replaces the first, and a run that fails
 * leaves the previous data in place.
 */
export async function replaceSourceDays(
    db: Database,
    source: string,
    days: readonly string[],
    records: readonly UsageRecord[],
    now: Date,
    bill: readonly BillDay[] = [],
): Promise<void> {
    await db.transaction(async (tx) => {
        await tx.query("SELECT pg_advisory_xact_lock($1)", [ROLLUP_LOCK]);
        const { rows } = await tx.query<{ team: string }>(
            "SELECT DISTINCT team FROM usage WHERE source = $1 AND day = ANY($2::date[]) AND team <> ''",
            [source, days],
        );
        const teams = teamsOf([...rows.map((r) => r.team), ...records.map((r) => r.team)]);
        await lockTeams(tx, teams);
        await tx.query("DELETE FROM usage WHERE source = $1 AND day = ANY($2::date[])", [source, days]);
        await insertUsage(tx, source, records);
        await storeBill(tx, bill, now);
        await afterUsageChange(tx, days, teams, now);
    });
}

async function storeBill(tx: Queryable, bill: readonly BillDay[], now: Date): Promise<void> {
    for (const b of bill) {
        await tx.query(
            `INSERT INTO bill_days (day, metric, total_usd, cluster_usd, estimated, read_at) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (day) DO UPDATE SET metric = $2, total_usd = $3, cluster_usd = $4, estimated = $5, read_at = $6`,
            [b.day, b.metric, b.totalUsd, b.clusterUsd, b.estimated, now],
        );
    }
}

/**
 * Stores pushed records inside the caller's transaction (which holds the batch's idempotency
 * key): each replaces the record of the same natural key (source, day, line, team, category,
 * workload, pool, GPU resource) if there is one, so a gateway that sends a day's total again
 * never counts it twice. The caller has checked that no two records of the batch share a key.
 */
export async function upsertPushedUsage(
    tx: Queryable,
    source: string,
    records: readonly UsageRecord[],
    now: Date,
): Promise<void> {
    await tx.query("SELECT pg_advisory_xact_lock($1)", [ROLLUP_LOCK]);
    const teams = teamsOf(records.map((r) => r.team));
    await lockTeams(tx, teams);
    for (const r of records) {
        await tx.query(
            `DELETE FROM usage WHERE source = $1 AND day = $2 AND line = $3 AND team = $4 AND category = $5
                AND coalesce(workload, '') = coalesce($6, '') AND coalesce(pool, '') = coalesce($7, '') AND coalesce(gpu_resource, '') = coalesce($8, '')`,
            [
                source,
                r.day,
                r.line ?? "team",
                r.team,
                r.category,
                r.workload ?? null,
                r.pool ?? null,
                r.gpuResource ?? null,
            ],
        );
    }
    await insertUsage(tx, source, records);
    await afterUsageChange(tx, [...new Set(records.map((r) => r.day))], teams, now);
}

/** The natural key of a record from one source: two records with it are the same fact, the later one replacing the earlier. */
export function naturalKey(r: UsageRecord): string {
    return JSON.stringify([
        r.day,
        r.line ?? "team",
        r.team,
        r.category,
        r.workload ?? "",
        r.pool ?? "",
        r.gpuResource ?? "",
    ]);
}

function teamsOf(names: readonly string[]): string[] {
    return [...new Set(names.filter((n) => n !== ""))].sort();
}

/**
 * The per-team lock every change to a team's money takes: the team's budget row, as the approval
 * function locks it. In name order, so two writers locking several teams never deadlock.
 */
export async function lockTeams(tx: Queryable, teams: readonly string[]): Promise<void> {
    if (teams.length === 0) return;
    await tx.query("SELECT name FROM teams WHERE name = ANY($1::text[]) ORDER BY name FOR UPDATE", [teams]);
}

async function insertUsage(tx: Queryable, source: string, records: readonly UsageRecord[]): Promise<void> {
    for (let i = 0; i < records.length; i += INSERT_CHUNK) {
        const chunk = records.slice(i, i + INSERT_CHUNK);
        // One statement per chunk: unnest turns parallel arrays into rows.
        await tx.query(
            `INSERT INTO usage (source, day, line, team, category, pool, amount_usd, gpu_hours, gpu_resource, resource_hours, estimated, workload, detail)
             SELECT $1, * FROM unnest($2::date[], $3::text[], $4::text[], $5::text[], $6::text[], $7::numeric[], $8::numeric[],
                                      $9::text[], $10::numeric[], $11::boolean[], $12::text[], $13::text[])`,
            [
                source,
                chunk.map((r) => r.day),
                chunk.map((r) => r.line ?? "team"),
                chunk.map((r) => r.team),
                chunk.map((r) => r.category),
                chunk.map((r) => r.pool ?? null),
                chunk.map((r) => r.amountUsd),
                chunk.map((r) => r.gpuHours ?? 0),
                chunk.map((r) => r.gpuResource ?? null),
                chunk.map((r) => r.resourceHours ?? 0),
                chunk.map((r) => r.estimated ?? false),
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
    // counted_usage (migration 3) leaves out pushed records a pulled source owns for the same workload and day.
    await tx.query(
        `INSERT INTO daily_spend (line, team, day, category, pool, gpu_resource, amount_usd, gpu_hours, resource_hours, estimated)
         SELECT line, team, day, category, coalesce(pool, ''), coalesce(gpu_resource, ''), sum(amount_usd), sum(gpu_hours), sum(resource_hours), bool_or(estimated)
         FROM counted_usage WHERE day = ANY($1::date[]) GROUP BY line, team, day, category, coalesce(pool, ''), coalesce(gpu_resource, '')`,
        [days],
    );
    await replaceReservationsBySpend(tx, teams, now);
}

/**
 * A reservation that names its workload is replaced by that workload's observed GPU spend since
 * its approval: it holds only its estimate minus that spend (already in month-to-date), and once
 * the spend reaches the estimate it is released as "replaced-by-spend". Spend before the approval
 * never counts: days before the approval day are left out, and of the approval day, the spend on
 * record when it was approved (its baseline, migration 3). Recomputed from all the usage on
 * record, so re-read windows and revised figures give the same answer. A reservation without a
 * workload is held until it is released or expires: its spend cannot be told from the team's other work.
 */
async function replaceReservationsBySpend(tx: Queryable, teams: readonly string[], now: Date): Promise<void> {
    if (teams.length === 0) return;
    await tx.query(
        `WITH observed AS (
             SELECT r.id, r.estimated_cost_usd AS estimate,
                    least(r.estimated_cost_usd, greatest(0, coalesce(sum(u.amount_usd), 0) - r.baseline_usd)) AS consumed
             FROM gpu_requests r
             LEFT JOIN counted_usage u
               ON u.team = r.team AND u.category = 'gpu'
              AND u.workload = r.workload_namespace || '/' || lower(r.workload_kind) || '/' || r.workload_name
              AND u.day >= (r.created_at AT TIME ZONE 'UTC')::date
             WHERE r.team = ANY($1::text[]) AND r.status = 'approved' AND r.workload_name IS NOT NULL
               AND (r.released_at IS NULL OR r.release_reason = 'replaced-by-spend') AND r.expires_at > $2
             GROUP BY r.id
         )
         UPDATE gpu_requests g
            SET consumed_usd = round(o.consumed, 2),
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
