/**
 * The budget invariant under random concurrent mixes, on a real PostgreSQL server (PGlite has
 * one connection and isolates nothing, so it cannot show this):
 *
 *   for every team, at every instant a reader can observe,
 *   month-to-date spend + live reservations <= budget,
 *   critical-class approvals past the budget (flagged overBudget) excepted;
 *   and every release the service acknowledged stays released.
 *
 * fast-check generates batches of operations across three small-budget teams: approvals (some
 * naming a workload, some critical), releases by id, usage pushes and source syncs of the
 * workloads' GPU spend, expiry sweeps, and the clock moving on. Each batch runs concurrently,
 * over HTTP against the app on a pool of real connections (syncs and sweeps through the same
 * functions the scheduler calls), while a sampler reads the invariant in one statement and
 * through GET /v1/teams. After each batch and each run the database is checked again.
 *
 * Spend is generated as the budget loop produces it: GPU spend of a workload whose reservation
 * is live, up to that reservation's estimate. Spend no reservation covers (a workload running
 * past its estimate, untagged spend) can pass a budget whatever the service does: that is the
 * overrun the gate's circuit breaker acts on, not a decision the service made, so it is not
 * generated here.
 *
 * Seeded by default, so `npm run test:integration` is repeatable; INVARIANT_SEED and
 * INVARIANT_RUNS explore further.
 */
import * as assert from "assert";
import fc from "fast-check";
import type { FastifyInstance } from "fastify";
import type { AddressInfo } from "net";
import { buildCostTrackerConfig } from "@gpu-platform/catalog/contracts";
import type { Database } from "../../src/db/database";
import { daysBetween, monthOf, utcDay } from "../../src/rules";
import { expireReservations, replaceSourceDays } from "../../src/usage";
import { AUTH, resetDatabase, testApp, testDatabase } from "../helpers";

const SEED = Number(process.env.INVARIANT_SEED ?? 20261118);
const RUNS = Number(process.env.INVARIANT_RUNS ?? 12);
const START = "2026-11-18T06:00:00.000Z";
// $6.88 per H100-hour (p5.48xlarge $55.04 / 8 GPUs, catalog/instances.ts): 1-4 GPUs for 1-12 h is $6.88-$330.24, so budgets bind.
const TEAMS = [
    { name: "ml-research", costCenter: "CC-1", monthlyBudgetUsd: 200 },
    { name: "inference", costCenter: "CC-2", monthlyBudgetUsd: 300 },
    { name: "applied-ml", costCenter: "CC-3", monthlyBudgetUsd: 150 },
];
const CONFIG = buildCostTrackerConfig({
    teams: TEAMS,
    nodePools: [{ name: "h100", instanceType: "p5.48xlarge", maxSize: 4, gpuSharing: { mode: "exclusive" } }],
    reservationGraceHours: 1,
});
const SOURCE = "opencost";

type Intent =
    | { op: "approve"; team: number; gpus: number; hours: number; critical: boolean; named: boolean }
    | { op: "release"; pick: number }
    | { op: "push"; pick: number; share: number }
    | { op: "sync"; picks: number[]; share: number }
    | { op: "expire" };

const intentArb: fc.Arbitrary<Intent> = fc.oneof(
    {
        weight: 5,
        arbitrary: fc.record({
            op: fc.constant("approve" as const),
            team: fc.nat({ max: TEAMS.length - 1 }),
            gpus: fc.integer({ min: 1, max: 4 }),
            hours: fc.integer({ min: 1, max: 12 }),
            critical: fc.nat({ max: 9 }).map((n) => n < 2),
            named: fc.boolean(),
        }),
    },
    { weight: 3, arbitrary: fc.record({ op: fc.constant("release" as const), pick: fc.nat() }) },
    {
        weight: 3,
        arbitrary: fc.record({
            op: fc.constant("push" as const),
            pick: fc.nat(),
            share: fc.integer({ min: 10, max: 100 }).map((pct) => pct / 100),
        }),
    },
    {
        weight: 1,
        arbitrary: fc.record({
            op: fc.constant("sync" as const),
            picks: fc.array(fc.nat(), { maxLength: 4 }),
            share: fc.integer({ min: 0, max: 100 }).map((pct) => pct / 100),
        }),
    },
    { weight: 1, arbitrary: fc.constant({ op: "expire" as const }) },
);

const batchArb = fc.record({
    intents: fc.array(intentArb, { minLength: 4, maxLength: 40 }),
    advanceHours: fc.integer({ min: 0, max: 6 }),
});

/** A reservation as the database holds it between batches. */
interface Reservation {
    id: string;
    team: string;
    workload: string | null;
    estimate: number;
    live: boolean;
    overBudget: boolean;
    /** GPU spend on record for its workload since it was made, all sources. */
    spent: number;
}

interface Run {
    db: Database;
    base: string;
    clock: { now: Date };
    /** Releases answered 200 with reservation "released". */
    acknowledged: Set<string>;
    /** Per team, the estimates of every critical request sent: an upper bound of what may be flagged past the budget. */
    criticalSent: Map<string, number>;
    violations: string[];
    /** What the opencost source last reported per workload, which its next sync replaces. */
    synced: Map<string, number>;
    names: number;
}

const cents = (usd: number) => Math.floor(usd * 100) / 100;

describe("cost tracker on PostgreSQL: the budget invariant under random concurrent mixes", function () {
    this.timeout(600_000);
    let db: Database;
    let app: FastifyInstance;
    let base: string;
    const clock = { now: new Date(START) };

    before(async () => {
        db = await testDatabase();
        assert.strictEqual(db.kind, "postgres");
        app = await testApp(db, { config: CONFIG, now: () => clock.now });
        await app.listen({ port: 0, host: "127.0.0.1" });
        base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    });
    after(() => app.close());

    it(`holds for ${RUNS} generated runs (seed ${SEED})`, async () => {
        await fc.assert(
            fc.asyncProperty(fc.array(batchArb, { minLength: 3, maxLength: 8 }), async (batches) => {
                clock.now = new Date(START);
                await resetDatabase(db, CONFIG);
                const run: Run = {
                    db,
                    base,
                    clock,
                    acknowledged: new Set(),
                    criticalSent: new Map(),
                    violations: [],
                    synced: new Map(),
                    names: 0,
                };
                for (const batch of batches) {
                    const reservations = await reservationsNow(db, clock.now);
                    await runConcurrently(run, plan(run, batch.intents, reservations));
                    await checkAll(run);
                    clock.now = new Date(clock.now.getTime() + batch.advanceHours * 3_600_000);
                }
                await checkAll(run);
                assert.deepStrictEqual(run.violations, []);
            }),
            { seed: SEED, numRuns: RUNS, endOnFailure: true },
        );
    });
});

/** Turns intents into calls against the reservations as they stand, keeping spend within what each reservation covers. */
function plan(run: Run, intents: readonly Intent[], reservations: Reservation[]): Array<() => Promise<void>> {
    const closing = new Set<string>();
    const spending = new Map<string, number>();
    const spendable = () => reservations.filter((r) => r.live && r.workload && !r.overBudget && !closing.has(r.id));
    const allowance = (r: Reservation) => cents(r.estimate - r.spent - (spending.get(r.id) ?? 0));
    const calls: Array<() => Promise<void>> = [];
    for (const intent of intents) {
        if (intent.op === "approve") {
            const team = TEAMS[intent.team].name;
            const workload = intent.named && !intent.critical ? `job-${++run.names}` : undefined;
            if (intent.critical)
                run.criticalSent.set(team, (run.criticalSent.get(team) ?? 0) + 6.88 * intent.gpus * intent.hours);
            calls.push(() => approve(run, team, intent, workload));
        } else if (intent.op === "release") {
            const live = reservations.filter((r) => r.live && !spending.has(r.id));
            const target = live[intent.pick % Math.max(live.length, 1)];
            if (!target) continue;
            closing.add(target.id);
            calls.push(() => release(run, target.id));
        } else if (intent.op === "push") {
            const open = spendable();
            const target = open[intent.pick % Math.max(open.length, 1)];
            const amount = target ? cents(allowance(target) * intent.share) : 0;
            if (!target || amount <= 0) continue;
            spending.set(target.id, (spending.get(target.id) ?? 0) + amount);
            calls.push(() => push(run, target, amount));
        } else if (intent.op === "sync") {
            calls.push(planSync(run, intent, spendable(), allowance, spending, reservations));
        } else {
            calls.push(() => expireReservations(run.db, run.clock.now).then(() => undefined));
        }
    }
    return calls;
}

/**
 * A source sync replaces the source's days: workloads it reports again keep or lower their
 * figure, or, while their reservation is live, raise it within what the reservation covers;
 * those it leaves out drop to 0 (a revision).
 */
function planSync(
    run: Run,
    intent: Extract<Intent, { op: "sync" }>,
    open: Reservation[],
    allowance: (r: Reservation) => number,
    spending: Map<string, number>,
    reservations: Reservation[],
): () => Promise<void> {
    const next = new Map<string, number>();
    for (const [workload, amount] of run.synced) next.set(workload, cents(amount * intent.share));
    for (const pick of intent.picks) {
        const target = open[pick % Math.max(open.length, 1)];
        if (!target?.workload || next.get(target.workload) !== run.synced.get(target.workload)) continue;
        const before = run.synced.get(target.workload) ?? 0;
        const raise = cents(allowance(target) * intent.share);
        next.set(target.workload, cents(before + raise));
        spending.set(target.id, (spending.get(target.id) ?? 0) + raise);
    }
    run.synced = next;
    const teamOf = new Map(reservations.map((r) => [r.workload, r.team]));
    const records = [...next].map(([workload, amountUsd]) => ({
        day: utcDay(run.clock.now),
        team: teamOf.get(workload) ?? TEAMS[0].name,
        category: "gpu" as const,
        amountUsd,
        pool: "h100",
        workload,
    }));
    // The source re-reads every day since the run began, so each sync replaces all it said before.
    const days = daysBetween(utcDay(new Date(START)), utcDay(run.clock.now));
    return () => replaceSourceDays(run.db, SOURCE, days, records, run.clock.now);
}

async function approve(
    run: Run,
    team: string,
    intent: Extract<Intent, { op: "approve" }>,
    workload: string | undefined,
): Promise<void> {
    const [namespace, kind, name] = workload ? [team, "Job", workload] : [];
    await post(run, "/v1/gpu-requests", {
        team,
        pool: "h100",
        gpus: intent.gpus,
        hours: intent.hours,
        priorityClass: intent.critical ? "production-inference" : "training",
        requester: "property@example.com",
        ...(workload ? { workload: { namespace, kind, name } } : {}),
    });
}

async function release(run: Run, id: string): Promise<void> {
    const { status, body } = await post(run, `/v1/gpu-requests/${id}/release`, undefined);
    if (status === 200 && body.reservation === "released") run.acknowledged.add(id);
}

async function push(run: Run, target: Reservation, amountUsd: number): Promise<void> {
    const [namespace, , name] = target.workload!.split("/");
    await post(run, "/v1/usage", {
        records: [
            {
                team: target.team,
                category: "gpu",
                amountUsd,
                occurredAt: run.clock.now.toISOString(),
                pool: "h100",
                workload: { namespace, kind: "Job", name },
            },
        ],
    });
}

let keys = 0;
async function post(run: Run, path: string, body: unknown): Promise<{ status: number; body: Record<string, any> }> {
    const res = await fetch(`${run.base}${path}`, {
        method: "POST",
        headers: {
            ...AUTH,
            "idempotency-key": `property-${process.pid}-${++keys}`,
            ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
    });
    const answer = (await res.json()) as Record<string, any>;
    if (res.status >= 500 || res.status === 400 || res.status === 401)
        run.violations.push(`${path} answered ${res.status}: ${JSON.stringify(answer)}`);
    return { status: res.status, body: answer };
}

/** Runs the batch's calls at once while sampling the invariant, in the database and through the API, until all are done. */
async function runConcurrently(run: Run, calls: Array<() => Promise<void>>): Promise<void> {
    let done = false;
    const sampler = (async () => {
        while (!done) {
            await checkInvariant(run, "sampled in the database");
            await checkTeamsRead(run);
        }
    })();
    if (process.env.INVARIANT_DEBUG) console.log(`batch of ${calls.length} calls`);
    const results = await Promise.allSettled(calls.map((call) => call()));
    done = true;
    await sampler;
    for (const r of results) if (r.status === "rejected") run.violations.push(`a call failed: ${String(r.reason)}`);
}

async function checkAll(run: Run): Promise<void> {
    await checkInvariant(run, "after the batch");
    await checkReleasesKept(run);
    await checkRollUp(run);
}

/** One statement, so one snapshot: spend this month plus live reservations not flagged past the budget. */
async function checkInvariant(run: Run, when: string): Promise<void> {
    const month = monthOf(run.clock.now);
    const { rows } = await run.db.query<{ team: string; budget: number; spent: number; reserved: number }>(
        `SELECT t.name AS team, t.monthly_budget_usd AS budget,
                (SELECT coalesce(sum(amount_usd), 0) FROM daily_spend d WHERE d.team = t.name AND d.day >= $1 AND d.day < $2) AS spent,
                (SELECT coalesce(sum(greatest(estimated_cost_usd - consumed_usd, 0)), 0) FROM gpu_requests r
                  WHERE r.team = t.name AND r.status = 'approved' AND r.released_at IS NULL AND r.expires_at > $3
                    AND NOT r.over_budget) AS reserved
           FROM teams t`,
        [month.start, month.next, run.clock.now],
    );
    for (const r of rows) {
        if (r.spent + r.reserved > r.budget + 0.005)
            run.violations.push(
                `${when}: ${r.team} at $${(r.spent + r.reserved).toFixed(2)} ($${r.spent} spent + $${r.reserved} reserved) of $${r.budget}`,
            );
    }
}

/** What a reader of GET /v1/teams sees; flagged critical approvals are not told apart there, so they widen the bound. */
async function checkTeamsRead(run: Run): Promise<void> {
    const res = await fetch(`${run.base}/v1/teams`);
    const teams = (await res.json()) as Array<{
        name: string;
        monthlyBudgetUsd: number;
        monthToDateUsd: number;
        reservedUsd: number;
    }>;
    for (const t of teams) {
        const bound = t.monthlyBudgetUsd + (run.criticalSent.get(t.name) ?? 0);
        if (t.monthToDateUsd + t.reservedUsd > bound + 0.01)
            run.violations.push(
                `read through GET /v1/teams: ${t.name} at $${(t.monthToDateUsd + t.reservedUsd).toFixed(2)} of $${t.monthlyBudgetUsd}`,
            );
    }
}

async function checkReleasesKept(run: Run): Promise<void> {
    if (run.acknowledged.size === 0) return;
    const { rows } = await run.db.query<{ id: string; release_reason: string | null }>(
        "SELECT id, release_reason FROM gpu_requests WHERE id = ANY($1::uuid[])",
        [[...run.acknowledged]],
    );
    for (const r of rows)
        if (r.release_reason !== "released")
            run.violations.push(`release of ${r.id} was acknowledged, but it is now ${r.release_reason ?? "active"}`);
}

/**
 * The daily roll-up the reads and approvals use equals the usage rows it sums: counted_usage
 * (migration 4), which leaves out a pushed record a pulled source owns for the same workload and day.
 */
async function checkRollUp(run: Run): Promise<void> {
    const { rows } = await run.db.query<{ team: string; day: string; rolled: number; raw: number }>(
        `SELECT coalesce(d.team, u.team) AS team, coalesce(d.day, u.day) AS day, coalesce(d.usd, 0) AS rolled, coalesce(u.usd, 0) AS raw
           FROM (SELECT team, day, sum(amount_usd) AS usd FROM daily_spend GROUP BY team, day) d
           FULL JOIN (SELECT team, day, sum(amount_usd) AS usd FROM counted_usage GROUP BY team, day) u ON u.team = d.team AND u.day = d.day
          WHERE coalesce(d.usd, 0) <> coalesce(u.usd, 0)`,
    );
    for (const r of rows)
        run.violations.push(`roll-up of ${r.team} on ${r.day}: $${r.rolled}, usage rows say $${r.raw}`);
}

async function reservationsNow(db: Database, now: Date): Promise<Reservation[]> {
    const { rows } = await db.query<{
        id: string;
        team: string;
        workload: string | null;
        estimate: number;
        live: boolean;
        over_budget: boolean;
        spent: number;
    }>(
        `SELECT r.id, r.team, r.estimated_cost_usd AS estimate, r.over_budget,
                CASE WHEN r.workload_name IS NULL THEN NULL ELSE r.workload_namespace || '/' || lower(r.workload_kind) || '/' || r.workload_name END AS workload,
                (r.released_at IS NULL AND r.expires_at > $1) AS live,
                (SELECT coalesce(sum(u.amount_usd), 0) FROM usage u
                  WHERE u.category = 'gpu' AND u.workload = r.workload_namespace || '/' || lower(r.workload_kind) || '/' || r.workload_name) AS spent
           FROM gpu_requests r WHERE r.status = 'approved' ORDER BY r.created_at, r.id`,
        [now],
    );
    return rows.map((r) => ({ ...r, overBudget: r.over_budget }));
}
