/**
 * The budget gate under load: 5,000 pending Workloads across 32 teams, written at once into the
 * fake Kubernetes API on loopback (services/budget-gate/test/fake-kube-api.ts) as Kueue's Job
 * integration makes them, decided by the real gate (informer, controller, its tracker client)
 * against the real cost tracker over HTTP on loopback (PostgreSQL when TEST_DATABASE_URL is set,
 * as `npm run bench:gate` runs it through scripts/with-postgres.sh; else PGlite in-process).
 *
 * Each Workload is 1 H100 for 10 h under `training`: $6.88 × 10 = $68.80. A team's $8,000 budget
 * holds 116 of them ($7,980.80); each team gets 156 or 157, so about 40 a team wait (Retry).
 *
 * It prints decisions per second, p50/p99 decision latency (from the Workload's creation to its
 * check leaving Pending, timed as the API stores the answer) and the invariant on the database: for every team,
 * spent + live reservations ≤ budget, and as many live reservations as Ready answers. It exits 1
 * if the invariant fails, never on time.
 *
 *   npm run bench:gate            # 5,000 workloads
 *   npm run bench:gate -- 1000    # fewer
 */
import type { AddressInfo } from "net";
import { DEFAULT_WORKLOAD_CLASSES } from "@gpu-platform/catalog";
import { buildCostTrackerConfig } from "@gpu-platform/catalog/contracts";
import { buildBudgetGateConfig } from "@gpu-platform/catalog/contracts";
import { pgliteDatabase, postgresDatabase, type Database } from "@gpu-platform/cost-tracker/src/db/database";
import { migrate } from "@gpu-platform/cost-tracker/src/db/migrations";
import { buildApp } from "@gpu-platform/cost-tracker/src/http/app";
import { createMetrics as trackerMetrics } from "@gpu-platform/cost-tracker/src/metrics";
import { monthOf } from "@gpu-platform/cost-tracker/src/rules";
import { syncConfig } from "@gpu-platform/cost-tracker/src/spend";
import { startGate } from "@gpu-platform/budget-gate/src/gate";
import { kubeApi } from "@gpu-platform/budget-gate/src/kube";
import { createMetrics as gateMetrics } from "@gpu-platform/budget-gate/src/metrics";
import { trackerClient } from "@gpu-platform/budget-gate/src/tracker";
import { FakeKubeApi } from "@gpu-platform/budget-gate/test/fake-kube-api";
import { reserveQuota, workloadForJob } from "@gpu-platform/budget-gate/test/kueue-double";

const WORKLOADS = Number(process.argv[2] ?? 5000);
const TEAMS = 32;
const BUDGET_USD = 8000;
const NOW = new Date("2026-03-10T12:00:00Z");
const PLATFORM_TOKEN = "bench-platform-token-0123456789abcdef";

const trackerConfig = buildCostTrackerConfig({
    teams: Array.from({ length: TEAMS }, (_, i) => ({
        name: `team-${String(i + 1).padStart(2, "0")}`,
        costCenter: `CC-${3000 + i}`,
        monthlyBudgetUsd: BUDGET_USD,
    })),
    nodePools: [{ name: "h100", instanceType: "p5.48xlarge", maxSize: 64, gpuSharing: { mode: "exclusive" } }],
    priorityClasses: DEFAULT_WORKLOAD_CLASSES,
});
const gateConfig = buildBudgetGateConfig({
    tracker: trackerConfig,
    classes: DEFAULT_WORKLOAD_CLASSES,
    admissionCheck: "budget",
    namespace: "budget-gate",
    breakerIntervalSeconds: 3600,
});

async function database(): Promise<Database> {
    const url = process.env.TEST_DATABASE_URL;
    const db = url ? postgresDatabase(url, { max: 20 }) : await pgliteDatabase(undefined);
    await migrate(db);
    await db.query("TRUNCATE gpu_requests, idempotency_keys, alerts RESTART IDENTITY CASCADE");
    await syncConfig(db, trackerConfig, NOW);
    return db;
}

/** The i-th Workload: team i mod 32, 1 H100 for 10 h, quota reserved a minute ago. */
function pendingWorkload(i: number) {
    const team = trackerConfig.teams[i % TEAMS].name;
    const uid = `7a0c0000-0000-4000-8000-${String(i).padStart(12, "0")}`;
    const job = {
        metadata: {
            name: `train-${i}`,
            namespace: team,
            labels: { "kueue.x-k8s.io/max-exec-time-seconds": "36000" },
        },
        spec: {
            template: {
                spec: {
                    priorityClassName: "training",
                    restartPolicy: "Never",
                    containers: [{ name: "t", image: "t:1", resources: { requests: { "nvidia.com/gpu": "1" } } }],
                },
            },
        },
    };
    return reserveQuota(workloadForJob(job, uid, DEFAULT_WORKLOAD_CLASSES), team, "h100", "2026-03-10T11:59:00Z");
}

const percentile = (sorted: number[], p: number) =>
    sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

/** spent + live reservations ≤ budget for every team, and one live reservation per Ready answer. */
async function invariantProblems(db: Database, readyByTeam: Map<string, number>): Promise<string[]> {
    const month = monthOf(NOW);
    const { rows } = await db.query<{ name: string; budget: number; spent: number; reserved: number; live: number }>(
        `SELECT t.name, m.budget, m.spent, m.reserved,
                (SELECT count(*)::int FROM gpu_requests g WHERE g.team = t.name AND g.status = 'approved'
                    AND g.released_at IS NULL AND g.expires_at > $1) AS live
           FROM teams t, team_money(t.name, $1, $2, $3) m ORDER BY t.name`,
        [NOW, month.start, month.next],
    );
    const problems: string[] = [];
    for (const r of rows) {
        if (Number(r.spent) + Number(r.reserved) > Number(r.budget) + 0.005)
            problems.push(`${r.name}: $${r.spent} spent + $${r.reserved} reserved > $${r.budget}`);
        if (r.live !== (readyByTeam.get(r.name) ?? 0))
            problems.push(`${r.name}: ${r.live} live reservations, ${readyByTeam.get(r.name) ?? 0} Ready answers`);
    }
    return problems;
}

async function main(): Promise<void> {
    const db = await database();
    const app = await buildApp({
        config: trackerConfig,
        db,
        isMigrated: () => true,
        apiToken: "bench-admin-token-0123456789abcdef",
        credentials: [{ kind: "platform", tokens: [PLATFORM_TOKEN] }],
        notifiers: [],
        metrics: trackerMetrics(async () => []),
        now: () => NOW,
        logger: false,
    });
    await app.listen({ host: "127.0.0.1", port: 0 });
    const kube = await new FakeKubeApi().start();
    const gate = startGate({
        kube: kubeApi(kube.kubeConfig()),
        tracker: trackerClient({
            url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
            token: () => Promise.resolve(PLATFORM_TOKEN),
        }),
        config: gateConfig,
        metrics: gateMetrics(false),
        now: () => NOW,
        log: (message, fields) => {
            if (process.env.GATE_LOG)
                process.stderr.write(`${Date.now() % 100000} ${message} ${JSON.stringify(fields)}\n`);
        },
    });
    await gate.synced;

    // Each decision is timed when the fake API stores the answer, so the harness adds no polling work.
    const created = new Map<string, { team: string; at: number }>();
    const latencies: number[] = [];
    const outcomes = new Map<string, number>();
    const readyByTeam = new Map<string, number>();
    let allDecided!: () => void;
    const decided = new Promise<void>((resolve) => (allDecided = resolve));
    kube.observe(({ object }) => {
        const state = object.status?.admissionChecks?.[0]?.state;
        const pending = created.get(object.metadata.name);
        if (!pending || !state || state === "Pending") return;
        latencies.push(performance.now() - pending.at);
        outcomes.set(state, (outcomes.get(state) ?? 0) + 1);
        if (state === "Ready") readyByTeam.set(pending.team, (readyByTeam.get(pending.team) ?? 0) + 1);
        created.delete(object.metadata.name);
        if (created.size === 0) allDecided();
    });
    const started = performance.now();
    for (let i = 0; i < WORKLOADS; i++) {
        const workload = pendingWorkload(i);
        created.set(workload.metadata.name, { team: workload.metadata.namespace, at: performance.now() });
        kube.put(workload);
    }
    await decided;
    const seconds = (performance.now() - started) / 1000;
    await gate.stop();
    latencies.sort((a, b) => a - b);
    const problems = await invariantProblems(db, readyByTeam);
    const backend = process.env.TEST_DATABASE_URL ? "PostgreSQL" : "PGlite (in-process)";
    process.stdout.write(
        [
            `budget gate: ${WORKLOADS} workloads, ${TEAMS} teams, tracker over HTTP on ${backend}`,
            `  decided in ${seconds.toFixed(1)} s: ${(WORKLOADS / seconds).toFixed(1)} decisions/s`,
            `  outcomes: ${[...outcomes].map(([state, n]) => `${state} ${n}`).join(", ")}`,
            `  Kubernetes API writes: ${kube.requests.filter((r) => r.startsWith("PATCH ")).length} patches (finalizer and answer: 2 a workload when none conflicts)`,
            `  decision latency: p50 ${percentile(latencies, 50).toFixed(0)} ms, p99 ${percentile(latencies, 99).toFixed(0)} ms (from creation, all created at once)`,
            `  invariant (spent + reserved <= budget, one live reservation per Ready): ${problems.length === 0 ? "holds for every team" : "BROKEN"}`,
            ...problems.map((p) => `    ${p}`),
            "",
        ].join("\n"),
    );
    await kube.close();
    await app.close();
    await db.close();
    process.exitCode = problems.length === 0 ? 0 : 1;
}

main().catch((err: unknown) => {
    process.stderr.write(`bench:gate failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
});
