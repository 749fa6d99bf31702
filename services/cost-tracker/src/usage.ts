/**
 * Writing spend: a pull source's days replaced whole, a pushed batch appended, and after
 * either, the daily roll-up the reads use and the reservations that observed spend replaces.
 *
 * Every change of spend runs under the budget locks of the teams it touches (db/team-locks.ts),
 * the same locks approvals and releases take, and refreshes only those teams' roll-up and
 * reservations. Reading a team's spend or reservations outside its lock and writing them back
 * later (as the roll-up once did for every team, and the replacement by spend for released
 * reservations) undoes what a concurrent release committed meanwhile.
 */
import type { Database, Queryable } from "./db/database";
import { lockTeamBudgets, recordMoneyEvents } from "./db/team-locks";
import { BadInput, type UsageRecord } from "./model";
import { monthOf } from "./rules";

/** Advisory lock class of a source's sync (first key of the two-key form; the second is the source's name, hashed). */
const SOURCE_LOCK_CLASS = 0x73726365; // "srce"
const INSERT_CHUNK = 5000;
/** The largest day total daily_spend's columns hold: amount_usd numeric(16, 6), gpu_hours numeric(14, 4) (migration 1). */
export const DAY_TOTAL_LIMITS = { amountUsd: 9_999_999_999.99, gpuHours: 9_999_999_999.99 } as const;

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
        // Syncs of one source run one at a time (every task of the service runs the schedule), so the
        // teams whose rows this sync deletes, read here, are still all of them when it deletes.
        await tx.query("SELECT pg_advisory_xact_lock($1, hashtext($2))", [SOURCE_LOCK_CLASS, source]);
        const { rows } = await tx.query<{ team: string }>(
            "SELECT DISTINCT team FROM usage WHERE source = $1 AND day = ANY($2::date[])",
            [source, days],
        );
        const teams = [...new Set([...rows.map((r) => r.team), ...records.map((r) => r.team)])];
        await changeSpend(tx, teams, days, now, async () => {
            await tx.query("DELETE FROM usage WHERE source = $1 AND day = ANY($2::date[])", [source, days]);
            await insertUsage(tx, source, records);
        });
    });
}

/** Appends pushed records inside the caller's transaction (which holds the batch's idempotency key). */
export async function appendUsage(
    tx: Queryable,
    source: string,
    records: readonly UsageRecord[],
    now: Date,
): Promise<void> {
    const teams = [...new Set(records.map((r) => r.team))];
    const days = [...new Set(records.map((r) => r.day))];
    await changeSpend(tx, teams, days, now, async () => {
        await refuseOverflowingDays(tx, records);
        await insertUsage(tx, source, records);
    });
}

/**
 * Locks the teams, runs `write`, then brings their roll-up and reservations up to date and
 * records a "spend-replaced" event for each team the change freed money for (its spend plus
 * reservations went down, or a reservation was replaced by spend).
 */
async function changeSpend(
    tx: Queryable,
    teams: readonly string[],
    days: readonly string[],
    now: Date,
    write: () => Promise<void>,
): Promise<void> {
    if (teams.length === 0 || days.length === 0) return;
    await lockTeamBudgets(tx, teams);
    const before = await moneyHeld(tx, teams, now);
    await write();
    await refreshRollUp(tx, days, teams);
    const replaced = await replaceReservationsBySpend(tx, teams, now);
    const after = await moneyHeld(tx, teams, now);
    const freed = teams.filter((t) => replaced.has(t) || (after.get(t) ?? 0) < (before.get(t) ?? 0) - 1e-9);
    await recordMoneyEvents(tx, freed, "spend-replaced", now);
}

/** Each team's month-to-date spend plus what its live reservations hold, as an approval counts them. */
async function moneyHeld(tx: Queryable, teams: readonly string[], now: Date): Promise<Map<string, number>> {
    const month = monthOf(now);
    const { rows } = await tx.query<{ team: string; held: number }>(
        `SELECT t.name AS team, m.spent + m.reserved AS held
           FROM teams t, LATERAL team_money(t.name, $2, $3, $4) m WHERE t.name = ANY($1::text[])`,
        [teams, now, month.start, month.next],
    );
    return new Map(rows.map((r) => [r.team, r.held]));
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

/** The roll-up of the locked teams only: another team's rows are another lock's business. */
async function refreshRollUp(tx: Queryable, days: readonly string[], teams: readonly string[]): Promise<void> {
    await tx.query("DELETE FROM daily_spend WHERE day = ANY($1::date[]) AND team = ANY($2::text[])", [days, teams]);
    await tx.query(
        `INSERT INTO daily_spend (team, day, category, pool, amount_usd, gpu_hours)
         SELECT team, day, category, coalesce(pool, ''), sum(amount_usd), sum(gpu_hours)
         FROM usage WHERE day = ANY($1::date[]) AND team = ANY($2::text[]) GROUP BY team, day, category, coalesce(pool, '')`,
        [days, teams],
    );
}

/**
 * A pushed batch that would take a day's total past what its column holds is refused, naming
 * the record that crosses the limit, before anything is written. Read under the teams' locks,
 * so the totals cannot move meanwhile.
 */
async function refuseOverflowingDays(tx: Queryable, records: readonly UsageRecord[]): Promise<void> {
    const { rows } = await tx.query<{ key: string; usd: number; hours: number }>(
        `SELECT team || '|' || day || '|' || category || '|' || pool AS key, amount_usd AS usd, gpu_hours AS hours
           FROM daily_spend WHERE team = ANY($1::text[]) AND day = ANY($2::date[])`,
        [[...new Set(records.map((r) => r.team))], [...new Set(records.map((r) => r.day))]],
    );
    const totals = new Map(rows.map((r) => [r.key, { usd: r.usd, hours: r.hours }]));
    records.forEach((r, i) => {
        const key = `${r.team}|${r.day}|${r.category}|${r.pool ?? ""}`;
        const total = totals.get(key) ?? { usd: 0, hours: 0 };
        total.usd += r.amountUsd;
        total.hours += r.gpuHours ?? 0;
        totals.set(key, total);
        const [field, sum, limit] =
            total.usd > DAY_TOTAL_LIMITS.amountUsd
                ? ["amountUsd", total.usd, DAY_TOTAL_LIMITS.amountUsd]
                : ["gpuHours", total.hours, DAY_TOTAL_LIMITS.gpuHours];
        if (sum > limit)
            throw new BadInput(
                `records[${i}].${field}`,
                `takes ${r.team}'s ${r.category} total on ${r.day} to ${sum}, more than a day's total can hold (${limit})`,
            );
    });
}

/**
 * A reservation that names its workload is replaced by that workload's observed GPU spend as it
 * accrues: it holds only its estimate minus what the workload has spent since it was approved
 * (that spend is in month-to-date already), and once the spend reaches the estimate it is
 * released as "replaced-by-spend". Recomputed from all the usage on record, so re-read windows
 * and revised figures give the same answer. A reservation without a workload is held until it
 * is released or expires: the service cannot tell its spend from the team's other work.
 *
 * Only live reservations and those replaced by spend are recomputed: the UPDATE checks that
 * again on the row it writes, so a release or an expiry is never undone. Returns the teams
 * whose reservations were newly replaced by spend.
 */
async function replaceReservationsBySpend(tx: Queryable, teams: readonly string[], now: Date): Promise<Set<string>> {
    const { rows } = await tx.query<{ team: string; newly_replaced: boolean }>(
        `WITH observed AS (
             SELECT r.id, r.release_reason AS reason_before, r.estimated_cost_usd AS estimate,
                    least(r.estimated_cost_usd, coalesce(sum(u.amount_usd), 0)) AS consumed
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
          WHERE g.id = o.id AND (g.released_at IS NULL OR g.release_reason = 'replaced-by-spend')
            AND (g.consumed_usd IS DISTINCT FROM o.consumed OR (o.consumed >= o.estimate) IS DISTINCT FROM (g.released_at IS NOT NULL))
          RETURNING g.team, (o.reason_before IS NULL AND o.consumed >= o.estimate) AS newly_replaced`,
        [teams, now],
    );
    return new Set(rows.filter((r) => r.newly_replaced).map((r) => r.team));
}

/** Marks reservations past their expiry as expired, under their teams' locks, with an "expired" event per team. */
export async function expireReservations(db: Database, now: Date): Promise<number> {
    return db.transaction(async (tx) => {
        const lapsed = await tx.query<{ team: string }>(
            `SELECT DISTINCT team FROM gpu_requests
              WHERE status = 'approved' AND released_at IS NULL AND expires_at <= $1`,
            [now],
        );
        if (lapsed.rows.length === 0) return 0;
        const teams = lapsed.rows.map((r) => r.team);
        await lockTeamBudgets(tx, teams);
        const { rows } = await tx.query<{ team: string }>(
            `UPDATE gpu_requests SET released_at = expires_at, release_reason = 'expired'
              WHERE team = ANY($2::text[]) AND status = 'approved' AND released_at IS NULL AND expires_at <= $1
              RETURNING team`,
            [now, teams],
        );
        await recordMoneyEvents(
            tx,
            rows.map((r) => r.team),
            "expired",
            now,
        );
        return rows.length;
    });
}
