/**
 * What a Workload will cost, priced as the cost tracker prices a GPU request (its
 * `poolResources`: the catalog's on-demand price per GPU unit), so the gate's estimate and the
 * tracker's are one figure: units × the unit's hourly price × hours.
 *
 * - Units: each pod set's GPU resource usage in Kueue's admission (count × per-pod request),
 *   in the flavor (pool) Kueue assigned it: a whole GPU, a time-sliced share (1/replicas of a
 *   GPU) or a MIG slice (its compute fraction).
 * - Hours: the Workload's maximum execution time (Kueue's `spec.maximumExecutionTimeSeconds`,
 *   from the job's `kueue.x-k8s.io/max-exec-time-seconds` label); else, for a workload that
 *   serves until stopped (a Deployment, StatefulSet, RayCluster or RayService, or pods that
 *   restart always), until the end of the budget month (it renews on the 1st); else the
 *   priority class's default run time from the stack config.
 */
import { cents, poolResources } from "@gpu-platform/cost-tracker/src/pricing";
import type { BudgetGateConfig } from "@gpu-platform/catalog/contracts";
import { Workload, priorityClassOf } from "./workload";

const GPU_RESOURCE = /^nvidia\.com\/(gpu|gpu\.shared|mig-.+)$/;

/** Owners that serve until stopped. */
const OPEN_ENDED_KINDS = new Set([
    "Deployment",
    "StatefulSet",
    "ReplicaSet",
    "RayCluster",
    "RayService",
    "LeaderWorkerSet",
]);

/** What the workload is, as the reservation names it: its top owner (a Job, a Deployment, ...). */
export interface WorkloadIdentity {
    readonly namespace: string;
    readonly kind: string;
    readonly name: string;
    /** The UID the reservation is bound to: the owning job's, or the Workload's own without one. */
    readonly uid: string;
}

export type Pricing =
    | { readonly kind: "free" }
    | { readonly kind: "unpriceable"; readonly message: string }
    | {
          readonly kind: "priced";
          readonly team: string;
          readonly pool: string;
          readonly gpuResource: string;
          readonly units: number;
          readonly hours: number;
          readonly priorityClass: string;
          readonly critical: boolean;
          readonly openEnded: boolean;
          readonly usdPerUnitHour: number;
          readonly estimatedCostUsd: number;
      };

/** The first instant of the next UTC month: a budget month ends there. */
export function nextMonthStart(now: Date): Date {
    return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
}

/** The first instant of `now`'s UTC month: a budget month starts there. */
export const monthStart = (now: Date) => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));

/** `YYYY-MM` of a UTC instant. */
export const monthOf = (now: Date) => now.toISOString().slice(0, 7);

/** Hours, rounded up to the hundredth (36 s), at least that: the tracker takes hours above 0. */
const roundHoursUp = (hours: number) => Math.max(0.01, Math.ceil(hours * 100 - 1e-9) / 100);

/** GPU units per (pool, resource) across the pod sets Kueue admitted. */
function gpuUsage(w: Workload): Map<string, { pool: string; resource: string; units: number }> {
    const usage = new Map<string, { pool: string; resource: string; units: number }>();
    for (const assignment of w.status?.admission?.podSetAssignments ?? []) {
        for (const [resource, quantity] of Object.entries(assignment.resourceUsage ?? {})) {
            const units = Number(quantity);
            if (!GPU_RESOURCE.test(resource) || !(units > 0)) continue;
            const pool = assignment.flavors?.[resource] ?? "";
            const key = `${pool} ${resource}`;
            usage.set(key, { pool, resource, units: (usage.get(key)?.units ?? 0) + units });
        }
    }
    return usage;
}

export function isOpenEnded(w: Workload, identity: Pick<WorkloadIdentity, "kind">): boolean {
    if (OPEN_ENDED_KINDS.has(identity.kind)) return true;
    // A bare pod (or pod group) that restarts always serves until stopped; Kubernetes' default restart policy is Always.
    return (
        identity.kind === "Pod" && w.spec.podSets.every((p) => (p.template.spec.restartPolicy ?? "Always") === "Always")
    );
}

/** The hours to price: maximum execution time, else to the month's end for open-ended workloads, else the class default. */
function runHours(w: Workload, openEnded: boolean, classHours: number, now: Date): number {
    const max = w.spec.maximumExecutionTimeSeconds;
    if (max !== undefined && max > 0) return roundHoursUp(max / 3600);
    if (openEnded) return roundHoursUp((nextMonthStart(now).getTime() - now.getTime()) / 3_600_000);
    return roundHoursUp(classHours);
}

export function priceWorkload(w: Workload, identity: WorkloadIdentity, config: BudgetGateConfig, now: Date): Pricing {
    const usage = [...gpuUsage(w).values()];
    if (usage.length === 0) return { kind: "free" };
    if (usage.length > 1)
        return {
            kind: "unpriceable",
            message: `uses ${usage.map((u) => `${u.resource} on ${u.pool}`).join(" and ")}; the budget gate reserves one GPU resource per workload: split it into one workload per GPU kind`,
        };
    const { pool: poolName, resource, units } = usage[0];
    const team = config.teams.find((t) => t === w.metadata.namespace);
    if (!team)
        return {
            kind: "unpriceable",
            message: `namespace ${w.metadata.namespace} is no team's; GPUs run in team namespaces only`,
        };
    const pool = config.pools.find((p) => p.name === poolName);
    const unit = pool && poolResources(pool).find((r) => r.gpuResource === resource);
    if (!pool || !unit)
        return {
            kind: "unpriceable",
            message: `Kueue assigned ${resource} from flavor "${poolName}", which is no GPU pool offering it`,
        };
    const className = priorityClassOf(w);
    const gateClass = config.classes.find((c) => c.name === className);
    if (!gateClass)
        return {
            kind: "unpriceable",
            message: `names priority class "${className ?? ""}"; set priorityClassName to one of ${config.classes.map((c) => c.name).join(", ")}`,
        };
    const openEnded = isOpenEnded(w, identity);
    const hours = runHours(w, openEnded, gateClass.defaultRunHours, now);
    return {
        kind: "priced",
        team,
        pool: pool.name,
        gpuResource: resource,
        units,
        hours,
        priorityClass: gateClass.name,
        critical: config.criticalClasses.includes(gateClass.name),
        openEnded: openEnded && (w.spec.maximumExecutionTimeSeconds ?? 0) <= 0,
        usdPerUnitHour: unit.usdPerUnitHour,
        estimatedCostUsd: cents(unit.usdPerUnitHour * units * hours),
    };
}
