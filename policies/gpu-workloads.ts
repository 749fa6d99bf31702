/**
 * Kubernetes workloads that ask for GPUs (`nvidia.com/gpu` or a MIG slice `nvidia.com/mig-…`):
 * Pods, Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs, CronJobs and KEDA ScaledJobs.
 * They set GPU limits, run under a platform priority class, tolerate the GPU taint, and ask for
 * no more GPUs per pod than their class allows (catalog/workload-classes.ts).
 *
 * A KEDA ScaledObject has no pod template: it scales the Deployment named in
 * `spec.scaleTargetRef`. That Deployment is checked as a Deployment when this stack creates it;
 * one created elsewhere (another stack, a Helm chart) is out of the preview's sight.
 */
import { DEFAULT_WORKLOAD_CLASSES, GPU_TAINT } from "../catalog";
import { CheckedResource, ConfigSpec, resourcePolicy } from "./lib/define";
import { GpuAsk, PodSpec, WORKLOAD_TYPES, describeAsks, gpuAsks, gpusPerPod, podSpecOf } from "./lib/pod-specs";
import { asList, asRecord, asString, isUnknown, listing } from "./lib/values";

interface ClassLimits {
    maxGpusPerPodByClass: Record<string, number>;
}

/** The platform's priority classes and their per-pod GPU limits; a stack's policy config may override them. */
const CLASS_LIMITS: ConfigSpec<ClassLimits> = {
    maxGpusPerPodByClass: {
        type: "object",
        additionalProperties: { type: "integer", minimum: 0 },
        description: "Priority class name → most GPUs one pod of that class may request. Default: catalog/workload-classes.ts.",
        default: Object.fromEntries(DEFAULT_WORKLOAD_CLASSES.map((c) => [c.name, c.maxGpusPerPod])),
    },
};

interface GpuPod extends PodSpec {
    readonly asks: GpuAsk[];
    /** `Pod "finetune"`, `ScaledJob "batch-embeddings-scaled-job"` */
    readonly label: string;
}

/** The resource's pod spec when its pods ask for GPUs. */
function gpuPod({ type, name, props }: CheckedResource): GpuPod | undefined {
    const pod = podSpecOf(type, props);
    const asks = pod ? gpuAsks(pod.spec) : [];
    return pod && asks.length > 0 ? { ...pod, asks, label: `${type.split(":").pop()} "${name}"` } : undefined;
}

function classNames(limits: Record<string, number>): string {
    return listing(Object.keys(limits));
}

export const gpuWorkloadLimits = resourcePolicy({
    name: "gpu-workload-limits",
    description:
        "Containers that request GPUs set the same amount as a limit: Kubernetes rejects GPU requests without limits and requires the two to be equal, " +
        "since GPUs cannot be overcommitted.",
    enforcementLevel: "mandatory",
    config: {},
    resourceTypes: WORKLOAD_TYPES,
    validate: (resource, _config, report) => {
        const pod = gpuPod(resource);
        if (!pod) return;
        for (const ask of pod.asks.filter((a) => a.request !== undefined && a.request !== a.limit)) {
            const where = `${pod.path}.${ask.container}.resources.limits["${ask.resource}"]`;
            const found = ask.limit === undefined ? "sets no limit for it" : `limits it to ${ask.limit}`;
            report(`${pod.label}: container "${ask.containerName}" requests ${ask.resource}: ${ask.request} but ${found}; set ${where} to ${ask.request}, equal to the request.`);
        }
    },
});

export const gpuWorkloadPriorityClass = resourcePolicy({
    name: "gpu-workload-priority-class",
    description: "Pods that ask for GPUs run under one of the platform's priority classes, which decides their GPU limit and what they may preempt.",
    enforcementLevel: "mandatory",
    config: CLASS_LIMITS,
    resourceTypes: WORKLOAD_TYPES,
    validate: (resource, { maxGpusPerPodByClass }, report) => {
        const pod = gpuPod(resource);
        if (!pod || isUnknown(pod.spec.priorityClassName)) return;
        const className = asString(pod.spec.priorityClassName);
        if (className !== undefined && className in maxGpusPerPodByClass) return;
        const found = className === undefined ? "sets no priorityClassName" : `sets priorityClassName "${className}", which is not a platform class`;
        report(
            `${pod.label} asks for GPUs (${describeAsks(pod.asks)}) but ${found}; set ${pod.path}.priorityClassName to one of ${classNames(maxGpusPerPodByClass)}.`,
        );
    },
});

export const gpuWorkloadToleration = resourcePolicy({
    name: "gpu-workload-toleration",
    description: `Pods that ask for GPUs tolerate the GPU nodes' taint ${GPU_TAINT.key}=${GPU_TAINT.value}:${GPU_TAINT.effect}; without it they can never be scheduled.`,
    enforcementLevel: "mandatory",
    config: {},
    resourceTypes: WORKLOAD_TYPES,
    validate: (resource, _config, report) => {
        const pod = gpuPod(resource);
        if (!pod || isUnknown(pod.spec.tolerations) || asList(pod.spec.tolerations).some(toleratesGpuTaint)) return;
        const wanted = `{ key: "${GPU_TAINT.key}", operator: "Equal", value: "${GPU_TAINT.value}", effect: "${GPU_TAINT.effect}" }`;
        const asks = `${pod.label} asks for GPUs (${describeAsks(pod.asks)})`;
        // A toleration for the GPU key that misses (a wrong value or effect) is named, so the fix goes there.
        const near = asList(pod.spec.tolerations).findIndex((t) => asRecord(t)?.key === GPU_TAINT.key);
        if (near >= 0) {
            const where = `${pod.path}.tolerations[${near}]`;
            report(
                `${asks} but ${where} (${describeToleration(asRecord(asList(pod.spec.tolerations)[near])!)}) does not match the GPU taint ` +
                    `${GPU_TAINT.key}=${GPU_TAINT.value}:${GPU_TAINT.effect}; set ${where} to ${wanted}.`,
            );
            return;
        }
        report(`${asks} but ${pod.path}.tolerations does not tolerate the GPU taint; add ${wanted} to ${pod.path}.tolerations.`);
    },
});

export const gpuWorkloadClassLimit = resourcePolicy({
    name: "gpu-workload-class-limit",
    description:
        "A pod asks for no more GPUs (whole GPUs, time-sliced replicas or MIG slices) than its priority class allows: " +
        listing(DEFAULT_WORKLOAD_CLASSES.map((c) => `${c.name} ${c.maxGpusPerPod}`)) +
        " by default.",
    enforcementLevel: "mandatory",
    config: CLASS_LIMITS,
    resourceTypes: WORKLOAD_TYPES,
    validate: (resource, { maxGpusPerPodByClass }, report) => {
        const pod = gpuPod(resource);
        const className = asString(pod?.spec.priorityClassName);
        const limit = className === undefined ? undefined : maxGpusPerPodByClass[className];
        if (!pod || limit === undefined) return; // no class, or not a platform class: gpu-workload-priority-class reports it
        const gpus = gpusPerPod(pod.asks);
        if (gpus <= limit) return;
        const fitting = Object.entries(maxGpusPerPodByClass).filter(([, max]) => max >= gpus);
        const instead = fitting.length > 0 ? `or use a class that allows ${gpus} (${listing(fitting.map(([c, max]) => `${c}: ${max}`))})` : "and split the work across pods";
        report(
            `${pod.label} asks for ${gpus} GPUs per pod (${describeAsks(pod.asks)}), above the ${limit} a "${className}" pod may take; ` +
                `lower the GPU requests and limits in ${pod.path}.containers to at most ${limit} in all, ${instead}.`,
        );
    },
});

/** `operator Equal, value "present", effect NoSchedule`: the fields a toleration sets. */
function describeToleration(t: Record<string, unknown>): string {
    return ["operator", "value", "effect"].filter((field) => t[field] !== undefined).map((field) => `${field} ${JSON.stringify(t[field])}`).join(", ");
}

/** Tolerates `nvidia.com/gpu=true:NoSchedule`: by key and value, by key with Exists, or a wildcard Exists. */
function toleratesGpuTaint(value: unknown): boolean {
    const t = asRecord(value);
    if (!t) return false;
    const operator = asString(t.operator) ?? "Equal";
    const keyMatches = t.key === GPU_TAINT.key || (operator === "Exists" && (t.key === undefined || t.key === ""));
    const valueMatches = operator === "Exists" || t.value === GPU_TAINT.value;
    const effectMatches = t.effect === undefined || t.effect === "" || t.effect === GPU_TAINT.effect;
    return keyMatches && valueMatches && effectMatches;
}
