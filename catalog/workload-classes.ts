/**
 * Workload classes: the priority classes GPU workloads run under, and the most GPUs one pod
 * of each class may take. The stack config starts from these (key `priorityClasses`), the
 * cluster enforces them at admission, and the policy pack checks them at preview.
 *
 * A GPU here is one unit of `nvidia.com/gpu`, of a time-sliced replica (`nvidia.com/gpu.shared`)
 * or of a MIG slice (`nvidia.com/mig-…`): each counts as one.
 */
export type WorkloadKind = "inference" | "training" | "development";

export interface WorkloadClass {
    /** The PriorityClass name pods set in `priorityClassName`. */
    readonly name: string;
    /** Scheduling priority; higher preempts lower. User classes must stay below 1,000,000,000. */
    readonly value: number;
    /** What kind of work runs under it; decides the GPU limit. */
    readonly kind: WorkloadKind;
    /** Most GPUs (or MIG slices, or time-sliced replicas) one pod may request. */
    readonly maxGpusPerPod: number;
    /** False: pods of this class wait for room instead of evicting lower-priority pods. */
    readonly preempts: boolean;
    readonly description: string;
}

/** Most GPUs one pod of each kind may take: a training job gets a whole 8-GPU node, a served model two, a notebook one. */
export const MAX_GPUS_PER_POD: Readonly<Record<WorkloadKind, number>> = { training: 8, inference: 2, development: 1 };

export const DEFAULT_WORKLOAD_CLASSES: readonly WorkloadClass[] = [
    {
        name: "production-inference",
        value: 1000,
        kind: "inference",
        maxGpusPerPod: MAX_GPUS_PER_POD.inference,
        preempts: true,
        description: "Production inference serving and batch inference: runs first, may preempt everything below it.",
    },
    {
        name: "critical-agents",
        value: 900,
        kind: "inference",
        maxGpusPerPod: MAX_GPUS_PER_POD.inference,
        preempts: true,
        description: "Agents and services other teams depend on.",
    },
    {
        name: "training",
        value: 500,
        kind: "training",
        maxGpusPerPod: MAX_GPUS_PER_POD.training,
        preempts: true,
        description: "Scheduled training and fine-tuning jobs.",
    },
    {
        // Research runs are training runs at a lower priority: the same GPU limit, but they wait instead of preempting.
        name: "research",
        value: 100,
        kind: "training",
        maxGpusPerPod: MAX_GPUS_PER_POD.training,
        preempts: false,
        description: "Experiments that use spare GPUs and yield them to higher classes.",
    },
    {
        name: "development",
        value: 50,
        kind: "development",
        maxGpusPerPod: MAX_GPUS_PER_POD.development,
        preempts: false,
        description: "Notebooks and interactive development: one GPU, lowest priority.",
    },
];
