/**
 * Migration 3: one per-team lock for every write that changes a team's money, reservations
 * bound to a workload's UID (adopted, never made twice), and the feed of "money freed" events
 * the budget gate long-polls.
 *
 * Isolation: READ COMMITTED throughout. A PL/pgSQL function takes a new snapshot for each
 * statement, so what it reads after `lock_team_budgets` returns includes everything the
 * previous holder of the lock committed. Every writer of a team's spend or reservations holds
 * the same row lock (the team's `teams` row, FOR UPDATE) until it commits, so no reader under
 * the lock sees half of another writer's work: spend and reservations of a team change only
 * one locked transaction at a time.
 */
import type { Migration } from "./migrations";

/** Advisory lock class (first key of the two-key form) of the event feed; any constant no other lock of the service uses. */
export const EVENTS_LOCK_CLASS = 0x65766e74; // "evnt"

const LOCK_TEAM_BUDGETS = `CREATE FUNCTION lock_team_budgets(p_teams text[]) RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
    -- In name order, so two writers that touch several teams cannot wait on each other in a cycle.
    PERFORM 1 FROM teams WHERE name = ANY(p_teams) ORDER BY name FOR UPDATE;
END
$fn$`;

// An event's id is its place in the feed. Two transactions could take ids in one order and
// commit in the other, and a reader that saw the later id first would skip the earlier one for
// good; so inserting events takes one transaction-level lock, held until commit, and ids are
// visible in the order they were taken. Only writes that free money emit events; approvals do not.
const RECORD_MONEY_EVENTS = `CREATE FUNCTION record_money_events(p_teams text[], p_kind text, p_at timestamptz, p_dedupe text DEFAULT NULL)
RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
    IF coalesce(cardinality(p_teams), 0) = 0 THEN
        RETURN;
    END IF;
    PERFORM pg_advisory_xact_lock(${EVENTS_LOCK_CLASS}, 0);
    INSERT INTO money_events (team, kind, at, dedupe_key)
    SELECT DISTINCT t, p_kind, p_at, p_dedupe || ':' || t FROM unnest(p_teams) AS t
    ON CONFLICT (dedupe_key) DO NOTHING;
END
$fn$`;

const TEAM_MONEY = `CREATE FUNCTION team_money(p_team text, p_now timestamptz, p_month_start date, p_month_next date,
    OUT budget numeric, OUT spent numeric, OUT reserved numeric) LANGUAGE sql STABLE AS $fn$
    SELECT (SELECT monthly_budget_usd FROM teams WHERE name = p_team),
           (SELECT coalesce(sum(amount_usd), 0) FROM daily_spend WHERE team = p_team AND day >= p_month_start AND day < p_month_next),
           (SELECT coalesce(sum(greatest(estimated_cost_usd - consumed_usd, 0)), 0) FROM gpu_requests
             WHERE team = p_team AND status = 'approved' AND released_at IS NULL AND expires_at > p_now)
$fn$`;

// A live reservation the request's workload already holds: the one bound to its UID, else one
// made for the same team, namespace, kind and name before the UID was known (a template's,
// before its pull request). A request without a UID finds any live one for the same workload.
const RESERVATION_TO_ADOPT = `CREATE FUNCTION reservation_to_adopt(p_request jsonb, p_now timestamptz) RETURNS gpu_requests
LANGUAGE plpgsql AS $fn$
DECLARE
    v_team text := p_request->>'team';
    v_uid text := p_request#>>'{workload,uid}';
    v_found gpu_requests;
BEGIN
    IF p_request#>>'{workload,name}' IS NULL THEN
        RETURN NULL;
    END IF;
    IF v_uid IS NOT NULL THEN
        SELECT * INTO v_found FROM gpu_requests
         WHERE workload_uid = v_uid AND status = 'approved' AND released_at IS NULL AND expires_at > p_now
         ORDER BY created_at DESC LIMIT 1;
        IF v_found.id IS NOT NULL AND v_found.team <> v_team THEN
            RAISE EXCEPTION USING ERRCODE = 'CTB01', MESSAGE = 'workload.uid',
                DETAIL = format('is bound to a reservation of team %s, not %s', v_found.team, v_team);
        END IF;
        IF v_found.id IS NOT NULL THEN
            RETURN v_found;
        END IF;
    END IF;
    SELECT * INTO v_found FROM gpu_requests
     WHERE team = v_team AND status = 'approved' AND released_at IS NULL AND expires_at > p_now
       AND workload_name = p_request#>>'{workload,name}' AND workload_namespace = p_request#>>'{workload,namespace}'
       AND lower(workload_kind) = lower(p_request#>>'{workload,kind}')
       AND (v_uid IS NULL OR workload_uid IS NULL)
     ORDER BY created_at LIMIT 1;
    RETURN v_found;
END
$fn$`;

const CRITICAL_ALERT = `CREATE FUNCTION critical_alert(p_dedupe text, p_request jsonb, p_estimate numeric, p_over numeric) RETURNS jsonb
LANGUAGE plpgsql AS $fn$
DECLARE
    v_alert jsonb;
BEGIN
    INSERT INTO alerts (dedupe_key, team, kind, message)
    VALUES (p_dedupe, p_request->>'team', 'critical-over-budget',
            format('%s: %s was approved %s × %s on %s for %s h ($%s) past the budget as %s; $%s over',
                   p_request->>'team', p_request->>'requester', p_request->>'gpus', p_request->>'gpuResource', p_request->>'pool',
                   trim_scale((p_request->>'hours')::numeric), trim_scale(p_estimate), p_request->>'priorityClass', trim_scale(p_over)))
    ON CONFLICT (dedupe_key) DO NOTHING
    RETURNING jsonb_build_object('id', id, 'team', team, 'kind', kind, 'message', message, 'createdAt', created_at,
                                 'deliveredAt', delivered_at, 'deliveryError', delivery_error) INTO v_alert;
    RETURN v_alert;
END
$fn$`;

// The 409's reason is a code a program branches on: "exceeds-monthly-budget" never fits, "over-budget" may after money frees up.
const REJECTION = `CREATE FUNCTION rejection(p_id text, p_estimate numeric, p_available numeric, p_budget numeric, p_message text) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $fn$
    SELECT jsonb_build_object('statusCode', 409, 'alert', NULL, 'body', jsonb_build_object(
        'id', p_id, 'status', 'rejected',
        'reason', CASE WHEN p_estimate > p_budget THEN 'exceeds-monthly-budget' ELSE 'over-budget' END,
        'message', p_message, 'estimatedCostUsd', p_estimate, 'remainingUsd', round(p_available, 2)))
$fn$`;

const OVER_BUDGET_MESSAGE = `CREATE FUNCTION over_budget_message(p_asked numeric, p_available numeric, p_budget numeric, p_spent numeric, p_reserved numeric)
RETURNS text LANGUAGE sql IMMUTABLE AS $fn$
    SELECT CASE WHEN p_asked > p_budget
        THEN format('exceeds the monthly budget: $%s asked, more than the whole $%s budget', trim_scale(round(p_asked, 2)), trim_scale(p_budget))
        ELSE format('over budget: $%s asked, $%s of $%s left after $%s spent and $%s reserved this month',
                    trim_scale(round(p_asked, 2)), trim_scale(round(p_available, 2)), trim_scale(p_budget), trim_scale(round(p_spent, 2)), trim_scale(round(p_reserved, 2)))
    END
$fn$`;

const APPROVAL_BODY = `CREATE FUNCTION approval_body(p_id uuid, p_estimate numeric, p_remaining numeric, p_expires timestamptz, p_over boolean, p_reason text)
RETURNS jsonb LANGUAGE sql IMMUTABLE AS $fn$
    SELECT jsonb_build_object('id', p_id, 'status', 'approved', 'estimatedCostUsd', p_estimate, 'remainingUsd', round(p_remaining, 2),
        'expiresAt', to_char(p_expires AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'overBudget', p_over, 'reason', p_reason)
$fn$`;

const DECIDE_NEW = `CREATE FUNCTION decide_new_reservation(p_request jsonb, p_now timestamptz, p_month_start date, p_month_next date) RETURNS jsonb
LANGUAGE plpgsql AS $fn$
DECLARE
    m record;
    v_estimate numeric := (p_request->>'estimatedCostUsd')::numeric;
    v_critical boolean := (p_request->>'critical')::boolean;
    v_available numeric;
    v_fits boolean;
    v_approved boolean;
    v_reason text;
    v_expires timestamptz := p_now + make_interval(secs => ((p_request->>'hours')::numeric + (p_request->>'graceHours')::numeric) * 3600);
BEGIN
    SELECT * INTO m FROM team_money(p_request->>'team', p_now, p_month_start, p_month_next);
    v_available := m.budget - m.spent - m.reserved;
    v_fits := v_estimate <= v_available;
    v_approved := v_fits OR v_critical;
    v_reason := CASE
        WHEN v_fits THEN 'within budget'
        WHEN v_critical THEN format('approved past the budget: %s is a critical class; $%s over', p_request->>'priorityClass', trim_scale(round(v_estimate - v_available, 2)))
        ELSE over_budget_message(v_estimate, v_available, m.budget, m.spent, m.reserved)
    END;
    INSERT INTO gpu_requests (id, team, pool, gpu_resource, gpus, hours, priority_class, requester, purpose,
            workload_namespace, workload_kind, workload_name, workload_uid, status, over_budget, reason,
            usd_per_unit_hour, estimated_cost_usd, remaining_usd, created_at, expires_at)
    VALUES ((p_request->>'id')::uuid, p_request->>'team', p_request->>'pool', p_request->>'gpuResource', (p_request->>'gpus')::integer,
            (p_request->>'hours')::numeric, p_request->>'priorityClass', p_request->>'requester', p_request->>'purpose',
            p_request#>>'{workload,namespace}', p_request#>>'{workload,kind}', p_request#>>'{workload,name}', p_request#>>'{workload,uid}',
            CASE WHEN v_approved THEN 'approved' ELSE 'rejected' END, v_approved AND NOT v_fits, v_reason,
            (p_request->>'usdPerUnitHour')::numeric, v_estimate,
            round(CASE WHEN v_approved THEN v_available - v_estimate ELSE v_available END, 2), p_now,
            CASE WHEN v_approved THEN v_expires END);
    IF NOT v_approved THEN
        RETURN rejection(p_request->>'id', v_estimate, v_available, m.budget, v_reason);
    END IF;
    RETURN jsonb_build_object('statusCode', 201,
        'body', approval_body((p_request->>'id')::uuid, v_estimate, v_available - v_estimate, v_expires, NOT v_fits, v_reason),
        'alert', CASE WHEN v_fits THEN NULL
                      ELSE critical_alert('request:' || (p_request->>'id'), p_request, v_estimate, round(v_estimate - v_available, 2)) END);
END
$fn$`;

// Adoption never lowers what the reservation holds: it grows to this request's estimate when
// that is larger (and the growth must fit, as a new reservation would), and lasts until the
// later of the two expiries. A growth that does not fit is a rejection; the reservation stays as it was.
const DECIDE_ADOPTION = `CREATE FUNCTION decide_adoption(p_existing gpu_requests, p_request jsonb, p_now timestamptz, p_month_start date, p_month_next date)
RETURNS jsonb LANGUAGE plpgsql AS $fn$
DECLARE
    m record;
    v_estimate numeric := (p_request->>'estimatedCostUsd')::numeric;
    v_growth numeric := greatest(v_estimate - p_existing.estimated_cost_usd, 0);
    v_available numeric;
    v_fits boolean;
    v_reason text;
    v_kept gpu_requests;
BEGIN
    SELECT * INTO m FROM team_money(p_existing.team, p_now, p_month_start, p_month_next);
    v_available := m.budget - m.spent - m.reserved;
    v_fits := v_growth <= v_available;
    IF NOT (v_fits OR (p_request->>'critical')::boolean) THEN
        v_reason := over_budget_message(v_growth, v_available, m.budget, m.spent, m.reserved);
        INSERT INTO gpu_requests (id, team, pool, gpu_resource, gpus, hours, priority_class, requester, purpose,
                workload_namespace, workload_kind, workload_name, workload_uid, status, reason,
                usd_per_unit_hour, estimated_cost_usd, remaining_usd, created_at)
        VALUES ((p_request->>'id')::uuid, p_existing.team, p_request->>'pool', p_request->>'gpuResource', (p_request->>'gpus')::integer,
                (p_request->>'hours')::numeric, p_request->>'priorityClass', p_request->>'requester', p_request->>'purpose',
                p_request#>>'{workload,namespace}', p_request#>>'{workload,kind}', p_request#>>'{workload,name}', p_request#>>'{workload,uid}',
                'rejected', format('growing reservation %s: %s', p_existing.id, v_reason),
                (p_request->>'usdPerUnitHour')::numeric, v_estimate, round(v_available, 2), p_now);
        RETURN rejection(p_request->>'id', v_estimate, v_available, m.budget, format('growing reservation %s: %s', p_existing.id, v_reason));
    END IF;
    UPDATE gpu_requests
       SET workload_uid = coalesce(workload_uid, p_request#>>'{workload,uid}'),
           estimated_cost_usd = greatest(estimated_cost_usd, v_estimate),
           expires_at = greatest(expires_at, p_now + make_interval(secs => ((p_request->>'hours')::numeric + (p_request->>'graceHours')::numeric) * 3600)),
           over_budget = over_budget OR NOT v_fits
     WHERE id = p_existing.id RETURNING * INTO v_kept;
    v_reason := CASE
        WHEN v_growth = 0 THEN 'adopted: the reservation already covers this workload'
        WHEN v_fits THEN format('adopted and grown by $%s, within budget', trim_scale(round(v_growth, 2)))
        ELSE format('adopted and grown past the budget: %s is a critical class; $%s over', p_request->>'priorityClass', trim_scale(round(v_growth - v_available, 2)))
    END;
    RETURN jsonb_build_object('statusCode', 200,
        'body', approval_body(v_kept.id, v_kept.estimated_cost_usd, v_available - v_growth, v_kept.expires_at, v_kept.over_budget, v_reason)
                || jsonb_build_object('adopted', true),
        'alert', CASE WHEN v_fits THEN NULL
                      ELSE critical_alert('adoption:' || (p_request->>'id'), p_request, v_growth, round(v_growth - v_available, 2)) END);
END
$fn$`;

const APPROVE = `CREATE OR REPLACE FUNCTION approve_gpu_request(p_key text, p_hash text, p_request jsonb, p_now timestamptz, p_month_start date, p_month_next date)
RETURNS jsonb LANGUAGE plpgsql AS $fn$
DECLARE
    prior record;
    v_existing gpu_requests;
    v_decision jsonb;
BEGIN
    -- A concurrent request with the same key waits on the key's unique entry until the first commits, then reads its answer.
    INSERT INTO idempotency_keys (scope, key, request_hash) VALUES ('gpu-requests', p_key, p_hash) ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
        SELECT request_hash, status_code, response INTO prior FROM idempotency_keys WHERE scope = 'gpu-requests' AND key = p_key;
        RETURN jsonb_build_object('replay', true, 'requestHash', prior.request_hash, 'statusCode', prior.status_code, 'body', prior.response);
    END IF;
    PERFORM lock_team_budgets(ARRAY[p_request->>'team']);
    v_existing := reservation_to_adopt(p_request, p_now);
    IF v_existing.id IS NULL THEN
        v_decision := decide_new_reservation(p_request, p_now, p_month_start, p_month_next);
    ELSE
        v_decision := decide_adoption(v_existing, p_request, p_now, p_month_start, p_month_next);
    END IF;
    UPDATE idempotency_keys SET status_code = (v_decision->>'statusCode')::integer, response = v_decision->'body'
     WHERE scope = 'gpu-requests' AND key = p_key;
    RETURN v_decision || jsonb_build_object('replay', false);
END
$fn$`;

export const MIGRATION_3: Migration = {
    version: 3,
    name: "one per-team lock for money, reservations bound to workloads, money-freed events",
    statements: [
        `ALTER TABLE gpu_requests ADD COLUMN workload_uid text, ALTER COLUMN remaining_usd TYPE numeric(20, 2)`,
        `CREATE INDEX gpu_requests_live_uid ON gpu_requests (workload_uid)
          WHERE status = 'approved' AND released_at IS NULL AND workload_uid IS NOT NULL`,
        `CREATE INDEX gpu_requests_live_workload ON gpu_requests (team, workload_name)
          WHERE status = 'approved' AND released_at IS NULL AND workload_name IS NOT NULL`,
        `CREATE TABLE money_events (
            id bigserial PRIMARY KEY,
            team text NOT NULL,
            kind text NOT NULL CHECK (kind IN ('released', 'expired', 'spend-replaced', 'budget-changed', 'month-started')),
            at timestamptz NOT NULL,
            dedupe_key text UNIQUE
        )`,
        `CREATE INDEX money_events_at ON money_events (at)`,
        LOCK_TEAM_BUDGETS,
        RECORD_MONEY_EVENTS,
        TEAM_MONEY,
        RESERVATION_TO_ADOPT,
        CRITICAL_ALERT,
        REJECTION,
        OVER_BUDGET_MESSAGE,
        APPROVAL_BODY,
        DECIDE_NEW,
        DECIDE_ADOPTION,
        APPROVE,
    ],
};
