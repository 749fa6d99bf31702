/**
 * Migration 8: the approval's money read without re-planning it on every call (issue 18,
 * benchmark). Profiled on PostgreSQL 15 (pg_stat_statements with track=all, auto_explain of the
 * nested statements, perf on the backends; docs/cost-tracker.md#approvals-under-load), an
 * approval spent most of its server time parsing and planning SQL, not reading rows:
 *
 * - `team_money` and `team_reserved_in` were SQL functions that PostgreSQL cannot inline (one
 *   returns a record, the other aggregates), so every call ran them through the SQL-function
 *   executor, which parses and plans the body anew for each calling statement's execution. An
 *   approval calls `team_money` at least twice (its own month, then each month the request
 *   reaches). As PL/pgSQL functions their statements are planned once per connection and reused.
 * - `reservation_held_in` was declared IMMUTABLE although it adds an interval to a timestamptz,
 *   which PostgreSQL marks STABLE (the result of `timestamptz + interval` can depend on the
 *   TimeZone setting). A function declared more stable than its body is never inlined, so it ran
 *   as a separate SQL-function call for every live reservation summed. Declared STABLE, as it is,
 *   its expression is inlined into the sum.
 * - A team's month of spend was read through `daily_spend_day`, the index on day alone: every
 *   team's rows of the month, filtered by team. `daily_spend_team_day` reads the team's own rows.
 * - Over HTTP, an approval took five round trips and two commits: BEGIN, the decision, an UPDATE
 *   of the requester the body claimed (whenever it differs from the caller's proven identity, as
 *   it does for the portal and the gate), COMMIT, then the audit entry in a transaction of its own
 *   (the route's onSend hook, which also parsed the answer back from JSON). The function now
 *   writes both in the decision's transaction: one round trip, one commit, and no decision
 *   without its entry.
 *
 * What is read, and under which lock, is unchanged: every caller still takes the team's lock
 * first (db/team-locks.ts), and the figures are the same sums.
 */
import type { Migration } from "./migrations";

// STABLE PL/pgSQL: its statements run on the calling statement's snapshot (PostgreSQL runs
// non-volatile functions without a new snapshot per statement), so the three figures are read
// together, as the single SQL statement it replaces read them.
const TEAM_MONEY_PLANNED_ONCE = `CREATE OR REPLACE FUNCTION team_money(p_team text, p_now timestamptz, p_month_start date, p_month_next date,
    OUT budget numeric, OUT spent numeric, OUT reserved numeric) LANGUAGE plpgsql STABLE AS $fn$
BEGIN
    SELECT monthly_budget_usd INTO budget FROM teams WHERE name = p_team;
    SELECT coalesce(sum(amount_usd), 0) INTO spent FROM daily_spend
     WHERE team = p_team AND day >= p_month_start AND day < p_month_next;
    reserved := team_reserved_in(p_team, p_now, p_month_start, p_month_next);
END
$fn$`;

const TEAM_RESERVED_PLANNED_ONCE = `CREATE OR REPLACE FUNCTION team_reserved_in(p_team text, p_now timestamptz, month_start date, month_next date)
RETURNS numeric LANGUAGE plpgsql STABLE AS $fn$
BEGIN
    RETURN (SELECT coalesce(sum(reservation_held_in(estimated_cost_usd, consumed_usd, created_at, hours, month_start, month_next)), 0)
              FROM gpu_requests
             WHERE team = p_team AND status = 'approved' AND released_at IS NULL AND expires_at > p_now);
END
$fn$`;

// The decision, the requester the body claimed (when it is not the caller's proven identity) and
// the audit entry commit together. A replay of the key with another request is not audited here:
// the service refuses it (400) and its write route audits that refusal. An adopted reservation
// keeps the claim it was made with.
const APPROVE_AND_AUDIT = `CREATE FUNCTION approve_gpu_request(p_key text, p_hash text, p_request jsonb, p_now timestamptz,
    p_month_start date, p_month_next date, p_audit jsonb) RETURNS jsonb LANGUAGE plpgsql AS $fn$
DECLARE
    v_result jsonb := decide_gpu_request(p_key, p_hash, p_request, p_now, p_month_start, p_month_next);
BEGIN
    IF p_request->>'claimedRequester' IS NOT NULL AND NOT (v_result->>'replay')::boolean
       AND v_result#>>'{body,adopted}' IS NULL THEN
        UPDATE gpu_requests SET claimed_requester = p_request->>'claimedRequester' WHERE id = (v_result#>>'{body,id}')::uuid;
    END IF;
    IF p_audit IS NOT NULL AND (NOT (v_result->>'replay')::boolean OR v_result->>'requestHash' = p_hash) THEN
        INSERT INTO audit_log (at, caller, action, teams, target, status_code, outcome)
        VALUES (p_now, p_audit->>'caller', p_audit->>'action', ARRAY(SELECT jsonb_array_elements_text(p_audit->'teams')),
                v_result#>>'{body,id}', (v_result->>'statusCode')::integer, v_result#>>'{body,status}');
    END IF;
    RETURN v_result;
END
$fn$`;

export const MIGRATION_8: Migration = {
    version: 8,
    name: "the approval's money read planned once per connection, its audit entry in its transaction",
    statements: [
        `ALTER FUNCTION reservation_held_in(numeric, numeric, timestamptz, numeric, date, date) STABLE`,
        TEAM_RESERVED_PLANNED_ONCE,
        TEAM_MONEY_PLANNED_ONCE,
        `CREATE INDEX daily_spend_team_day ON daily_spend (team, day)`,
        // The decision itself, unchanged, under a name of its own; approve_gpu_request adds the audit entry.
        `ALTER FUNCTION approve_gpu_request(text, text, jsonb, timestamptz, date, date) RENAME TO decide_gpu_request`,
        APPROVE_AND_AUDIT,
    ],
};
