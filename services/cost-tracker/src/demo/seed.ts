/**
 * --demo: a month of made-up but plausible spend for the config's teams, so the dashboard shows
 * every line on first start. Written through the same paths as real data, under sources named
 * after the real ones ("demo:gpu-allocation", "demo:opencost", "demo:cost-explorer", and
 * "demo:push" for AI APIs), each replaced per day, and real approvals: running the demo again the
 * same day changes nothing, and a real source's data sits beside it.
 *
 * Each team gets a daily run rate around its budget / 30 (the first at 80 %, the second at
 * 125 %, so its forecast passes the budget, the third at 65 % with yesterday at five times its
 * normal day), split 72 % GPU, 12 % CPU and memory, 5 % storage, 7 % AI APIs, 4 % other AWS,
 * lighter on weekends, with ±15 % noise from a fixed seed. Besides the teams:
 * - GPU spend is priced as gpu-allocation prices it: per GPU resource of the team's pool (whole
 *   GPUs, MIG slices at their compute fraction, time-sliced shares at 1/replicas), with raw
 *   unit-hours beside GPU-equivalent hours, under a workload (a Job a day, or the inference team's
 *   pipeline Deployment).
 * - Each pool ran whole node-hours with 15 % headroom over what was requested: the rest is the
 *   pool's idle line (gpu-allocation's own idleRecords).
 * - A namespace of no team ("sandbox") uses time-sliced shares on weekdays, and 10 % of storage
 *   and 3 % of other AWS spend is untagged: the unallocated line.
 */
import type { CostTrackerConfig, TrackerPool } from "@gpu-platform/catalog/contracts";
import { instanceType } from "@gpu-platform/catalog";
import { requestGpus } from "../approvals";
import type { Database } from "../db/database";
import type { Category, UsageRecord } from "../model";
import { cents, poolResources } from "../pricing";
import { addDays, daysBetween, utcDay } from "../rules";
import { idleRecords } from "../sources/gpu-allocation";
import { storePipelineInputs, type PipelineInputs } from "../sources/pipeline-inputs";
import { replaceSourceDays } from "../usage";

const SHARES: Partial<Record<Category, number>> = {
    gpu: 0.72,
    "cpu-memory": 0.12,
    storage: 0.05,
    "ai-api": 0.07,
    "other-aws": 0.04,
};
/** Which demo source a category comes from, as ownership.ts assigns the real ones. */
const SOURCE_OF: Record<Category, string> = {
    gpu: "demo:gpu-allocation",
    "cpu-memory": "demo:opencost",
    storage: "demo:opencost",
    network: "demo:opencost",
    "ai-api": "demo:push",
    "other-aws": "demo:cost-explorer",
    "credits-tax": "demo:cost-explorer",
};
export const DEMO_SOURCES = [...new Set(Object.values(SOURCE_OF))].sort();
const RUN_RATES = [0.8, 1.25, 0.65];
const DAYS = 30;
/** Node-hours a pool runs over the GPU-hours its pods requested: scale-down delay and bin-packing slack. */
const NODE_HEADROOM = 1.15;
const UNALLOCATED_STORAGE_SHARE = 0.1;
const UNTAGGED_AWS_SHARE = 0.03;
/** The sandbox namespace's weekday use of a time-sliced pool: units × hours. */
const SANDBOX_UNIT_HOURS = 2 * 6;

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32). */
function random(seed: number): () => number {
    let a = seed >>> 0;
    return () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

/** A demo record with the source it belongs to. */
export interface DemoRecord extends UsageRecord {
    readonly source: string;
}

export function demoUsage(config: CostTrackerConfig, now: Date): { days: string[]; records: DemoRecord[] } {
    const today = utcDay(now);
    const days = daysBetween(addDays(today, -(DAYS - 1)), today);
    const todayFraction = (now.getTime() - Date.parse(`${today}T00:00:00Z`)) / 86_400_000;
    const next = random(20261123);
    const records: DemoRecord[] = [];
    config.teams.forEach((team, i) => {
        const rate = RUN_RATES[i % RUN_RATES.length];
        const pool = homePool(config, i);
        for (const day of days) {
            const weekday = new Date(`${day}T00:00:00Z`).getUTCDay();
            const weekend = weekday === 0 || weekday === 6 ? 0.6 : 1;
            // Five times a normal weekday, whatever day yesterday was: well past the anomaly rule's 3× the median, noise included.
            const shape = i === 2 && day === addDays(today, -1) ? 5 : weekend;
            const partial = day === today ? todayFraction : 1;
            const dayUsd = (team.monthlyBudgetUsd / 30) * rate * shape * partial;
            for (const [category, share] of Object.entries(SHARES) as [Category, number][]) {
                const amountUsd = cents(dayUsd * share * (0.85 + 0.3 * next()));
                const base = { source: SOURCE_OF[category], day, team: team.name, category, detail: "demo" };
                if (category === "gpu" && pool)
                    records.push(...gpuRecords({ ...base, amountUsd }, pool, demoWorkload(team.name, i, day)));
                else records.push({ ...base, amountUsd });
            }
        }
    });
    records.push(...unallocatedRecords(config, days, records, todayFraction, today));
    for (const day of days) records.push(...demoIdle(config, day, records));
    return { days, records };
}

/** A team's GPU dollars on its pool, split over the pool's resources by their share of its capacity, priced as gpu-allocation prices them. */
function gpuRecords(base: DemoRecord, pool: TrackerPool, workload: string): DemoRecord[] {
    const resources = poolResources(pool);
    const capacity = resources.reduce((sum, r) => sum + r.maxUnits * r.fractionOfGpu, 0);
    return resources.map((r) => {
        const amountUsd = cents((base.amountUsd * r.maxUnits * r.fractionOfGpu) / capacity);
        const resourceHours = Math.round((amountUsd / r.usdPerUnitHour) * 10_000) / 10_000;
        return {
            ...base,
            amountUsd,
            pool: pool.name,
            gpuResource: r.gpuResource,
            resourceHours,
            gpuHours: Math.round(resourceHours * r.fractionOfGpu * 10_000) / 10_000,
            workload,
        };
    });
}

/** The first team's training runs a Job a day, the second runs its inference pipeline's worker, the others a Job a day. */
function demoWorkload(team: string, index: number, day: string): string {
    return index === 1 ? `${team}/deployment/document-scanner` : `${team}/job/train-${day.replace(/-/g, "")}`;
}

/** Spend no team owns: the sandbox namespace's GPU shares, untagged storage and untagged AWS spend. */
function unallocatedRecords(
    config: CostTrackerConfig,
    days: readonly string[],
    teamRecords: readonly DemoRecord[],
    todayFraction: number,
    today: string,
): DemoRecord[] {
    const records: DemoRecord[] = [];
    const shared = config.pools.find((p) => p.gpuSharing.mode === "time-slicing") ?? config.pools[0];
    for (const day of days) {
        const partial = day === today ? todayFraction : 1;
        const base = { day, team: "", line: "unallocated" as const, detail: "demo: no team" };
        const weekday = ![0, 6].includes(new Date(`${day}T00:00:00Z`).getUTCDay());
        if (shared && weekday) {
            const r = poolResources(shared)[0];
            const unitHours = SANDBOX_UNIT_HOURS * partial;
            records.push({
                ...base,
                source: SOURCE_OF.gpu,
                category: "gpu",
                amountUsd: cents(unitHours * r.usdPerUnitHour),
                pool: shared.name,
                gpuResource: r.gpuResource,
                resourceHours: Math.round(unitHours * 10_000) / 10_000,
                gpuHours: Math.round(unitHours * r.fractionOfGpu * 10_000) / 10_000,
                workload: "sandbox/job/notebook-tests",
            });
        }
        const ofDay = (category: Category) =>
            teamRecords.filter((r) => r.day === day && r.category === category).reduce((s, r) => s + r.amountUsd, 0);
        const dayTotal = teamRecords.filter((r) => r.day === day).reduce((s, r) => s + r.amountUsd, 0);
        records.push(
            {
                ...base,
                source: SOURCE_OF.storage,
                category: "storage",
                amountUsd: cents(ofDay("storage") * UNALLOCATED_STORAGE_SHARE),
            },
            {
                ...base,
                source: SOURCE_OF["other-aws"],
                category: "other-aws",
                amountUsd: cents(dayTotal * UNTAGGED_AWS_SHARE),
            },
        );
    }
    return records.filter((r) => r.amountUsd > 0);
}

/** Each pool's node-hours that day (whole hours, with headroom over what was requested), less what was requested: its idle line. */
function demoIdle(config: CostTrackerConfig, day: string, records: readonly DemoRecord[]): DemoRecord[] {
    const allocated = records.filter((r) => r.day === day && r.category === "gpu");
    const nodeHours = new Map<string, { usd: number; gpuHours: number }>();
    for (const pool of config.pools) {
        const type = instanceType(pool.instanceType);
        const gpus = type.gpu?.count ?? 0;
        const requested = allocated.filter((r) => r.pool === pool.name).reduce((s, r) => s + (r.gpuHours ?? 0), 0);
        if (requested === 0 || gpus === 0) continue;
        const hours = Math.ceil((requested / gpus) * NODE_HEADROOM);
        nodeHours.set(pool.name, { usd: hours * type.onDemandUsdPerHour, gpuHours: hours * gpus });
    }
    return idleRecords(day, nodeHours, allocated, config.sources.gpuIdle ?? "pool").map((r) => ({
        ...r,
        source: SOURCE_OF.gpu,
        amountUsd: cents(r.amountUsd),
        gpuHours: Math.round((r.gpuHours ?? 0) * 10_000) / 10_000,
    }));
}

/**
 * Inputs each configured pipeline completed: one per $0.04–$0.06 of its workers' GPU spend that
 * day, from a fixed seed, so its cost per input lands near a plausible nickel per scan.
 */
export function demoPipelineInputs(
    config: CostTrackerConfig,
    days: readonly string[],
    records: readonly DemoRecord[],
): PipelineInputs[] {
    const next = random(20261207);
    return (config.sources.pipelineInputs?.pipelines ?? []).flatMap((p) =>
        days.map((day) => {
            const worker = `${p.namespace}/deployment/${p.worker}`;
            const gpuUsd = records
                .filter((r) => r.day === day && r.team === p.team && r.workload === worker)
                .reduce((s, r) => s + r.amountUsd, 0);
            return {
                pipeline: p.name,
                queueName: p.queueName,
                day,
                inputs: Math.round(gpuUsd / (0.04 + 0.02 * next())),
            };
        }),
    );
}

/** The pool a team's demo GPUs run on: teams take the pools from the last one back, so the first team gets the biggest GPUs of the prod stack. */
function homePool(config: CostTrackerConfig, teamIndex: number) {
    const n = config.pools.length;
    return n ? config.pools[n - 1 - (teamIndex % n)] : undefined;
}

/** Seeds the demo's usage and, per team, an approved notebook and a rejected month-long ask the size of the whole budget. */
export async function seedDemo(db: Database, config: CostTrackerConfig, now: Date): Promise<void> {
    const { days, records } = demoUsage(config, now);
    // A DemoRecord is a UsageRecord with its source beside it; the store reads the record's own fields.
    for (const source of DEMO_SOURCES)
        await replaceSourceDays(
            db,
            source,
            days,
            records.filter((r) => r.source === source),
            now,
        );
    await storePipelineInputs(db, demoPipelineInputs(config, days, records), now);
    const today = utcDay(now);
    const cls = (name: string) => (config.priorityClasses.includes(name) ? name : config.priorityClasses[0]);
    for (const [n, team] of config.teams.entries()) {
        const pool = homePool(config, n);
        if (!pool) continue;
        const resource = poolResources(pool)[0];
        const bigHours = Math.min(
            744,
            Math.ceil(team.monthlyBudgetUsd / (resource.usdPerUnitHour * resource.maxUnits)),
        );
        const asks = [
            { gpus: 1, hours: 8, priorityClass: cls("development"), purpose: "notebook for feature exploration" },
            {
                gpus: resource.maxUnits,
                hours: bigHours,
                priorityClass: cls("training"),
                purpose: "full-pool fine-tuning sweep",
            },
        ];
        for (const [k, ask] of asks.entries()) {
            const input = {
                team: team.name,
                pool: pool.name,
                gpuResource: resource.gpuResource,
                requester: `demo-user-${n + 1}@example.com`,
                ...ask,
            };
            // As the portal would ask for a signed-in member of the team.
            await requestGpus(db, config, input, `demo-${today}-${team.name}-${k}`, now, {
                identity: `user:default/demo-user-${n + 1} via portal`,
                mayExceedBudget: false,
            });
        }
    }
}
