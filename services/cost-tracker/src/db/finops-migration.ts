/**
 * Migration 4 (issue 20): one owner per dollar, month-aware reservations, bill figures.
 *
 * - Usage rows carry their line (team, unallocated, idle), the GPU resource and its raw unit-hours
 *   beside the GPU-equivalent hours, and Cost Explorer's Estimated flag. A row's natural key is
 *   (source, day, line, team, category, workload, pool, GPU resource): a later record of the same
 *   key from the same source replaces the earlier one. Rows an older version appended under one
 *   key are merged (summed) first, so no dollar is lost.
 * - The daily roll-up gains the line, the raw unit-hours and the Estimated flag.
 * - `bill_days`: Cost Explorer's account total and the cluster's own tagged cost per day, the
 *   figures the monthly report reconciles against (never added to any team).
 * - A reservation's baseline: the workload's GPU spend on record for its approval day when it
 *   was approved. Spend before the approval never consumes the reservation.
 * - `reservation_held_in`: the part of a reservation a month carries (see its comment), and the
 *   approval (migration 3's decide_new_reservation) checking every month a request reaches.
 */
import type { Migration } from "./migrations";

/**
 * Migration 3's money made month-aware: `team_money` counts only the part of each live
 * reservation the month carries, and a new reservation must fit every month it reaches — its part
 * there beside that month's spend and the parts other reservations hold there. `remainingUsd` is
 * this month's. Adoption (migration 3) keeps its check against this month through `team_money`.
 */
const TEAM_MONEY_BY_MONTH = `CREATE OR REPLACE FUNCTION team_money(p_team text, p_now timestamptz, p_month_start date, p_month_next date,
    OUT budget numeric, OUT spent numeric, OUT reserved numeric) LANGUAGE sql STABLE AS $fn$
    SELECT (SELECT monthly_budget_usd FROM teams WHERE name = p_team),
           (SELECT coalesce(sum(amount_usd), 0) FROM daily_spend WHERE team = p_team AND day >= p_month_start AND day < p_month_next),
           team_reserved_in(p_team, p_now, p_month_start, p_month_next)
$fn$`;

/** The month the request's part fits worst: its start, its part, what is left there and what others reserve there. */
const WORST_MONTH = `CREATE FUNCTION worst_month_of(p_team text, p_estimate numeric, p_hours numeric, p_now timestamptz, p_month_start date,
    OUT month date, OUT part numeric, OUT available numeric, OUT reserved numeric) LANGUAGE plpgsql STABLE AS $fn$
DECLARE
    m date := p_month_start;
    m_next date;
    mm record;
    m_part numeric;
BEGIN
    WHILE (m::timestamp AT TIME ZONE 'UTC') < p_now + p_hours * interval '1 hour' LOOP
        m_next := (m + interval '1 month')::date;
        m_part := round(reservation_held_in(p_estimate, 0, p_now, p_hours, m, m_next), 2);
        SELECT * INTO mm FROM team_money(p_team, p_now, m, m_next);
        IF month IS NULL OR m_part - (mm.budget - mm.spent - mm.reserved) > part - available THEN
            month := m; part := m_part; available := mm.budget - mm.spent - mm.reserved; reserved := mm.reserved;
        END IF;
        m := m_next;
    END LOOP;
END
$fn$`;

const DECIDE_NEW_BY_MONTH = `CREATE OR REPLACE FUNCTION decide_new_reservation(p_request jsonb, p_now timestamptz, p_month_start date, p_month_next date) RETURNS jsonb
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
    SELECT * INTO w FROM worst_month_of(p_request->>'team', v_estimate, v_hours, p_now, p_month_start);
    v_available := m.budget - m.spent - m.reserved;
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
    INSERT INTO gpu_requests (id, team, pool, gpu_resource, gpus, hours, priority_class, requester, purpose,
            workload_namespace, workload_kind, workload_name, workload_uid, status, over_budget, reason,
            usd_per_unit_hour, estimated_cost_usd, remaining_usd, created_at, expires_at)
    VALUES ((p_request->>'id')::uuid, p_request->>'team', p_request->>'pool', p_request->>'gpuResource', (p_request->>'gpus')::integer,
            v_hours, p_request->>'priorityClass', p_request->>'requester', p_request->>'purpose',
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

export const FINOPS_MIGRATION: Migration = {
    version: 4,
    name: "one owner per dollar, month-aware reservations, bill figures",
    statements: [
        `ALTER TABLE usage DROP CONSTRAINT IF EXISTS usage_category_check`,
        `ALTER TABLE usage ADD CONSTRAINT usage_category_check
            CHECK (category IN ('gpu', 'cpu-memory', 'storage', 'network', 'ai-api', 'other-aws', 'credits-tax'))`,
        `ALTER TABLE usage ADD COLUMN line text NOT NULL DEFAULT 'team' CHECK (line IN ('team', 'unallocated', 'idle'))`,
        `ALTER TABLE usage ADD COLUMN gpu_resource text`,
        `ALTER TABLE usage ADD COLUMN resource_hours numeric(14, 4) NOT NULL DEFAULT 0`,
        `ALTER TABLE usage ADD COLUMN estimated boolean NOT NULL DEFAULT false`,
        // A team's line names a team; the unallocated line never does; idle is a pool's ('') or, split, a team's.
        `ALTER TABLE usage ADD CONSTRAINT usage_line_team CHECK (CASE line WHEN 'team' THEN team <> '' WHEN 'unallocated' THEN team = '' ELSE true END)`,
        `UPDATE usage SET source = 'push:default' WHERE source = 'push'`,
        `WITH merged AS (
             DELETE FROM usage RETURNING source, day, team, category, pool, amount_usd, gpu_hours, workload, detail, ingested_at
         )
         INSERT INTO usage (source, day, team, category, pool, amount_usd, gpu_hours, workload, detail, ingested_at)
         SELECT source, day, team, category, pool, sum(amount_usd), sum(gpu_hours), workload, min(detail), max(ingested_at)
           FROM merged GROUP BY source, day, team, category, pool, workload`,
        `CREATE UNIQUE INDEX usage_natural_key ON usage
            (source, day, line, team, category, coalesce(workload, ''), coalesce(pool, ''), coalesce(gpu_resource, ''))`,
        // What counts: a pushed record for a workload's category that a pulled source also reports for that workload and day is shadowed, whichever came first.
        `CREATE VIEW counted_usage AS
         SELECT u.* FROM usage u
          WHERE NOT (u.source LIKE 'push:%' AND u.workload IS NOT NULL AND EXISTS (
                SELECT 1 FROM usage p
                 WHERE p.day = u.day AND p.team = u.team AND p.category = u.category AND p.workload = u.workload
                   AND p.source NOT LIKE 'push:%'))`,
        `ALTER TABLE daily_spend ADD COLUMN line text NOT NULL DEFAULT 'team'`,
        `ALTER TABLE daily_spend ADD COLUMN resource_hours numeric(14, 4) NOT NULL DEFAULT 0`,
        `ALTER TABLE daily_spend ADD COLUMN estimated boolean NOT NULL DEFAULT false`,
        `ALTER TABLE daily_spend ADD COLUMN gpu_resource text NOT NULL DEFAULT ''`,
        `ALTER TABLE daily_spend DROP CONSTRAINT daily_spend_pkey`,
        `ALTER TABLE daily_spend ADD PRIMARY KEY (line, team, day, category, pool, gpu_resource)`,
        `CREATE TABLE bill_days (
            day date PRIMARY KEY,
            metric text NOT NULL,
            -- every group Cost Explorer answered for the day, tagged or not, credits and tax included
            total_usd numeric(16, 6) NOT NULL,
            -- the part tagged as the cluster's own (its nodes): what in-cluster sources distribute
            cluster_usd numeric(16, 6) NOT NULL,
            estimated boolean NOT NULL,
            read_at timestamptz NOT NULL
        )`,
        // Utilisation in GPU-equivalents: a MIG instance reports a fraction of a GPU.
        `ALTER TABLE gpu_utilisation ALTER COLUMN gpus_reporting TYPE numeric(10, 2)`,
        `ALTER TABLE gpu_requests ADD COLUMN baseline_usd numeric(16, 6) NOT NULL DEFAULT 0`,
        // Runs inside the approval's transaction, after the team's lock: whatever the approval function becomes, the baseline is taken.
        `CREATE FUNCTION gpu_request_baseline() RETURNS trigger LANGUAGE plpgsql AS $fn$
         BEGIN
             IF NEW.workload_name IS NOT NULL THEN
                 SELECT coalesce(sum(amount_usd), 0) INTO NEW.baseline_usd FROM usage
                  WHERE team = NEW.team AND category = 'gpu'
                    AND workload = NEW.workload_namespace || '/' || lower(NEW.workload_kind) || '/' || NEW.workload_name
                    AND day = (NEW.created_at AT TIME ZONE 'UTC')::date;
             END IF;
             RETURN NEW;
         END
         $fn$`,
        `CREATE TRIGGER gpu_request_baseline BEFORE INSERT ON gpu_requests FOR EACH ROW EXECUTE FUNCTION gpu_request_baseline()`,
        // The part of a reservation month [month_start, month_next) carries: the estimate spread evenly
        // over the hours asked for from the approval, less the observed spend that has replaced it,
        // which is taken from the earliest month first. Fixed by the request, so it does not drift as time passes.
        `CREATE FUNCTION reservation_held_in(estimate numeric, consumed numeric, starts timestamptz, hours numeric, month_start date, month_next date)
         RETURNS numeric LANGUAGE sql IMMUTABLE AS $fn$
             SELECT greatest(0,
                 estimate * greatest(0, extract(epoch FROM least(starts + hours * interval '1 hour', month_next::timestamp AT TIME ZONE 'UTC')
                                                         - greatest(starts, month_start::timestamp AT TIME ZONE 'UTC'))) / (hours * 3600)
                 - greatest(0, consumed - estimate * greatest(0, extract(epoch FROM least(starts + hours * interval '1 hour', month_start::timestamp AT TIME ZONE 'UTC') - starts)) / (hours * 3600)))
         $fn$`,
        `CREATE FUNCTION team_reserved_in(p_team text, p_now timestamptz, month_start date, month_next date)
         RETURNS numeric LANGUAGE sql STABLE AS $fn$
             SELECT coalesce(sum(reservation_held_in(estimated_cost_usd, consumed_usd, created_at, hours, month_start, month_next)), 0)
               FROM gpu_requests
              WHERE team = p_team AND status = 'approved' AND released_at IS NULL AND expires_at > p_now
         $fn$`,
        TEAM_MONEY_BY_MONTH,
        WORST_MONTH,
        DECIDE_NEW_BY_MONTH,
    ],
};
