/**
 * What a GPU, a MIG slice or a time-sliced share costs per hour, from the platform's catalog
 * (`catalog/instances.ts`, on-demand prices): the same prices the offline plan and the policies
 * use. Nothing here holds a price of its own.
 *
 * - A whole GPU (`nvidia.com/gpu`) is the instance's hourly price divided by its GPU count.
 * - A MIG slice (`nvidia.com/mig-<profile>`) is the share of the GPU's 7 compute slices the
 *   profile takes: a 3g.40gb slice is 3/7 of a GPU. Compute, not memory, is what a slice keeps
 *   from others, and the 7 slices of a full layout then add up to the GPU.
 * - A time-sliced share (`nvidia.com/gpu.shared`) is 1/replicas of a GPU: that many pods take
 *   turns on it.
 */
import {
    GPU_RESOURCE,
    MIG_RESOURCE_PREFIX,
    MIG_SLICES_PER_GPU,
    SHARED_GPU_RESOURCE,
    gpuOf,
    instanceType,
} from "@gpu-platform/catalog";
import type { TrackerPool } from "@gpu-platform/catalog/contracts";

/** One kind of GPU unit a pool offers, and its price. */
export interface PoolResource {
    /** The Kubernetes resource name a pod requests. */
    readonly gpuResource: string;
    /** The part of one physical GPU that one unit is. */
    readonly fractionOfGpu: number;
    readonly usdPerUnitHour: number;
    /** Units of this resource the pool holds at its maximum size. */
    readonly maxUnits: number;
}

/** The resources a pool advertises, in the order its config lists them. */
export function poolResources(pool: TrackerPool): PoolResource[] {
    const gpu = gpuOf(pool.instanceType);
    if (!gpu) return [];
    const usdPerGpuHour = instanceType(pool.instanceType).onDemandUsdPerHour / gpu.count;
    const unit = (gpuResource: string, fractionOfGpu: number, unitsPerGpu: number): PoolResource => ({
        gpuResource,
        fractionOfGpu,
        usdPerUnitHour: usdPerGpuHour * fractionOfGpu,
        maxUnits: unitsPerGpu * gpu.count * pool.maxNodes,
    });
    const sharing = pool.gpuSharing;
    switch (sharing.mode) {
        case "exclusive":
            return [unit(GPU_RESOURCE, 1, 1)];
        case "time-slicing":
            return [unit(SHARED_GPU_RESOURCE, 1 / sharing.replicas, sharing.replicas)];
        case "mig":
            return Object.entries(sharing.layout).map(([profile, perGpu]) => {
                const slices = (gpu.migProfiles as Record<string, { computeSlices: number }>)[profile].computeSlices;
                return unit(`${MIG_RESOURCE_PREFIX}${profile}`, slices / MIG_SLICES_PER_GPU.compute, perGpu);
            });
    }
}

/** Rounds to the cent, as every amount the API returns. */
export function cents(amount: number): number {
    // "+ 0" turns -0 (a sum a hair below zero) into 0.
    return Math.round(amount * 100) / 100 + 0;
}
