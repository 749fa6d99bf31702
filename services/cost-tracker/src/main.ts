/**
 * Starts the cost tracker: settings from the environment, the config document, the database
 * (retried until reachable, with /readyz saying not ready meanwhile), migrations under a lock,
 * the HTTP service, the sources' schedule; and stops it gracefully on SIGTERM or SIGINT.
 */
import { randomBytes } from "crypto";
import type { FastifyInstance } from "fastify";
import * as fs from "fs";
import * as path from "path";
import type { CostTrackerConfig } from "@gpu-platform/catalog/contracts";
import { notifiersFor } from "./alerts";
import { loadConfigDocument, parseConfigDocument, withAlertWebhook } from "./config";
import { isDatabaseUnavailable, pgliteDatabase, postgresDatabase, type Database } from "./db/database";
import { migrate } from "./db/migrations";
import { seedDemo } from "./demo/seed";
import { buildApp } from "./http/app";
import { createMetrics } from "./metrics";
import { StartupError, readSettings, type Settings } from "./settings";
import { raiseAndDeliverAlerts, startScheduler } from "./sources/scheduler";
import { sourcesFor } from "./sources";
import { syncConfig, teamSummaries } from "./spend";

/** Built dashboard assets: dist/public beside src/ in a checkout, beside server.js in the image. */
const PUBLIC_DIR = path.resolve(__dirname, "..", "dist", "public");

/**
 * Most milliseconds from SIGTERM to exit (docs/cost-tracker.md). ECS sends SIGKILL 30 s after
 * SIGTERM by default; a task that lingers holds up a deployment's roll.
 */
const SHUTDOWN_DEADLINE_MS = 9_000;

/** --demo with no document: the service never reads stack files; the repository's launcher hands it the prod stack's. */
function noDemoDocument(): never {
    throw new StartupError([
        "--demo: no config document; run `npm run cost-tracker -- --demo` at the repository root (it passes the prod stack's as COST_TRACKER_CONFIG_JSON), or set COST_TRACKER_CONFIG",
    ]);
}

async function openDatabase(
    databaseUrl: string | undefined,
    dataDir: string,
    handlers: { onError: (err: Error) => void; onPasswordRejected: (err: Error) => void },
): Promise<Database> {
    if (databaseUrl) return postgresDatabase(databaseUrl, handlers);
    const dir = path.resolve(dataDir, "pglite");
    fs.mkdirSync(dir, { recursive: true });
    return pgliteDatabase(dir);
}

/** The config document the settings name (a file or inline JSON), checked against the team tokens. */
function configFor(settings: Settings): CostTrackerConfig {
    const document = settings.configPath
        ? loadConfigDocument(settings.configPath)
        : settings.configJson
          ? parseConfigDocument(settings.configJson, "COST_TRACKER_CONFIG_JSON")
          : noDemoDocument();
    const config = withAlertWebhook(document, settings.alertWebhookUrl);
    const teamNames = config.teams.map((t) => t.name);
    const strangers = settings.credentials.filter((c) => c.kind === "team" && !teamNames.includes(c.team!));
    if (strangers.length > 0)
        throw new StartupError(
            strangers.map(
                (c) =>
                    `COST_TRACKER_TOKEN_TEAM_${c.team!.toUpperCase().replace(/-/g, "_")}: names no team of the config (${teamNames.join(", ")})`,
            ),
        );
    return config;
}

/** What the steps of a run share: read by the app's readiness check and by the shutdown. */
interface RunState {
    migrated: boolean;
    stopping: boolean;
    scheduler?: { stop(): Promise<void> };
}

/**
 * On a signal (exit 0), or without one when the service cannot go on (exit 1). New requests get
 * 503 and idle keep-alive connections are closed (app.ts), long polls are answered at once,
 * requests in flight finish, the sources' calls in flight are aborted, then the pool closes.
 */
function shutdownFor(app: FastifyInstance, db: Database, state: RunState) {
    return async (signal: string | undefined, exitCode = 0): Promise<void> => {
        if (state.stopping) return;
        state.stopping = true;
        app.log.info({ signal }, "shutting down: no new requests, finishing those in flight");
        // Whatever hangs (a request stuck on a dead database), the process ends within the stated bound.
        setTimeout(() => {
            app.log.error({ afterMs: SHUTDOWN_DEADLINE_MS }, "shutdown did not finish in time: exiting anyway");
            process.exit(1);
        }, SHUTDOWN_DEADLINE_MS).unref();
        const results = await Promise.allSettled([state.scheduler?.stop(), app.close()]);
        results.push(...(await Promise.allSettled([db.close()])));
        for (const result of results)
            if (result.status === "rejected")
                app.log.warn({ err: String(result.reason) }, "a step of the shutdown failed");
        process.exit(exitCode);
    };
}

/** The database may come up after the service (a new RDS instance, a restarted server): retry until it answers. */
async function migrateWhenReachable(
    db: Database,
    config: CostTrackerConfig,
    app: FastifyInstance,
    state: RunState,
    now: () => Date,
): Promise<void> {
    for (let attempt = 1; !state.migrated; attempt++) {
        try {
            const applied = await migrate(db);
            await syncConfig(db, config, now());
            state.migrated = true;
            app.log.info({ applied, teams: config.teams.length, pools: config.pools.length }, "database ready");
        } catch (err) {
            if (!isDatabaseUnavailable(err) || state.stopping) throw err;
            const delayMs = Math.min(30_000, 1000 * 2 ** (attempt - 1));
            app.log.warn({ attempt, retryInMs: delayMs, err: (err as Error).message }, "database not reachable yet");
            await new Promise((resolve) => setTimeout(resolve, delayMs));
        }
    }
}

async function main(): Promise<void> {
    const { settings, problems } = readSettings(process.env, process.argv.slice(2));
    if (!settings) throw new StartupError(problems);
    const config = configFor(settings);
    const apiToken = settings.apiToken ?? randomBytes(24).toString("base64url");
    const now = () => new Date();

    let databaseError: ((err: Error) => void) | undefined;
    let passwordRejected: ((err: Error) => void) | undefined;
    const db = await openDatabase(settings.databaseUrl, settings.dataDir, {
        onError: (err) => databaseError?.(err),
        onPasswordRejected: (err) => passwordRejected?.(err),
    });
    const metrics = createMetrics(() => teamSummaries(db, now()));
    const notifiers = notifiersFor(config);
    const state: RunState = { migrated: false, stopping: false };
    const app = await buildApp({
        config,
        db,
        isMigrated: () => state.migrated,
        apiToken,
        credentials: settings.credentials,
        readsNeedCredential: settings.readsNeedCredential,
        notifiers,
        metrics,
        now,
        publicDir: PUBLIC_DIR,
        logger: { level: settings.logLevel },
    });
    databaseError = (err) => app.log.warn({ err: err.message }, "database connection lost");
    const shutdown = shutdownFor(app, db, state);
    passwordRejected = (err) => {
        // The password was read once, at start (ECS secrets); after a rotation only a new task has the new one.
        app.log.error(
            { err: err.message },
            "the database rejected the password (rotated?): exiting so that a new task starts with the current secret",
        );
        void shutdown(undefined, 1);
    };
    process.once("SIGTERM", () => void shutdown("SIGTERM"));
    process.once("SIGINT", () => void shutdown("SIGINT"));

    await app.listen({ port: settings.port, host: settings.host });
    if (!settings.apiToken) {
        // Printed, not logged: a demo's throwaway token, for the person at the terminal.
        process.stdout.write(
            `\nDemo write token (COST_TRACKER_API_TOKEN unset): ${apiToken}\nDashboard: http://localhost:${settings.port}/\n\n`,
        );
    }
    await migrateWhenReachable(db, config, app, state, now);
    if (settings.demo) {
        await seedDemo(db, config, now());
        await raiseAndDeliverAlerts({ db, config, notifiers, now, metrics });
        app.log.info("demo data seeded");
    }
    if (state.stopping) return;
    const { sources, prometheus, pipelineInputs } = sourcesFor(config, now);
    state.scheduler = startScheduler(
        { db, config, sources, prometheus, pipelineInputs, notifiers, log: app.log, metrics, now },
        config.sources.intervalMinutes * 60_000,
    );
}

main().catch((err) => {
    if (err instanceof StartupError) {
        for (const line of err.lines) process.stderr.write(`${line}\n`);
        process.exit(2);
    }
    process.stderr.write(`cost tracker failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
});
