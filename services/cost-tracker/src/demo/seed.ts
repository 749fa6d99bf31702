/**
 * --demo: a month of made-up but plausible spend for the config's teams, so the dashboard shows
 * something real on first start. Written through the same paths as real data (a source named
 * "demo", replaced per day, and real approvals), so running the demo again the same day changes
 * nothing and a real source's data sits beside it.
 *
 * Each team gets a daily run rate around its budget / 30 (the first at 80 %, the second at
 * 125 %, so its forecast passes the budget, the third at 65 % with yesterday at five times its
 * normal day), split 72 % GPU, 12 % CPU and memory, 5 % storage, 7 % AI APIs, 4 % other AWS,
 * lighter on weekends, with ±15 % noise from a fixed seed.
 */
import type { CostTrackerConfig } from "../../../../components/costs/tracker-config";
import { requestGpus } from "../approvals";
import type { Database } from "../db/database";
import type { Category, UsageRecord } from "../model";
import { poolResources } from "../pricing";
import { addDays, daysBetween, utcDay } from "../rules";
import { replaceSourceDays } from "../usage";

const SHARES: Partial<Record<Category, number>> = {
    gpu: 0.72,
    "cpu-memory": 0.12,
    storage: 0.05,
    "ai-api": 0.07,
    "other-aws": 0.04,
};
const RUN_RATES = [0.8, 1.25, 0.65];
const DAYS = 30;

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

export function demoUsage(config: CostTrackerConfig, now: Date): { days: string[]; records: UsageRecord[] } {
    const today = utcDay(now);
    const days = daysBetween(addDays(today, -(DAYS - 1)), today);
    const todayFraction = (now.getTime() - Date.parse(`${today}T00:00:00Z`)) / 86_400_000;
    const next = random(20261123);
    const records: UsageRecord[] = [];
    config.teams.forEach((team, i) => {
        const rate = RUN_RATES[i % RUN_RATES.length];
        const pool = homePool(config, i);
        const gpuPrice = pool ? poolResources(pool)[0].usdPerUnitHour / poolResources(pool)[0].fractionOfGpu : 0;
        for (const day of days) {
            const weekday = new Date(`${day}T00:00:00Z`).getUTCDay();
            const weekend = weekday === 0 || weekday === 6 ? 0.6 : 1;
            // Five times a normal weekday, whatever day yesterday was: well past the anomaly rule's 3× the median, noise included.
            const shape = i === 2 && day === addDays(today, -1) ? 5 : weekend;
            const partial = day === today ? todayFraction : 1;
            const dayUsd = (team.monthlyBudgetUsd / 30) * rate * shape * partial;
            for (const [category, share] of Object.entries(SHARES) as [Category, number][]) {
                const amountUsd = Math.round(dayUsd * share * (0.85 + 0.3 * next()) * 100) / 100;
                if (category === "gpu" && pool) {
                    records.push({
                        day,
                        team: team.name,
                        category,
                        amountUsd,
                        pool: pool.name,
                        gpuHours: Math.round((amountUsd / gpuPrice) * 100) / 100,
                        detail: "demo",
                    });
                } else {
                    records.push({ day, team: team.name, category, amountUsd, detail: "demo" });
                }
            }
        }
    });
    return { days, records };
}

/** The pool a team's demo GPUs run on: teams take the pools from the last one back, so the first team gets the biggest GPUs of the prod stack. */
function homePool(config: CostTrackerConfig, teamIndex: number) {
    const n = config.pools.length;
    return n ? config.pools[n - 1 - (teamIndex % n)] : undefined;
}

/** Seeds the demo's usage and, per team, an approved notebook and a rejected month-long ask the size of the whole budget. */
export async function seedDemo(db: Database, config: CostTrackerConfig, now: Date): Promise<void> {
    const { days, records } = demoUsage(config, now);
    await replaceSourceDays(db, "demo", days, records, now);
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
