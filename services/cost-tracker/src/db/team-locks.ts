/**
 * The one lock every write that changes a team's money takes: approvals (inside
 * approve_gpu_request), releases by id and by workload, usage pushes, source syncs, expiry and
 * budget changes. It is the team's `teams` row, locked FOR UPDATE by the SQL function
 * lock_team_budgets (migration 3) in name order, and held until the transaction ends. Call it
 * inside a transaction, before reading the money it guards: in READ COMMITTED the statements
 * after it see what the previous holder committed.
 */
import type { Queryable } from "./database";

export async function lockTeamBudgets(tx: Queryable, teams: Iterable<string>): Promise<void> {
    const names = [...new Set(teams)];
    if (names.length === 0) return;
    await tx.query("SELECT lock_team_budgets($1::text[])", [names]);
}

/** What a change to a team's money frees up, as the event feed (GET /v1/events) names it. */
export type MoneyEventKind = "released" | "expired" | "spend-replaced" | "budget-changed" | "month-started";

/**
 * Records one event per team in the caller's transaction, after its change: the feed shows it
 * when the change commits, never before. `dedupe` makes it once-only per team (month-started).
 */
export async function recordMoneyEvents(
    tx: Queryable,
    teams: Iterable<string>,
    kind: MoneyEventKind,
    at: Date,
    dedupe?: string,
): Promise<void> {
    const names = [...new Set(teams)];
    if (names.length === 0) return;
    await tx.query("SELECT record_money_events($1::text[], $2, $3, $4)", [names, kind, at, dedupe ?? null]);
}
