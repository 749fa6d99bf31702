/**
 * The part of Kueue's Workload (kueue.x-k8s.io/v1beta2 at Kueue v0.19.2,
 * apis/kueue/v1beta2/workload_types.go) the gate reads and writes, and small readers over it.
 */

export interface OwnerReference {
    readonly apiVersion: string;
    readonly kind: string;
    readonly name: string;
    readonly uid: string;
    readonly controller?: boolean;
}

export interface Condition {
    readonly type: string;
    readonly status: "True" | "False" | "Unknown";
    readonly reason?: string;
    readonly message?: string;
    readonly lastTransitionTime?: string;
}

export type CheckState = "Pending" | "Ready" | "Retry" | "Rejected";

export interface AdmissionCheckState {
    readonly name: string;
    readonly state: CheckState;
    readonly message: string;
    readonly lastTransitionTime: string;
    readonly requeueAfterSeconds?: number;
    readonly retryCount?: number;
    readonly podSetUpdates?: readonly { name: string; annotations?: Record<string, string> }[];
}

export interface PodTemplate {
    readonly metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
    readonly spec: {
        readonly priorityClassName?: string;
        readonly restartPolicy?: string;
        readonly containers: readonly unknown[];
    };
}

export interface Workload {
    readonly apiVersion: string;
    readonly kind: "Workload";
    readonly metadata: {
        readonly name: string;
        readonly namespace: string;
        readonly uid: string;
        readonly resourceVersion?: string;
        /** Set once the workload is being deleted (an RFC 3339 string on the wire; only its presence is read). */
        readonly deletionTimestamp?: Date;
        readonly labels?: Record<string, string>;
        readonly annotations?: Record<string, string>;
        readonly finalizers?: string[];
        readonly ownerReferences?: OwnerReference[];
    };
    readonly spec: {
        readonly podSets: readonly { name: string; count: number; template: PodTemplate }[];
        readonly queueName?: string;
        readonly priorityClassRef?: { group?: string; kind?: string; name?: string };
        readonly priority?: number;
        readonly active?: boolean;
        readonly maximumExecutionTimeSeconds?: number;
    };
    readonly status?: {
        readonly conditions?: readonly Condition[];
        readonly admission?: {
            readonly clusterQueue: string;
            readonly podSetAssignments: readonly {
                readonly name: string;
                readonly flavors?: Readonly<Record<string, string>>;
                readonly resourceUsage?: Readonly<Record<string, string>>;
                readonly count?: number;
            }[];
        };
        readonly admissionChecks?: readonly AdmissionCheckState[];
    };
}

export const WORKLOAD_GROUP = "kueue.x-k8s.io";
export const WORKLOAD_VERSION = "v1beta2";
export const WORKLOAD_PLURAL = "workloads";

/** The finalizer that keeps a deleted workload until the gate has released its reservation. */
export const GATE_FINALIZER = "gpu-platform.io/budget-reservation";

export const keyOf = (w: Pick<Workload, "metadata">) => `${w.metadata.namespace}/${w.metadata.name}`;

export function condition(w: Workload, type: string): Condition | undefined {
    return w.status?.conditions?.find((c) => c.type === type);
}

export const isTrue = (w: Workload, type: string) => condition(w, type)?.status === "True";

export function checkOf(w: Workload, check: string): AdmissionCheckState | undefined {
    return w.status?.admissionChecks?.find((c) => c.name === check);
}

/** Kueue asks the check: quota is reserved and the check is Pending (Kueue evaluates checks only then). */
export function awaitsCheck(w: Workload, check: string): boolean {
    return (
        !w.metadata.deletionTimestamp &&
        w.spec.active !== false &&
        isTrue(w, "QuotaReserved") &&
        !isTrue(w, "Finished") &&
        checkOf(w, check)?.state === "Pending"
    );
}

/** Admitted and running (not finished, not deactivated). */
export const isRunning = (w: Workload) =>
    isTrue(w, "Admitted") && !isTrue(w, "Finished") && w.spec.active !== false && !w.metadata.deletionTimestamp;

export function controllerOwner(w: Pick<Workload, "metadata">): OwnerReference | undefined {
    return w.metadata.ownerReferences?.find((o) => o.controller === true);
}

/** The workload's priority class: the WorkloadPriorityClass or PriorityClass it names, else its pods'. */
export function priorityClassOf(w: Workload): string | undefined {
    return (
        w.spec.priorityClassRef?.name ??
        w.spec.podSets.find((p) => p.template.spec.priorityClassName)?.template.spec.priorityClassName
    );
}

/** The time Kueue last reserved quota for it: one admission attempt, the key of the gate's request for it. */
export function quotaReservedAt(w: Workload): string | undefined {
    const c = condition(w, "QuotaReserved");
    return c?.status === "True" ? c.lastTransitionTime : undefined;
}
