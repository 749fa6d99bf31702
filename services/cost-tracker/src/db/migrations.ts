/**
 * Versioned schema migrations. Each runs once, in its own transaction, recorded in
 * `schema_migrations`; a released version is never edited, only followed by a new one.
 */
import type { Database, Queryable } from "./database";

interface Migration {
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
            const done = new Set((await session.query<{ version: number }>("SELECT version FROM schema_migrations")).rows.map((r) => r.version));
            const applied: number[] = [];
            for (const migration of MIGRATIONS) {
                if (done.has(migration.version)) continue;
                await inTransaction(session, async () => {
                    for (const statement of migration.statements) await session.query(statement);
                    await session.query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [migration.version, migration.name]);
                });
                applied.push(migration.version);
            }
            return applied;
        } finally {
            await session.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK]);
        }
    });
}

/** The newest applied version, or 0 on an empty database. */
export async function schemaVersion(db: Queryable): Promise<number> {
    const exists = await db.query<{ present: boolean }>("SELECT to_regclass('schema_migrations') IS NOT NULL AS present");
    if (!exists.rows[0]?.present) return 0;
    const { rows } = await db.query<{ version: number | null }>("SELECT max(version) AS version FROM schema_migrations");
    return rows[0]?.version ?? 0;
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
