/**
 * The GPU limit per pod of each workload class, as the cluster enforces it (WorkloadClasses in
 * components/tenancy) and the pack evaluates it.
 *
 * A quota caps what a whole namespace holds; no quota can say "no single pod over 8 GPUs", so
 * this is an admission rule. It checks pods and the workloads that make them, so a Deployment
 * asking too much is refused when it is applied, not later by its ReplicaSet, out of sight.
 */
import { GPU_RESOURCE, MIG_RESOURCE_PREFIX, SHARED_GPU_RESOURCE } from "../kubernetes-names";
import { AdmissionRule, AdmissionResourceRule, celString } from "./types";

export const GPU_LIMIT_POLICY = "gpu-platform-gpu-limits";

/** Namespaces whose own pods request GPUs outside any workload class: the GPU Operator's validators, and the system's. */
export const GPU_LIMIT_EXEMPT_NAMESPACES: readonly string[] = ["kube-system", "gpu-operator"];

/** What the rule needs of a workload class. */
export interface GpuLimitClass {
    readonly name: string;
    readonly maxGpusPerPod: number;
}

const WRITE = ["CREATE", "UPDATE"] as const;

/** Pods and the built-in kinds that hold a pod template. */
export const POD_AND_WORKLOAD_RESOURCES: readonly AdmissionResourceRule[] = [
    { apiGroups: [""], apiVersions: ["v1"], operations: WRITE, resources: ["pods"] },
    {
        apiGroups: ["apps"],
        apiVersions: ["v1"],
        operations: WRITE,
        resources: ["deployments", "statefulsets", "replicasets", "daemonsets"],
    },
    { apiGroups: ["batch"], apiVersions: ["v1"], operations: WRITE, resources: ["jobs", "cronjobs"] },
];

/** CEL: the pod spec of a Pod, or the template's of a workload (a CronJob's one level deeper). */
export const POD_SPEC_EXPRESSION =
    "object.kind == 'Pod' ? object.spec : " +
    "(object.kind == 'CronJob' ? object.spec.jobTemplate.spec.template.spec : object.spec.template.spec)";

/** A CEL expression: the GPUs one container asks for, whole GPUs, shared replicas and MIG slices alike. */
const CONTAINER_GPUS =
    "has(c.resources) && has(c.resources.limits) ? " +
    `c.resources.limits.filter(r, r == '${GPU_RESOURCE}' || r == '${SHARED_GPU_RESOURCE}' || r.startsWith('${MIG_RESOURCE_PREFIX}'))` +
    ".map(r, int(c.resources.limits[r])).sum() : 0";

/**
 * Limits are read from `resources.limits`: Kubernetes requires extended resources such as GPUs
 * to have limits, and requests equal to them. A pod's GPUs are counted as the scheduler counts
 * them (its containers, or its largest init container, plus sidecars). `sum()` and `max()` are
 * Kubernetes' CEL list functions. A failure to evaluate (a GPU quantity that is not a whole
 * number) refuses the object.
 */
export function gpuLimitRule(
    classes: readonly GpuLimitClass[],
    exemptNamespaces: readonly string[] = GPU_LIMIT_EXEMPT_NAMESPACES,
): AdmissionRule {
    const limits = `{${classes.map((c) => `${celString(c.name)}: ${c.maxGpusPerPod}`).join(", ")}}`;
    const names = classes.map((c) => c.name).join(", ");
    return {
        name: GPU_LIMIT_POLICY,
        description:
            "A pod that requests GPUs names a workload class (its priority class) and asks for no more GPUs than the class allows per pod.",
        scope: "cluster",
        resourceRules: POD_AND_WORKLOAD_RESOURCES,
        namespaceSelector: {
            matchExpressions: [
                { key: "kubernetes.io/metadata.name", operator: "NotIn", values: [...exemptNamespaces] },
            ],
        },
        variables: [
            { name: "podSpec", expression: POD_SPEC_EXPRESSION },
            {
                name: "initContainers",
                expression: "has(variables.podSpec.initContainers) ? variables.podSpec.initContainers : []",
            },
            {
                // Sidecars (init containers that keep running) add to the pod's containers.
                name: "sidecarGpus",
                expression: `variables.initContainers.filter(c, has(c.restartPolicy) && c.restartPolicy == 'Always').map(c, ${CONTAINER_GPUS}).sum()`,
            },
            {
                // As the scheduler counts a pod: its containers together, or its largest init container, whichever is more.
                name: "gpus",
                expression:
                    `variables.sidecarGpus + ([variables.podSpec.containers.map(c, ${CONTAINER_GPUS}).sum()] + ` +
                    `variables.initContainers.filter(c, !has(c.restartPolicy) || c.restartPolicy != 'Always').map(c, ${CONTAINER_GPUS})).max()`,
            },
            {
                name: "priorityClass",
                expression: "has(variables.podSpec.priorityClassName) ? variables.podSpec.priorityClassName : ''",
            },
            { name: "maxGpusPerPod", expression: limits },
        ],
        validations: [
            {
                expression: "variables.gpus == 0 || variables.priorityClass in variables.maxGpusPerPod",
                messageExpression:
                    `'requests ' + string(variables.gpus) + ' GPUs, so it must set spec.priorityClassName to a workload class (${names})` +
                    ` instead of "' + variables.priorityClass + '"'`,
                reason: "Forbidden",
            },
            {
                expression:
                    "variables.gpus == 0 || !(variables.priorityClass in variables.maxGpusPerPod) || " +
                    "variables.gpus <= variables.maxGpusPerPod[variables.priorityClass]",
                messageExpression:
                    "'requests ' + string(variables.gpus) + ' GPUs per pod, but priority class ' + variables.priorityClass + " +
                    "' allows at most ' + string(variables.maxGpusPerPod[variables.priorityClass]) + '; request fewer or use a class that allows more'",
                reason: "Forbidden",
            },
        ],
    };
}
