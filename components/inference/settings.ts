/**
 * The inference pipeline's tunables, their defaults and the rules they obey. Pure (no
 * resources), so the stack-config validation and the component check the same rules and
 * tests call them directly.
 */
import { LABELS, cpuMillis, memoryMiB } from "@gpu-platform/catalog";
import type { SettingProblem } from "../shared/problems";

/** The longest visibility timeout SQS allows: 12 hours (Amazon SQS quotas, "Message visibility timeout"). */
export const SQS_MAX_VISIBILITY_TIMEOUT_SECONDS = 43_200;
/** A redrive policy's maxReceiveCount runs from 1 to 1,000 (SQS `RedrivePolicy` attribute). */
export const SQS_MAX_RECEIVE_COUNT = 1_000;

export type PipelineWorkload = "scaled-job" | "scaled-object";

/** Every default of the pipeline, in one place; the component and the config validation read it. */
export const PIPELINE_DEFAULTS = {
    minReplicas: 0,
    maxReplicas: 4,
    messagesPerReplica: 1,
    jobTimeoutSeconds: 3_600,
    /**
     * Time a job may spend before its worker starts (GPU node from zero, image pull, driver
     * load). The autoscaler gives a GPU node 20 minutes to boot (its max-node-provision-time).
     */
    startupAllowanceSeconds: 1_800,
    maxReceiveCount: 3,
    pollingIntervalSeconds: 30,
    gpusPerWorker: 1,
    processedInputRetentionDays: 7,
    oldestMessageAlarmSeconds: 3_600,
    priorityClassName: "production-inference",
    workload: "scaled-job" as PipelineWorkload,
    cpu: "4",
    memory: "16Gi",
    inputPrefix: "",
    inputSuffix: "",
} as const;

/** The numeric settings a pipeline is checked on; unset ones take PIPELINE_DEFAULTS. */
export interface PipelineSettings {
    /** Fewest workers. Default 0: no worker, and no GPU node, while the queue is empty. */
    minReplicas?: number;
    /** Most workers at once. Default 4. */
    maxReplicas?: number;
    /** Queued messages per worker KEDA aims for; also the messages one job handles. Default 1. */
    messagesPerReplica?: number;
    /** Longest a worker may spend on one message: the queue's visibility timeout, at most 43200 (12 h). Default 3600. */
    jobTimeoutSeconds?: number;
    /** Time a job may spend before its worker starts (a GPU node from zero, image pull). Default 1800. */
    startupAllowanceSeconds?: number;
    /** Receives before a message moves to the dead-letter queue, 1 to 1000. Default 3. */
    maxReceiveCount?: number;
    /** How often KEDA reads the queue's depth, in seconds. Default 30. */
    pollingIntervalSeconds?: number;
    /** GPUs (or MIG slices, or one time-sliced replica) each worker requests. Default 1. */
    gpusPerWorker?: number;
    /** Days an input object tagged processed is kept. Default 7. */
    processedInputRetentionDays?: number;
    /** Alarm when the oldest queued message is older than this, in seconds (60 or more). Default 3600. */
    oldestMessageAlarmSeconds?: number;
}

/** What one node of a pool leaves for a pod: its allocatable less the platform's DaemonSets (catalog `podRoom`). */
export interface WorkerRoom {
    readonly cpuMillis: number;
    readonly memoryMiB: number;
    /** How the figures come about, for messages, e.g. `g5.xlarge: 4000m less 80m kubelet reservation and 180m of DaemonSets`. */
    readonly cpuDetail?: string;
    readonly memoryDetail?: string;
}

/** A GPU pool's scheduling facts, as a NodePool (or the platform stack's `nodePools` output) gives them. */
export interface GpuPoolFacts {
    /** The pool's name. */
    readonly name: string;
    /** Labels every node of the pool carries; the worker selects on `gpu-platform/pool`. */
    readonly labels: Record<string, string>;
    /** Extended resources one node advertises (`nvidia.com/gpu`, `nvidia.com/mig-…`) and how many. */
    readonly nodeResources: Record<string, number>;
    /** What one node leaves for a pod (a `NodePool`'s `podRoom`); the worker's CPU and memory must fit. Default unchecked. */
    readonly podRoom?: WorkerRoom;
}

/**
 * Problems with the numeric settings. Keys are `prefix` + the setting's name, so the stack
 * config reports `inferencePipelines[0].maxReplicas` and the component `maxReplicas`.
 */
export function pipelineSettingsProblems(prefix: string, settings: PipelineSettings): SettingProblem[] {
    const problems: SettingProblem[] = [];
    const add = (key: keyof PipelineSettings, message: string) => problems.push({ key: `${prefix}${key}`, message });
    const atLeast = (key: keyof PipelineSettings, min: number, why: string) => {
        const value = settings[key];
        if (value === undefined) return;
        if (!Number.isInteger(value)) add(key, `is ${value}; must be a whole number`);
        else if (value < min) add(key, `is ${value}; must be ${min === 0 ? "0 or more" : `at least ${min}`}${why}`);
    };

    atLeast("minReplicas", 0, " (0 lets the pipeline scale to zero)");
    atLeast("maxReplicas", 1, ": a pipeline needs room for one worker");
    atLeast("messagesPerReplica", 1, "");
    atLeast("jobTimeoutSeconds", 1, "");
    atLeast("startupAllowanceSeconds", 0, "");
    atLeast("maxReceiveCount", 1, "");
    atLeast("pollingIntervalSeconds", 1, "");
    atLeast("gpusPerWorker", 1, ": the worker runs on a GPU pool and must request a GPU");
    atLeast("processedInputRetentionDays", 1, "");
    atLeast("oldestMessageAlarmSeconds", 60, ": SQS publishes its metrics every minute");

    const min = settings.minReplicas ?? PIPELINE_DEFAULTS.minReplicas;
    const max = settings.maxReplicas ?? PIPELINE_DEFAULTS.maxReplicas;
    if (Number.isInteger(min) && Number.isInteger(max) && min >= 0 && max >= 1 && min > max) {
        add("minReplicas", `is ${min}, above maxReplicas ${max}; minReplicas must be at most maxReplicas`);
    }
    const timeout = settings.jobTimeoutSeconds;
    if (timeout !== undefined && timeout > SQS_MAX_VISIBILITY_TIMEOUT_SECONDS) {
        add(
            "jobTimeoutSeconds",
            `is ${timeout}; must be at most ${SQS_MAX_VISIBILITY_TIMEOUT_SECONDS} (12 hours), the longest SQS visibility timeout: ` +
                "a message must stay hidden from other workers while its job runs",
        );
    }
    const receives = settings.maxReceiveCount;
    if (receives !== undefined && receives > SQS_MAX_RECEIVE_COUNT) {
        add("maxReceiveCount", `is ${receives}; SQS allows at most ${SQS_MAX_RECEIVE_COUNT}`);
    }
    return problems;
}

/** The GPU resource a worker requests: the one named, or the pool's only one. */
export function resolveGpuResource(nodeResources: Record<string, number>, gpuResource?: string): string | undefined {
    if (gpuResource !== undefined) return gpuResource;
    const offered = Object.keys(nodeResources);
    return offered.length === 1 ? offered[0] : undefined;
}

/**
 * Problems with what the worker asks of its pool: the pool must offer GPUs, the resource must
 * be one it offers, one worker must fit on one node, and on a time-sliced pool a worker takes
 * one replica (the device plugin refuses more: replicas of one GPU add no GPU).
 */
export function gpuRequestProblems(
    prefix: string,
    pool: Pick<GpuPoolFacts, "name" | "nodeResources"> & { labels?: Record<string, string> },
    gpuResource: string | undefined,
    gpusPerWorker: number = PIPELINE_DEFAULTS.gpusPerWorker,
): SettingProblem[] {
    const offered = Object.keys(pool.nodeResources);
    if (offered.length === 0) {
        return [{ key: `${prefix}pool`, message: `"${pool.name}" has no GPUs; the worker needs a GPU pool` }];
    }
    const resource = resolveGpuResource(pool.nodeResources, gpuResource);
    if (resource === undefined) {
        return [
            {
                key: `${prefix}gpuResource`,
                message: `is required: pool "${pool.name}" offers ${offered.join(", ")}; name the one the worker requests`,
            },
        ];
    }
    const perNode = Object.hasOwn(pool.nodeResources, resource) ? pool.nodeResources[resource] : undefined;
    if (perNode === undefined) {
        return [
            {
                key: `${prefix}gpuResource`,
                message: `"${resource}" is not offered by pool "${pool.name}"; it offers ${offered.join(", ")}`,
            },
        ];
    }
    if (pool.labels?.[LABELS.gpuSharing] === "time-slicing" && gpusPerWorker > 1) {
        return [
            {
                key: `${prefix}gpusPerWorker`,
                message: `is ${gpusPerWorker}, but pool "${pool.name}" time-slices its GPUs and gives each pod one replica; use 1, or a pool of whole GPUs`,
            },
        ];
    }
    if (Number.isInteger(gpusPerWorker) && gpusPerWorker > perNode) {
        return [
            {
                key: `${prefix}gpusPerWorker`,
                message: `is ${gpusPerWorker}, but one "${pool.name}" node offers ${perNode} ${resource}; a worker must fit on one node`,
            },
        ];
    }
    return [];
}

/**
 * Problems with the worker's CPU and memory: each must be a quantity, and fit what one node of
 * its pool leaves for pods. A worker that asks for more is never scheduled, and Cluster
 * Autoscaler starts no node for it either. `who` names the worker in messages.
 */
export function workerResourceProblems(
    prefix: string,
    pool: Pick<GpuPoolFacts, "name" | "podRoom">,
    cpu: string = PIPELINE_DEFAULTS.cpu,
    memory: string = PIPELINE_DEFAULTS.memory,
    who = "the worker",
): SettingProblem[] {
    const problems: SettingProblem[] = [];
    const millis = cpuMillis(cpu);
    const mebibytes = memoryMiB(memory);
    if (millis === undefined || millis <= 0)
        problems.push({
            key: `${prefix}cpu`,
            message: `is "${cpu}"; must be a Kubernetes CPU quantity above 0, such as "3" or "500m"`,
        });
    if (mebibytes === undefined || mebibytes <= 0)
        problems.push({
            key: `${prefix}memory`,
            message: `is "${memory}"; must be a Kubernetes memory quantity above 0, such as "12Gi"`,
        });
    const room = pool.podRoom;
    if (!room) return problems;
    const on = `one node of pool "${pool.name}"`;
    if (millis !== undefined && millis > room.cpuMillis) {
        problems.push({
            key: `${prefix}cpu`,
            message:
                `is "${cpu}" (${millis}m), but ${on} leaves ${room.cpuMillis}m for pods${room.cpuDetail ? ` (${room.cpuDetail})` : ""}: ` +
                `${who} could never be scheduled; request at most ${room.cpuMillis}m, or use a pool of larger instances`,
        });
    }
    if (mebibytes !== undefined && mebibytes > room.memoryMiB) {
        problems.push({
            key: `${prefix}memory`,
            message:
                `is "${memory}" (${Math.ceil(mebibytes)}Mi), but ${on} leaves ${room.memoryMiB}Mi for pods${room.memoryDetail ? ` (${room.memoryDetail})` : ""}: ` +
                `${who} could never be scheduled; request at most ${room.memoryMiB}Mi, or use a pool of larger instances`,
        });
    }
    return problems;
}
