/**
 * One small interface over the two databases the service runs on: a PostgreSQL server (`pg`
 * pool, `DATABASE_URL`) and embedded PGlite (PostgreSQL in WASM, one connection) in a local
 * folder. Queries are plain PostgreSQL; both answer them alike.
 *
 * Values come back as JS numbers for numeric/bigint and as "YYYY-MM-DD" strings for dates, on
 * both, so no caller converts.
 */
import { PGlite } from "@electric-sql/pglite";
import { createHash } from "crypto";
import { Pool, types as pgTypes, type PoolClient } from "pg";

export interface Queryable {
    query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<{ rows: R[] }>;
}

export interface Database extends Queryable {
    readonly kind: "postgres" | "pglite";
    /**
     * Runs `fn` in one transaction (READ COMMITTED): committed when it resolves, rolled back when
     * it throws. A transaction PostgreSQL aborts to break a deadlock is run again, up to 3 times.
     */
    transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
    /** Runs `fn`'s reads against one snapshot (REPEATABLE READ, READ ONLY): figures read together are consistent. */
    snapshot<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
    /** Runs `fn` on one connection held for its duration (session-level advisory locks need that). */
    withSession<T>(fn: (session: Queryable) => Promise<T>): Promise<T>;
    close(): Promise<void>;
}

// Type OIDs: pg_type.dat in the PostgreSQL sources (numeric 1700, int8 20, date 1082).
const NUMERIC = 1700;
const INT8 = 20;
const DATE = 1082;

/**
 * A PostgreSQL server. `max` connections; the pool opens them lazily, so a server that is down
 * fails the first query, not this call. `onPasswordRejected` hears of a new connection refused
 * for its password (SQLSTATE 28P01): on Fargate the password came from Secrets Manager when the
 * task started, and RDS has since rotated it; only a new task reads the new one.
 */
export function postgresDatabase(
    connectionString: string,
    options: { max?: number; onError?: (err: Error) => void; onPasswordRejected?: (err: Error) => void } = {},
): Database {
    const pool = createPool(connectionString, options.max ?? 20);
    // An idle client losing its server emits here; without a listener node would crash the process.
    pool.on("error", (err) => options.onError?.(err));
    const watched = <T>(promise: Promise<T>): Promise<T> =>
        promise.catch((err: unknown) => {
            if ((err as { code?: unknown })?.code === INVALID_PASSWORD) options.onPasswordRejected?.(err as Error);
            throw err;
        });
    const withClient = clientCheckout(() => watched(pool.connect()), options.onError);
    const inTransaction = transactionsOn(withClient);
    return {
        kind: "postgres",
        query: async <R>(sql: string, params?: readonly unknown[]) => watched(runStatement<R>(pool, sql, params)),
        async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
            for (let attempt = 1; ; attempt++) {
                try {
                    return await inTransaction("BEGIN", fn);
                } catch (err) {
                    if (attempt >= DEADLOCK_RETRIES || (err as { code?: unknown }).code !== DEADLOCK_DETECTED)
                        throw err;
                }
            }
        },
        snapshot: <T>(fn: (tx: Queryable) => Promise<T>) =>
            inTransaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", fn),
        withSession: <T>(fn: (session: Queryable) => Promise<T>) => withClient((client) => fn(queryableOn(client))),
        close: () => pool.end(),
    };
}

/** A pool that hands numbers back as numbers and dates as the 'YYYY-MM-DD' text they are stored as. */
function createPool(connectionString: string, max: number): Pool {
    return new Pool({
        connectionString,
        max,
        connectionTimeoutMillis: 3000,
        types: {
            getTypeParser: ((oid: number, format?: "text" | "binary") => {
                if (oid === NUMERIC || oid === INT8) return (value: string) => Number(value);
                if (oid === DATE) return (value: string) => value;
                return pgTypes.getTypeParser(oid, format) as (value: string) => unknown;
            }) as typeof pgTypes.getTypeParser,
        },
    });
}

type StatementRunner = { query(config: { name?: string; text: string; values?: unknown[] }): Promise<unknown> };

function runStatement<R>(target: StatementRunner, sql: string, params?: readonly unknown[]): Promise<{ rows: R[] }> {
    return target.query(
        params ? { name: statementName(sql), text: sql, values: params as unknown[] } : { text: sql },
    ) as Promise<{ rows: R[] }>;
}

function queryableOn(client: PoolClient): Queryable {
    return { query: async <R>(sql: string, params?: readonly unknown[]) => runStatement<R>(client, sql, params) };
}

type WithClient = <T>(fn: (client: PoolClient, markBroken: (err: Error) => void) => Promise<T>) => Promise<T>;

/**
 * A checked-out client: pg-pool listens for a client's 'error' only while it is idle, so a
 * connection lost between two queries of a transaction (the server stopped) would be an
 * unhandled 'error' event and end the process. Listened to here for the whole checkout; the
 * next query then fails, the caller answers 503, and the broken client is destroyed, not reused.
 */
function clientCheckout(connect: () => Promise<PoolClient>, onLost?: (err: Error) => void): WithClient {
    return async (fn) => {
        const client = await connect();
        let broken: Error | undefined;
        const onError = (err: Error) => {
            broken = err;
            onLost?.(err);
        };
        client.on("error", onError);
        try {
            return await fn(client, (err) => (broken ??= err));
        } catch (err) {
            if (isDatabaseUnavailable(err)) broken ??= err as Error;
            throw err;
        } finally {
            client.removeListener("error", onError);
            client.release(broken);
        }
    };
}

/** Runs `fn` between `begin` and COMMIT on one checked-out client, rolling back when it throws. */
function transactionsOn(withClient: WithClient) {
    return <T>(begin: string, fn: (tx: Queryable) => Promise<T>): Promise<T> =>
        withClient(async (client, markBroken) => {
            await client.query(begin);
            try {
                const result = await fn(queryableOn(client));
                await client.query("COMMIT");
                return result;
            } catch (err) {
                // A connection whose ROLLBACK fails is in an unknown state: destroyed, not reused.
                await client.query("ROLLBACK").catch(markBroken);
                throw err;
            }
        });
}

/** SQLSTATE deadlock_detected (PostgreSQL, errcodes.txt): one of the transactions is aborted and may simply run again. */
const DEADLOCK_DETECTED = "40P01";
const DEADLOCK_RETRIES = 3;

/** SQLSTATE invalid_password (PostgreSQL, errcodes.txt). */
const INVALID_PASSWORD = "28P01";

const statementNames = new Map<string, string>();

/**
 * Queries with parameters run as named prepared statements: each connection parses and plans
 * one the first time and reuses the plan after, which takes work off the server on the hot
 * approval path. Every such query is a constant string in the code, so the set stays small.
 */
function statementName(sql: string): string {
    let name = statementNames.get(sql);
    if (!name) {
        name = `q${createHash("sha1").update(sql).digest("hex").slice(0, 20)}`;
        statementNames.set(sql, name);
    }
    return name;
}

/**
 * Embedded PGlite in `dataDir` (in memory when undefined). PGlite has one connection and runs
 * one transaction at a time, so it isolates nothing by itself (pglite#267): the service's
 * concurrency guarantees are proven on a PostgreSQL server.
 */
export async function pgliteDatabase(dataDir: string | undefined): Promise<Database> {
    const db = await PGlite.create(dataDir, {
        parsers: {
            [NUMERIC]: (value: string) => Number(value),
            [INT8]: (value: string) => Number(value),
            [DATE]: (value: string) => value,
        },
    });
    const query = async <R>(sql: string, params?: readonly unknown[]) => db.query<R>(sql, params as unknown[]);
    const transaction = <T>(fn: (tx: Queryable) => Promise<T>) =>
        db.transaction((tx) =>
            fn({
                query: async <R>(sql: string, params?: readonly unknown[]) => tx.query<R>(sql, params as unknown[]),
            }),
        );
    return {
        kind: "pglite",
        query,
        transaction,
        // One connection, one transaction at a time: every transaction already reads one snapshot.
        snapshot: transaction,
        withSession: <T>(fn: (session: Queryable) => Promise<T>) => fn({ query }),
        close: () => db.close(),
    };
}

/**
 * True when an error means the database cannot be reached (not that a query was wrong): the
 * service answers 503 and retries later. Node socket errors, PostgreSQL's connection-exception
 * (08xxx), operator-intervention (57P0x) and insufficient-resources (53xxx) classes, pg's own
 * connection messages, and a closed PGlite.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
    const e = err as { code?: unknown; message?: unknown } | undefined;
    const code = typeof e?.code === "string" ? e.code : "";
    if (["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "ENOTFOUND", "EHOSTUNREACH", "EPIPE", "EAI_AGAIN"].includes(code))
        return true;
    if (/^(08|57P0|53)/.test(code)) return true;
    const message = typeof e?.message === "string" ? e.message : "";
    return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed and is not queryable|PGlite is closed|Cannot use a pool after calling end/.test(
        message,
    );
}
