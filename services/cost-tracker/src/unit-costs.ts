/**
 * Unit economics for a month: what each inference pipeline spent per input it completed, and what
 * each batch Job cost.
 *
 * - A pipeline's spend: every counted usage record of its team for its workers, whatever the
 *   category (GPU from gpu-allocation, CPU, memory, storage and network from OpenCost): the
 *   Deployment `<namespace>/deployment/<worker>` a ScaledObject scales, or the Jobs
 *   `<namespace>/job/<worker>-<suffix>` a ScaledJob starts. Its inputs: the month's sum of its
 *   queue's deleted messages (sources/pipeline-inputs.ts). Cost per input is null with no input.
 * - A Job's cost: its team's records whose workload is `<namespace>/job/<name>` (gpu-allocation
 *   names a pod's owning Job from kube-state-metrics' kube_pod_owner; a Kueue workload is a Job's
 *   admission, so its Job's name is its key). Jobs a pipeline started count towards the pipeline's
 *   cost per input, not here. Idle capacity is no Job's: only the team line counts.
 */
import type { TrackerPipeline } from "@gpu-platform/catalog/contracts";
import type { CategoryAmounts } from "./api-types";
import type { Queryable } from "./db/database";
import { CATEGORIES, type Category } from "./model";
import { cents } from "./pricing";

export interface PipelineUnitCost {
    pipeline: string;
    team: string;
    inputs: number;
    byCategory: CategoryAmounts;
    totalUsd: number;
    /** totalUsd / inputs to a millionth of a dollar; null when the pipeline completed no input. */
    usdPerInput: number | null;
}

export interface JobCost {
    team: string;
    /** "<namespace>/job/<name>" */
    workload: string;
    byCategory: CategoryAmounts;
    totalUsd: number;
    /** GPU-equivalent hours. */
    gpuHours: number;
}

/** The SQL condition matching a pipeline's workers, with its parameters from `$from`. */
function workerMatch(p: TrackerPipeline, from: number): { sql: string; params: string[] } {
    return {
        sql: `(team = $${from} AND (workload = $${from + 1} OR workload LIKE $${from + 2}))`,
        // Kubernetes names hold no "%" or "_", so the prefix needs no escaping.
        params: [p.team, `${p.namespace}/deployment/${p.worker}`, `${p.namespace}/job/${p.worker}-%`],
    };
}

export async function pipelineUnitCosts(
    q: Queryable,
    start: string,
    next: string,
    pipelines: readonly TrackerPipeline[],
): Promise<PipelineUnitCost[]> {
    const costs: PipelineUnitCost[] = [];
    for (const p of pipelines) {
        const match = workerMatch(p, 3);
        const [spend, inputs] = await Promise.all([
            q.query<{ category: Category; usd: number }>(
                `SELECT category, sum(amount_usd) AS usd FROM counted_usage
                  WHERE day >= $1 AND day < $2 AND line = 'team' AND ${match.sql} GROUP BY category`,
                [start, next, ...match.params],
            ),
            q.query<{ inputs: number | null }>(
                "SELECT sum(inputs) AS inputs FROM pipeline_inputs WHERE pipeline = $1 AND day >= $2 AND day < $3",
                [p.name, start, next],
            ),
        ]);
        const total = spend.rows.reduce((s, r) => s + Number(r.usd), 0);
        const count = Number(inputs.rows[0]?.inputs ?? 0);
        costs.push({
            pipeline: p.name,
            team: p.team,
            inputs: count,
            byCategory: amountsOf(spend.rows),
            totalUsd: cents(total),
            usdPerInput: count > 0 ? Math.round((total / count) * 1e6) / 1e6 : null,
        });
    }
    return costs;
}

/** Every Job that spent in the month, costliest first (ties by name), leaving out the pipelines' Jobs. */
export async function jobCosts(
    q: Queryable,
    start: string,
    next: string,
    pipelines: readonly TrackerPipeline[],
): Promise<JobCost[]> {
    const notPipelines = pipelines.map((p, i) => `NOT ${workerMatch(p, 3 + 3 * i).sql}`);
    const { rows } = await q.query<{ team: string; workload: string; category: Category; usd: number; hours: number }>(
        `SELECT team, workload, category, sum(amount_usd) AS usd, sum(gpu_hours) AS hours FROM counted_usage
          WHERE day >= $1 AND day < $2 AND line = 'team' AND workload LIKE '%/job/%'
                ${notPipelines.map((c) => `AND ${c}`).join(" ")}
          GROUP BY team, workload, category`,
        [start, next, ...pipelines.flatMap((p) => workerMatch(p, 0).params)],
    );
    const byJob = new Map<string, typeof rows>();
    for (const r of rows)
        byJob.set(`${r.team}\u0000${r.workload}`, [...(byJob.get(`${r.team}\u0000${r.workload}`) ?? []), r]);
    return [...byJob.values()]
        .map((jobRows) => ({
            team: jobRows[0].team,
            workload: jobRows[0].workload,
            byCategory: amountsOf(jobRows),
            totalUsd: cents(jobRows.reduce((s, r) => s + Number(r.usd), 0)),
            gpuHours: Math.round(jobRows.reduce((s, r) => s + Number(r.hours), 0) * 100) / 100,
        }))
        .sort((a, b) => b.totalUsd - a.totalUsd || a.workload.localeCompare(b.workload));
}

function amountsOf(rows: readonly { category: Category; usd: number }[]): CategoryAmounts {
    const amounts = Object.fromEntries(CATEGORIES.map((c) => [c, 0])) as CategoryAmounts;
    for (const r of rows) amounts[r.category] += Number(r.usd);
    for (const c of CATEGORIES) amounts[c] = cents(amounts[c]);
    return amounts;
}
