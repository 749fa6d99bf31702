/**
 * Kubernetes names the platform's parts agree on: node labels, the GPU taint, and the resource
 * names of GPUs and their shares. Components set them, the policy pack checks them and the cost
 * tracker reads them, so they live here, in the leaf every one of them may import.
 */
import { GPU_MODELS, offeredMigProfiles } from "./gpus";

/** Node label keys the platform sets and its add-ons and workloads select on. */
export const LABELS = {
    pool: "gpu-platform/pool",
    nodeType: "gpu-platform/node-type",
    gpuModel: "gpu-platform/gpu-model",
    gpuSharing: "gpu-platform/gpu-sharing",
    /** Read by Cluster Autoscaler's AWS provider to recognise GPU nodes whose GPUs are not yet advertised. */
    accelerator: "k8s.amazonaws.com/accelerator",
    /** Read by the GPU Operator's device plugin: which entry of its config applies on the node. */
    devicePluginConfig: "nvidia.com/device-plugin.config",
    /** Read by the GPU Operator's MIG manager: which MIG layout the node's GPUs are put in. */
    migConfig: "nvidia.com/mig.config",
    /** On namespaces and pods: the team that owns them, for cost reports and policies. */
    team: "gpu-platform/team",
    /** On team namespaces: the finance cost center their spend is charged to. */
    costCenter: "gpu-platform/cost-center",
    /** On GPU workloads the portal's templates create: the id of the cost tracker's approval (the reservation) they run under. */
    approval: "gpu-platform/approval",
    /** On what the platform creates inside a team namespace (value `platform`): only the platform may change or delete it. */
    managedBy: "gpu-platform/managed-by",
} as const;

/** The taint every GPU node carries, so only pods that tolerate it land there. */
export const GPU_TAINT = { key: "nvidia.com/gpu", value: "true", effect: "NoSchedule" } as const;

/**
 * The taint time-sliced and MIG nodes register with, until they offer their GPU layout. Cluster
 * Autoscaler counts a node with a `startup-taint.cluster-autoscaler.kubernetes.io/` taint as still
 * starting, and leaves the taint out of its node templates (kubernetes/autoscaler 1.35.2,
 * utils/taints/taints.go StartupTaintPrefix l.49, FilterOutNodesWithStartupTaints), so it does
 * not start more nodes while this one configures its GPUs. The GPU config gate removes it.
 */
export const GPU_CONFIG_STARTUP_TAINT = {
    key: "startup-taint.cluster-autoscaler.kubernetes.io/gpu-config",
    value: "pending",
    effect: "NoSchedule",
} as const;

/**
 * Kubernetes resource names of GPUs: a whole GPU, a time-sliced replica of one (renamed so a pod
 * asking for whole GPUs never lands on shared ones), and the prefix of MIG slices under the
 * mixed strategy.
 */
export const GPU_RESOURCE = "nvidia.com/gpu";
export const SHARED_GPU_RESOURCE = "nvidia.com/gpu.shared";
export const MIG_RESOURCE_PREFIX = "nvidia.com/mig-";

/** True for every resource name that is a GPU or a share of one. */
export function isGpuResource(name: string): boolean {
    return name === GPU_RESOURCE || name === SHARED_GPU_RESOURCE || name.startsWith(MIG_RESOURCE_PREFIX);
}

/**
 * Every GPU resource a node of a catalog instance type can advertise: whole GPUs, time-sliced
 * replicas, and a MIG slice of each profile the platform offers on a catalog GPU.
 */
export function catalogGpuResources(): string[] {
    const profiles = new Set(Object.values(GPU_MODELS).flatMap(offeredMigProfiles));
    return [GPU_RESOURCE, SHARED_GPU_RESOURCE, ...[...profiles].map((profile) => `${MIG_RESOURCE_PREFIX}${profile}`)];
}

/** Selects the CPU pools, where system and platform workloads run. */
export const CPU_NODE_SELECTOR = { [LABELS.nodeType]: "cpu" } as const;

/**
 * Namespaces the cluster itself owns: Kubernetes creates them, and no team or program may take
 * or claim one. Source: Kubernetes documentation, "Namespaces" (initial namespaces).
 */
export const KUBERNETES_SYSTEM_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"] as const;

/**
 * Name prefixes reserved for system namespaces: `kube-` by Kubernetes ("avoid creating
 * namespaces with the prefix kube-"), `openshift-` (and `kube-`) by OpenShift, which also
 * reserves `openshift` and `default`. Sources: Kubernetes documentation, "Namespaces"; OpenShift
 * documentation, "Working with projects". Read 2026-11-23.
 */
export const RESERVED_NAMESPACE_PREFIXES = ["kube-", "openshift-"] as const;

/** True for a namespace name the cluster owns or reserves: one of its own, `openshift`, or a reserved prefix. */
export function isReservedNamespace(name: string): boolean {
    return (
        (KUBERNETES_SYSTEM_NAMESPACES as readonly string[]).includes(name) ||
        name === "openshift" ||
        RESERVED_NAMESPACE_PREFIXES.some((prefix) => name.startsWith(prefix))
    );
}

/** The namespaces of the portal layer's services (components/portal): the platform's own. */
export const PORTAL_NAMESPACES = {
    argoCd: "argocd",
    backstage: "backstage",
    mlflow: "mlflow",
    externalSecrets: "external-secrets",
    databases: "portal-databases",
} as const;
const PORTAL_NAMESPACE_NAMES: readonly string[] = Object.values(PORTAL_NAMESPACES);

/** The namespaces of the scheduling layer (components/scheduling): Kueue's, and the budget gate's. */
export const SCHEDULING_NAMESPACES = {
    kueue: "kueue-system",
    budgetGate: "budget-gate",
} as const;

/**
 * Namespaces that belong to the cluster or to a system add-on, never to a team: the policy
 * pack exempts them from team rules (its default `systemNamespaces`), so no team may take one,
 * nor any name the cluster reserves (isReservedNamespace).
 */
export const SYSTEM_NAMESPACES: readonly string[] = [
    ...KUBERNETES_SYSTEM_NAMESPACES,
    // The platform's add-ons (components/shared/charts.ts; a spec keeps the two in step).
    "keda",
    "gpu-operator",
    "opencost",
    "prometheus",
    // Add-ons a platform team commonly runs beside them.
    "cert-manager",
    "karpenter",
    "amazon-cloudwatch",
    // The portal layer's (components/portal).
    ...PORTAL_NAMESPACE_NAMES,
    // The scheduling layer's (components/scheduling).
    ...Object.values(SCHEDULING_NAMESPACES),
];

/** True for a system namespace, by name or because the cluster reserves it. */
export function isSystemNamespace(name: string): boolean {
    return SYSTEM_NAMESPACES.includes(name) || isReservedNamespace(name);
}
