/**
 * Kueue's objects for the platform, as plain data: a ResourceFlavor per GPU pool and one for
 * CPU and memory, a ClusterQueue per team in one cohort with the budget AdmissionCheck, a
 * LocalQueue named `default` in each team namespace, and a WorkloadPriorityClass per priority
 * class. Pure (no Pulumi), so specs validate every object against Kueue's CRD schemas.
 *
 * API version `kueue.x-k8s.io/v1beta2`: at Kueue v0.19.2 it is the storage version of every
 * kind, and v1beta1 is served but deprecated ("This version is deprecated. Use v1beta2
 * instead.", config/components/crd/bases at that tag).
 */
import { GPU_TAINT, LABELS, cpuMillis, isGpuResource, memoryMiB } from "@gpu-platform/catalog";
import { KUEUE_ADMISSION_GATE } from "@gpu-platform/catalog/admission";
import type { SettingProblem } from "../shared/problems";
import { GpuPoolResources, TeamQuota, quotaHard } from "../tenancy";

export const KUEUE_API_VERSION = "kueue.x-k8s.io/v1beta2";

export const KUEUE_OBJECT_DEFAULTS = {
    /** Every team's ClusterQueue is in this cohort: idle quota is lent and reclaimed. */
    cohort: "gpu-platform",
    /** The AdmissionCheck every team ClusterQueue requires, served by the budget gate. */
    admissionCheck: "budget",
    /** The budget gate's controller name, which the AdmissionCheck names. */
    controllerName: "gpu-platform.io/budget-gate",
    /** Kueue puts workloads that name no queue in a LocalQueue of this name (Kueue v0.19.2 pkg/controller/constants DefaultLocalQueueName). */
    localQueue: "default",
    /** The flavor of CPU and memory: any node. */
    anyNodeFlavor: "any-node",
} as const;

/** A GPU pool as Kueue sees it: its name (its nodes' `gpu-platform/pool` label) and what one node advertises. */
export interface KueuePool extends GpuPoolResources {
    readonly name: string;
}

/** How much of a team's quota it may borrow from the cohort, and lend to it, as percentages of its nominal quota. */
export interface TeamQueueLimits {
    /** Most it may borrow beyond its quota, in percent of it (0: none). Default unlimited. */
    borrowingLimitPercent?: number;
    /** Most of its idle quota others may borrow, in percent of it (0: none, the quota is reserved for the team). Default all of it. */
    lendingLimitPercent?: number;
}

export interface KueueTeam {
    readonly name: string;
    readonly quota?: TeamQuota;
    readonly queue?: TeamQueueLimits;
}

export interface KueueClass {
    readonly name: string;
    readonly value: number;
    readonly description?: string;
}

export interface KueueObject {
    readonly apiVersion: string;
    readonly kind: string;
    readonly metadata: { name: string; namespace?: string; labels?: Record<string, string> };
    readonly spec?: Record<string, unknown>;
    readonly [field: string]: unknown;
}

/** Problems with a team's borrowing and lending limits, each naming `<prefix>borrowingLimitPercent` or `...lendingLimitPercent`. */
export function queueLimitProblems(prefix: string, limits: TeamQueueLimits | undefined): SettingProblem[] {
    const problems: SettingProblem[] = [];
    const check = (key: keyof TeamQueueLimits, max: number, meaning: string) => {
        const value = limits?.[key];
        if (value === undefined) return;
        if (!Number.isInteger(value) || value < 0 || value > max)
            problems.push({
                key: `${prefix}${key}`,
                message: `must be a whole percentage from 0 to ${max} (${meaning}; found ${value})`,
            });
    };
    check("borrowingLimitPercent", 1000, "of the team's quota it may borrow beyond it");
    check("lendingLimitPercent", 100, "of the team's idle quota others may borrow");
    return problems;
}

/** One ResourceFlavor per GPU pool: its nodes' pool label, and the GPU taint tolerated for the pods Kueue admits there. */
export function resourceFlavors(pools: readonly KueuePool[]): KueueObject[] {
    const anyNode: KueueObject = {
        apiVersion: KUEUE_API_VERSION,
        kind: "ResourceFlavor",
        metadata: { name: KUEUE_OBJECT_DEFAULTS.anyNodeFlavor },
        spec: {},
    };
    return [
        anyNode,
        ...pools.map((pool) => ({
            apiVersion: KUEUE_API_VERSION,
            kind: "ResourceFlavor",
            metadata: { name: pool.name },
            spec: {
                nodeLabels: { [LABELS.pool]: pool.name },
                nodeTaints: [{ ...GPU_TAINT }],
                tolerations: [
                    { key: GPU_TAINT.key, operator: "Equal", value: GPU_TAINT.value, effect: GPU_TAINT.effect },
                ],
            },
        })),
    ];
}

/** The GPU resources the pools advertise, in a stable order (whole, shared, MIG by name). */
export function poolGpuResources(pools: readonly KueuePool[]): string[] {
    const all = new Set(pools.flatMap((pool) => Object.keys(pool.nodeResources).filter(isGpuResource)));
    return [...all].sort();
}

type Quota = { name: string; nominalQuota: string; borrowingLimit?: string; lendingLimit?: string };

/** A resource's quota with the team's limits applied: whole units for GPUs, millicores and MiB for CPU and memory. */
function quotaEntry(resource: string, nominal: number, unit: "" | "m" | "Mi", limits?: TeamQueueLimits): Quota {
    const entry: Quota = { name: resource, nominalQuota: `${nominal}${unit}` };
    if (limits?.borrowingLimitPercent !== undefined)
        entry.borrowingLimit = `${Math.ceil((nominal * limits.borrowingLimitPercent) / 100)}${unit}`;
    // No feature gate needed: LendingLimit is GA and its gate removed at Kueue v0.19.2
    // (kubernetes-sigs/kueue pkg/features/kube_features.go at tag v0.19.2; locked on since v0.17).
    if (limits?.lendingLimitPercent !== undefined)
        entry.lendingLimit = `${Math.floor((nominal * limits.lendingLimitPercent) / 100)}${unit}`;
    return entry;
}

/**
 * A team's ClusterQueue: its CPU and memory on any node, and its GPU quota of each resource
 * in every pool that offers it (0 in the others), from the same `TeamQuota` its ResourceQuota
 * is made of (TeamNamespace's `quotaHard`), which stays the cap on the namespace's total.
 */
export function clusterQueue(team: KueueTeam, pools: readonly KueuePool[], admissionCheck: string): KueueObject {
    const hard = quotaHard(team.quota ?? {}, pools);
    const amount = (resource: string) => Number(hard[`requests.${resource}`] ?? 0);
    const gpuResources = poolGpuResources(pools);
    const resourceGroups: Record<string, unknown>[] = [
        {
            coveredResources: ["cpu", "memory"],
            flavors: [
                {
                    name: KUEUE_OBJECT_DEFAULTS.anyNodeFlavor,
                    resources: [
                        quotaEntry("cpu", cpuMillis(hard["requests.cpu"]) ?? 0, "m", team.queue),
                        quotaEntry("memory", memoryMiB(hard["requests.memory"]) ?? 0, "Mi", team.queue),
                    ],
                },
            ],
        },
    ];
    if (gpuResources.length > 0)
        resourceGroups.push({
            coveredResources: gpuResources,
            flavors: pools.map((pool) => ({
                name: pool.name,
                resources: gpuResources.map((r) =>
                    quotaEntry(r, Object.hasOwn(pool.nodeResources, r) ? amount(r) : 0, "", team.queue),
                ),
            })),
        });
    return {
        apiVersion: KUEUE_API_VERSION,
        kind: "ClusterQueue",
        metadata: { name: team.name, labels: { [LABELS.team]: team.name } },
        spec: {
            cohortName: KUEUE_OBJECT_DEFAULTS.cohort,
            namespaceSelector: { matchLabels: { [LABELS.team]: team.name } },
            queueingStrategy: "BestEffortFIFO",
            resourceGroups,
            // Lent quota comes back when its owner needs it; inside the team, higher classes go first.
            preemption: { reclaimWithinCohort: "Any", withinClusterQueue: "LowerPriority" },
            admissionChecksStrategy: { admissionChecks: [{ name: admissionCheck }] },
        },
    };
}

/** The LocalQueue Kueue puts the namespace's workloads in when they name none. */
export function localQueue(team: string): KueueObject {
    return {
        apiVersion: KUEUE_API_VERSION,
        kind: "LocalQueue",
        metadata: { name: KUEUE_OBJECT_DEFAULTS.localQueue, namespace: team },
        spec: { clusterQueue: team },
    };
}

/** A WorkloadPriorityClass per priority class, same name and value, for `kueue.x-k8s.io/priority-class`. */
export function workloadPriorityClasses(classes: readonly KueueClass[]): KueueObject[] {
    return classes.map((c) => ({
        apiVersion: KUEUE_API_VERSION,
        kind: "WorkloadPriorityClass",
        metadata: { name: c.name },
        value: c.value,
        ...(c.description ? { description: c.description } : {}),
    }));
}

/** The AdmissionCheck the budget gate serves. */
export function budgetAdmissionCheck(name: string, controllerName: string): KueueObject {
    return { apiVersion: KUEUE_API_VERSION, kind: "AdmissionCheck", metadata: { name }, spec: { controllerName } };
}

/** The scheduling gate Kueue holds unadmitted pods with, re-exported for the docs and specs. */
export { KUEUE_ADMISSION_GATE };
