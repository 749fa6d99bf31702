/**
 * Writing spend: a pull source's days replaced whole, a pushed record replacing the earlier one
 * of its natural key, and after either, the daily roll-up the reads use and the reservations
 * that observed spend replaces.
 *
 * Every change of spend runs under the budget locks of the teams it touches (db/team-locks.ts),
 * the same locks approvals and releases take, and refreshes only those teams' roll-up and
 * reservations. Reading a team's spend or reservations outside its lock and writing them back
 * later (as the roll-up once did for every team, and the replacement by spend for released
 * reservations) undoes what a concurrent release committed meanwhile.
 *
 * The unallocated line and a pool's idle line (team "") are nobody's money: no team lock guards
 * them, so their roll-up is refreshed under one advisory lock of their own, taken after the
 * team locks (every writer takes them in that order).
 */
import type { Database, Queryable } from "./db/database";
import { lockTeamBudgets, recordMoneyEvents } from "./db/team-locks";
import { BadInput, type UsageRecord } from "./model";
import { monthOf } from "./rules";
import type { BillDay } from "./sources/source";

/** Advisory lock class of a source's sync (first key of the two-key form; the second is the source's name, hashed). */
const SOURCE_LOCK_CLASS = 0x73726365; // "srce"
/** Advisory lock (two-key form, second key 0) of the lines no team owns: unallocated and a pool's idle. */
const UNOWNED_LINES_LOCK = [SOURCE_LOCK_CLASS, 0] as const;
/** Source names of pushed usage start with this; pulled sources never do. */
export const PUSH_SOURCE_PREFIX = "push:";
const INSERT_CHUNK = 5000;
/** The largest day total daily_spend's columns hold: amount_usd numeric(16, 6), gpu_hours numeric(14, 4) (migration 1). */
export const DAY_TOTAL_LIMITS = { amountUsd: 9_999_999_999.99, gpuHours: 9_999_999_999.99 } as const;

/**
 * Replaces what `source` recorded for `days` with `records`, in one transaction: re-reading a
 * window never counts it twice, a revised figure replaces the first, and a run that fails
 * leaves the previous data in place. `bill`: Cost Explorer's account figures for the days.
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
        await storeBill(tx, bill, now);
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
 * never counts it twice. Records of one key within a batch are added up: together they are the key's total.
 */
export async function upsertPushedUsage(
    tx: Queryable,
    source: string,
    records: readonly UsageRecord[],
    now: Date,
): Promise<void> {
    const teams = [...new Set(records.map((r) => r.team))];
    const days = [...new Set(records.map((r) => r.day))];
    await changeSpend(tx, teams, days, now, async () => {
        await refuseOverflowingDays(tx, records);
        const merged = mergeByNaturalKey(records);
        for (const r of merged) await deleteByNaturalKey(tx, source, r);
        await insertUsage(tx, source, merged);
    });
}

async function deleteByNaturalKey(tx: Queryable, source: string, r: UsageRecord): Promise<void> {
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

function mergeByNaturalKey(records: readonly UsageRecord[]): UsageRecord[] {
    const byKey = new Map<string, UsageRecord>();
    for (const r of records) {
        const key = naturalKey(r);
        const first = byKey.get(key);
        const add = (a?: number, b?: number) => (a === undefined && b === undefined ? undefined : (a ?? 0) + (b ?? 0));
        byKey.set(
            key,
            first
                ? {
                      ...first,
                      amountUsd: first.amountUsd + r.amountUsd,
                      gpuHours: add(first.gpuHours, r.gpuHours),
                      resourceHours: add(first.resourceHours, r.resourceHours),
                  }
                : r,
        );
    }
    return [...byKey.values()];
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
    const owned = teams.filter((t) => t !== "");
    await lockTeamBudgets(tx, owned);
    if (owned.length < teams.length) await tx.query("SELECT pg_advisory_xact_lock($1, $2)", [...UNOWNED_LINES_LOCK]);
    const before = await moneyHeld(tx, owned, now);
    await write();
    await refreshRollUp(tx, days, teams);
    const replaced = await replaceReservationsBySpend(tx, owned, now);
    const after = await moneyHeld(tx, owned, now);
    const freed = owned.filter((t) => replaced.has(t) || (after.get(t) ?? 0) < (before.get(t) ?? 0) - 1e-9);
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

/**
 * The roll-up of the locked teams only: another team's rows are another lock's business.
 * counted_usage (migration 4) leaves out pushed records a pulled source owns for the same workload and day.
 */
async function refreshRollUp(tx: Queryable, days: readonly string[], teams: readonly string[]): Promise<void> {
    await tx.query("DELETE FROM daily_spend WHERE day = ANY($1::date[]) AND team = ANY($2::text[])", [days, teams]);
    await tx.query(
        `INSERT INTO daily_spend (line, team, day, category, pool, gpu_resource, amount_usd, gpu_hours, resource_hours, estimated)
         SELECT line, team, day, category, coalesce(pool, ''), coalesce(gpu_resource, ''), sum(amount_usd), sum(gpu_hours), sum(resource_hours), bool_or(estimated)
         FROM counted_usage WHERE day = ANY($1::date[]) AND team = ANY($2::text[])
         GROUP BY line, team, day, category, coalesce(pool, ''), coalesce(gpu_resource, '')`,
        [days, teams],
    );
}

/**
 * A pushed batch that would take a day's total past what its column holds is refused, naming
 * the record that crosses the limit, before anything is written. Read under the teams' locks, so
 * the totals cannot move meanwhile. The earlier record a push replaces still counts here: at
 * most one record's worth of caution on a limit of ten billion dollars a day.
 */
async function refuseOverflowingDays(tx: Queryable, records: readonly UsageRecord[]): Promise<void> {
    const { rows } = await tx.query<{ key: string; usd: number; hours: number }>(
        `SELECT team || '|' || day || '|' || category || '|' || pool AS key, sum(amount_usd) AS usd, sum(gpu_hours) AS hours
           FROM daily_spend WHERE team = ANY($1::text[]) AND day = ANY($2::date[]) GROUP BY team, day, category, pool`,
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
 * released as "replaced-by-spend". Spend before the approval never counts: days before the
 * approval day are left out, and of the approval day, the spend on record when it was approved
 * (its baseline, migration 4). Recomputed from all the usage on record, so re-read windows
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
          WHERE g.id = o.id AND (g.released_at IS NULL OR g.release_reason = 'replaced-by-spend')
            AND (g.consumed_usd IS DISTINCT FROM round(o.consumed, 2) OR (o.consumed >= o.estimate) IS DISTINCT FROM (g.released_at IS NOT NULL))
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
