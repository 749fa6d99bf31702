/**
 * Migration 7: adopting a reservation checks its growth against every month the reservation
 * spans, as a new reservation is checked (migration 4's worst_month_of), not the whole growth
 * against this month alone. A reservation that grows keeps its start and hours, so month m
 * carries reservation_held_in(new estimate) − reservation_held_in(old estimate) more there; each
 * month from this one to the reservation's end must have that much left beside its spend and
 * everything reserved there. The reply's remainingUsd is this month's, less this month's part.
 */
import type { Migration } from "./migrations";

/** The month the growth fits worst: its start, the growth's part there, and what is left there before it. */
const WORST_GROWTH_MONTH = `CREATE FUNCTION worst_growth_month(p_existing gpu_requests, p_estimate numeric, p_now timestamptz, p_month_start date,
    OUT month date, OUT part numeric, OUT available numeric, OUT reserved numeric) LANGUAGE plpgsql STABLE AS $fn$
DECLARE
    m date := p_month_start;
    m_next date;
    mm record;
    m_part numeric;
    v_end timestamptz := p_existing.created_at + p_existing.hours * interval '1 hour';
BEGIN
    LOOP
        m_next := (m + interval '1 month')::date;
        m_part := round(reservation_held_in(p_estimate, p_existing.consumed_usd, p_existing.created_at, p_existing.hours, m, m_next)
                      - reservation_held_in(p_existing.estimated_cost_usd, p_existing.consumed_usd, p_existing.created_at, p_existing.hours, m, m_next), 2);
        SELECT * INTO mm FROM team_money(p_existing.team, p_now, m, m_next);
        IF month IS NULL OR m_part - (mm.budget - mm.spent - mm.reserved) > part - available THEN
            month := m; part := m_part; available := mm.budget - mm.spent - mm.reserved; reserved := mm.reserved;
        END IF;
        m := m_next;
        -- This month always; later ones while the reservation reaches them.
        EXIT WHEN (m::timestamp AT TIME ZONE 'UTC') >= v_end;
    END LOOP;
END
$fn$`;

const DECIDE_ADOPTION_BY_MONTH = `CREATE OR REPLACE FUNCTION decide_adoption(p_existing gpu_requests, p_request jsonb, p_now timestamptz, p_month_start date, p_month_next date)
RETURNS jsonb LANGUAGE plpgsql AS $fn$
DECLARE
    m record;
    w record;
    v_estimate numeric := (p_request->>'estimatedCostUsd')::numeric;
    v_new numeric := greatest(v_estimate, p_existing.estimated_cost_usd);
    v_growth numeric := v_new - p_existing.estimated_cost_usd;
    v_this_part numeric := round(reservation_held_in(v_new, p_existing.consumed_usd, p_existing.created_at, p_existing.hours, p_month_start, p_month_next)
                               - reservation_held_in(p_existing.estimated_cost_usd, p_existing.consumed_usd, p_existing.created_at, p_existing.hours, p_month_start, p_month_next), 2);
    v_available numeric;
    v_shortfall numeric;
    v_fits boolean;
    v_reason text;
    v_kept gpu_requests;
BEGIN
    SELECT * INTO m FROM team_money(p_existing.team, p_now, p_month_start, p_month_next);
    SELECT * INTO w FROM worst_growth_month(p_existing, v_new, p_now, p_month_start);
    v_available := m.budget - m.spent - m.reserved;
    v_shortfall := greatest(w.part - w.available, 0);
    v_fits := v_shortfall = 0;
    IF NOT (v_fits OR (p_request->>'critical')::boolean) THEN
        v_reason := format('growing reservation %s: ', p_existing.id) || CASE
            WHEN w.month = p_month_start THEN over_budget_message(w.part, v_available, m.budget, m.spent, m.reserved)
            ELSE format('over budget in %s: $%s of the $%s growth falls in that month, $%s of $%s left there after $%s reserved',
                        to_char(w.month, 'YYYY-MM'), trim_scale(w.part), trim_scale(round(v_growth, 2)), trim_scale(round(w.available, 2)),
                        trim_scale(m.budget), trim_scale(round(w.reserved, 2)))
        END;
        INSERT INTO gpu_requests (id, team, pool, gpu_resource, gpus, hours, priority_class, requester, purpose,
                workload_namespace, workload_kind, workload_name, workload_uid, status, reason,
                usd_per_unit_hour, estimated_cost_usd, remaining_usd, created_at)
        VALUES ((p_request->>'id')::uuid, p_existing.team, p_request->>'pool', p_request->>'gpuResource', (p_request->>'gpus')::integer,
                (p_request->>'hours')::numeric, p_request->>'priorityClass', p_request->>'requester', p_request->>'purpose',
                p_request#>>'{workload,namespace}', p_request#>>'{workload,kind}', p_request#>>'{workload,name}', p_request#>>'{workload,uid}',
                'rejected', v_reason, (p_request->>'usdPerUnitHour')::numeric, v_estimate, round(v_available, 2), p_now);
        RETURN rejection(p_request->>'id', v_estimate, v_available, m.budget, v_reason);
    END IF;
    UPDATE gpu_requests
       SET workload_uid = coalesce(workload_uid, p_request#>>'{workload,uid}'),
           estimated_cost_usd = v_new,
           expires_at = greatest(expires_at, p_now + make_interval(secs => ((p_request->>'hours')::numeric + (p_request->>'graceHours')::numeric) * 3600)),
           over_budget = over_budget OR NOT v_fits
     WHERE id = p_existing.id RETURNING * INTO v_kept;
    v_reason := CASE
        WHEN v_growth = 0 THEN 'adopted: the reservation already covers this workload'
        WHEN v_fits THEN format('adopted and grown by $%s, within budget', trim_scale(round(v_growth, 2)))
        ELSE format('adopted and grown past the budget: %s is a critical class; $%s over', p_request->>'priorityClass', trim_scale(round(v_shortfall, 2)))
    END;
    RETURN jsonb_build_object('statusCode', 200,
        'body', approval_body(v_kept.id, v_kept.estimated_cost_usd, v_available - v_this_part, v_kept.expires_at, v_kept.over_budget, v_reason)
                || jsonb_build_object('adopted', true),
        'alert', CASE WHEN v_fits THEN NULL
                      ELSE critical_alert('adoption:' || (p_request->>'id'), p_request, v_growth, round(v_shortfall, 2)) END);
END
$fn$`;

export const MIGRATION_7: Migration = {
    version: 7,
    name: "adoption checks every month a reservation spans",
    statements: [WORST_GROWTH_MONTH, DECIDE_ADOPTION_BY_MONTH],
};
