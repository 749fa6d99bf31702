/**
 * The most one unit of a GPU resource can cost per hour, from the catalog, for pods whose GPU
 * model the preview cannot pin down (a pod names a resource, not a node): a whole GPU
 * (`nvidia.com/gpu`) at the catalog's costliest price per GPU, a time-sliced share
 * (`nvidia.com/gpu.shared`) as a whole GPU too (its replicas are set on the node, not the pod),
 * and a MIG slice as its compute share (computeSlices / 7) of the costliest GPU that makes the
 * profile, as the cost tracker prices it (services/cost-tracker/src/pricing.ts). A profile no
 * catalog GPU makes is priced as a whole GPU.
 */
import {
    GPU_MODELS,
    INSTANCE_TYPES,
    MIG_RESOURCE_PREFIX,
    MIG_SLICES_PER_GPU,
    GpuModelId,
    gpuOf,
    instanceType,
} from "@gpu-platform/catalog";

export interface UnitPrice {
    readonly usdPerHour: number;
    /** The part of one physical GPU a unit is (a MIG slice's compute share; 1 otherwise). */
    readonly fractionOfGpu: number;
    /** `p5.48xlarge's H100 per GPU`, `3/7 of p4de.24xlarge's A100 80 GB`. */
    readonly basis: string;
}

/** The costliest price per GPU among catalog types whose GPU is one of `models` (any model when empty). */
function costliestPerGpu(models: readonly string[]): { usd: number; type: string } | undefined {
    let best: { usd: number; type: string } | undefined;
    for (const type of Object.keys(INSTANCE_TYPES)) {
        const gpu = gpuOf(type);
        if (!gpu || (models.length > 0 && !models.includes(gpu.id))) continue;
        const usd = instanceType(type).onDemandUsdPerHour / gpu.count;
        if (!best || usd > best.usd) best = { usd, type };
    }
    return best;
}

export function unitPrice(resource: string): UnitPrice {
    const whole = costliestPerGpu([])!;
    const wholeBasis = {
        usdPerHour: whole.usd,
        fractionOfGpu: 1,
        basis: `${whole.type} per GPU, the catalog's costliest`,
    };
    if (!resource.startsWith(MIG_RESOURCE_PREFIX)) return wholeBasis;
    const profile = resource.slice(MIG_RESOURCE_PREFIX.length);
    const models = (Object.keys(GPU_MODELS) as GpuModelId[]).filter((m) =>
        Object.hasOwn(GPU_MODELS[m].migProfiles as object, profile),
    );
    const gpu = costliestPerGpu(models);
    if (!gpu) return wholeBasis;
    const model = models.find((m) => gpuOf(gpu.type)?.id === m)!;
    const profiles: Readonly<Record<string, { computeSlices: number }>> = GPU_MODELS[model].migProfiles;
    const slices = profiles[profile].computeSlices;
    const fraction = slices / MIG_SLICES_PER_GPU.compute;
    return {
        usdPerHour: gpu.usd * fraction,
        fractionOfGpu: fraction,
        basis: `${slices}/${MIG_SLICES_PER_GPU.compute} of a ${gpu.type} GPU`,
    };
}
