import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { DEFAULT_WORKLOAD_CLASSES, GPU_RESOURCE, MIG_RESOURCE_PREFIX, SHARED_GPU_RESOURCE } from "../../catalog";
import { CHARTS } from "../shared/charts";
import { PACKAGE } from "../shared/tokens";

export const WORKLOAD_CLASSES_TYPE = `${PACKAGE}:tenancy:WorkloadClasses`;

/** Name of the admission policy that holds pods to their class's GPU limit. */
export const GPU_LIMIT_POLICY = "gpu-platform-gpu-limits";

/** Namespaces whose own pods request GPUs outside any workload class: the GPU Operator's validators, and the system's. */
export const GPU_LIMIT_EXEMPT_NAMESPACES = ["kube-system", CHARTS.gpuOperator.namespace];

/** One priority class and its per-pod GPU limit. */
export interface WorkloadClassArgs {
    /** The PriorityClass name pods set in `priorityClassName`. Required. */
    name: string;
    /** Scheduling priority, below 1,000,000,000; higher runs first. Required. */
    value: number;
    /** Most GPUs (whole, MIG slices or time-sliced replicas) one pod of the class may request. Required. */
    maxGpusPerPod: number;
    /** False: the class's pods wait for room instead of preempting lower classes. Default true. */
    preempts?: boolean;
    /** What the class is for, shown by `kubectl get priorityclass`. Default none. */
    description?: string;
}

export interface WorkloadClassesArgs {
    /** The classes. Default the catalog's five (catalog/workload-classes.ts). */
    classes?: WorkloadClassArgs[];
    /** Namespaces the GPU limit does not apply to. Default `kube-system` and `gpu-operator`. */
    exemptNamespaces?: string[];
}

/**
 * The priority classes GPU workloads run under, and the cluster's own enforcement of each
 * class's GPU limit per pod (production-inference 2, training 8, development 1, …).
 *
 * The limit is a `ValidatingAdmissionPolicy`, not a ResourceQuota: a quota caps what a whole
 * namespace holds, and no quota can say "no single pod over 8 GPUs". The policy checks pods
 * and the workloads that make them (Deployments, StatefulSets, ReplicaSets, DaemonSets, Jobs,
 * CronJobs), so a Deployment asking too much is refused when it is applied, not later by its
 * ReplicaSet, out of sight. A pod that requests GPUs must name one of these classes. Team
 * quotas (TeamNamespace) cap the total on top.
 *
 * ```ts
 * new WorkloadClasses("workload-classes", {}, { provider: cluster.provider });
 * ```
 *
 * Cost: none; the API server evaluates the policy in-process (CEL).
 */
export class WorkloadClasses extends pulumi.ComponentResource {
    public readonly priorityClasses: Record<string, k8s.scheduling.v1.PriorityClass>;
    public readonly gpuLimitPolicy: k8s.admissionregistration.v1.ValidatingAdmissionPolicy;
    public readonly gpuLimitBinding: k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding;

    constructor(name: string, args: WorkloadClassesArgs = {}, opts?: pulumi.ComponentResourceOptions) {
        super(WORKLOAD_CLASSES_TYPE, name, {}, opts);
        const classes = args.classes ?? [...DEFAULT_WORKLOAD_CLASSES];

        this.priorityClasses = Object.fromEntries(
            classes.map((c) => [
                c.name,
                new k8s.scheduling.v1.PriorityClass(
                    `${name}-${c.name}`,
                    {
                        metadata: { name: c.name },
                        value: c.value,
                        globalDefault: false,
                        preemptionPolicy: c.preempts === false ? "Never" : "PreemptLowerPriority",
                        description: c.description,
                    },
                    { parent: this },
                ),
            ]),
        );
        this.gpuLimitPolicy = new k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
            `${name}-gpu-limits`,
            {
                metadata: { name: GPU_LIMIT_POLICY },
                spec: gpuLimitPolicySpec(classes, args.exemptNamespaces ?? GPU_LIMIT_EXEMPT_NAMESPACES),
            },
            { parent: this },
        );
        this.gpuLimitBinding = new k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
            `${name}-gpu-limits-binding`,
            {
                metadata: { name: GPU_LIMIT_POLICY },
                spec: { policyName: GPU_LIMIT_POLICY, validationActions: ["Deny"] },
            },
            { parent: this, dependsOn: [this.gpuLimitPolicy] },
        );
        this.registerOutputs({});
    }
}

/** A CEL expression: the GPUs one container asks for, whole GPUs, shared replicas and MIG slices alike. */
const CONTAINER_GPUS =
    "has(c.resources) && has(c.resources.limits) ? " +
    `c.resources.limits.filter(r, r == '${GPU_RESOURCE}' || r == '${SHARED_GPU_RESOURCE}' || r.startsWith('${MIG_RESOURCE_PREFIX}'))` +
    ".map(r, int(c.resources.limits[r])).sum() : 0";

/**
 * The admission policy's spec. Limits are read from `resources.limits`: Kubernetes requires
 * extended resources such as GPUs to have limits, and requests equal to them. A pod's GPUs are
 * counted as the scheduler counts them (its containers, or its largest init container, plus
 * sidecars). `sum()` and `max()` are Kubernetes' CEL list functions. A failure to evaluate
 * (a GPU quantity that is not a whole number) refuses the object.
 */
export function gpuLimitPolicySpec(
    classes: WorkloadClassArgs[],
    exemptNamespaces: string[],
): k8s.types.input.admissionregistration.v1.ValidatingAdmissionPolicySpec {
    const limits = `{${classes.map((c) => `'${c.name}': ${c.maxGpusPerPod}`).join(", ")}}`;
    const names = classes.map((c) => c.name).join(", ");
    const operations = ["CREATE", "UPDATE"];
    return {
        failurePolicy: "Fail",
        matchConstraints: {
            resourceRules: [
                { apiGroups: [""], apiVersions: ["v1"], operations, resources: ["pods"] },
                {
                    apiGroups: ["apps"],
                    apiVersions: ["v1"],
                    operations,
                    resources: ["deployments", "statefulsets", "replicasets", "daemonsets"],
                },
                { apiGroups: ["batch"], apiVersions: ["v1"], operations, resources: ["jobs", "cronjobs"] },
            ],
            namespaceSelector: {
                matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "NotIn", values: exemptNamespaces }],
            },
        },
        variables: [
            {
                name: "podSpec",
                expression:
                    "object.kind == 'Pod' ? object.spec : " +
                    "(object.kind == 'CronJob' ? object.spec.jobTemplate.spec.template.spec : object.spec.template.spec)",
            },
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
