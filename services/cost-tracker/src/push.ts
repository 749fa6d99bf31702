/**
 * A pushed usage batch turned into records, every rule checked before anything is written: one
 * line per problem naming the field, the first found answered as a 400.
 *
 * - `source` names the pusher (default "default"); its records are stored as `push:<source>`.
 *   A record replaces the earlier one of its natural key from the same source: send the day's
 *   total so far, not an increment.
 * - Records of one natural key within a batch are added up into that key's total.
 * - A record may not claim a category a pulled source owns (see ownership.ts).
 * - GPU hours: `resourceHours` of a pool's `gpuResource` (its units: a MIG slice, a share) become
 *   GPU-equivalent hours at the unit's fraction of a GPU; `gpuHours` is GPU-equivalent hours and
 *   is refused on a pool whose units are not whole GPUs.
 */
import type { CostTrackerConfig } from "@gpu-platform/catalog/contracts";
import { BadInput, workloadKey, type Category, type UsageRecord, type WorkloadRef } from "./model";
import { ownerOfPushed, pulledOwners } from "./ownership";
import { poolResources } from "./pricing";
import { utcDay } from "./rules";
import { PUSH_SOURCE_PREFIX } from "./usage";

export interface PushedRecord {
    team: string;
    category: Category;
    amountUsd: number;
    occurredAt: string;
    pool?: string;
    gpuHours?: number;
    gpuResource?: string;
    resourceHours?: number;
    workload?: WorkloadRef;
    description?: string;
}

export interface PushedBatch {
    source?: string;
    records: PushedRecord[];
}

/** Spend from more than an hour ahead or more than 400 days back is a client's clock or a bug, not usage. */
const FUTURE_SLACK_MS = 3_600_000;
const OLDEST_DAYS = 400;

export function pushedRecords(
    batch: PushedBatch,
    config: CostTrackerConfig,
    now: Date,
): { source: string; records: UsageRecord[] } {
    const owners = pulledOwners(config);
    const records = batch.records.map((r, i) => {
        const record = toUsageRecord(r, `records[${i}]`, config, now);
        const owner = ownerOfPushed(owners, r.category, r.workload !== undefined);
        if (owner) {
            const whose = r.workload ? `of workload ${record.workload}` : "of the account";
            throw new BadInput(
                `records[${i}].category`,
                `${r.category} spend ${whose} is owned by ${owner.source} (${owner.description}); pushed usage may not claim it`,
            );
        }
        return record;
    });
    return { source: `${PUSH_SOURCE_PREFIX}${batch.source ?? "default"}`, records };
}

function toUsageRecord(r: PushedRecord, field: string, config: CostTrackerConfig, now: Date): UsageRecord {
    const at = Date.parse(r.occurredAt);
    if (at > now.getTime() + FUTURE_SLACK_MS)
        throw new BadInput(`${field}.occurredAt`, `${r.occurredAt} is in the future`);
    if (at < now.getTime() - OLDEST_DAYS * 86_400_000)
        throw new BadInput(`${field}.occurredAt`, `${r.occurredAt} is more than ${OLDEST_DAYS} days ago`);
    return {
        day: utcDay(new Date(at)),
        team: r.team,
        category: r.category,
        amountUsd: r.amountUsd,
        pool: r.pool,
        ...gpuUnits(r, field, config),
        workload: r.workload && workloadKey(r.workload),
        detail: r.description,
    };
}

/** GPU-equivalent hours and the raw unit-hours of a pushed record. */
function gpuUnits(
    r: PushedRecord,
    field: string,
    config: CostTrackerConfig,
): { gpuHours?: number; gpuResource?: string; resourceHours?: number } {
    const gpuFields = r.gpuHours !== undefined || r.resourceHours !== undefined || r.gpuResource !== undefined;
    if (!gpuFields) return {};
    if (r.category !== "gpu")
        throw new BadInput(`${field}.category`, `is ${r.category}; GPU hours and resources go with category gpu`);
    if (r.gpuHours !== undefined && r.resourceHours !== undefined)
        throw new BadInput(
            `${field}.gpuHours`,
            "send gpuHours (GPU-equivalent) or resourceHours (unit-hours), not both",
        );
    const pool = r.pool === undefined ? undefined : config.pools.find((p) => p.name === r.pool);
    if (r.resourceHours === undefined && r.gpuResource !== undefined)
        throw new BadInput(`${field}.resourceHours`, "is required with gpuResource: the hours of its units");
    if (r.resourceHours !== undefined) {
        if (!pool) throw new BadInput(`${field}.pool`, "is required with resourceHours: the pool prices its units");
        const offered = poolResources(pool);
        const names = offered.map((o) => o.gpuResource).join(", ");
        const resource =
            r.gpuResource === undefined
                ? offered.length === 1
                    ? offered[0]
                    : undefined
                : offered.find((o) => o.gpuResource === r.gpuResource);
        if (!resource)
            throw new BadInput(
                `${field}.gpuResource`,
                r.gpuResource === undefined
                    ? `is required for pool ${pool.name}, which offers ${names}`
                    : `pool ${pool.name} offers ${names} (found "${r.gpuResource}")`,
            );
        return {
            gpuResource: resource.gpuResource,
            resourceHours: r.resourceHours,
            gpuHours: r.resourceHours * resource.fractionOfGpu,
        };
    }
    const fractional = pool && poolResources(pool).find((o) => o.fractionOfGpu !== 1);
    if (pool && fractional)
        throw new BadInput(
            `${field}.gpuHours`,
            `pool ${pool.name}'s units (${fractional.gpuResource}) are not whole GPUs; send gpuResource and resourceHours, and the service counts GPU-equivalent hours`,
        );
    // Whole GPUs: their unit-hours are GPU hours.
    return pool
        ? { gpuHours: r.gpuHours, gpuResource: poolResources(pool)[0].gpuResource, resourceHours: r.gpuHours }
        : { gpuHours: r.gpuHours };
}
