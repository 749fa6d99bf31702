import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { DEFAULT_WORKLOAD_CLASSES } from "@gpu-platform/catalog";
import { GPU_LIMIT_EXEMPT_NAMESPACES, gpuLimitRule } from "@gpu-platform/catalog/admission";
import { PACKAGE } from "../shared/tokens";
import { admissionPolicy } from "./admission-policy";

export const WORKLOAD_CLASSES_TYPE = `${PACKAGE}:tenancy:WorkloadClasses`;

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
        // The rule is catalog data (catalog/admission/gpu-limits.ts), which the policy pack evaluates too.
        const gpuLimits = admissionPolicy(
            `${name}-gpu-limits`,
            gpuLimitRule(classes, args.exemptNamespaces ?? GPU_LIMIT_EXEMPT_NAMESPACES),
            { parent: this },
        );
        this.gpuLimitPolicy = gpuLimits.policy;
        this.gpuLimitBinding = gpuLimits.binding;
        this.registerOutputs({});
    }
}
