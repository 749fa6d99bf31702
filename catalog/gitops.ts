/**
 * What a team's GitOps directory may deploy: the kinds its Argo CD AppProject allows, in its own
 * namespace only. The GitOps component renders the projects from this list, and the policy pack
 * holds any AppProject of a team to it, so both read one list.
 *
 * Left out on purpose: the namespace's quota and defaults (ResourceQuota, LimitRange), secret
 * stores of any kind (SecretStore, ClusterSecretStore, and External Secrets generators, which
 * authenticate as the operator), PushSecrets, Argo CD's own kinds (an Application or
 * ApplicationSet could name another project), Kueue's (a LocalQueue may point at another team's
 * ClusterQueue), KEDA's TriggerAuthentications (their `podIdentity` may use the KEDA operator's
 * role), DaemonSets (a pod on every node, GPU nodes included), Roles and RoleBindings (Argo CD's
 * controller may grant what the team's own `edit` role may not: Kubernetes' escalation check
 * measures the controller, not the team) and every cluster-scoped kind.
 * What a listed kind may not do (a LoadBalancer Service, an Ingress of another class, an
 * ExternalSecret naming another store, a privileged pod) the cluster's admission rules refuse
 * (catalog/admission/tenancy.ts).
 */
export interface GroupKind {
    readonly group: string;
    readonly kind: string;
}

export const TEAM_APP_KINDS: readonly GroupKind[] = [
    { group: "", kind: "ConfigMap" },
    { group: "", kind: "Secret" },
    { group: "", kind: "Service" },
    { group: "", kind: "ServiceAccount" },
    { group: "", kind: "PersistentVolumeClaim" },
    { group: "apps", kind: "Deployment" },
    { group: "apps", kind: "StatefulSet" },
    { group: "batch", kind: "Job" },
    { group: "batch", kind: "CronJob" },
    { group: "autoscaling", kind: "HorizontalPodAutoscaler" },
    { group: "policy", kind: "PodDisruptionBudget" },
    { group: "networking.k8s.io", kind: "Ingress" },
    { group: "networking.k8s.io", kind: "NetworkPolicy" },
    { group: "external-secrets.io", kind: "ExternalSecret" },
    { group: "keda.sh", kind: "ScaledJob" },
    { group: "keda.sh", kind: "ScaledObject" },
];

/** Kinds no team project may list, whatever the platform adds to TEAM_APP_KINDS: each is a way out of the tenancy. */
export const FORBIDDEN_TEAM_KINDS: readonly GroupKind[] = [
    { group: "", kind: "ResourceQuota" },
    { group: "", kind: "LimitRange" },
    { group: "", kind: "Namespace" },
    { group: "rbac.authorization.k8s.io", kind: "*" },
    { group: "external-secrets.io", kind: "SecretStore" },
    { group: "external-secrets.io", kind: "ClusterSecretStore" },
    { group: "external-secrets.io", kind: "PushSecret" },
    { group: "generators.external-secrets.io", kind: "*" },
    { group: "argoproj.io", kind: "*" },
    { group: "kueue.x-k8s.io", kind: "*" },
    { group: "keda.sh", kind: "TriggerAuthentication" },
    { group: "keda.sh", kind: "ClusterTriggerAuthentication" },
    { group: "admissionregistration.k8s.io", kind: "*" },
    { group: "elbv2.k8s.aws", kind: "*" },
];

/** True when `kind` (an entry of a project's allowlist, `*` allowed) reaches a forbidden kind. */
export function reachesForbiddenKind(entry: GroupKind): GroupKind | undefined {
    const matches = (pattern: string, value: string) => pattern === "*" || value === "*" || pattern === value;
    return FORBIDDEN_TEAM_KINDS.find((f) => matches(entry.group, f.group) && matches(entry.kind, f.kind));
}

/** Where a team's applications live in the GitOps repository: `apps/<team>/<application>/`. */
export const GITOPS_APPS_PATH = "apps";
