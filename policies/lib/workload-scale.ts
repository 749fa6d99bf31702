/**
 * How many GPUs a Kubernetes workload can hold at once: its pods at their most, times each
 * pod's GPUs (counted as the scheduler counts them, lib/pod-specs.ts), per GPU resource.
 *
 * Pods at their most, for each pod template, multiply what every object above it says:
 * - `replicas` (Deployment, StatefulSet, ReplicaSet, Kubeflow PyTorchJob/TFJob/MPIJob replica
 *   specs, Ray worker groups, JobSet's replicated jobs), or its `maxReplicas` when larger (Ray);
 * - `parallelism` (Job, a CronJob's job template, a KEDA ScaledJob's job), capped by
 *   `completions` when that is smaller;
 * - `numOfHosts` (Ray multi-host worker groups);
 * - a LeaderWorkerSet's `leaderWorkerTemplate.size` (the worker template's pods per group);
 * - a PyTorchJob's `elasticPolicy.maxReplicas` for its workers;
 * - a Deployment or StatefulSet scaled by a HorizontalPodAutoscaler (its `maxReplicas`) or a KEDA
 *   ScaledObject (its `maxReplicaCount`, KEDA's default 100) of this stack that names it;
 * - a KEDA ScaledJob's `maxReplicaCount` (default 100) jobs at once.
 * A DaemonSet (one pod per node), a CronJob whose runs may overlap (`concurrencyPolicy` Allow,
 * the default), or a count the preview does not know has no bound the preview can see.
 */
import { GPU_RESOURCE, MIG_RESOURCE_PREFIX, SHARED_GPU_RESOURCE } from "@gpu-platform/catalog";
import { gpuAsks, gpusPerPodByResource, holdsKubernetesObjects, kubernetesObjects } from "./pod-specs";
import { Props, asNumber, asRecord, asString, isUnknown } from "./values";
import { NamespaceResolution, UNRESOLVED_NAMESPACE, apiVersionOf, objectNamespace } from "./object-namespace";

/** KEDA's default for ScaledObject and ScaledJob `maxReplicaCount` (keda.sh, "Scaling Deployments" and "Scaling Jobs"). */
export const KEDA_DEFAULT_MAX_REPLICAS = 100;
const MAX_DEPTH = 64;
/** Keys that only lead to a pod template, not name one of several (a Kubeflow replica type, a Ray worker group). */
const PATH_KEYS = new Set(["", "spec", "template", "jobTemplate", "jobTargetRef"]);
const NAMES_A_REPLICA_SPEC = (key: string) => !PATH_KEYS.has(key);

/** One pod template of a workload at its most. */
export interface ScaledPods {
    /** Where the pod template sits, e.g. `spec.template.spec`. */
    readonly path: string;
    /** Pods at once at most; undefined when nothing bounds them (`unbounded` says why). */
    readonly pods?: number;
    readonly unbounded?: string;
    /** How the count was reached: `replicas 2 × HorizontalPodAutoscaler "web" maxReplicas 6`. */
    readonly why: string;
    /** GPUs of each resource one pod holds. */
    readonly gpusPerPod: ReadonlyMap<string, number>;
}

export interface ScaledWorkload {
    readonly urn: string;
    /** `Deployment "web"`, `ConfigGroup "jobs": PyTorchJob "train"`. */
    readonly label: string;
    readonly kind: string;
    readonly name?: string;
    /** Where it runs: its metadata.namespace, else its provider's (lib/object-namespace.ts). */
    readonly namespace: NamespaceResolution;
    readonly pods: readonly ScaledPods[];
}

interface ScaleTarget {
    readonly kind: string;
    readonly name?: string;
    /** Its namespace (UNRESOLVED_NAMESPACE when neither it nor its provider names one); undefined (any) when the preview does not know it. */
    readonly namespace?: string;
    /** Its maximum; undefined when the preview does not know it. */
    readonly max?: number;
    readonly by: string;
}

interface Found {
    readonly path: string;
    readonly spec: Props;
    /** The records from the object's root down to the pod spec's parent, with the key each was reached by. */
    readonly chain: readonly { key: string; record: Props }[];
}

/** Pod specs below `object` with the records above each, each named by the key it sits under. */
function podSpecsWithChain(object: Props): Found[] {
    const found: Found[] = [];
    const visit = (node: unknown, path: string, ownKey: string, chain: Found["chain"], depth: number) => {
        if (depth > MAX_DEPTH || node === null || typeof node !== "object") return;
        if (Array.isArray(node)) {
            node.forEach((item, i) => visit(item, `${path}[${i}]`, ownKey, chain, depth + 1));
            return;
        }
        const record = node as Props;
        if (Array.isArray(record.containers) && path !== "") {
            found.push({ path, spec: record, chain });
            return;
        }
        const below = [...chain, { key: ownKey, record }];
        for (const key of Object.keys(record)) {
            if (depth === 0 && (key === "metadata" || key === "status")) continue;
            visit(record[key], path === "" ? key : `${path}.${key}`, key, below, depth + 1);
        }
    };
    visit(object, "", "", [], 0);
    return found;
}

const metadataOf = (o: Props) => asRecord(o.metadata) ?? {};

/** A scale target's name; undefined (any object of its kind there) when the preview does not know it. */
const targetName = (name: unknown) => (isUnknown(name) ? undefined : (asString(name) ?? ""));
const kedaMaximum = (max: unknown) => (isUnknown(max) ? undefined : (asNumber(max) ?? KEDA_DEFAULT_MAX_REPLICAS));

/**
 * The name two objects share when they land in the same namespace: its name, or UNRESOLVED_NAMESPACE
 * for objects whose kubeconfig decides (the same one, in one stack); undefined when not known yet.
 */
function namespaceKey(resolution: NamespaceResolution): string | undefined {
    if (resolution.state === "known") return resolution.name;
    return resolution.state === "pending" ? undefined : UNRESOLVED_NAMESPACE;
}

/** HorizontalPodAutoscalers and KEDA ScaledObjects of the stack, and what they scale. */
export function scaleTargets(objects: readonly { object: Props; namespace: NamespaceResolution }[]): ScaleTarget[] {
    return objects.flatMap(({ object: o, namespace: resolution }) => {
        const kind = asString(o.kind);
        const spec = asRecord(o.spec) ?? {};
        const ref = asRecord(spec.scaleTargetRef) ?? {};
        const namespace = namespaceKey(resolution);
        const by = `${kind} "${asString(metadataOf(o).name) ?? "?"}"`;
        if (kind === "HorizontalPodAutoscaler")
            return [
                {
                    kind: asString(ref.kind) ?? "",
                    name: targetName(ref.name),
                    namespace,
                    max: isUnknown(spec.maxReplicas) ? undefined : (asNumber(spec.maxReplicas) ?? 0),
                    by: `${by} maxReplicas`,
                },
            ];
        if (kind === "ScaledObject" && String(asString(o.apiVersion)).startsWith("keda.sh/"))
            return [
                {
                    kind: asString(ref.kind) ?? "Deployment",
                    name: targetName(ref.name),
                    namespace,
                    max: kedaMaximum(spec.maxReplicaCount),
                    by: `${by} maxReplicaCount`,
                },
            ];
        return [];
    });
}

/** The multiplier one record above a pod template contributes, or why it has no bound. */
function multiplierOf(record: Props, key: string, root: Props): { times: number; why: string[]; unbounded?: string } {
    const why: string[] = [];
    let times = 1;
    for (const field of ["replicas", "maxReplicas", "parallelism", "completions", "numOfHosts"]) {
        if (isUnknown(record[field])) return { times, why, unbounded: `${field} is computed during the update` };
    }
    const replicas = asNumber(record.replicas);
    const maxReplicas = asNumber(record.maxReplicas);
    const elastic = key === "Worker" ? asNumber(asRecord(asRecord(root.spec)?.elasticPolicy)?.maxReplicas) : undefined;
    const most = Math.max(replicas ?? 1, maxReplicas ?? 0, elastic ?? 0);
    if (replicas !== undefined || maxReplicas !== undefined || elastic !== undefined) {
        times *= most;
        why.push(
            `${NAMES_A_REPLICA_SPEC(key) ? `${key} ` : ""}${most === elastic ? "elasticPolicy.maxReplicas" : most === maxReplicas ? "maxReplicas" : "replicas"} ${most}`,
        );
    }
    const parallelism = asNumber(record.parallelism);
    const completions = asNumber(record.completions);
    if (parallelism !== undefined || completions !== undefined) {
        const running = Math.min(parallelism ?? 1, completions ?? Infinity);
        times *= running;
        why.push(`parallelism ${running}`);
    }
    const hosts = asNumber(record.numOfHosts);
    if (hosts !== undefined && hosts > 1) {
        times *= hosts;
        why.push(`numOfHosts ${hosts}`);
    }
    return { times, why };
}

/**
 * A LeaderWorkerSet's pods of one template per group (kubernetes-sigs/lws, api/leaderworkerset/v1:
 * `size` counts the leader; without a `leaderTemplate` the leader runs the worker template).
 */
function groupPods(spec: Props, path: string): { pods?: number; unbounded?: string; why: string } | undefined {
    const template = asRecord(spec.leaderWorkerTemplate) ?? {};
    if (!path.includes("workerTemplate")) return undefined;
    if (isUnknown(template.size))
        return { unbounded: "leaderWorkerTemplate.size is computed during the update", why: "" };
    const size = asNumber(template.size) ?? 1;
    const workers = template.leaderTemplate === undefined ? size : size - 1;
    return { pods: workers, why: `leaderWorkerTemplate.size ${size}${workers === size ? "" : " − 1 leader"}` };
}

/** Pods of one template at their most. */
function podsAtMost(
    kind: string,
    object: Props,
    found: Found,
    namespace: string | undefined,
    targets: readonly ScaleTarget[],
): Pick<ScaledPods, "pods" | "unbounded" | "why"> {
    const spec = asRecord(object.spec) ?? {};
    if (kind === "DaemonSet") return { unbounded: "a DaemonSet runs one pod on every node", why: "one per node" };
    if (kind === "CronJob" && (asString(spec.concurrencyPolicy) ?? "Allow") === "Allow")
        return {
            unbounded: "its concurrencyPolicy Allow lets runs overlap without a limit; set it to Forbid or Replace",
            why: "overlapping runs",
        };
    let pods = 1;
    const why: string[] = [];
    for (const { key, record } of found.chain) {
        const m = multiplierOf(record, key, object);
        if (m.unbounded) return { unbounded: m.unbounded, why: m.why.join(" × ") };
        pods *= m.times;
        why.push(...m.why);
    }
    const group = kind === "LeaderWorkerSet" ? groupPods(spec, found.path) : undefined;
    if (group?.unbounded) return { unbounded: group.unbounded, why: why.join(" × ") };
    if (group) {
        pods *= group.pods!;
        why.push(group.why);
    }
    const name = asString(metadataOf(object).name) ?? "";
    // A target or workload whose namespace the preview does not know yet may be the other's: counted (the stricter reading).
    const scaled = targets.filter(
        (t) =>
            t.kind === kind &&
            (t.name === undefined || t.name === name) &&
            (t.namespace === undefined || namespace === undefined || t.namespace === namespace),
    );
    const replicas = asNumber(spec.replicas) ?? 1;
    // Pods per replica: 1 for the kinds autoscalers scale (Deployment, StatefulSet), even at replicas 0.
    const perReplica = replicas > 0 ? pods / replicas : 1;
    for (const target of scaled) {
        if (target.max === undefined)
            return { unbounded: `${target.by} is computed during the update`, why: why.join(" × ") };
        if (target.max > replicas) {
            pods = Math.max(pods, perReplica * target.max);
            why.push(`${target.by} ${target.max}`);
        }
    }
    if (kind === "ScaledJob") {
        const jobs = kedaMaximum(spec.maxReplicaCount);
        if (jobs === undefined)
            return { unbounded: "its maxReplicaCount is computed during the update", why: why.join(" × ") };
        pods *= jobs;
        why.push(`maxReplicaCount ${jobs}${spec.maxReplicaCount === undefined ? " (KEDA's default)" : ""}`);
    }
    return { pods, why: why.join(" × ") || "1 pod" };
}

/** Every Kubernetes workload of the stack that asks for GPUs, at its most. */
export function scaledWorkloads(
    resources: readonly { urn: string; type: string; name: string; props: Props; providerProps?: Props }[],
): ScaledWorkload[] {
    const objects = resources.flatMap((r) =>
        holdsKubernetesObjects(r.type)
            ? kubernetesObjects(r.type, r.name, r.props).map((o) => ({
                  resource: r,
                  ...o,
                  namespace: objectNamespace(r.type, o.kind, o.object, r.providerProps),
              }))
            : [],
    );
    const targets = scaleTargets(
        objects
            .filter((o) => !o.patch)
            .map((o) => ({
                object: o.nested
                    ? o.object
                    : { apiVersion: apiVersionOf(o.resource.type, o.object), ...o.object, kind: o.kind },
                namespace: o.namespace,
            })),
    );
    return objects.flatMap(({ resource, label, kind, object, pathPrefix, patch, namespace }) => {
        if (patch) return []; // a patch changes a live object whose count the preview does not see
        const pods = podSpecsWithChain(object).flatMap((found) => {
            const gpusPerPod = gpusPerPodByResource(gpuAsks(found.spec));
            if (gpusPerPod.size === 0) return [];
            const atMost = podsAtMost(kind, object, found, namespaceKey(namespace), targets);
            return [{ path: `${pathPrefix}${found.path}`, gpusPerPod, ...atMost }];
        });
        if (pods.length === 0) return [];
        return [
            {
                urn: resource.urn,
                label,
                kind,
                name: asString(metadataOf(object).name) ?? resource.name,
                namespace,
                pods,
            },
        ];
    });
}

/** GPUs of each resource the workload holds at its most; undefined when some pod template has no bound. */
export function gpusAtMost(workload: ScaledWorkload): Map<string, number> | undefined {
    const total = new Map<string, number>();
    for (const p of workload.pods) {
        if (p.pods === undefined) return undefined;
        for (const [resource, n] of p.gpusPerPod) total.set(resource, (total.get(resource) ?? 0) + n * p.pods);
    }
    return total;
}

/** The GPU resources a quota or a price knows. */
export const GPU_RESOURCE_KINDS = {
    whole: GPU_RESOURCE,
    shared: SHARED_GPU_RESOURCE,
    migPrefix: MIG_RESOURCE_PREFIX,
} as const;
