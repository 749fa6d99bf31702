/**
 * Kubernetes workloads that ask for GPUs (`nvidia.com/gpu`, a time-sliced `nvidia.com/gpu.shared`
 * or a MIG slice `nvidia.com/mig-…`), wherever their pod template sits: built-in kinds, custom
 * resources (PyTorchJob, RayJob, KEDA ScaledJob, ...), patches and the objects of yaml/v2
 * components (lib/pod-specs.ts). They ask for whole GPUs with equal limits, run under a platform
 * priority class, tolerate the GPU taint, and ask for no more GPUs per pod than their class
 * allows (catalog/workload-classes.ts), counted as the scheduler counts them.
 *
 * A patch (`DeploymentPatch`) changes a live object this preview does not see: what it leaves
 * out (the class, the tolerations, a limit) keeps its live value, so only what it sets is
 * judged, and its GPUs are held to the largest limit any class allows.
 *
 * A KEDA ScaledObject has no pod template: it scales the Deployment named in
 * `spec.scaleTargetRef`. That Deployment is checked as a Deployment when this stack creates it;
 * one created elsewhere (another stack, a Helm chart) is out of the preview's sight.
 */
import { DEFAULT_WORKLOAD_CLASSES, GPU_TAINT } from "@gpu-platform/catalog";
import { CheckedResource, ConfigSpec, resourcePolicy } from "./lib/define";
import {
    GpuAmount,
    GpuAsk,
    PodSpec,
    describeAsks,
    gpuAsks,
    gpusPerPod,
    holdsKubernetesObjects,
    kubernetesObjects,
    podSpecsIn,
} from "./lib/pod-specs";
import { asList, asRecord, asString, isUnknown, listing } from "./lib/values";

interface ClassLimits {
    maxGpusPerPodByClass: Record<string, number>;
}

/** The platform's priority classes and their per-pod GPU limits; a stack's policy config may override them. */
const CLASS_LIMITS: ConfigSpec<ClassLimits> = {
    maxGpusPerPodByClass: {
        type: "object",
        additionalProperties: { type: "integer", minimum: 0 },
        description:
            "Priority class name → most GPUs one pod of that class may request. Default: catalog/workload-classes.ts.",
        default: Object.fromEntries(DEFAULT_WORKLOAD_CLASSES.map((c) => [c.name, c.maxGpusPerPod])),
    },
};

interface GpuPod extends PodSpec {
    readonly asks: GpuAsk[];
    /** `Pod "finetune"`, `PyTorchJob "train"`, `ConfigGroup "jobs": RayJob "tune"` */
    readonly label: string;
    /** From a patch: unset fields keep the live object's values. */
    readonly patch: boolean;
}

/** Every pod spec in the resource whose pods ask for GPUs, with its path from the resource's properties. */
function gpuPods({ type, name, props }: CheckedResource): GpuPod[] {
    return kubernetesObjects(type, name, props).flatMap(({ label, pathPrefix, object, patch }) =>
        podSpecsIn(object)
            .map((pod) => ({ path: `${pathPrefix}${pod.path}`, spec: pod.spec, asks: gpuAsks(pod.spec), label, patch }))
            .filter((pod) => pod.asks.length > 0),
    );
}

const WORKLOADS = { describe: "Kubernetes objects with pod templates", test: holdsKubernetesObjects };

function classNames(limits: Record<string, number>): string {
    return listing(Object.keys(limits));
}

export const gpuWorkloadLimits = resourcePolicy({
    name: "gpu-workload-limits",
    description:
        'Containers ask for GPUs in whole numbers (Kubernetes quantities, so "16000m" is 16) and set the same amount as a limit: ' +
        "Kubernetes refuses fractional or negative GPU amounts and GPU requests without an equal limit, since GPUs cannot be overcommitted.",
    enforcementLevel: "mandatory",
    config: {},
    resourceTypes: WORKLOADS,
    validate: (resource, _config, report) => {
        for (const pod of gpuPods(resource)) {
            for (const ask of pod.asks) {
                const prefix = `${pod.label}: ${ask.role} "${ask.containerName}"`;
                const invalid = (
                    [
                        ["requests", ask.request],
                        ["limits", ask.limit],
                    ] as const
                ).filter(
                    (entry): entry is readonly ["requests" | "limits", GpuAmount] =>
                        entry[1] !== undefined && !entry[1].valid,
                );
                for (const [field, amount] of invalid) {
                    const why =
                        amount.value === undefined
                            ? "which is not a Kubernetes quantity"
                            : amount.value < 0
                              ? "a negative amount"
                              : "not a whole number";
                    report(
                        `${prefix} ${field} ${ask.resource}: ${showAmount(amount)}, ${why}; the API server refuses it: ` +
                            `set ${pod.path}.${ask.container}.resources.${field}["${ask.resource}"] to a whole number of GPUs.`,
                    );
                }
                if (
                    invalid.length > 0 ||
                    ask.request === undefined ||
                    (ask.limit === undefined && pod.patch) ||
                    ask.request.value === ask.limit?.value
                )
                    continue;
                const where = `${pod.path}.${ask.container}.resources.limits["${ask.resource}"]`;
                const found =
                    ask.limit === undefined ? "sets no limit for it" : `limits it to ${showAmount(ask.limit)}`;
                report(
                    `${prefix} requests ${ask.resource}: ${showAmount(ask.request)} but ${found}; set ${where} to ${ask.request.value}, equal to the request.`,
                );
            }
        }
    },
});

export const gpuWorkloadPriorityClass = resourcePolicy({
    name: "gpu-workload-priority-class",
    description:
        "Pods that ask for GPUs run under one of the platform's priority classes, which decides their GPU limit and what they may preempt.",
    enforcementLevel: "mandatory",
    config: CLASS_LIMITS,
    resourceTypes: WORKLOADS,
    validate: (resource, { maxGpusPerPodByClass }, report) => {
        for (const pod of gpuPods(resource)) {
            const className = pod.spec.priorityClassName;
            if (isUnknown(className) || (className === undefined && pod.patch)) continue;
            if (typeof className === "string" && Object.hasOwn(maxGpusPerPodByClass, className)) continue;
            const found =
                className === undefined
                    ? "sets no priorityClassName"
                    : `sets priorityClassName ${JSON.stringify(className)}, which is not a platform class`;
            report(
                `${pod.label} asks for GPUs (${describeAsks(pod.asks)}) but ${found}; set ${pod.path}.priorityClassName to one of ${classNames(maxGpusPerPodByClass)}.`,
            );
        }
    },
});

export const gpuWorkloadToleration = resourcePolicy({
    name: "gpu-workload-toleration",
    description: `Pods that ask for GPUs tolerate the GPU nodes' taint ${GPU_TAINT.key}=${GPU_TAINT.value}:${GPU_TAINT.effect}; without it they can never be scheduled.`,
    enforcementLevel: "mandatory",
    config: {},
    resourceTypes: WORKLOADS,
    validate: (resource, _config, report) => {
        for (const pod of gpuPods(resource)) {
            const tolerations = pod.spec.tolerations;
            if (
                isUnknown(tolerations) ||
                (tolerations === undefined && pod.patch) ||
                asList(tolerations).some(toleratesGpuTaint)
            )
                continue;
            const wanted = `{ key: "${GPU_TAINT.key}", operator: "Equal", value: "${GPU_TAINT.value}", effect: "${GPU_TAINT.effect}" }`;
            const asks = `${pod.label} asks for GPUs (${describeAsks(pod.asks)})`;
            // A toleration for the GPU key that misses (a wrong value or effect) is named, so the fix goes there.
            const near = asList(tolerations).findIndex((t) => asRecord(t)?.key === GPU_TAINT.key);
            if (near >= 0) {
                const where = `${pod.path}.tolerations[${near}]`;
                report(
                    `${asks} but ${where} (${describeToleration(asRecord(asList(tolerations)[near])!)}) does not match the GPU taint ` +
                        `${GPU_TAINT.key}=${GPU_TAINT.value}:${GPU_TAINT.effect}; set ${where} to ${wanted}.`,
                );
                continue;
            }
            report(
                `${asks} but ${pod.path}.tolerations does not tolerate the GPU taint; add ${wanted} to ${pod.path}.tolerations.`,
            );
        }
    },
});

export const gpuWorkloadClassLimit = resourcePolicy({
    name: "gpu-workload-class-limit",
    description:
        "A pod asks for no more GPUs (whole GPUs, time-sliced replicas or MIG slices) than its priority class allows: " +
        listing(DEFAULT_WORKLOAD_CLASSES.map((c) => `${c.name} ${c.maxGpusPerPod}`)) +
        " by default. GPUs per pod are counted as the scheduler counts them: app containers and sidecars (init containers with " +
        "restartPolicy Always) together, or an init container with the sidecars started before it, whichever is more. " +
        "A patch that sets no class is held to the largest limit of any class.",
    enforcementLevel: "mandatory",
    config: CLASS_LIMITS,
    resourceTypes: WORKLOADS,
    validate: (resource, { maxGpusPerPodByClass }, report) => {
        for (const pod of gpuPods(resource)) {
            const className = asString(pod.spec.priorityClassName);
            const limit =
                className === undefined
                    ? pod.patch && !isUnknown(pod.spec.priorityClassName)
                        ? largestLimit(maxGpusPerPodByClass)
                        : undefined
                    : ownValue(maxGpusPerPodByClass, className);
            if (limit === undefined) continue; // no class, or not a platform class: gpu-workload-priority-class reports it
            const gpus = gpusPerPod(pod.asks);
            if (gpus <= limit) continue;
            const fitting = Object.entries(maxGpusPerPodByClass).filter(([, max]) => max >= gpus);
            const instead =
                fitting.length > 0
                    ? `or use a class that allows ${gpus} (${listing(fitting.map(([c, max]) => `${c}: ${max}`))})`
                    : "and split the work across pods";
            const holder = className === undefined ? "any class's pod" : `a "${className}" pod`;
            report(
                `${pod.label} asks for ${gpus} GPUs per pod (${describeAsks(pod.asks)}), above the ${limit} ${holder} may take; ` +
                    `lower the GPU requests and limits in ${pod.path}.containers${pod.asks.some((a) => a.role !== "container") ? " and .initContainers" : ""} to at most ${limit} in all, ${instead}.`,
            );
        }
    },
});

function ownValue(limits: Record<string, number>, key: string): number | undefined {
    return Object.hasOwn(limits, key) ? limits[key] : undefined;
}

function largestLimit(limits: Record<string, number>): number | undefined {
    const values = Object.values(limits);
    return values.length > 0 ? Math.max(...values) : undefined;
}

/** `8`, or `"16000m" (= 16)` when written otherwise, or `"1.5"` when it is no count at all. */
function showAmount(amount: GpuAmount): string {
    return amount.value !== undefined && amount.written === String(amount.value)
        ? amount.written
        : `"${amount.written}"${amount.value !== undefined ? ` (= ${amount.value})` : ""}`;
}

/** `operator Equal, value "present", effect NoSchedule`: the fields a toleration sets. */
function describeToleration(t: Record<string, unknown>): string {
    return ["operator", "value", "effect"]
        .filter((field) => t[field] !== undefined)
        .map((field) => `${field} ${JSON.stringify(t[field])}`)
        .join(", ");
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
