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
 * - A new request read this month's money twice: `decide_new_reservation`, then `worst_month_of`
 *   for its first month. `worst_month_after` starts from the figures already read.
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

// The worst month for a new request, given this month's figures the caller has already read:
// migration 4's worst_month_of read this month's money a second time. Later months are read
// while the request reaches them; a tie keeps the earlier month, as worst_month_of does.
const WORST_MONTH_AFTER = `CREATE FUNCTION worst_month_after(p_team text, p_estimate numeric, p_hours numeric, p_now timestamptz,
    p_month_start date, p_part numeric, p_available numeric, p_reserved numeric,
    OUT month date, OUT part numeric, OUT available numeric, OUT reserved numeric) LANGUAGE plpgsql STABLE AS $fn$
DECLARE
    m date := (p_month_start + interval '1 month')::date;
    m_next date;
    mm record;
    m_part numeric;
BEGIN
    month := p_month_start; part := p_part; available := p_available; reserved := p_reserved;
    WHILE (m::timestamp AT TIME ZONE 'UTC') < p_now + p_hours * interval '1 hour' LOOP
        m_next := (m + interval '1 month')::date;
        m_part := round(reservation_held_in(p_estimate, 0, p_now, p_hours, m, m_next), 2);
        SELECT * INTO mm FROM team_money(p_team, p_now, m, m_next);
        IF m_part - (mm.budget - mm.spent - mm.reserved) > part - available THEN
            month := m; part := m_part; available := mm.budget - mm.spent - mm.reserved; reserved := mm.reserved;
        END IF;
        m := m_next;
    END LOOP;
END
$fn$`;

// Migration 4's decision with two changes: this month's money is read once (worst_month_after),
// and the requester the body claimed is inserted with the request instead of updated after it.
const DECIDE_NEW_READ_ONCE = `CREATE OR REPLACE FUNCTION decide_new_reservation(p_request jsonb, p_now timestamptz, p_month_start date, p_month_next date) RETURNS jsonb
LANGUAGE plpgsql AS $fn$
DECLARE
    m record;
    w record;
    v_estimate numeric := (p_request->>'estimatedCostUsd')::numeric;
    v_hours numeric := (p_request->>'hours')::numeric;
    v_this_part numeric := round(reservation_held_in(v_estimate, 0, p_now, v_hours, p_month_start, p_month_next), 2);
    v_available numeric;
    v_shortfall numeric;
    v_fits boolean;
    v_approved boolean;
    v_reason text;
    v_expires timestamptz := p_now + make_interval(secs => (v_hours + (p_request->>'graceHours')::numeric) * 3600);
BEGIN
    SELECT * INTO m FROM team_money(p_request->>'team', p_now, p_month_start, p_month_next);
    v_available := m.budget - m.spent - m.reserved;
    SELECT * INTO w FROM worst_month_after(p_request->>'team', v_estimate, v_hours, p_now, p_month_start, v_this_part, v_available, m.reserved);
    v_shortfall := greatest(w.part - w.available, 0);
    v_fits := v_shortfall = 0;
    v_approved := v_fits OR (p_request->>'critical')::boolean;
    v_reason := CASE
        WHEN v_fits THEN 'within budget'
        WHEN v_approved THEN format('approved past the budget: %s is a critical class; $%s over', p_request->>'priorityClass', trim_scale(round(v_shortfall, 2)))
        WHEN w.month = p_month_start THEN over_budget_message(w.part, v_available, m.budget, m.spent, m.reserved)
        ELSE format('over budget in %s: $%s of the $%s asked falls in that month, $%s of $%s left there after $%s reserved',
                    to_char(w.month, 'YYYY-MM'), trim_scale(w.part), trim_scale(round(v_estimate, 2)), trim_scale(round(w.available, 2)),
                    trim_scale(m.budget), trim_scale(round(w.reserved, 2)))
    END;
    INSERT INTO gpu_requests (id, team, pool, gpu_resource, gpus, hours, priority_class, requester, claimed_requester, purpose,
            workload_namespace, workload_kind, workload_name, workload_uid, status, over_budget, reason,
            usd_per_unit_hour, estimated_cost_usd, remaining_usd, created_at, expires_at)
    VALUES ((p_request->>'id')::uuid, p_request->>'team', p_request->>'pool', p_request->>'gpuResource', (p_request->>'gpus')::integer,
            v_hours, p_request->>'priorityClass', p_request->>'requester', p_request->>'claimedRequester', p_request->>'purpose',
            p_request#>>'{workload,namespace}', p_request#>>'{workload,kind}', p_request#>>'{workload,name}', p_request#>>'{workload,uid}',
            CASE WHEN v_approved THEN 'approved' ELSE 'rejected' END, v_approved AND NOT v_fits, v_reason,
            (p_request->>'usdPerUnitHour')::numeric, v_estimate,
            round(CASE WHEN v_approved THEN v_available - v_this_part ELSE v_available END, 2), p_now,
            CASE WHEN v_approved THEN v_expires END);
    IF NOT v_approved THEN
        -- The code: a part larger than the whole budget never fits; otherwise it may once money frees up.
        RETURN jsonb_set(rejection(p_request->>'id', v_estimate, v_available, m.budget, v_reason), '{body,reason}',
            to_jsonb(CASE WHEN w.part > m.budget THEN 'exceeds-monthly-budget' ELSE 'over-budget' END));
    END IF;
    RETURN jsonb_build_object('statusCode', 201,
        'body', approval_body((p_request->>'id')::uuid, v_estimate, v_available - v_this_part, v_expires, NOT v_fits, v_reason),
        'alert', CASE WHEN v_fits THEN NULL
                      ELSE critical_alert('request:' || (p_request->>'id'), p_request, v_estimate, round(v_shortfall, 2)) END);
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
    -- A new request carries its claim from its INSERT; a growth that adoption refused is labelled here.
    IF p_request->>'claimedRequester' IS NOT NULL AND NOT (v_result->>'replay')::boolean
       AND v_result#>>'{body,adopted}' IS NULL THEN
        UPDATE gpu_requests SET claimed_requester = p_request->>'claimedRequester'
         WHERE id = (v_result#>>'{body,id}')::uuid AND claimed_requester IS NULL;
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
        WORST_MONTH_AFTER,
        DECIDE_NEW_READ_ONCE,
        // Replaced by worst_month_after; nothing else calls it.
        `DROP FUNCTION worst_month_of(text, numeric, numeric, timestamptz, date)`,
        APPROVE_AND_AUDIT,
    ],
};
