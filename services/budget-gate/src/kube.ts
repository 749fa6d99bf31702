/**
 * The Kubernetes API as the gate uses it, through @kubernetes/client-node 1.4.0 (its informer
 * does the list and the watch from the list's resourceVersion, and relists on 410 Gone):
 * Workloads (watch, status by server-side apply, spec.active and finalizers by merge patch with
 * a resourceVersion precondition), the pods and ReplicaSets a workload belongs to (read),
 * Events (create) and the leader Lease.
 */
import * as k8s from "@kubernetes/client-node";
import { WORKLOAD_GROUP, WORKLOAD_PLURAL, WORKLOAD_VERSION, type AdmissionCheckState, type Workload } from "./workload";

export const FIELD_MANAGER = "budget-gate";

export interface Lease {
    readonly holderIdentity?: string;
    readonly renewTime?: string;
    readonly acquireTime?: string;
    readonly leaseDurationSeconds?: number;
    readonly leaseTransitions?: number;
    readonly resourceVersion?: string;
}

export interface KubeApi {
    workloadInformer(): k8s.Informer<Workload> & k8s.ObjectCache<Workload>;
    /** Sets the gate's check on the workload, if it is still at `resourceVersion`. */
    applyCheck(w: Workload, check: AdmissionCheckState): Promise<void>;
    /** Merge-patches the workload (its spec.active, its finalizers), if it is still at its resourceVersion. */
    patchWorkload(
        w: Workload,
        patch: { spec?: Record<string, unknown>; metadata?: Record<string, unknown> },
    ): Promise<Workload>;
    ownerOf(namespace: string, kind: "Pod" | "ReplicaSet", name: string): Promise<k8s.V1OwnerReference | undefined>;
    event(w: Workload, type: "Normal" | "Warning", reason: string, message: string, now: Date): Promise<void>;
    readLease(namespace: string, name: string): Promise<Lease | undefined>;
    /** Creates (no resourceVersion) or replaces the lease; false when another replica wrote it first. */
    writeLease(namespace: string, name: string, lease: Lease): Promise<boolean>;
}

/** The status code of a failed API call, when the API server answered. */
export function statusOf(err: unknown): number | undefined {
    if (err instanceof k8s.ApiException) return err.code;
    const code =
        (err as { code?: unknown; statusCode?: unknown } | undefined)?.statusCode ??
        (err as { code?: unknown } | undefined)?.code;
    return typeof code === "number" ? code : undefined;
}

export function kubeApi(kc: k8s.KubeConfig): KubeApi {
    return { ...workloadApi(kc), ...ownershipAndEventsApi(kc), ...leaseApi(kc) };
}

const WORKLOAD_API_VERSION = `${WORKLOAD_GROUP}/${WORKLOAD_VERSION}`;

/** The Workload custom resources: watched, their check applied to status, spec and finalizers patched. */
function workloadApi(kc: k8s.KubeConfig): Pick<KubeApi, "workloadInformer" | "applyCheck" | "patchWorkload"> {
    const custom = kc.makeApiClient(k8s.CustomObjectsApi);
    const workload = { group: WORKLOAD_GROUP, version: WORKLOAD_VERSION, plural: WORKLOAD_PLURAL };
    return {
        workloadInformer: () =>
            k8s.makeInformer<Workload>(
                kc,
                `/apis/${WORKLOAD_GROUP}/${WORKLOAD_VERSION}/${WORKLOAD_PLURAL}`,
                () => custom.listClusterCustomObject(workload) as Promise<k8s.KubernetesListObject<Workload>>,
            ),
        async applyCheck(w, check) {
            const body = {
                apiVersion: WORKLOAD_API_VERSION,
                kind: "Workload",
                metadata: {
                    name: w.metadata.name,
                    namespace: w.metadata.namespace,
                    resourceVersion: w.metadata.resourceVersion,
                },
                status: { admissionChecks: [check] },
            };
            await custom.patchNamespacedCustomObjectStatus(
                {
                    ...workload,
                    namespace: w.metadata.namespace,
                    name: w.metadata.name,
                    body,
                    fieldManager: FIELD_MANAGER,
                    force: true,
                },
                k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.ServerSideApply),
            );
        },
        async patchWorkload(w, patch) {
            const body = { ...patch, metadata: { ...patch.metadata, resourceVersion: w.metadata.resourceVersion } };
            return (await custom.patchNamespacedCustomObject(
                { ...workload, namespace: w.metadata.namespace, name: w.metadata.name, body },
                k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
            )) as Workload;
        },
    };
}

/** Who owns a pod or ReplicaSet (to find its workload), and Events on a workload. */
function ownershipAndEventsApi(kc: k8s.KubeConfig): Pick<KubeApi, "ownerOf" | "event"> {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    return {
        async ownerOf(namespace, kind, name) {
            const object =
                kind === "Pod"
                    ? await core.readNamespacedPod({ namespace, name })
                    : await apps.readNamespacedReplicaSet({ namespace, name });
            return object.metadata?.ownerReferences?.find((o) => o.controller === true);
        },
        async event(w, type, reason, message, now) {
            await core.createNamespacedEvent({
                namespace: w.metadata.namespace,
                body: workloadEvent(w, type, reason, message, now),
            });
        },
    };
}

function workloadEvent(
    w: Workload,
    type: "Normal" | "Warning",
    reason: string,
    message: string,
    now: Date,
): k8s.CoreV1Event {
    const time = now.toISOString().replace(/\.\d{3}Z$/, "Z");
    return {
        metadata: { generateName: `${w.metadata.name}.`, namespace: w.metadata.namespace },
        involvedObject: {
            apiVersion: WORKLOAD_API_VERSION,
            kind: "Workload",
            name: w.metadata.name,
            namespace: w.metadata.namespace,
            uid: w.metadata.uid,
        },
        type,
        reason,
        message: message.slice(0, 1024),
        source: { component: FIELD_MANAGER },
        firstTimestamp: new Date(time),
        lastTimestamp: new Date(time),
        count: 1,
    };
}

/** The leader Lease: read, and created or replaced under its resourceVersion. */
function leaseApi(kc: k8s.KubeConfig): Pick<KubeApi, "readLease" | "writeLease"> {
    const coordination = kc.makeApiClient(k8s.CoordinationV1Api);
    return {
        async readLease(namespace, name) {
            try {
                const lease = await coordination.readNamespacedLease({ namespace, name });
                const spec = lease.spec ?? {};
                return {
                    holderIdentity: spec.holderIdentity,
                    renewTime: spec.renewTime ? new Date(spec.renewTime).toISOString() : undefined,
                    acquireTime: spec.acquireTime ? new Date(spec.acquireTime).toISOString() : undefined,
                    leaseDurationSeconds: spec.leaseDurationSeconds,
                    leaseTransitions: spec.leaseTransitions,
                    resourceVersion: lease.metadata?.resourceVersion,
                };
            } catch (err) {
                if (statusOf(err) === 404) return undefined;
                throw err;
            }
        },
        async writeLease(namespace, name, lease) {
            const body: k8s.V1Lease = {
                metadata: { name, namespace, resourceVersion: lease.resourceVersion },
                spec: {
                    holderIdentity: lease.holderIdentity,
                    leaseDurationSeconds: lease.leaseDurationSeconds,
                    leaseTransitions: lease.leaseTransitions,
                    acquireTime: lease.acquireTime ? new k8s.V1MicroTime(lease.acquireTime) : undefined,
                    renewTime: lease.renewTime ? new k8s.V1MicroTime(lease.renewTime) : undefined,
                },
            };
            try {
                if (lease.resourceVersion === undefined) await coordination.createNamespacedLease({ namespace, body });
                else await coordination.replaceNamespacedLease({ namespace, name, body });
                return true;
            } catch (err) {
                if (statusOf(err) === 409) return false;
                throw err;
            }
        },
    };
}
