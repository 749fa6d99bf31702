/**
 * The real service process (src/main.ts) on a real PostgreSQL server, under the two faults a
 * deployment meets: the database stops while writes are in flight (an RDS failover, a restart),
 * and the task is told to stop (ECS sends SIGTERM, then SIGKILL after its stop timeout).
 *
 * The server is the one scripts/with-postgres.sh started: stopped and started again here with
 * its own pg_ctl (PG_BIN), as the postgres user when the test runs as root (PostgreSQL refuses
 * to run as root).
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { Pool } from "pg";
import { AUTH, TOKEN, testConfig } from "../helpers";
import { closedPort, startService, waitFor, type ServiceProcess } from "../service-process";

/** The bound main.ts states (SHUTDOWN_DEADLINE_MS); ECS's default stop timeout is 30 s. */
const SHUTDOWN_BOUND_MS = 10_000;

interface PgServer {
    readonly dataDir: string;
    readonly options: string;
}

function pgCtl(args: readonly string[]): void {
    const pgCtlBin = path.join(process.env.PG_BIN ?? "", "pg_ctl");
    const command = process.getuid?.() === 0 ? ["runuser", "-u", "postgres", "--", pgCtlBin] : [pgCtlBin];
    execFileSync(command[0], [...command.slice(1), ...args], { stdio: "pipe", timeout: 60_000 });
}

async function describeServer(admin: Pool): Promise<PgServer> {
    const { rows } = await admin.query<{ data: string; sockets: string; port: string; max: string }>(
        `SELECT current_setting('data_directory') AS data, current_setting('unix_socket_directories') AS sockets,
                current_setting('port') AS port, current_setting('max_connections') AS max`,
    );
    const { data, sockets, port, max } = rows[0];
    // The options with-postgres.sh started it with, so the restarted server is the same one.
    return {
        dataDir: data,
        options: `-p ${port} -k ${sockets} -c listen_addresses=127.0.0.1 -c max_connections=${max}`,
    };
}

const stopServer = (server: PgServer) => pgCtl(["-D", server.dataDir, "-m", "fast", "-w", "stop"]);
const startServer = (server: PgServer) =>
    pgCtl([
        "-D",
        server.dataDir,
        "-w",
        "-l",
        path.join(path.dirname(server.dataDir), "restarted.log"),
        "-o",
        server.options,
        "start",
    ]);

/** A source that accepts connections and never answers: the scheduler's run is in flight until its timeout. */
async function silentServer(): Promise<http.Server> {
    const server = http.createServer(() => undefined);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return server;
}

interface Outcome {
    readonly kind: "approve" | "push" | "release";
    readonly key: string;
    readonly body: unknown;
    readonly url: string;
    readonly status: number | "network";
    readonly at: number;
    readonly response?: Record<string, unknown>;
}

describe("cost tracker process on PostgreSQL: database outage and shutdown", function () {
    this.timeout(180_000);
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "cost-tracker-lifecycle-"));
    let admin: Pool;
    let server: PgServer;
    let silent: http.Server;
    let databaseUrl: string;
    let configFile: string;

    before(async () => {
        const url = process.env.TEST_DATABASE_URL;
        assert.ok(url, "TEST_DATABASE_URL is set by scripts/with-postgres.sh");
        admin = new Pool({ connectionString: url, max: 2 });
        admin.on("error", () => undefined); // the server is stopped on purpose below
        server = await describeServer(admin);
        await admin.query("DROP DATABASE IF EXISTS lifecycle");
        await admin.query("CREATE DATABASE lifecycle");
        databaseUrl = url.replace(/\/[^/]+$/, "/lifecycle");
        silent = await silentServer();
        const config = testConfig();
        const { port } = silent.address() as { port: number };
        configFile = path.join(tmp, "config.json");
        fs.writeFileSync(
            configFile,
            JSON.stringify({
                ...config,
                // $400 budgets: the load below is rejected for budget too, so the invariant binds.
                teams: config.teams.map((t) => ({ ...t, monthlyBudgetUsd: 400 })),
                sources: {
                    ...config.sources,
                    timeoutSeconds: 120,
                    prometheus: { url: `http://127.0.0.1:${port}`, namespaceLabel: "namespace" },
                },
            }),
        );
    });
    after(async () => {
        await admin.end();
        silent.closeAllConnections();
        silent.close();
        fs.rmSync(tmp, { recursive: true, force: true });
    });

    const started: ServiceProcess[] = [];
    afterEach(() => {
        // A failed assertion must not leave a process behind (mocha would wait for it).
        for (const run of started.splice(0)) if (run.child.exitCode === null) run.child.kill("SIGKILL");
    });

    async function startReady(): Promise<{ run: ServiceProcess; base: string }> {
        const port = await closedPort();
        const run = startService({
            PORT: String(port),
            HOST: "127.0.0.1",
            DATABASE_URL: databaseUrl,
            COST_TRACKER_CONFIG: configFile,
            COST_TRACKER_API_TOKEN: TOKEN,
            LOG_LEVEL: "warn",
        });
        started.push(run);
        const base = `http://127.0.0.1:${port}`;
        await waitFor("/readyz", async () => ((await fetch(`${base}/readyz`)).ok ? true : undefined), 60_000);
        return { run, base };
    }

    it("stays up through a PostgreSQL stop under write load: 503s not 500s, 2xx again after restart, nothing half-written or doubled, budgets kept", async () => {
        const { run, base } = await startReady();
        const outcomes: Outcome[] = [];
        let keys = 0;
        let loading = true;
        const send = async (kind: Outcome["kind"], url: string, body: unknown, key = `${kind}-${++keys}`) => {
            let status: Outcome["status"];
            let response: Record<string, unknown> | undefined;
            try {
                const res = await fetch(`${base}${url}`, {
                    method: "POST",
                    headers: { ...AUTH, "idempotency-key": key, "content-type": "application/json" },
                    body: JSON.stringify(body),
                });
                status = res.status;
                response = (await res.json()) as Record<string, unknown>;
            } catch {
                status = "network";
            }
            const outcome = { kind, key, body, url, status, at: Date.now(), response };
            outcomes.push(outcome);
            return outcome;
        };
        const teams = ["ml-research", "inference"];
        const approved: string[] = [];
        // Spend is observed, not asked for: spend pushed after an approval can pass a budget whatever the
        // service does. So spend goes to applied-ml only, at most 200 × $1.25 = $250 of its $400, and
        // approvals to the other two teams, whose reservations alone must stay within $400.
        const MAX_PUSHES = 200;
        let pushes = 0;
        const worker = async (w: number) => {
            for (let i = 0; loading; i++) {
                const team = teams[(w + i) % teams.length];
                const op = (w + i) % 4;
                if (op === 3 && approved.length > 0) {
                    const id = approved.splice(Math.floor(approved.length / 2), 1)[0];
                    await send("release", `/v1/gpu-requests/${id}/release`, {});
                } else if (op === 2 && pushes < MAX_PUSHES) {
                    pushes++;
                    await send("push", "/v1/usage", {
                        records: [
                            {
                                team: "applied-ml",
                                category: "ai-api",
                                amountUsd: 1.25,
                                occurredAt: new Date().toISOString(),
                            },
                        ],
                    });
                } else {
                    const out = await send("approve", "/v1/gpu-requests", {
                        team,
                        pool: "h100",
                        gpus: 1,
                        hours: 1 + (i % 3),
                        priorityClass: "training",
                        requester: `load-${w}`,
                    });
                    if (out.status === 201) approved.push(String(out.response?.id));
                }
            }
        };
        const load = Promise.all(Array.from({ length: 12 }, (_, w) => worker(w)));
        const timeline = { stoppedAt: 0, restartedAt: 0 };
        try {
            await new Promise((resolve) => setTimeout(resolve, 1500));
            timeline.stoppedAt = Date.now();
            stopServer(server);
            await new Promise((resolve) => setTimeout(resolve, 3000));
            assert.strictEqual(
                run.child.exitCode,
                null,
                `the service exited while the database was down:\n${run.output()}`,
            );
            startServer(server);
            timeline.restartedAt = Date.now();
            await waitFor(
                "writes to succeed again",
                async () =>
                    outcomes.filter(
                        (o) => o.at > timeline.restartedAt && typeof o.status === "number" && o.status < 300,
                    ).length >= 20 || undefined,
                60_000,
            );
        } finally {
            loading = false;
            await load;
            if (!timeline.restartedAt) startServer(server);
        }

        assert.strictEqual(run.child.exitCode, null, `the service exited:\n${run.output()}`);
        const statuses = (from: number, to: number) =>
            outcomes.filter((o) => o.at >= from && o.at < to).map((o) => o.status);
        assert.deepStrictEqual(
            outcomes.filter((o) => o.status === "network" || o.status === 500),
            [],
            "no connection refused or reset by a crashed process, no 500",
        );
        assert.ok(
            statuses(0, timeline.stoppedAt).some((s) => s === 201),
            "writes succeed before the stop",
        );
        assert.ok(statuses(timeline.stoppedAt, timeline.restartedAt).includes(503), "503 while the database is down");
        assert.ok(
            statuses(timeline.restartedAt + 1, Infinity).some((s) => s === 201),
            "2xx again after the restart, without restarting the service",
        );

        // A 503 means the write did not happen or, when the connection broke after COMMIT, happened once:
        // repeating it under its key must give one answer and one effect.
        for (const o of outcomes.filter((x) => x.status === 503)) {
            const again = await send(o.kind, o.url, o.body, o.key);
            assert.ok(
                [200, 201, 404, 409].includes(again.status as number),
                `${o.kind} ${o.key} again: ${again.status}`,
            );
        }
        await checkNothingHalfWritten(databaseUrl, outcomes);

        run.child.kill("SIGTERM");
        assert.strictEqual(await run.exited, 0, run.output());
    });

    it(`exits with code 0 within ${SHUTDOWN_BOUND_MS / 1000} s of SIGTERM, answering a long poll at once and closing an idle keep-alive connection, with a source run in flight`, async () => {
        const { run, base } = await startReady();
        const { cursor } = (await (await fetch(`${base}/v1/events`)).json()) as { cursor: string };
        const keepAlive = new http.Agent({ keepAlive: true });
        let keepAliveClosedAt = 0;
        await new Promise<void>((resolve, reject) => {
            const req = http.get(`${base}/healthz`, { agent: keepAlive }, (res) => {
                res.resume();
                res.on("end", resolve);
            });
            req.on("socket", (socket) => socket.on("close", () => (keepAliveClosedAt = Date.now())));
            req.on("error", reject);
        });
        const poll = fetch(`${base}/v1/events?after=${cursor}&waitSeconds=30`).then(async (res) => ({
            status: res.status,
            body: await res.json(),
            at: Date.now(),
        }));
        await new Promise((resolve) => setTimeout(resolve, 500));

        const signalledAt = Date.now();
        run.child.kill("SIGTERM");
        const code = await Promise.race([
            run.exited,
            new Promise<"still running">((resolve) => setTimeout(() => resolve("still running"), 60_000)),
        ]);
        const exitedAt = Date.now();
        if (code === "still running") run.child.kill("SIGKILL");
        keepAlive.destroy();

        assert.strictEqual(code, 0, run.output());
        assert.ok(exitedAt - signalledAt < SHUTDOWN_BOUND_MS, `exited ${exitedAt - signalledAt} ms after SIGTERM`);
        const answered = await poll;
        assert.deepStrictEqual([answered.status, answered.body], [200, { events: [], cursor }]);
        assert.ok(
            answered.at - signalledAt < 2000,
            `the long poll waited ${answered.at - signalledAt} ms after SIGTERM`,
        );
        assert.ok(keepAliveClosedAt > 0 && keepAliveClosedAt <= exitedAt, "the idle keep-alive connection was closed");
    });
});

/** What the database holds agrees with what callers were told, and the budgets hold. */
async function checkNothingHalfWritten(databaseUrl: string, outcomes: readonly Outcome[]): Promise<void> {
    const db = new Pool({ connectionString: databaseUrl, max: 1 });
    try {
        const final = new Map<string, Outcome>();
        for (const o of outcomes) final.set(o.key, o); // the last answer per key (the retry's, for a 503)
        const answered = [...final.values()];
        const requests = await db.query<{ n: string }>("SELECT count(*) AS n FROM gpu_requests");
        assert.strictEqual(
            Number(requests.rows[0].n),
            answered.filter((o) => o.kind === "approve" && (o.status === 201 || o.status === 409)).length,
            "one recorded decision per answered request",
        );
        const usage = await db.query<{ usd: string; rolled: string }>(
            "SELECT (SELECT coalesce(sum(amount_usd), 0) FROM usage) AS usd, (SELECT coalesce(sum(amount_usd), 0) FROM daily_spend) AS rolled",
        );
        // $1.25 per accepted push, as sent.
        const pushed = answered.filter((o) => o.kind === "push" && o.status === 201).length * 1.25;
        assert.deepStrictEqual([Number(usage.rows[0].usd), Number(usage.rows[0].rolled)], [pushed, pushed]);
        const { rows } = await db.query<{ team: string; held: string; budget: string }>(
            `SELECT t.name AS team, t.monthly_budget_usd AS budget,
                    (SELECT coalesce(sum(amount_usd), 0) FROM daily_spend d WHERE d.team = t.name AND d.day >= date_trunc('month', now())::date)
                  + (SELECT coalesce(sum(greatest(estimated_cost_usd - consumed_usd, 0)), 0) FROM gpu_requests r
                      WHERE r.team = t.name AND r.status = 'approved' AND r.released_at IS NULL AND r.expires_at > now() AND NOT r.over_budget) AS held
               FROM teams t`,
        );
        for (const r of rows)
            assert.ok(Number(r.held) <= Number(r.budget) + 0.005, `${r.team}: $${r.held} held of $${r.budget}`);
    } finally {
        await db.end();
    }
}
