/**
 * What a node pool's settings mean, without creating anything: its defaults, its problems, its
 * node labels, the extended resources its nodes advertise, and the Auto Scaling group tags that
 * let Cluster Autoscaler scale it up from zero. Pure, so the stack-config validation, the
 * `NodePool` component and the tests share one definition.
 */
import {
    GPU_CONFIG_STARTUP_TAINT,
    GPU_RESOURCE,
    GPU_TAINT,
    GpuModel,
    GpuModelId,
    INSTANCE_TYPES,
    LABELS,
    MIG_RESOURCE_PREFIX,
    MIG_SLICES_PER_GPU,
    MigProfile,
    SHARED_GPU_RESOURCE,
    gpuOf,
    instanceType,
    isKnownInstanceType,
    offeredMigProfiles,
    podRoom,
} from "@gpu-platform/catalog";
import { GpuSharing, devicePluginConfigName, migConfigName } from "../gpu/sharing";
import type { SettingProblem } from "../shared/problems";

/** Prefix of the ASG tags Cluster Autoscaler reads to build a node template for a group at size 0. */
export const NODE_TEMPLATE_TAG = "k8s.io/cluster-autoscaler/node-template";

/** Time-slicing replicas per GPU: 1 is no sharing, and past 16 pods starve each other of GPU memory. */
export const TIME_SLICING_REPLICAS = { min: 2, max: 16 } as const;

/** Every default of a node pool, in one place: `NodePool` applies them and the stack config leaves them to it. */
export const NODE_POOL_DEFAULTS = {
    /** GPU pools start at zero nodes, so idle GPUs cost nothing; a CPU pool keeps a node for system pods. */
    minSize: { gpu: 0, cpu: 1 },
    /** GPU images (CUDA, PyTorch) and model caches need far more room than CPU nodes. */
    diskSizeGiB: { gpu: 200, cpu: 50 },
    capacityType: "on-demand",
    diskType: "gp3",
    /** One pod per GPU. */
    gpuSharing: { mode: "exclusive" },
} as const;

export interface NodeTaint {
    key: string;
    value: string;
    effect: "NoSchedule" | "NoExecute" | "PreferNoSchedule";
}

/**
 * How a pool buys its instances: on demand, spot, or from an EC2 Capacity Block for ML (a
 * reservation of GPU instances for a fixed window, prepaid).
 */
export type PoolCapacityType = "on-demand" | "spot" | "capacity-block";

/** Root volume types a pool may use; io2 needs `diskIops`. */
export type PoolDiskType = "gp3" | "gp2" | "io2";

/** io2 volumes: 100 to 256,000 provisioned IOPS, at most 1,000 per GiB (EBS user guide, "Provisioned IOPS SSD volumes"; EC2 API EbsBlockDevice.Iops). */
export const IO2_IOPS = { min: 100, max: 256_000, perGiB: 1_000 } as const;

/** The settings a pool is checked on, as the stack config or a `NodePool`'s arguments give them. */
export interface PoolSettings {
    instanceType: string;
    minSize?: number;
    maxSize: number;
    capacityType?: PoolCapacityType;
    gpuSharing?: GpuSharing;
    capacityReservationId?: string;
    diskSizeGiB?: number;
    diskType?: PoolDiskType;
    diskIops?: number;
}

/** What a pool's nodes are to the scheduler, from its instance type and GPU sharing alone. */
export interface PoolNodes {
    /** Physical GPUs per node; 0 for a CPU pool. */
    readonly gpusPerNode: number;
    /** The catalog's GPU model of the nodes; undefined for a CPU pool. */
    readonly gpuModel?: GpuModelId;
    /** How pods share each GPU, its default applied; undefined for a CPU pool. */
    readonly gpuSharing?: GpuSharing;
    /** Kubernetes labels every node carries. */
    readonly labels: Record<string, string>;
    /** Taints every node carries, and that pods meant for it tolerate. */
    readonly taints: NodeTaint[];
    /**
     * Taints a node registers with and loses once it offers its GPU layout (time-sliced and MIG
     * pools): pods need not tolerate them, Cluster Autoscaler counts the node as still starting.
     */
    readonly startupTaints: NodeTaint[];
    /** Extended resources one node advertises (`nvidia.com/gpu`, `nvidia.com/mig-…`), by name. */
    readonly nodeResources: Record<string, number>;
}

/** The nodes of pool `name` (its instance type must be in the catalog). */
export function poolNodes(name: string, pool: Pick<PoolSettings, "instanceType" | "gpuSharing">): PoolNodes {
    const gpu = gpuOf(pool.instanceType);
    if (!gpu)
        return {
            gpusPerNode: 0,
            labels: { [LABELS.pool]: name, [LABELS.nodeType]: "cpu" },
            taints: [],
            startupTaints: [],
            nodeResources: {},
        };
    const gpuSharing = pool.gpuSharing ?? NODE_POOL_DEFAULTS.gpuSharing;
    return {
        gpusPerNode: gpu.count,
        gpuModel: gpu.id,
        gpuSharing,
        labels: gpuPoolLabels(name, gpu, gpuSharing),
        taints: [{ ...GPU_TAINT }],
        // Whole-GPU pools carry the autoscaler's accelerator label for the same purpose (gpuPoolLabels).
        startupTaints: gpuSharing.mode === "exclusive" ? [] : [{ ...GPU_CONFIG_STARTUP_TAINT }],
        nodeResources: nodeResources(gpu.count, gpuSharing),
    };
}

/** What one node of a pool leaves for a pod, with how the figures come about (for messages). */
export interface PoolPodRoom {
    readonly cpuMillis: number;
    readonly memoryMiB: number;
    readonly cpuDetail: string;
    readonly memoryDetail: string;
}

/**
 * What one node of the pool leaves for a pod (catalog `podRoom`): its allocatable, less the
 * platform's DaemonSets, among them the GPU config gate on time-sliced and MIG pools.
 */
export function poolPodRoom(pool: Pick<PoolSettings, "instanceType" | "gpuSharing">): PoolPodRoom {
    const gpu = gpuOf(pool.instanceType);
    const shared = gpu !== undefined && (pool.gpuSharing ?? NODE_POOL_DEFAULTS.gpuSharing).mode !== "exclusive";
    const room = podRoom(pool.instanceType, shared);
    const type = pool.instanceType;
    return {
        cpuMillis: room.cpuMillis,
        memoryMiB: room.memoryMiB,
        cpuDetail: `${type}: ${room.capacity.cpuMillis}m less ${room.kubeReserved.cpuMillis}m kubelet reservation and ${room.daemonSets.cpuMillis}m for the platform's DaemonSets`,
        memoryDetail:
            `${type}: about ${room.capacity.memoryMiB}Mi less ${room.kubeReserved.memoryMiB}Mi kubelet reservation, ` +
            `${room.evictionMemoryMiB}Mi eviction threshold and ${room.daemonSets.memoryMiB}Mi for the platform's DaemonSets`,
    };
}

/** The pool's fewest nodes: its own, or the default for a GPU or CPU pool (the instance type must be in the catalog). */
export function poolMinSize(pool: Pick<PoolSettings, "instanceType" | "minSize">): number {
    return pool.minSize ?? NODE_POOL_DEFAULTS.minSize[gpuOf(pool.instanceType) ? "gpu" : "cpu"];
}

/**
 * Problems with one node pool: catalog membership, sizes, and its GPU sharing against its GPU
 * (a MIG profile the GPU cannot make, MIG on a GPU without it, time-slice replicas out of
 * range). Keys are `prefix` + the setting's path, e.g. `nodePools.h100.` + `maxSize`.
 */
export function nodePoolProblems(prefix: string, pool: PoolSettings): SettingProblem[] {
    const problems: SettingProblem[] = [];
    const add = (k: string, message: string) => problems.push({ key: `${prefix}${k}`, message });

    if (!isKnownInstanceType(pool.instanceType)) {
        add(
            "instanceType",
            `"${pool.instanceType}" is not in the catalog; allowed: ${Object.keys(INSTANCE_TYPES).join(", ")}`,
        );
        return problems;
    }
    if (pool.minSize !== undefined && pool.minSize > pool.maxSize) {
        add("minSize", `is ${pool.minSize}, above maxSize ${pool.maxSize}; minSize must be at most maxSize`);
    }
    if (pool.capacityReservationId && pool.capacityType === "spot") {
        add("capacityReservationId", 'cannot be used with capacityType "spot": reservations hold on-demand capacity');
    }
    problems.push(...capacityBlockProblems(prefix, pool), ...diskProblems(prefix, pool));
    const gpu = gpuOf(pool.instanceType);
    const sharing = pool.gpuSharing;
    if (!gpu) {
        if (sharing && sharing.mode !== "exclusive")
            add("gpuSharing", `is set but ${pool.instanceType} has no GPU; remove it`);
        return problems;
    }
    if (sharing?.mode === "time-slicing") {
        const { replicas } = sharing;
        if (
            !Number.isInteger(replicas) ||
            replicas < TIME_SLICING_REPLICAS.min ||
            replicas > TIME_SLICING_REPLICAS.max
        ) {
            add(
                "gpuSharing.replicas",
                `is ${replicas}; must be a whole number from ${TIME_SLICING_REPLICAS.min} to ${TIME_SLICING_REPLICAS.max} ` +
                    "(1 is no sharing: use mode exclusive; more pods per GPU starve each other of GPU memory)",
            );
        }
    }
    if (sharing?.mode === "mig") problems.push(...migLayoutProblems(prefix, pool.instanceType, sharing.layout));
    return problems;
}

/**
 * A Capacity Block pool (EKS user guide, "Create a managed node group with Capacity Blocks for
 * ML"): it names its reservation, its instance type is one EC2 sells Capacity Blocks of, and it
 * starts at zero nodes, since a node group with nodes before the block starts fails to launch
 * them and EKS upgrades such a group only at desired size 0.
 */
function capacityBlockProblems(prefix: string, pool: PoolSettings): SettingProblem[] {
    if (pool.capacityType !== "capacity-block") return [];
    const problems: SettingProblem[] = [];
    if (!pool.capacityReservationId) {
        problems.push({
            key: `${prefix}capacityReservationId`,
            message:
                'is required with capacityType "capacity-block": the id (cr-…) of the Capacity Block to launch into',
        });
    }
    if (!instanceType(pool.instanceType).capacityBlocks) {
        const offered = Object.keys(INSTANCE_TYPES).filter((name) => instanceType(name).capacityBlocks);
        problems.push({
            key: `${prefix}capacityType`,
            message: `"capacity-block" is not sold for ${pool.instanceType}; Capacity Blocks in the catalog: ${offered.join(", ")}`,
        });
    }
    if ((pool.minSize ?? 0) > 0) {
        problems.push({
            key: `${prefix}minSize`,
            message: `is ${pool.minSize}; a Capacity Block pool starts at 0 nodes: nodes asked for before the block starts fail to launch`,
        });
    }
    return problems;
}

/** The root volume: io2 requires provisioned IOPS (EC2 refuses an io2 volume without them), which no other type here takes. */
function diskProblems(prefix: string, pool: PoolSettings): SettingProblem[] {
    const type = pool.diskType ?? NODE_POOL_DEFAULTS.diskType;
    const iops = pool.diskIops;
    if (type !== "io2") {
        return iops === undefined
            ? []
            : [
                  {
                      key: `${prefix}diskIops`,
                      message: `is set but diskType is "${type}"; only io2 takes provisioned IOPS (gp3 includes 3000): remove it`,
                  },
              ];
    }
    const size = pool.diskSizeGiB ?? NODE_POOL_DEFAULTS.diskSizeGiB[gpuOf(pool.instanceType) ? "gpu" : "cpu"];
    const max = Math.min(IO2_IOPS.max, IO2_IOPS.perGiB * size);
    if (iops === undefined) {
        return [
            {
                key: `${prefix}diskIops`,
                message: `is required with diskType "io2" (EC2 refuses io2 volumes without provisioned IOPS): ${IO2_IOPS.min} to ${max} for ${size} GiB`,
            },
        ];
    }
    if (!Number.isInteger(iops) || iops < IO2_IOPS.min || iops > max) {
        return [
            {
                key: `${prefix}diskIops`,
                message: `is ${iops}; io2 takes ${IO2_IOPS.min} to ${max} IOPS for a ${size} GiB volume (at most ${IO2_IOPS.perGiB} per GiB, ${IO2_IOPS.max} in all)`,
            },
        ];
    }
    return [];
}

/** A MIG layout against what the pool's GPU can make: known profiles, and all of them fitting on one GPU. */
function migLayoutProblems(
    prefix: string,
    instanceType: string,
    layout: Readonly<Record<string, number>>,
): SettingProblem[] {
    const problems: SettingProblem[] = [];
    const add = (k: string, message: string) => problems.push({ key: `${prefix}${k}`, message });
    const gpu = gpuOf(instanceType)!;
    const profiles: Readonly<Record<string, MigProfile>> = gpu.migProfiles;
    const allowed = offeredMigProfiles(gpu);
    if (allowed.length === 0) {
        add(
            "gpuSharing.mode",
            `is "mig" but ${gpu.productName} (${instanceType}) has no MIG; use "time-slicing" or "exclusive"`,
        );
        return problems;
    }
    const entries = Object.entries(layout);
    if (entries.length === 0) add("gpuSharing.layout", `is empty; name at least one profile: ${allowed.join(", ")}`);
    let compute = 0;
    let memory = 0;
    for (const [profile, n] of entries) {
        const spec = allowed.includes(profile) ? profiles[profile] : undefined;
        if (!spec) {
            add(
                `gpuSharing.layout.${profile}`,
                `is not a MIG profile of ${gpu.productName} (${instanceType}); allowed: ${allowed.join(", ")}`,
            );
            continue;
        }
        if (n > spec.maxPerGpu)
            add(`gpuSharing.layout.${profile}`, `is ${n}, but one GPU holds at most ${spec.maxPerGpu} of ${profile}`);
        compute += spec.computeSlices * n;
        memory += spec.memorySlices * n;
    }
    if (compute > MIG_SLICES_PER_GPU.compute || memory > MIG_SLICES_PER_GPU.memory) {
        add(
            "gpuSharing.layout",
            `needs ${compute}/${MIG_SLICES_PER_GPU.compute} compute and ${memory}/${MIG_SLICES_PER_GPU.memory} memory slices per GPU; ` +
                `a ${gpu.productName} has ${MIG_SLICES_PER_GPU.compute} and ${MIG_SLICES_PER_GPU.memory}: remove instances`,
        );
    }
    return problems;
}

/** Labels of a GPU pool's nodes: its name, the GPU model and the sharing configs the GPU Operator reads. */
function gpuPoolLabels(pool: string, gpu: GpuModel & { id: GpuModelId }, sharing: GpuSharing): Record<string, string> {
    return {
        [LABELS.pool]: pool,
        [LABELS.nodeType]: "gpu",
        [LABELS.gpuModel]: gpu.id,
        [LABELS.gpuSharing]: sharing.mode,
        // Cluster Autoscaler counts a node with this label unready until it advertises
        // nvidia.com/gpu, which MIG and time-sliced nodes never do (they offer slices and shared
        // replicas): they would stay unready and count against the autoscaler's unready limit
        // (kubernetes/autoscaler#8095). Only pools of whole GPUs carry it.
        ...(sharing.mode === "exclusive" ? { [LABELS.accelerator]: gpu.acceleratorLabel } : {}),
        [LABELS.devicePluginConfig]: devicePluginConfigName(sharing),
        [LABELS.migConfig]: migConfigName(sharing),
    };
}

/**
 * What one node advertises to the scheduler: whole GPUs, time-sliced replicas of them
 * (`nvidia.com/gpu.shared`), or (MIG, mixed strategy) one resource per profile.
 */
function nodeResources(gpus: number, sharing: GpuSharing): Record<string, number> {
    switch (sharing.mode) {
        case "exclusive":
            return { [GPU_RESOURCE]: gpus };
        case "time-slicing":
            return { [SHARED_GPU_RESOURCE]: gpus * sharing.replicas };
        case "mig":
            return Object.fromEntries(
                Object.entries(sharing.layout).map(([profile, n]) => [`${MIG_RESOURCE_PREFIX}${profile}`, n * gpus]),
            );
    }
}

/**
 * The resources Cluster Autoscaler must believe one node of the pool offers. Its AWS template
 * node always advertises the instance's `nvidia.com/gpu` count from its instance table
 * (kubernetes/autoscaler 1.35.2, cloudprovider/aws/aws_manager.go buildNodeFromTemplate l.285),
 * and for a group with nodes it adds every template resource a real node lacks
 * (processors/nodeinfosprovider/asg_tag_resource_node_info_provider.go l.43-68). Time-sliced and
 * MIG nodes never advertise `nvidia.com/gpu`, so without an override the autoscaler would start
 * them, up to maxSize, for pods that want whole GPUs and can never run there. A tag value "0"
 * replaces the count with zero (extractAllocatableResourcesFromAsg l.441-461 parses it and l.292
 * overwrites the capacity).
 */
export function autoscalerNodeResources(
    nodes: Pick<PoolNodes, "gpusPerNode" | "nodeResources">,
): Record<string, number> {
    if (nodes.gpusPerNode === 0 || Object.hasOwn(nodes.nodeResources, GPU_RESOURCE)) return nodes.nodeResources;
    return { ...nodes.nodeResources, [GPU_RESOURCE]: 0 };
}

/**
 * The node-template tags Cluster Autoscaler needs to scale an ASG up from zero: managed node
 * groups do not copy their labels and taints to the ASG, so the autoscaler cannot otherwise
 * know that a pending GPU pod would fit. `resources`: `autoscalerNodeResources` of the pool.
 */
export function scaleFromZeroTags(
    labels: Record<string, string>,
    taints: NodeTaint[],
    resources: Record<string, number>,
): Record<string, string> {
    const tags: Record<string, string> = {};
    for (const [key, value] of Object.entries(labels)) tags[`${NODE_TEMPLATE_TAG}/label/${key}`] = value;
    for (const taint of taints) tags[`${NODE_TEMPLATE_TAG}/taint/${taint.key}`] = `${taint.value}:${taint.effect}`;
    for (const [resource, n] of Object.entries(resources))
        tags[`${NODE_TEMPLATE_TAG}/resources/${resource}`] = String(n);
    return tags;
}
