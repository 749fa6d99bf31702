/**
 * Versioned schema migrations. Each runs once, in its own transaction, recorded in
 * `schema_migrations`; a released version is never edited, only followed by a new one.
 */
import type { Database, Queryable } from "./database";
import { FINOPS_MIGRATION } from "./finops-migration";
import { MIGRATION_3 } from "./migration-3";
import { MIGRATION_5 } from "./migration-5";
import { MIGRATION_6 } from "./migration-6";
import { MIGRATION_7 } from "./migration-7";
import { MIGRATION_8 } from "./migration-8";

export interface Migration {
    readonly version: number;
    readonly name: string;
    readonly statements: readonly string[];
}

export const MIGRATIONS: readonly Migration[] = [
    {
        version: 1,
        name: "budgets, requests, usage, alerts",
        statements: [
            `CREATE TABLE teams (
                name text PRIMARY KEY,
                cost_center text NOT NULL,
                monthly_budget_usd numeric(14, 2) NOT NULL CHECK (monthly_budget_usd > 0),
                active boolean NOT NULL DEFAULT true,
                updated_at timestamptz NOT NULL DEFAULT now()
            )`,
            `CREATE TABLE pools (
                name text PRIMARY KEY,
                instance_type text NOT NULL,
                gpu_sharing jsonb NOT NULL,
                max_nodes integer NOT NULL,
                active boolean NOT NULL DEFAULT true
            )`,
            `CREATE TABLE gpu_requests (
                id uuid PRIMARY KEY,
                team text NOT NULL REFERENCES teams (name),
                pool text NOT NULL,
                gpu_resource text NOT NULL,
                gpus integer NOT NULL CHECK (gpus > 0),
                hours numeric(8, 2) NOT NULL CHECK (hours > 0),
                priority_class text NOT NULL,
                requester text NOT NULL,
                purpose text,
                workload_namespace text,
                workload_kind text,
                workload_name text,
                status text NOT NULL CHECK (status IN ('approved', 'rejected')),
                over_budget boolean NOT NULL DEFAULT false,
                reason text NOT NULL,
                usd_per_unit_hour numeric(14, 6) NOT NULL,
                estimated_cost_usd numeric(14, 2) NOT NULL,
                remaining_usd numeric(14, 2) NOT NULL,
                consumed_usd numeric(14, 2) NOT NULL DEFAULT 0,
                created_at timestamptz NOT NULL DEFAULT now(),
                expires_at timestamptz,
                released_at timestamptz,
                release_reason text CHECK (release_reason IN ('released', 'expired', 'replaced-by-spend'))
            )`,
            // The approval sums a team's live reservations under its lock: this keeps that a short index scan.
            `CREATE INDEX gpu_requests_live ON gpu_requests (team) WHERE status = 'approved' AND released_at IS NULL`,
            `CREATE INDEX gpu_requests_team_created ON gpu_requests (team, created_at DESC)`,
            `CREATE INDEX gpu_requests_created ON gpu_requests (created_at DESC)`,
            `CREATE TABLE idempotency_keys (
                scope text NOT NULL,
                key text NOT NULL,
                request_hash text NOT NULL,
                status_code integer,
                response jsonb,
                created_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (scope, key)
            )`,
            `CREATE TABLE usage (
                id bigserial PRIMARY KEY,
                source text NOT NULL,
                day date NOT NULL,
                team text NOT NULL,
                category text NOT NULL CHECK (category IN ('gpu', 'cpu-memory', 'storage', 'ai-api', 'other-aws')),
                pool text,
                amount_usd numeric(16, 6) NOT NULL,
                gpu_hours numeric(14, 4) NOT NULL DEFAULT 0,
                -- "<namespace>/<kind, lower-case>/<name>" of the workload that spent it, when the source knows
                workload text,
                detail text,
                ingested_at timestamptz NOT NULL DEFAULT now()
            )`,
            `CREATE INDEX usage_source_day ON usage (source, day)`,
            `CREATE INDEX usage_day ON usage (day)`,
            `CREATE INDEX usage_workload ON usage (workload, day) WHERE workload IS NOT NULL`,
            // Per team, day, category and pool: what every read of spend uses, so reads stay fast however many usage rows a month holds.
            `CREATE TABLE daily_spend (
                team text NOT NULL,
                day date NOT NULL,
                category text NOT NULL,
                pool text NOT NULL DEFAULT '',
                amount_usd numeric(16, 6) NOT NULL,
                gpu_hours numeric(14, 4) NOT NULL,
                PRIMARY KEY (team, day, category, pool)
            )`,
            `CREATE INDEX daily_spend_day ON daily_spend (day)`,
            `CREATE TABLE source_runs (
                id bigserial PRIMARY KEY,
                source text NOT NULL,
                started_at timestamptz NOT NULL,
                finished_at timestamptz NOT NULL DEFAULT now(),
                outcome text NOT NULL CHECK (outcome IN ('ok', 'failed')),
                days text NOT NULL,
                records integer NOT NULL DEFAULT 0,
                error text
            )`,
            `CREATE TABLE alerts (
                id bigserial PRIMARY KEY,
                dedupe_key text NOT NULL UNIQUE,
                team text NOT NULL,
                kind text NOT NULL,
                message text NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now(),
                delivered_at timestamptz,
                delivery_error text
            )`,
            `CREATE INDEX alerts_created ON alerts (created_at DESC)`,
            `CREATE TABLE gpu_utilisation (
                team text PRIMARY KEY,
                observed_at timestamptz NOT NULL,
                average_pct numeric(6, 2),
                gpus_reporting integer NOT NULL,
                gpus_requested numeric(10, 2) NOT NULL
            )`,
        ],
    },
    {
        version: 2,
        name: "approval as one function call",
        statements: [
            // The whole check-and-reserve of an approval in one round trip: claim the idempotency
            // key, lock the team's budget row, read its spend and live reservations, record the
            // decision (and its alert), store the answer. A PL/pgSQL function runs each statement
            // with a fresh snapshot under READ COMMITTED, so the sums are read after the row lock
            // is granted: the next approval for the team sees this one's reservation. A concurrent
            // request with the same key blocks on the key's unique entry until the first commits,
            // then reads its stored answer. Money is rounded to the cent and printed without
            // trailing zeros (trim_scale), as the service prints amounts.
            `CREATE FUNCTION approve_gpu_request(p_key text, p_hash text, p_request jsonb, p_now timestamptz, p_month_start date, p_month_next date)
             RETURNS jsonb LANGUAGE plpgsql AS $fn$
             DECLARE
                 prior record;
                 budget numeric;
                 spent numeric;
                 reserved numeric;
                 available numeric;
                 estimate numeric := (p_request->>'estimatedCostUsd')::numeric;
                 critical boolean := (p_request->>'critical')::boolean;
                 fits boolean;
                 approved boolean;
                 reason text;
                 remaining numeric;
                 expires timestamptz;
                 body jsonb;
                 answer_code integer;
                 alert jsonb;
                 usd text;
             BEGIN
                 INSERT INTO idempotency_keys (scope, key, request_hash) VALUES ('gpu-requests', p_key, p_hash) ON CONFLICT DO NOTHING;
                 IF NOT FOUND THEN
                     SELECT request_hash, status_code, response INTO prior FROM idempotency_keys WHERE scope = 'gpu-requests' AND key = p_key;
                     RETURN jsonb_build_object('replay', true, 'requestHash', prior.request_hash, 'statusCode', prior.status_code, 'body', prior.response);
                 END IF;

                 SELECT monthly_budget_usd INTO budget FROM teams WHERE name = p_request->>'team' FOR UPDATE;
                 SELECT coalesce(sum(amount_usd), 0) INTO spent FROM daily_spend
                  WHERE team = p_request->>'team' AND day >= p_month_start AND day < p_month_next;
                 SELECT coalesce(sum(greatest(estimated_cost_usd - consumed_usd, 0)), 0) INTO reserved FROM gpu_requests
                  WHERE team = p_request->>'team' AND status = 'approved' AND released_at IS NULL AND expires_at > p_now;

                 available := budget - spent - reserved;
                 fits := estimate <= available;
                 approved := fits OR critical;
                 expires := p_now + make_interval(secs => ((p_request->>'hours')::numeric + (p_request->>'graceHours')::numeric) * 3600);
                 reason := CASE
                     WHEN fits THEN 'within budget'
                     WHEN critical THEN format('approved past the budget: %s is a critical class; $%s over', p_request->>'priorityClass', trim_scale(round(estimate - available, 2)))
                     ELSE format('over budget: $%s asked, $%s of $%s left after $%s spent and $%s reserved this month',
                                 trim_scale(round(estimate, 2)), trim_scale(round(available, 2)), trim_scale(budget), trim_scale(round(spent, 2)), trim_scale(round(reserved, 2)))
                 END;
                 remaining := round(CASE WHEN approved THEN available - estimate ELSE available END, 2);

                 INSERT INTO gpu_requests (id, team, pool, gpu_resource, gpus, hours, priority_class, requester, purpose,
                         workload_namespace, workload_kind, workload_name, status, over_budget, reason,
                         usd_per_unit_hour, estimated_cost_usd, remaining_usd, created_at, expires_at)
                 VALUES ((p_request->>'id')::uuid, p_request->>'team', p_request->>'pool', p_request->>'gpuResource', (p_request->>'gpus')::integer,
                         (p_request->>'hours')::numeric, p_request->>'priorityClass', p_request->>'requester', p_request->>'purpose',
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
                     usd := trim_scale(estimate)::text;
                     INSERT INTO alerts (dedupe_key, team, kind, message)
                     VALUES ('request:' || (p_request->>'id'), p_request->>'team', 'critical-over-budget',
                             format('%s: %s was approved %s × %s on %s for %s h ($%s) past the budget as %s; $%s over',
                                    p_request->>'team', p_request->>'requester', p_request->>'gpus', p_request->>'gpuResource', p_request->>'pool',
                                    trim_scale((p_request->>'hours')::numeric), usd, p_request->>'priorityClass', trim_scale(-remaining)))
                     ON CONFLICT (dedupe_key) DO NOTHING
                     RETURNING jsonb_build_object('id', id, 'team', team, 'kind', kind, 'message', message, 'createdAt', created_at,
                                                  'deliveredAt', delivered_at, 'deliveryError', delivery_error) INTO alert;
                 END IF;

                 UPDATE idempotency_keys SET status_code = answer_code, response = body WHERE scope = 'gpu-requests' AND key = p_key;
                 RETURN jsonb_build_object('replay', false, 'statusCode', answer_code, 'body', body, 'alert', alert);
             END
             $fn$`,
        ],
    },
    MIGRATION_3,
    FINOPS_MIGRATION,
    MIGRATION_5,
    MIGRATION_6,
    MIGRATION_7,
    MIGRATION_8,
];

export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

/** Key of the session advisory lock migrations run under; any constant shared by every task of the service. */
const MIGRATION_LOCK = 0x636f7374; // "cost"

/**
 * Applies the migrations not yet applied, under a session-level advisory lock, so two tasks
 * starting together apply each migration once: the second waits, then finds nothing to do.
 * Returns the versions it applied.
 */
export async function migrate(db: Database): Promise<number[]> {
    return db.withSession(async (session) => {
        await session.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK]);
        try {
            await session.query(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
            );
            const done = new Set(
                (await session.query<{ version: number }>("SELECT version FROM schema_migrations")).rows.map(
                    (r) => r.version,
                ),
            );
            const applied: number[] = [];
            for (const migration of MIGRATIONS) {
                if (done.has(migration.version)) continue;
                await inTransaction(session, async () => {
                    for (const statement of migration.statements) await session.query(statement);
                    await session.query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [
                        migration.version,
                        migration.name,
                    ]);
                });
                applied.push(migration.version);
            }
            return applied;
        } finally {
            await session.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK]);
        }
    });
}

async function inTransaction(session: Queryable, fn: () => Promise<void>): Promise<void> {
    await session.query("BEGIN");
    try {
        await fn();
        await session.query("COMMIT");
    } catch (err) {
        await session.query("ROLLBACK");
        throw err;
    }
}
