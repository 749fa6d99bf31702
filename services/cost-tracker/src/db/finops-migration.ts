/**
 * Migration 3 (issue 20): one owner per dollar, month-aware reservations, bill figures.
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
 *   approval function rewritten to check every month a request reaches.
 */
/**
 * approve_gpu_request (migration 2) with the check made per month: a request that reaches into
 * the next month charges each month its part, and must fit each month's budget beside that
 * month's spend and the parts other reservations hold there. The lock, the idempotency claim and
 * the answer are as before; `remainingUsd` is this month's.
 */
const APPROVE_BY_MONTH = `CREATE OR REPLACE FUNCTION approve_gpu_request(p_key text, p_hash text, p_request jsonb, p_now timestamptz, p_month_start date, p_month_next date)
 RETURNS jsonb LANGUAGE plpgsql AS $fn$
 DECLARE
     prior record;
     team_name text := p_request->>'team';
     budget numeric;
     spent numeric;
     reserved numeric;
     available numeric;
     estimate numeric := (p_request->>'estimatedCostUsd')::numeric;
     hours numeric := (p_request->>'hours')::numeric;
     critical boolean := (p_request->>'critical')::boolean;
     part numeric;
     this_part numeric;
     m date;
     m_next date;
     m_spent numeric;
     m_reserved numeric;
     m_available numeric;
     short_month date;
     short_part numeric;
     short_available numeric;
     short_reserved numeric;
     shortfall numeric := 0;
     fits boolean := true;
     approved boolean;
     reason text;
     remaining numeric;
     expires timestamptz;
     body jsonb;
     answer_code integer;
     alert jsonb;
 BEGIN
     INSERT INTO idempotency_keys (scope, key, request_hash) VALUES ('gpu-requests', p_key, p_hash) ON CONFLICT DO NOTHING;
     IF NOT FOUND THEN
         SELECT request_hash, status_code, response INTO prior FROM idempotency_keys WHERE scope = 'gpu-requests' AND key = p_key;
         RETURN jsonb_build_object('replay', true, 'requestHash', prior.request_hash, 'statusCode', prior.status_code, 'body', prior.response);
     END IF;

     SELECT monthly_budget_usd INTO budget FROM teams WHERE name = team_name FOR UPDATE;
     m := p_month_start;
     WHILE (m::timestamp AT TIME ZONE 'UTC') < p_now + hours * interval '1 hour' LOOP
         m_next := (m + interval '1 month')::date;
         part := round(reservation_held_in(estimate, 0, p_now, hours, m, m_next), 2);
         SELECT coalesce(sum(amount_usd), 0) INTO m_spent FROM daily_spend WHERE team = team_name AND day >= m AND day < m_next;
         m_reserved := team_reserved_in(team_name, p_now, m, m_next);
         m_available := budget - m_spent - m_reserved;
         IF m = p_month_start THEN
             spent := m_spent; reserved := m_reserved; available := m_available; this_part := part;
         END IF;
         IF part > m_available AND part - m_available > shortfall THEN
             fits := false; shortfall := part - m_available;
             short_month := m; short_part := part; short_available := m_available; short_reserved := m_reserved;
         END IF;
         m := m_next;
     END LOOP;

     approved := fits OR critical;
     expires := p_now + make_interval(secs => (hours + (p_request->>'graceHours')::numeric) * 3600);
     reason := CASE
         WHEN fits THEN 'within budget'
         WHEN critical THEN format('approved past the budget: %s is a critical class; $%s over', p_request->>'priorityClass', trim_scale(round(shortfall, 2)))
         WHEN short_month = p_month_start THEN
             format('over budget: $%s asked, $%s of $%s left after $%s spent and $%s reserved this month',
                    trim_scale(round(short_part, 2)), trim_scale(round(short_available, 2)), trim_scale(budget), trim_scale(round(spent, 2)), trim_scale(round(reserved, 2)))
         ELSE format('over budget in %s: $%s of the $%s asked falls in that month, $%s of $%s left there after $%s reserved',
                    to_char(short_month, 'YYYY-MM'), trim_scale(short_part), trim_scale(round(estimate, 2)), trim_scale(round(short_available, 2)), trim_scale(budget), trim_scale(round(short_reserved, 2)))
     END;
     remaining := round(CASE WHEN approved THEN available - this_part ELSE available END, 2);

     INSERT INTO gpu_requests (id, team, pool, gpu_resource, gpus, hours, priority_class, requester, purpose,
             workload_namespace, workload_kind, workload_name, status, over_budget, reason,
             usd_per_unit_hour, estimated_cost_usd, remaining_usd, created_at, expires_at)
     VALUES ((p_request->>'id')::uuid, team_name, p_request->>'pool', p_request->>'gpuResource', (p_request->>'gpus')::integer,
             hours, p_request->>'priorityClass', p_request->>'requester', p_request->>'purpose',
             p_request#>>'{workload,namespace}', p_request#>>'{workload,kind}', p_request#>>'{workload,name}',
             CASE WHEN approved THEN 'approved' ELSE 'rejected' END, approved AND NOT fits, reason,
             (p_request->>'usdPerUnitHour')::numeric, estimate, remaining, p_now, CASE WHEN approved THEN expires END);

     IF approved THEN
         answer_code := 201;
         body := jsonb_build_object('id', p_request->>'id', 'status', 'approved', 'estimatedCostUsd', estimate, 'remainingUsd', remaining,
             'expiresAt', to_char(expires AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'overBudget', NOT fits, 'reason', reason);
     ELSE
         answer_code := 409;
         body := jsonb_build_object('id', p_request->>'id', 'status', 'rejected', 'reason', reason, 'estimatedCostUsd', estimate, 'remainingUsd', remaining);
     END IF;

     IF approved AND NOT fits THEN
         INSERT INTO alerts (dedupe_key, team, kind, message)
         VALUES ('request:' || (p_request->>'id'), team_name, 'critical-over-budget',
                 format('%s: %s was approved %s × %s on %s for %s h ($%s) past the budget as %s; $%s over',
                        team_name, p_request->>'requester', p_request->>'gpus', p_request->>'gpuResource', p_request->>'pool',
                        trim_scale(hours), trim_scale(estimate)::text, p_request->>'priorityClass', trim_scale(round(shortfall, 2))))
         ON CONFLICT (dedupe_key) DO NOTHING
         RETURNING jsonb_build_object('id', id, 'team', team, 'kind', kind, 'message', message, 'createdAt', created_at,
                                      'deliveredAt', delivered_at, 'deliveryError', delivery_error) INTO alert;
     END IF;

     UPDATE idempotency_keys SET status_code = answer_code, response = body WHERE scope = 'gpu-requests' AND key = p_key;
     RETURN jsonb_build_object('replay', false, 'statusCode', answer_code, 'body', body, 'alert', alert);
 END
 $fn$`;

export const FINOPS_MIGRATION = {
    version: 3,
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
        APPROVE_BY_MONTH,
    ],
} as const;
