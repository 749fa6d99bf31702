/**
 * Where each Kubernetes workload keeps its pod spec, and what GPUs the pods ask for.
 *
 * A GPU is one unit of `nvidia.com/gpu` (a whole GPU), `nvidia.com/gpu.shared` (a time-sliced
 * replica) or any `nvidia.com/mig-<profile>` resource (a MIG slice); see catalog/workload-classes.ts.
 */
import { isGpuResource } from "../../catalog";
import { Props, asList, asNumber, asRecord, asString } from "./values";

/** Workload types and the path of their pod spec, as the @pulumi/kubernetes types and KEDA's CRDs lay them out. */
const POD_SPEC_PATHS: Readonly<Record<string, readonly string[]>> = {
    "kubernetes:core/v1:Pod": ["spec"],
    "kubernetes:apps/v1:Deployment": ["spec", "template", "spec"],
    "kubernetes:apps/v1:StatefulSet": ["spec", "template", "spec"],
    "kubernetes:apps/v1:DaemonSet": ["spec", "template", "spec"],
    "kubernetes:apps/v1:ReplicaSet": ["spec", "template", "spec"],
    "kubernetes:batch/v1:Job": ["spec", "template", "spec"],
    "kubernetes:batch/v1:CronJob": ["spec", "jobTemplate", "spec", "template", "spec"],
    "kubernetes:keda.sh/v1alpha1:ScaledJob": ["spec", "jobTargetRef", "template", "spec"],
};

export const WORKLOAD_TYPES = Object.keys(POD_SPEC_PATHS);

export interface PodSpec {
    /** Where it sits in the resource, e.g. `spec.template.spec`. */
    readonly path: string;
    readonly spec: Props;
}

export function podSpecOf(type: string, props: Props): PodSpec | undefined {
    const keys = POD_SPEC_PATHS[type];
    if (!keys) return undefined;
    let node: unknown = props;
    for (const key of keys) node = asRecord(node)?.[key];
    const spec = asRecord(node);
    return spec && { path: keys.join("."), spec };
}

/** One GPU resource one container names, with what it requests and limits. */
export interface GpuAsk {
    /** `spec.containers[0]` and the like, relative to the pod spec. */
    readonly container: string;
    readonly containerName: string;
    readonly init: boolean;
    readonly resource: string;
    readonly request?: number;
    readonly limit?: number;
}

export function gpuAsks(spec: Props): GpuAsk[] {
    const asks: GpuAsk[] = [];
    for (const [field, init] of [["containers", false], ["initContainers", true]] as const) {
        asList(spec[field]).forEach((c, i) => {
            const container = asRecord(c) ?? {};
            const resources = asRecord(container.resources) ?? {};
            const requests = asRecord(resources.requests) ?? {};
            const limits = asRecord(resources.limits) ?? {};
            for (const resource of new Set([...Object.keys(requests), ...Object.keys(limits)].filter(isGpuResource))) {
                asks.push({
                    container: `${field}[${i}]`,
                    containerName: asString(container.name) ?? `#${i}`,
                    init,
                    resource,
                    request: asNumber(requests[resource]),
                    limit: asNumber(limits[resource]),
                });
            }
        });
    }
    return asks;
}

/**
 * GPUs one pod holds, as the scheduler counts it: its containers' GPUs added up, or its largest
 * init container's if that is more (init containers run one at a time, before the others).
 */
export function gpusPerPod(asks: readonly GpuAsk[]): number {
    const units = (a: GpuAsk) => Math.max(a.request ?? 0, a.limit ?? 0);
    const running = asks.filter((a) => !a.init).reduce((sum, a) => sum + units(a), 0);
    const initByContainer = new Map<string, number>();
    for (const a of asks.filter((x) => x.init)) initByContainer.set(a.container, (initByContainer.get(a.container) ?? 0) + units(a));
    return Math.max(running, ...initByContainer.values());
}

/** `container "trainer": nvidia.com/gpu 16` */
export function describeAsks(asks: readonly GpuAsk[]): string {
    return asks.map((a) => `container "${a.containerName}": ${a.resource} ${Math.max(a.request ?? 0, a.limit ?? 0)}`).join(", ");
}
