/**
 * What a node pool's settings mean, without creating anything: its problems, its node labels,
 * the extended resources its nodes advertise, and the Auto Scaling group tags that let Cluster
 * Autoscaler scale it up from zero. Pure, so the stack-config validation, the `NodePool`
 * component and the tests share one definition.
 */
import { INSTANCE_TYPES, MIG_SLICES_PER_GPU, MigProfile, gpuOf, isKnownInstanceType } from "../../catalog";
import type { ConfigProblem, GpuSharing } from "../../stacks/schema";
import { devicePluginConfigName, migConfigName } from "../gpu/sharing";
import { GPU_RESOURCE, LABELS, MIG_RESOURCE_PREFIX, SHARED_GPU_RESOURCE } from "../shared/tokens";

/** Prefix of the ASG tags Cluster Autoscaler reads to build a node template for a group at size 0. */
export const NODE_TEMPLATE_TAG = "k8s.io/cluster-autoscaler/node-template";

/** Time-slicing replicas per GPU: 1 is no sharing, and past 16 pods starve each other of GPU memory. */
export const TIME_SLICING_REPLICAS = { min: 2, max: 16 } as const;

export interface NodeTaint {
    key: string;
    value: string;
    effect: "NoSchedule" | "NoExecute" | "PreferNoSchedule";
}

/** The settings a pool is checked on, as the stack config or a `NodePool`'s arguments give them. */
export interface PoolSettings {
    instanceType: string;
    minSize?: number;
    maxSize: number;
    capacityType?: "on-demand" | "spot";
    gpuSharing?: GpuSharing;
    capacityReservationId?: string;
}

/**
 * Problems with one node pool: catalog membership, sizes, and its GPU sharing against its GPU
 * (a MIG profile the GPU cannot make, MIG on a GPU without it, time-slice replicas out of
 * range). Keys are `prefix` + the setting's path.
 */
export function nodePoolProblems(prefix: string, pool: PoolSettings): ConfigProblem[] {
    const problems: ConfigProblem[] = [];
    const add = (k: string, message: string) => problems.push({ key: `${prefix}${k}`, message });

    if (!isKnownInstanceType(pool.instanceType)) {
        add(".instanceType", `"${pool.instanceType}" is not in the catalog; allowed: ${Object.keys(INSTANCE_TYPES).join(", ")}`);
        return problems;
    }
    if (pool.minSize !== undefined && pool.minSize > pool.maxSize) {
        add(".minSize", `is ${pool.minSize}, above maxSize ${pool.maxSize}; minSize must be at most maxSize`);
    }
    if (pool.capacityReservationId && pool.capacityType === "spot") {
        add(".capacityReservationId", 'cannot be used with capacityType "spot": reservations hold on-demand capacity');
    }
    const gpu = gpuOf(pool.instanceType);
    const sharing = pool.gpuSharing;
    if (!gpu) {
        if (sharing && sharing.mode !== "exclusive") add(".gpuSharing", `is set but ${pool.instanceType} has no GPU; remove it`);
        return problems;
    }
    if (sharing?.mode === "time-slicing") {
        const { replicas } = sharing;
        if (!Number.isInteger(replicas) || replicas < TIME_SLICING_REPLICAS.min || replicas > TIME_SLICING_REPLICAS.max) {
            add(
                ".gpuSharing.replicas",
                `is ${replicas}; must be a whole number from ${TIME_SLICING_REPLICAS.min} to ${TIME_SLICING_REPLICAS.max} ` +
                    "(1 is no sharing: use mode exclusive; more pods per GPU starve each other of GPU memory)",
            );
        }
    }
    if (sharing?.mode === "mig") problems.push(...migLayoutProblems(prefix, pool.instanceType, sharing.layout));
    return problems;
}

/** A MIG layout against what the pool's GPU can make: known profiles, and all of them fitting on one GPU. */
function migLayoutProblems(prefix: string, instanceType: string, layout: Record<string, number>): ConfigProblem[] {
    const problems: ConfigProblem[] = [];
    const add = (k: string, message: string) => problems.push({ key: `${prefix}${k}`, message });
    const gpu = gpuOf(instanceType)!;
    const profiles: Readonly<Record<string, MigProfile>> = gpu.migProfiles;
    // Media-extension profiles ("+me") name no valid Kubernetes resource; the platform offers the plain ones.
    const allowed = Object.keys(profiles).filter((p) => !p.includes("+"));
    if (allowed.length === 0) {
        add(".gpuSharing.mode", `is "mig" but ${gpu.productName} (${instanceType}) has no MIG; use "time-slicing" or "exclusive"`);
        return problems;
    }
    const entries = Object.entries(layout);
    if (entries.length === 0) add(".gpuSharing.layout", `is empty; name at least one profile: ${allowed.join(", ")}`);
    let compute = 0;
    let memory = 0;
    for (const [profile, n] of entries) {
        const spec = allowed.includes(profile) ? profiles[profile] : undefined;
        if (!spec) {
            add(`.gpuSharing.layout.${profile}`, `is not a MIG profile of ${gpu.productName} (${instanceType}); allowed: ${allowed.join(", ")}`);
            continue;
        }
        if (n > spec.maxPerGpu) add(`.gpuSharing.layout.${profile}`, `is ${n}, but one GPU holds at most ${spec.maxPerGpu} of ${profile}`);
        compute += spec.computeSlices * n;
        memory += spec.memorySlices * n;
    }
    if (compute > MIG_SLICES_PER_GPU.compute || memory > MIG_SLICES_PER_GPU.memory) {
        add(
            ".gpuSharing.layout",
            `needs ${compute}/${MIG_SLICES_PER_GPU.compute} compute and ${memory}/${MIG_SLICES_PER_GPU.memory} memory slices per GPU; ` +
                `a ${gpu.productName} has ${MIG_SLICES_PER_GPU.compute} and ${MIG_SLICES_PER_GPU.memory}: remove instances`,
        );
    }
    return problems;
}

/** Labels of a pool's nodes: its name, CPU or GPU, and for GPU pools the model and the sharing configs the GPU Operator reads. */
export function poolLabels(pool: string, type: string, sharing: GpuSharing | undefined): Record<string, string> {
    const gpu = gpuOf(type);
    if (!gpu) return { [LABELS.pool]: pool, [LABELS.nodeType]: "cpu" };
    const resolved = sharing ?? { mode: "exclusive" };
    return {
        [LABELS.pool]: pool,
        [LABELS.nodeType]: "gpu",
        [LABELS.gpuModel]: gpu.id,
        [LABELS.gpuSharing]: resolved.mode,
        // Cluster Autoscaler counts a node with this label unready until it advertises
        // nvidia.com/gpu, which MIG and time-sliced nodes never do (they offer slices and shared
        // replicas): they would stay unready and count against the autoscaler's unready limit
        // (kubernetes/autoscaler#8095). Only pools of whole GPUs carry it.
        ...(resolved.mode === "exclusive" ? { [LABELS.accelerator]: gpu.acceleratorLabel } : {}),
        [LABELS.devicePluginConfig]: devicePluginConfigName(resolved),
        [LABELS.migConfig]: migConfigName(resolved),
    };
}

/**
 * What one node advertises to the scheduler: whole GPUs, time-sliced replicas of them
 * (`nvidia.com/gpu.shared`), or (MIG, mixed strategy) one resource per profile.
 */
export function nodeResources(gpus: number, sharing: GpuSharing | undefined): Record<string, number> {
    if (gpus === 0 || !sharing) return {};
    switch (sharing.mode) {
        case "exclusive":
            return { [GPU_RESOURCE]: gpus };
        case "time-slicing":
            return { [SHARED_GPU_RESOURCE]: gpus * sharing.replicas };
        case "mig":
            return Object.fromEntries(Object.entries(sharing.layout).map(([profile, n]) => [`${MIG_RESOURCE_PREFIX}${profile}`, n * gpus]));
    }
}

/**
 * The node-template tags Cluster Autoscaler needs to scale an ASG up from zero: managed node
 * groups do not copy their labels and taints to the ASG, so the autoscaler cannot otherwise
 * know that a pending GPU pod would fit.
 */
export function scaleFromZeroTags(labels: Record<string, string>, taints: NodeTaint[], resources: Record<string, number>): Record<string, string> {
    const tags: Record<string, string> = {};
    for (const [key, value] of Object.entries(labels)) tags[`${NODE_TEMPLATE_TAG}/label/${key}`] = value;
    for (const taint of taints) tags[`${NODE_TEMPLATE_TAG}/taint/${taint.key}`] = `${taint.value}:${taint.effect}`;
    for (const [resource, n] of Object.entries(resources)) tags[`${NODE_TEMPLATE_TAG}/resources/${resource}`] = String(n);
    return tags;
}
