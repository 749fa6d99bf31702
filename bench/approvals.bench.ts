/**
 * The cost tracker's approval path against a real PostgreSQL server on loopback, beside
 * pgbench on the same server in the same run:
 *
 * - approvals per second and p50/p99 latency at 1, 16 and 64 concurrent clients, spread over
 *   32 teams round-robin, two ways: calling the service's approval (`requestGpus`: pricing,
 *   then the check-and-reserve transaction under its team's row lock) over a pool of as many
 *   connections as clients, as pgbench does; and end to end over HTTP (POST /v1/gpu-requests
 *   over keep-alive connections from a worker thread);
 * - pgbench's TPS for a one-row-update transaction at the same client counts, and the ratio;
 * - whether every team's approved total stayed within its budget;
 * - GET /v1/teams/{team}/spend for a month holding 100,000 usage rows.
 *
 *   npm run bench:approvals            # via scripts/with-postgres.sh, which starts the server
 *   npm run bench:approvals -- 10      # seconds per level (default 6)
 *
 * Targets: ratio ≥ 0.3 at 64 clients, p99 ≤ 25 ms, the spend query ≤ 50 ms. It prints figures
 * and asserts nothing about time. Beside each level's rate: the CPU time one decision cost in
 * each process (this one, PostgreSQL's, the load generator's) and the load average, since on a
 * shared machine a rate alone says little: CPU per decision is what the rate is bounded by.
 */
import { fork, spawnSync } from "child_process";
import autocannon from "autocannon";
import * as fs from "fs";
import type { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import { buildCostTrackerConfig } from "@gpu-platform/catalog/contracts";
import { postgresDatabase } from "@gpu-platform/cost-tracker/src/db/database";
import { migrate } from "@gpu-platform/cost-tracker/src/db/migrations";
import { requestGpus } from "@gpu-platform/cost-tracker/src/approvals";
import { buildApp } from "@gpu-platform/cost-tracker/src/http/app";
import { createMetrics } from "@gpu-platform/cost-tracker/src/metrics";
import type { UsageRecord } from "@gpu-platform/cost-tracker/src/model";
import { daysBetween, monthOf, utcDay } from "@gpu-platform/cost-tracker/src/rules";
import { syncConfig } from "@gpu-platform/cost-tracker/src/spend";
import { replaceSourceDays } from "@gpu-platform/cost-tracker/src/usage";

const SECONDS = Number(process.argv[2] ?? 6);
const CLIENT_LEVELS = [1, 16, 64];
const TEAMS = 32;
// Each ask is 1 H100 for 1 h ($6.88); $600 a team is 87 approvals, so the busier levels also meet rejections.
const BUDGET_USD = 600;
const SPEND_ROWS = 100_000;
const TOKEN = "bench-token-0123456789abcdef";

const url = process.env.TEST_DATABASE_URL;
const pgBin = process.env.PG_BIN;
const loadGenerator = process.env.BENCH_CLIENTS;
if (!loadGenerator && (!url || !pgBin)) {
    process.stderr.write(
        "bench:approvals needs a PostgreSQL server: run it as `npm run bench:approvals` (scripts/with-postgres.sh starts one)\n",
    );
    process.exit(2);
}

const config = buildCostTrackerConfig({
    teams: Array.from({ length: TEAMS }, (_, i) => ({
        name: `team-${i + 1}`,
        costCenter: `CC-${2000 + i}`,
        monthlyBudgetUsd: BUDGET_USD,
    })),
    nodePools: [{ name: "h100", instanceType: "p5.48xlarge", maxSize: 4, gpuSharing: { mode: "exclusive" } }],
});

function percentile(sorted: number[], p: number): number {
    return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

interface PgbenchResult {
    tps: number;
    /** Transactions pgbench completed. */
    transactions: number;
    /** CPU milliseconds PostgreSQL and pgbench itself used over the run. */
    serverCpuMs?: number;
    clientCpuMs?: number;
}

/**
 * A backend that has just exited is counted nowhere until the postmaster reaps it (a zombie's
 * /proc entry reads zero CPU): readings wait this long after a level's or pgbench's connections close.
 */
const REAP_SETTLE_MS = 300;

function settle(): void {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, REAP_SETTLE_MS);
}

function pgbenchTps(clients: number, postmasterPid: number | undefined): PgbenchResult {
    const script = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "pgbench-")), "update.sql");
    fs.writeFileSync(
        script,
        "\\set id random(1, 1000)\nBEGIN;\nUPDATE bench_budget SET spent = spent + 1 WHERE id = :id;\nEND;\n",
    );
    const serverBefore = postmasterPid === undefined ? undefined : serverCpuMs(postmasterPid);
    const childrenBefore = reapedChildrenCpuMs();
    const run = spawnSync(
        path.join(pgBin!, "pgbench"),
        [
            "-n",
            "-c",
            String(clients),
            "-j",
            String(Math.min(clients, 2)),
            "-T",
            String(SECONDS),
            "-f",
            script,
            "cost_tracker",
        ],
        {
            encoding: "utf8",
        },
    );
    const tps = /tps = ([\d.]+)/.exec(run.stdout)?.[1];
    if (!tps) throw new Error(`pgbench failed: ${run.stderr || run.stdout}`);
    settle();
    const serverAfter = postmasterPid === undefined ? undefined : serverCpuMs(postmasterPid);
    return {
        tps: Number(tps),
        transactions: Number(/actually processed: (\d+)/.exec(run.stdout)?.[1] ?? NaN),
        serverCpuMs: serverBefore === undefined || serverAfter === undefined ? undefined : serverAfter - serverBefore,
        clientCpuMs: difference(childrenBefore, reapedChildrenCpuMs()),
    };
}

interface LevelResult {
    /** Approvals (decisions) per second. */
    rate: number;
    p50: number;
    p99: number;
    outcomes: { 201: number; 409: number; other: number };
    /** CPU milliseconds the load generator's process used (HTTP levels only). */
    clientCpuMs?: number;
}

/** CPU milliseconds (user + system) a process has used, read from /proc; its reaped children too when `withChildren`. */
function procCpuMs(pid: number, withChildren: boolean): number {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces): utime, stime, cutime, cstime are the 14th-17th (proc(5)).
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks =
        Number(fields[11]) + Number(fields[12]) + (withChildren ? Number(fields[13]) + Number(fields[14]) : 0);
    return (ticks * 1000) / CLOCK_TICKS;
}

/** CPU milliseconds of this process's children that have ended (pgbench, the load generator): the kernel adds them on reaping. */
function reapedChildrenCpuMs(): number | undefined {
    if (!fs.existsSync("/proc/self/stat")) return undefined;
    return procCpuMs(process.pid, true) - procCpuMs(process.pid, false);
}

function difference(before: number | undefined, after: number | undefined): number | undefined {
    return before === undefined || after === undefined ? undefined : after - before;
}

const CLOCK_TICKS = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;

/**
 * CPU milliseconds the PostgreSQL server has used: its postmaster, every live child (backends,
 * WAL writer, checkpointer) and the children it has reaped. Undefined where /proc is not there.
 */
function serverCpuMs(postmasterPid: number): number | undefined {
    if (!fs.existsSync("/proc/self/stat")) return undefined;
    let total = procCpuMs(postmasterPid, true);
    for (const entry of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(entry)) continue;
        try {
            const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
            if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === postmasterPid)
                total += procCpuMs(Number(entry), false);
        } catch {
            // The process ended between the listing and the read: the postmaster's reaped total has it.
        }
    }
    return total;
}

/**
 * The HTTP clients: autocannon (the Fastify project's load generator) in a process of its own,
 * as an outside client would be, so the service's event loop serves requests and does nothing
 * else, as in its own container. Each request gets its own idempotency key and the next team,
 * round-robin.
 */
function runClients(base: string, clients: number): Promise<LevelResult> {
    const child = fork(__filename, [], {
        execArgv: ["-r", "esbuild-register"],
        env: {
            ...process.env,
            BENCH_CLIENTS: JSON.stringify({ base, clients, seconds: SECONDS, teams: TEAMS, token: TOKEN }),
        },
    });
    return new Promise((resolve, reject) => {
        child.once("message", (result) => resolve(result as LevelResult));
        child.once("error", reject);
    });
}

/** In the load generator's process: autocannon for `seconds` at `clients` connections; reports latency percentiles and outcomes. */
async function clientLoops(options: {
    base: string;
    clients: number;
    seconds: number;
    teams: number;
    token: string;
}): Promise<LevelResult> {
    let sent = 0;
    const cpuBefore = process.cpuUsage();
    const result = await autocannon({
        url: `${options.base}/v1/gpu-requests`,
        connections: options.clients,
        duration: options.seconds,
        requests: [
            {
                method: "POST",
                setupRequest: (request) => {
                    const n = sent++;
                    return {
                        ...request,
                        headers: {
                            authorization: `Bearer ${options.token}`,
                            "idempotency-key": `bench-${options.clients}-${n}`,
                            "content-type": "application/json",
                        },
                        body: JSON.stringify({
                            team: `team-${(n % options.teams) + 1}`,
                            pool: "h100",
                            gpus: 1,
                            hours: 1,
                            priorityClass: "training",
                            requester: "bench",
                        }),
                    };
                },
            },
        ],
    });
    const byCode = (code: string) => result.statusCodeStats?.[code as keyof typeof result.statusCodeStats]?.count ?? 0;
    const outcomes = {
        201: byCode("201"),
        409: byCode("409"),
        other: result.non2xx - byCode("409") + result.errors + result.timeouts,
    };
    const cpu = process.cpuUsage(cpuBefore);
    return {
        rate: result.requests.average,
        p50: result.latency.p50,
        p99: result.latency.p99,
        outcomes,
        clientCpuMs: (cpu.user + cpu.system) / 1000,
    };
}

/** In this process: `clients` loops calling the approval itself, each on a connection of its own. */
async function databaseLoops(db: ReturnType<typeof postgresDatabase>, clients: number): Promise<LevelResult> {
    const latencies: number[] = [];
    const outcomes = { 201: 0, 409: 0, other: 0 };
    const deadline = Date.now() + SECONDS * 1000;
    const client = async (c: number) => {
        for (let i = 0; Date.now() < deadline; i++) {
            const started = process.hrtime.bigint();
            const team = `team-${((c + i * clients) % TEAMS) + 1}`;
            const decision = await requestGpus(
                db,
                config,
                { team, pool: "h100", gpus: 1, hours: 1, priorityClass: "training", requester: "bench" },
                `db-${clients}-${c}-${i}`,
                new Date(),
                { identity: "bench", mayExceedBudget: false },
            );
            latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
            // A 200 is an adopted reservation; the bench's keys never repeat a workload, so it would be a fault.
            if (decision.statusCode === 200) outcomes.other++;
            else outcomes[decision.statusCode]++;
        }
    };
    const started = Date.now();
    await Promise.all(Array.from({ length: clients }, (_, c) => client(c)));
    latencies.sort((a, b) => a - b);
    return {
        rate: latencies.length / ((Date.now() - started) / 1000),
        p50: percentile(latencies, 50),
        p99: percentile(latencies, 99),
        outcomes,
    };
}

/** The PostgreSQL server's postmaster, when it runs on this machine and its data directory is readable here. */
async function postmasterOf(db: ReturnType<typeof postgresDatabase>): Promise<number | undefined> {
    try {
        const { rows } = await db.query<{ dir: string }>("SELECT current_setting('data_directory') AS dir");
        return Number(fs.readFileSync(path.join(rows[0].dir, "postmaster.pid"), "utf8").split("\n")[0]);
    } catch {
        return undefined;
    }
}

function costLine(label: string, count: number, cpuMs: Record<string, number | undefined>): string {
    const parts = Object.entries(cpuMs).map(
        ([process, ms]) => `${process} ${ms === undefined ? "n/a" : (ms / count).toFixed(3)}`,
    );
    return `  ${label.padEnd(12)} ${parts.join(", ")}  (${count} done; load ${os.loadavg()[0].toFixed(1)})`;
}

async function main(): Promise<void> {
    // The service's own pool size (20): more connections than cores only adds switching on the server.
    const db = postgresDatabase(url!);
    await migrate(db);
    await db.query("DROP TABLE IF EXISTS bench_budget");
    await db.query("CREATE TABLE bench_budget (id integer PRIMARY KEY, spent bigint NOT NULL DEFAULT 0)");
    await db.query("INSERT INTO bench_budget (id) SELECT generate_series(1, 1000)");

    const app = await buildApp({
        config,
        db,
        isMigrated: () => true,
        apiToken: TOKEN,
        notifiers: [],
        metrics: createMetrics(() => Promise.resolve([])),
        now: () => new Date(),
        logger: false,
    });
    await app.listen({ port: 0, host: "127.0.0.1" });
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const reset = async () => {
        await db.query("TRUNCATE gpu_requests, idempotency_keys, usage, daily_spend, alerts, teams CASCADE");
        await syncConfig(db, config, new Date());
    };

    console.log(
        `cost tracker approvals on PostgreSQL (loopback), ${SECONDS} s per level, ${TEAMS} teams, ${os.cpus().length} CPUs, load ${os.loadavg()[0].toFixed(1)}`,
    );
    const postmasterPid = await postmasterOf(db);
    console.log(
        "path      clients  approvals/s  p50 ms  p99 ms  approved  rejected  pgbench tps  ratio  within budget",
    );
    const pools = new Map(CLIENT_LEVELS.map((clients) => [clients, postgresDatabase(url!, { max: clients })]));
    const levels = CLIENT_LEVELS.flatMap((clients) => [
        { path: "approval", clients, run: () => databaseLoops(pools.get(clients)!, clients) },
        { path: "HTTP", clients, run: () => runClients(base, clients) },
    ]);
    const pgbenchByClients = new Map<number, PgbenchResult>();
    const costs: string[] = [];
    for (const level of levels) {
        await reset();
        const serverBefore = postmasterPid === undefined ? undefined : serverCpuMs(postmasterPid);
        const ownBefore = process.cpuUsage();
        const { rate, p50, p99, outcomes, clientCpuMs } = await level.run();
        const own = process.cpuUsage(ownBefore);
        settle();
        const serverMs = difference(serverBefore, postmasterPid === undefined ? undefined : serverCpuMs(postmasterPid));
        const clients = level.clients;
        const { rows } = await db.query<{ team: string; usd: number }>(
            "SELECT team, sum(estimated_cost_usd) AS usd FROM gpu_requests WHERE status = 'approved' GROUP BY team ORDER BY usd DESC LIMIT 1",
        );
        const within = rows.length === 0 || rows[0].usd <= BUDGET_USD;
        if (!pgbenchByClients.has(clients)) pgbenchByClients.set(clients, pgbenchTps(clients, postmasterPid));
        const tps = pgbenchByClients.get(clients)!.tps;
        console.log(
            [
                level.path.padEnd(8),
                String(clients).padStart(7),
                rate.toFixed(0).padStart(12),
                p50.toFixed(2).padStart(7),
                p99.toFixed(2).padStart(7),
                String(outcomes[201]).padStart(9),
                String(outcomes[409]).padStart(9),
                tps.toFixed(0).padStart(12),
                (rate / tps).toFixed(2).padStart(6),
                `  ${within ? "yes" : "NO"} (most approved for one team: $${rows[0]?.usd ?? 0} of $${BUDGET_USD})${outcomes.other ? `, ${outcomes.other} errors` : ""}`,
            ].join(" "),
        );
        const decisions = outcomes[201] + outcomes[409] + outcomes.other;
        costs.push(
            costLine(`${level.path} ${clients}`, decisions, {
                service: (own.user + own.system) / 1000,
                postgres: serverMs,
                client: clientCpuMs,
            }),
        );
    }
    console.log("\nCPU ms per decision (pgbench: per transaction) by process, and the 1-minute load average after it:");
    for (const [clients, run] of pgbenchByClients)
        costs.push(
            costLine(`pgbench ${clients}`, run.transactions, { postgres: run.serverCpuMs, client: run.clientCpuMs }),
        );
    for (const line of costs) console.log(line);

    // 100,000 usage rows for one team this month, ingested through the same path as a source's, then the month's spend read back.
    await reset();
    const now = new Date();
    const days = daysBetween(monthOf(now).start, utcDay(now));
    const categories: UsageRecord["category"][] = ["gpu", "cpu-memory", "storage", "ai-api", "other-aws"];
    const records: UsageRecord[] = Array.from({ length: SPEND_ROWS }, (_, i) => ({
        day: days[i % days.length],
        team: "team-1",
        category: categories[i % categories.length],
        amountUsd: 0.5 + (i % 97) / 10,
        pool: i % 5 === 0 ? "h100" : undefined,
        gpuHours: i % 5 === 0 ? 0.1 : 0,
        // A source reports one row per natural key and day (usage_natural_key): one workload a row.
        workload: `team-1/job/bench-${i}`,
    }));
    const ingestStarted = Date.now();
    await replaceSourceDays(db, "bench", days, records, now);
    const ingestSeconds = (Date.now() - ingestStarted) / 1000;
    const times: number[] = [];
    for (let i = 0; i < 30; i++) {
        const started = process.hrtime.bigint();
        const res = await fetch(`${base}/v1/teams/team-1/spend`);
        await res.json();
        if (i >= 5) times.push(Number(process.hrtime.bigint() - started) / 1e6); // the first five warm caches
    }
    times.sort((a, b) => a - b);
    const { rows } = await db.query<{ n: number }>("SELECT count(*) AS n FROM usage WHERE team = 'team-1'");
    console.log(
        `GET /v1/teams/team-1/spend over ${days.length} days holding ${rows[0].n} usage rows: median ${percentile(times, 50).toFixed(2)} ms, ` +
            `max ${times[times.length - 1].toFixed(2)} ms over ${times.length} reads (ingested in ${ingestSeconds.toFixed(1)} s)`,
    );
    await app.close();
    for (const pool of pools.values()) await pool.close();
    await db.query("DROP TABLE bench_budget");
    await db.close();
}

if (!loadGenerator) {
    main().catch((err) => {
        process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
        process.exit(1);
    });
} else {
    void clientLoops(JSON.parse(loadGenerator)).then((result) => process.send!(result, () => process.exit(0)));
}
