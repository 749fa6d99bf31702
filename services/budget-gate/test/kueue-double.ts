/**
 * The test's part of Kueue (v0.19.2) and what the gate specs share: the Workload Kueue's Job
 * integration makes for a batch/v1 Job, quota reservation and conditions as Kueue writes them,
 * validation against the v1beta2 CRD schema (packages/kueue-schemas/fixtures/kueue-0.19.2), the gate's RBAC as the
 * API server would apply it, and waiting on loopback state.
 *
 * The Workload of a Job, as pkg/controller/jobs/job (jobframework's ConstructWorkload) builds it
 * at v0.19.2: one pod set `main` of `parallelism` pods (default 1) with the Job's pod template;
 * the Job as controller owner and its UID in the `kueue.x-k8s.io/job-uid` label; the queue from
 * `kueue.x-k8s.io/queue-name`, else the namespace's LocalQueue `default` (LocalQueue defaulting);
 * `spec.maximumExecutionTimeSeconds` from the Job's `kueue.x-k8s.io/max-exec-time-seconds`
 * label; the priority from a `kueue.x-k8s.io/priority-class` WorkloadPriorityClass, else the
 * pod's PriorityClass. The name keeps Kueue's shape (`job-<name>-<5 characters>`); Kueue's hash
 * is not reproduced, as nothing reads it.
 */
import type { Workload } from "../src/workload";
import { kueueSchemaErrors } from "@gpu-platform/kueue-schemas";
import {
    BUDGET_GATE_CLUSTER_RULES,
    BUDGET_GATE_EVENT_RULES,
    BUDGET_GATE_LEASE_RULES,
    type RbacRule,
    rulesAllow,
} from "@gpu-platform/catalog/contracts";

/** A batch/v1 Job manifest, as far as Kueue reads it. */
export interface JobManifest {
    readonly metadata: { name: string; namespace: string; labels?: Record<string, string> };
    readonly spec: { parallelism?: number; template: Workload["spec"]["podSets"][number]["template"] };
}

/** The priority value of each class, as the cluster's PriorityClasses and WorkloadPriorityClasses hold them. */
export type ClassValues = readonly { name: string; value: number }[];

export function workloadForJob(job: JobManifest, uid: string, classes: ClassValues): Workload {
    const labels = job.metadata.labels ?? {};
    const workloadClass = labels["kueue.x-k8s.io/priority-class"];
    const className = workloadClass ?? job.spec.template.spec.priorityClassName;
    const priorityClassRef = workloadClass
        ? { group: "kueue.x-k8s.io", kind: "WorkloadPriorityClass", name: workloadClass }
        : className
          ? { group: "scheduling.k8s.io", kind: "PriorityClass", name: className }
          : undefined;
    const maxSeconds = labels["kueue.x-k8s.io/max-exec-time-seconds"];
    return {
        apiVersion: "kueue.x-k8s.io/v1beta2",
        kind: "Workload",
        metadata: {
            name: `job-${job.metadata.name}-${uid.slice(0, 5)}`,
            namespace: job.metadata.namespace,
            uid: `wl-${uid}`,
            labels: { "kueue.x-k8s.io/job-uid": uid },
            ownerReferences: [{ apiVersion: "batch/v1", kind: "Job", name: job.metadata.name, uid, controller: true }],
        },
        spec: {
            queueName: labels["kueue.x-k8s.io/queue-name"] ?? "default",
            ...(priorityClassRef
                ? { priorityClassRef, priority: classes.find((c) => c.name === className)?.value ?? 0 }
                : {}),
            ...(maxSeconds ? { maximumExecutionTimeSeconds: Number(maxSeconds) } : {}),
            podSets: [{ name: "main", count: job.spec.parallelism ?? 1, template: job.spec.template }],
        },
    };
}

export const condition = (type: string, reason: string, at: string) => ({
    type,
    status: "True" as const,
    reason,
    message: "",
    lastTransitionTime: at,
});

export const withCondition = (w: Workload, type: string, reason: string, at: string): Workload => ({
    ...w,
    status: { ...w.status, conditions: [...(w.status?.conditions ?? []), condition(type, reason, at)] },
});

/** `count` × a quantity ("4", "512Gi", "500m"): Kueue's resourceUsage of a pod set. */
function times(count: number, quantity: string): string {
    const [, amount, suffix] = /^(\d+(?:\.\d+)?)([A-Za-z]*)$/.exec(quantity) ?? ["", quantity, ""];
    return `${Number(amount) * count}${suffix}`;
}

/**
 * Kueue reserves quota in the ClusterQueue (a new admission attempt at `at`) and leaves the budget
 * check Pending: GPU resources from `gpuFlavor` (the pool's ResourceFlavor), the rest from `any-node`.
 */
export function reserveQuota(w: Workload, clusterQueue: string, gpuFlavor: string, at: string): Workload {
    return {
        ...w,
        status: {
            conditions: [condition("QuotaReserved", "QuotaReserved", at)],
            admission: {
                clusterQueue,
                podSetAssignments: w.spec.podSets.map((p) => {
                    const requests: Record<string, string> = {};
                    for (const c of p.template.spec.containers as {
                        resources?: { requests?: Record<string, string> };
                    }[])
                        for (const [resource, quantity] of Object.entries(c.resources?.requests ?? {}))
                            requests[resource] = times(p.count, quantity);
                    const flavors = Object.fromEntries(
                        Object.keys(requests).map((r) => [r, r.startsWith("nvidia.com/") ? gpuFlavor : "any-node"]),
                    );
                    return { name: p.name, count: p.count, flavors, resourceUsage: requests };
                }),
            },
            admissionChecks: [{ name: "budget", state: "Pending", message: "", lastTransitionTime: at }],
        },
    };
}

/** What the v0.19.2 Workload CRD schema finds wrong with `w`. */
export const schemaErrors = (w: Workload): string[] => kueueSchemaErrors(w);

/**
 * Whether the BudgetGate component's RBAC allows a request the gate sent (`METHOD path?query`):
 * the verb as the API server derives it (GET of a collection is list, or watch with
 * `watch=true`; GET of an object get; POST create; PUT update; PATCH patch), and the rules
 * that apply where it lands: cluster-wide, in a team namespace (Events), in the gate's own
 * namespace `gateNamespace` (its Lease).
 */
export function allowedByGateRbac(line: string, teams: readonly string[], gateNamespace: string): boolean {
    const [method, target] = line.split(" ");
    const url = new URL(target, "http://api");
    const parts = url.pathname.split("/").filter(Boolean);
    const [group, rest] = parts[0] === "api" ? ["", parts.slice(2)] : [parts[1], parts.slice(3)];
    const namespace = rest[0] === "namespaces" ? rest[1] : undefined;
    const [resource, name, sub] = namespace ? rest.slice(2) : rest;
    const verb =
        method === "GET"
            ? name
                ? "get"
                : url.searchParams.get("watch") === "true"
                  ? "watch"
                  : "list"
            : ({ POST: "create", PUT: "update", PATCH: "patch", DELETE: "delete" } as Record<string, string>)[method];
    const request = { verb, group, resource: sub ? `${resource}/${sub}` : resource, name };
    const inScope: readonly RbacRule[] = [
        ...BUDGET_GATE_CLUSTER_RULES,
        ...(namespace && teams.includes(namespace) ? BUDGET_GATE_EVENT_RULES : []),
        ...(namespace === gateNamespace ? BUDGET_GATE_LEASE_RULES : []),
    ];
    return rulesAllow(inScope, request);
}

export async function waitFor<T>(
    what: string,
    probe: () => T | undefined | Promise<T | undefined>,
    ms = 8000,
): Promise<T> {
    const until = Date.now() + ms;
    for (;;) {
        const value = await probe();
        if (value !== undefined && value !== false) return value;
        if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
    }
}
