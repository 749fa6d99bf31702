/**
 * Writing spend, called directly on the embedded database: a pushed record replacing the earlier
 * one of its natural key (pool and GPU resource included), records of one key in a batch adding
 * up their GPU hours, a day's total at the edge of what its column holds, a pull source's days
 * in more than one insert, and the events a change of spend puts on the feed (a team whose
 * money went down, a reservation replaced by its workload's spend, a reservation that expired).
 *
 * Price from catalog/instances.ts: p5.48xlarge $55.04/h for 8 GPUs → $6.88 per GPU-hour.
 */
import * as assert from "assert";
import { requestGpus } from "../src/approvals";
import type { Database } from "../src/db/database";
import { eventsAfter } from "../src/events";
import type { UsageRecord } from "../src/model";
import { gpuHoursByPool, teamDailySpend } from "../src/spend";
import { expireReservations, naturalKey, replaceSourceDays, upsertPushedUsage } from "../src/usage";
import { resetDatabase, testConfig, testDatabase } from "./helpers";

const NOW = new Date("2026-11-20T12:00:00Z");
const DAY = "2026-11-20";
const config = testConfig();

describe("cost tracker: writing spend (embedded PGlite)", () => {
    let db: Database;
    let keys = 0;
    const push = (records: UsageRecord[], source = "push:gateway") =>
        db.transaction((tx) => upsertPushedUsage(tx, source, records, NOW));
    const events = async () => (await eventsAfter(db, "0")).events.map((e) => `${e.team} ${e.kind}`);
    const gpuOf = async (team: string) => (await teamDailySpend(db, team, DAY, DAY)).days[0].byCategory.gpu;
    const h100Hours = async () => (await gpuHoursByPool(db, DAY, DAY)).find((p) => p.pool === "h100")?.gpuHours;

    before(async () => {
        db = await testDatabase();
    });
    beforeEach(() => resetDatabase(db, config));

    it("replaces a pushed record of the same pool and GPU resource, and keeps those of another", async () => {
        const gpu = { day: DAY, team: "applied-ml", category: "gpu" as const };
        await push([
            { ...gpu, amountUsd: 100, pool: "h100", gpuResource: "nvidia.com/gpu" },
            { ...gpu, amountUsd: 40, pool: "a100-mig", gpuResource: "nvidia.com/mig-3g.40gb" },
            { ...gpu, amountUsd: 7, pool: "a100-mig", gpuResource: "nvidia.com/mig-1g.10gb" },
        ]);
        // The same h100 and 3g.40gb facts sent again: 60 and 30 replace 100 and 40; the 1g.10gb $7 stays. 60 + 30 + 7 = 97.
        await push([
            { ...gpu, amountUsd: 60, pool: "h100", gpuResource: "nvidia.com/gpu" },
            { ...gpu, amountUsd: 30, pool: "a100-mig", gpuResource: "nvidia.com/mig-3g.40gb" },
        ]);
        assert.strictEqual(await gpuOf("applied-ml"), 97);
    });

    it("adds up the GPU hours of a batch's records of one key, however many of them carry hours", async () => {
        const gpu = { day: DAY, team: "applied-ml", category: "gpu" as const, amountUsd: 1, pool: "h100" };
        await push([
            { ...gpu, workload: "applied-ml/job/a", gpuHours: 2 },
            { ...gpu, workload: "applied-ml/job/a" },
            { ...gpu, workload: "applied-ml/job/b" },
            { ...gpu, workload: "applied-ml/job/b", gpuHours: 3 },
            { ...gpu, workload: "applied-ml/job/c", gpuHours: 2 },
            { ...gpu, workload: "applied-ml/job/c", gpuHours: 3 },
        ]);
        // a: 2 + none = 2; b: none + 3 = 3; c: 2 + 3 = 5. 10 GPU-hours; $6 of spend.
        assert.deepStrictEqual([await h100Hours(), await gpuOf("applied-ml")], [10, 6]);
    });

    it("keys a record by its day, line, team, category, workload, pool and resource; no line is the team line", () => {
        const r: UsageRecord = { day: DAY, team: "applied-ml", category: "gpu", amountUsd: 1 };
        assert.strictEqual(naturalKey(r), naturalKey({ ...r, line: "team", amountUsd: 2 }));
        const keys = [
            r,
            { ...r, line: "idle" as const },
            { ...r, workload: "applied-ml/job/a" },
            { ...r, workload: "applied-ml/job/b" },
            { ...r, pool: "h100" },
            { ...r, pool: "a100-mig" },
            { ...r, pool: "a100-mig", gpuResource: "nvidia.com/mig-3g.40gb" },
            { ...r, pool: "a100-mig", gpuResource: "nvidia.com/mig-1g.10gb" },
        ].map(naturalKey);
        assert.strictEqual(new Set(keys).size, 8);
        assert.deepStrictEqual(JSON.parse(naturalKey(r)), [DAY, "team", "applied-ml", "gpu", "", "", ""]);
    });

    it("takes a day's total up to exactly what its column holds, and refuses a cent or an hour more, naming the record", async () => {
        const gpu = { day: DAY, team: "applied-ml", category: "gpu" as const };
        // numeric(16, 6) holds 9,999,999,999.99 and more; the service's limit is that figure, taken whole.
        await push([{ ...gpu, amountUsd: 9_999_999_999.99, gpuHours: 9_999_999_999.99, pool: "h100" }]);
        await assert.rejects(push([{ ...gpu, amountUsd: 1, pool: "h100", workload: "applied-ml/job/x" }]), {
            name: "BadInput",
            message:
                "records[0].amountUsd: takes applied-ml's gpu total on 2026-11-20 to 10000000000.99, more than a day's total can hold (9999999999.99)",
        });
        await assert.rejects(
            push([{ ...gpu, amountUsd: 0, gpuHours: 1, pool: "h100", workload: "applied-ml/job/x" }]),
            {
                name: "BadInput",
                message:
                    "records[0].gpuHours: takes applied-ml's gpu total on 2026-11-20 to 10000000000.99, more than a day's total can hold (9999999999.99)",
            },
        );
    });

    it("stores a pull source's day of more records than one insert takes, each once", async () => {
        // 5,001 records of $1, one more than an insert's chunk of 5,000: $5,001.
        const records: UsageRecord[] = Array.from({ length: 5001 }, (_, i) => ({
            day: DAY,
            team: "inference",
            category: "gpu",
            amountUsd: 1,
            workload: `inference/pod/p-${i}`,
        }));
        await replaceSourceDays(db, "gpu-allocation", [DAY], records, NOW);
        assert.strictEqual(await gpuOf("inference"), 5001);
    });

    it("puts spend-replaced on the feed for a team whose spend went down, not for one whose stayed", async () => {
        const day = (applied: number) => [
            { day: DAY, team: "applied-ml", category: "cpu-memory" as const, amountUsd: applied },
            { day: DAY, team: "inference", category: "cpu-memory" as const, amountUsd: 50 },
        ];
        await replaceSourceDays(db, "opencost", [DAY], day(100), NOW);
        assert.deepStrictEqual(await events(), []);
        await replaceSourceDays(db, "opencost", [DAY], day(60), NOW);
        assert.deepStrictEqual(await events(), ["applied-ml spend-replaced"]);
    });

    it("puts spend-replaced on the feed when a workload's spend replaces its whole reservation, not a part of it", async () => {
        // 1 GPU × 10 h × $6.88 = $68.80 reserved for applied-ml/job/train-3.
        const decision = await requestGpus(
            db,
            config,
            {
                team: "applied-ml",
                pool: "h100",
                gpus: 1,
                hours: 10,
                priorityClass: "training",
                requester: "ada@example.com",
                workload: { namespace: "applied-ml", kind: "Job", name: "train-3" },
            },
            `usage-${++keys}`,
            NOW,
            { identity: "ada@example.com", mayExceedBudget: false },
        );
        assert.strictEqual(decision.statusCode, 201);
        const spent = (amountUsd: number) =>
            replaceSourceDays(
                db,
                "gpu-allocation",
                [DAY],
                [{ day: DAY, team: "applied-ml", category: "gpu", amountUsd, workload: "applied-ml/job/train-3" }],
                NOW,
            );
        // $30 of it spent: the reservation holds $38.80 more, the team holds $68.80 as before; nothing freed.
        await spent(30);
        assert.deepStrictEqual(await events(), []);
        // $68.80 spent: the reservation is replaced by spend; the team holds $68.80 still, but a reservation ended.
        await spent(68.8);
        assert.deepStrictEqual(await events(), ["applied-ml spend-replaced"]);
    });

    it("expires reservations past their expiry once, with an event for their team", async () => {
        await requestGpus(
            db,
            config,
            {
                team: "inference",
                pool: "h100",
                gpus: 1,
                hours: 10,
                priorityClass: "training",
                requester: "ada@example.com",
            },
            `usage-${++keys}`,
            NOW,
            { identity: "ada@example.com", mayExceedBudget: false },
        );
        // 10 h + 2 h of grace from noon: expires at midnight. Not yet at 23:59, then once.
        assert.strictEqual(await expireReservations(db, new Date("2026-11-20T23:59:00Z")), 0);
        assert.strictEqual(await expireReservations(db, new Date("2026-11-21T00:00:00Z")), 1);
        assert.strictEqual(await expireReservations(db, new Date("2026-11-21T01:00:00Z")), 0);
        assert.deepStrictEqual(await events(), ["inference expired"]);
    });
});
