/**
 * Shared test setup: a config document shaped like the prod stack's, one embedded database per
 * test process (PGlite takes seconds to start), emptied between tests, and the app under test.
 */
import type { FastifyInstance } from "fastify";
import { buildCostTrackerConfig, type CostTrackerConfig } from "@gpu-platform/catalog/contracts";
import type { Notifier } from "../src/alerts";
import type { EventFeed } from "../src/events";
import { pgliteDatabase, postgresDatabase, type Database } from "../src/db/database";
import { migrate } from "../src/db/migrations";
import { buildApp } from "../src/http/app";
import type { CallerCredential } from "../src/http/callers";
import { createMetrics } from "../src/metrics";
import { syncConfig, teamSummaries } from "../src/spend";

export const TOKEN = "test-token-0123456789abcdef";
export const AUTH = { authorization: `Bearer ${TOKEN}` };

/** Budgets of Pulumi.prod.yaml's teams; pools as its GPU pools (p5 whole GPUs, p4de MIG, p4d time-sliced 3 ways), 4 nodes each. */
export function testConfig(overrides: Partial<CostTrackerConfig> = {}): CostTrackerConfig {
    return {
        ...buildCostTrackerConfig({
            teams: [
                { name: "ml-research", costCenter: "CC-1001", monthlyBudgetUsd: 120000 },
                { name: "inference", costCenter: "CC-1003", monthlyBudgetUsd: 80000 },
                { name: "applied-ml", costCenter: "CC-1002", monthlyBudgetUsd: 40000 },
            ],
            nodePools: [
                { name: "system", instanceType: "m7i.2xlarge", maxSize: 10 },
                {
                    name: "a100-shared",
                    instanceType: "p4d.24xlarge",
                    maxSize: 4,
                    gpuSharing: { mode: "time-slicing", replicas: 3 },
                },
                {
                    name: "a100-mig",
                    instanceType: "p4de.24xlarge",
                    maxSize: 4,
                    gpuSharing: { mode: "mig", layout: { "3g.40gb": 1, "2g.20gb": 1, "1g.10gb": 2 } },
                },
                { name: "h100", instanceType: "p5.48xlarge", maxSize: 4, gpuSharing: { mode: "exclusive" } },
            ],
        }),
        ...overrides,
    };
}

let shared: Promise<Database> | undefined;

/** The process's database: PostgreSQL when TEST_DATABASE_URL is set (the integration run), else in-memory PGlite. */
export function testDatabase(): Promise<Database> {
    shared ??= (async () => {
        const url = process.env.TEST_DATABASE_URL;
        const db = url ? postgresDatabase(url, { max: 30 }) : await pgliteDatabase(undefined);
        await migrate(db);
        return db;
    })();
    return shared;
}

/** Empties every table but the migrations' record (whatever later migrations add) and stores `config`'s teams and pools. */
export async function resetDatabase(db: Database, config: CostTrackerConfig): Promise<void> {
    const { rows } = await db.query<{ name: string }>(
        // The audit log refuses TRUNCATE (append-only): specs read it from a mark instead.
        "SELECT quote_ident(tablename) AS name FROM pg_tables WHERE schemaname = current_schema() AND tablename NOT IN ('schema_migrations', 'audit_log')",
    );
    await db.query(`TRUNCATE ${rows.map((r) => r.name).join(", ")} RESTART IDENTITY CASCADE`);
    await syncConfig(db, config, new Date("2026-01-01T00:00:00Z"));
}

/** A notifier that keeps what it is sent. */
export function recordingNotifier(): Notifier & { sent: string[] } {
    const sent: string[] = [];
    return { name: "recording", sent, send: async (alert) => void sent.push(`${alert.kind}: ${alert.message}`) };
}

export interface AppOptions {
    config?: CostTrackerConfig;
    now?: () => Date;
    notifiers?: Notifier[];
    logger?: boolean | Record<string, unknown>;
    publicDir?: string;
    migrated?: boolean;
    credentials?: readonly CallerCredential[];
    readsNeedCredential?: boolean;
    /** The money-freed feed; absent, the app makes its own (polling the table every second). */
    feed?: EventFeed;
}

export async function testApp(db: Database, options: AppOptions = {}): Promise<FastifyInstance> {
    const now = options.now ?? (() => new Date());
    return buildApp({
        config: options.config ?? testConfig(),
        db,
        isMigrated: () => options.migrated ?? true,
        apiToken: TOKEN,
        credentials: options.credentials,
        readsNeedCredential: options.readsNeedCredential,
        notifiers: options.notifiers ?? [],
        metrics: createMetrics(() => teamSummaries(db, now())),
        now,
        publicDir: options.publicDir,
        logger: options.logger ?? false,
        feed: options.feed,
    });
}

/** A clock the test moves. */
export function clock(iso: string): { now: () => Date; set(iso: string): void; advanceHours(h: number): void } {
    let t = Date.parse(iso);
    return {
        now: () => new Date(t),
        set: (next) => void (t = Date.parse(next)),
        advanceHours: (h) => void (t += h * 3_600_000),
    };
}

/**
 * A spec's app on the shared embedded database, emptied and started at `now` before each test
 * (mocha hooks registered by the call): `post` sends the token and a fresh Idempotency-Key.
 */
export function trackerSpecApp(now: string, keyPrefix: string) {
    let db: Database;
    let app: FastifyInstance;
    let keys = 0;
    const time = clock(now);
    before(async () => {
        db = await testDatabase();
    });
    beforeEach(async () => {
        time.set(now);
        await resetDatabase(db, testConfig());
        app = await testApp(db, { now: time.now });
    });
    afterEach(() => app.close());
    return {
        time,
        get: (url: string) => app.inject({ method: "GET", url }),
        post: (url: string, payload: object) =>
            app.inject({
                method: "POST",
                url,
                payload,
                headers: { ...AUTH, "idempotency-key": `${keyPrefix}-${++keys}` },
            }),
    };
}
