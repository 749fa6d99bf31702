/**
 * The budget gate's RBAC rules: exactly the calls services/budget-gate/src/kube.ts makes. Pure
 * data (no Pulumi), so the gate's own specs check every request it sends against them.
 */

/** One rule of a Role or ClusterRole. */
export interface RbacRule {
    readonly apiGroups: string[];
    readonly resources: string[];
    readonly verbs: string[];
    readonly resourceNames?: string[];
}

/**
 * Whether `rules` allow `verb` on `group`/`resource` (a subresource as `workloads/status`),
 * optionally of the object `name`, as Kubernetes' RBAC authorizer decides: a rule matches when
 * it lists the group, the resource and the verb, and names no objects or names this one.
 */
export function rulesAllow(
    rules: readonly RbacRule[],
    request: { verb: string; group: string; resource: string; name?: string },
): boolean {
    return rules.some(
        (r) =>
            r.apiGroups.includes(request.group) &&
            r.resources.includes(request.resource) &&
            r.verbs.includes(request.verb) &&
            (!r.resourceNames || (request.name !== undefined && r.resourceNames.includes(request.name))),
    );
}

/** Cluster-wide: the Workloads it watches and answers, and the owners it reads to name a workload. */
export const BUDGET_GATE_CLUSTER_RULES: readonly RbacRule[] = [
    { apiGroups: ["kueue.x-k8s.io"], resources: ["workloads"], verbs: ["list", "watch", "patch"] },
    { apiGroups: ["kueue.x-k8s.io"], resources: ["workloads/status"], verbs: ["patch"] },
    { apiGroups: [""], resources: ["pods"], verbs: ["get"] },
    { apiGroups: ["apps"], resources: ["replicasets"], verbs: ["get"] },
];

/** In each team namespace: Events on its Workloads. */
export const BUDGET_GATE_EVENT_RULES: readonly RbacRule[] = [
    { apiGroups: [""], resources: ["events"], verbs: ["create"] },
];

/** In its own namespace: its Lease (create cannot be limited by name; reading and renewing can). */
export const BUDGET_GATE_LEASE_RULES: readonly RbacRule[] = [
    { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["create"] },
    {
        apiGroups: ["coordination.k8s.io"],
        resources: ["leases"],
        resourceNames: ["budget-gate"],
        verbs: ["get", "update"],
    },
];
