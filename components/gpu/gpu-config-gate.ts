import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { GPU_CONFIG_GATE_REQUESTS, GPU_CONFIG_STARTUP_TAINT, GPU_TAINT, LABELS } from "@gpu-platform/catalog";
import { CHARTS } from "../shared/charts";
import { PACKAGE } from "../shared/tokens";

export const GPU_CONFIG_GATE_TYPE = `${PACKAGE}:gpu:GpuConfigGate`;

/**
 * Images the gate runs, both from the Kubernetes project's registry. kubectl: a 1.35 patch (the
 * cluster's minor; kubectl supports one minor either side), a static binary with no shell, which
 * is why every step is its own container. pause: the sandbox image of Kubernetes 1.31 and later.
 */
export const GPU_CONFIG_GATE_IMAGES = {
    kubectl: "registry.k8s.io/kubectl:v1.35.3",
    pause: "registry.k8s.io/pause:3.10",
} as const;

/** A pool whose nodes share their GPUs: its name (the `gpu-platform/pool` label) and what one node offers when configured. */
export interface GatedPool {
    readonly name: string;
    /** `nvidia.com/gpu.shared` or `nvidia.com/mig-…` per node, as `NodePool.nodeResources`. */
    readonly nodeResources: Readonly<Record<string, number>>;
}

export interface GpuConfigGateArgs {
    /** The time-sliced and MIG pools; one DaemonSet each. Required. */
    pools: GatedPool[];
    /** Namespace to run in; it must exist. Default the GPU Operator's, `gpu-operator`. */
    namespace?: string;
}

/**
 * Keeps a time-sliced or MIG node out of Cluster Autoscaler's count of ready nodes until it
 * offers its GPU layout, so a burst of pending pods starts one node, not one per autoscaler
 * loop while the first node's MIG manager (maybe rebooting it) and device plugin work.
 *
 * The pool's nodes register with `GPU_CONFIG_STARTUP_TAINT` (a `startup-taint.cluster-autoscaler
 * .kubernetes.io/` taint: the autoscaler counts such a node as still starting, for up to its
 * max-node-startup-time). One DaemonSet per pool then, on each node, in init containers:
 * (1) sets the taint again (a no-op on a new node; after a reboot the node is back to
 * unconfigured), (2) waits until the node's allocatable holds every resource of the pool's
 * layout in full, (3) removes the taint; a pause container keeps the pod. Neither the GPU
 * Operator (v26.7.0 has no taint handling for its operands) nor the autoscaler removes it.
 *
 * A node that never offers its full layout (a failed GPU, a failed MIG configuration) keeps
 * the taint: the autoscaler counts it unready after max-node-startup-time and removes it after
 * scale-down-unready-time.
 *
 * Cost: one DaemonSet pod per time-sliced or MIG node (10m CPU, 32Mi, in the catalog's node overhead).
 */
export class GpuConfigGate extends pulumi.ComponentResource {
    public readonly serviceAccount: k8s.core.v1.ServiceAccount;
    public readonly daemonSets: k8s.apps.v1.DaemonSet[];

    constructor(name: string, args: GpuConfigGateArgs, opts?: pulumi.ComponentResourceOptions) {
        super(GPU_CONFIG_GATE_TYPE, name, {}, opts);
        const namespace = args.namespace ?? CHARTS.gpuOperator.namespace;
        this.serviceAccount = new k8s.core.v1.ServiceAccount(
            `${name}-sa`,
            { metadata: { name: "gpu-config-gate", namespace } },
            { parent: this },
        );
        // Nodes cannot be scoped to "its own" by RBAC; the pods run only the pinned kubectl steps below.
        const role = new k8s.rbac.v1.ClusterRole(
            `${name}-role`,
            {
                metadata: { name: "gpu-platform:gpu-config-gate" },
                rules: [{ apiGroups: [""], resources: ["nodes"], verbs: ["get", "list", "watch", "patch"] }],
            },
            { parent: this },
        );
        new k8s.rbac.v1.ClusterRoleBinding(
            `${name}-binding`,
            {
                metadata: { name: "gpu-platform:gpu-config-gate" },
                roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role.metadata.name },
                subjects: [{ kind: "ServiceAccount", name: this.serviceAccount.metadata.name, namespace }],
            },
            { parent: this },
        );
        this.daemonSets = args.pools.map(
            (pool) =>
                new k8s.apps.v1.DaemonSet(
                    `${name}-${pool.name}`,
                    {
                        metadata: { name: `gpu-config-gate-${pool.name}`, namespace },
                        spec: gateDaemonSetSpec(pool, this.serviceAccount.metadata.name),
                    },
                    { parent: this },
                ),
        );
        this.registerOutputs({});
    }
}

/** The gate's DaemonSet for one pool: see `GpuConfigGate`. */
export function gateDaemonSetSpec(
    pool: GatedPool,
    serviceAccountName: pulumi.Input<string>,
): k8s.types.input.apps.v1.DaemonSetSpec {
    const labels = { "app.kubernetes.io/name": "gpu-config-gate", [LABELS.pool]: pool.name };
    const taint = `${GPU_CONFIG_STARTUP_TAINT.key}=${GPU_CONFIG_STARTUP_TAINT.value}:${GPU_CONFIG_STARTUP_TAINT.effect}`;
    const step = (stepName: string, args: string[]): k8s.types.input.core.v1.Container => ({
        name: stepName,
        image: GPU_CONFIG_GATE_IMAGES.kubectl,
        // The binary's path in the image, whatever its entrypoint.
        command: ["/bin/kubectl"],
        args,
        env: [
            { name: "NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
            // kubectl keeps a discovery cache under $HOME; the root filesystem is read-only.
            { name: "HOME", value: "/tmp" },
        ],
        volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
        ...hardened(),
    });
    // kubectl's JSONPath needs the dots inside a resource name escaped.
    const allocatable = (resource: string) => `{.status.allocatable.${resource.replace(/\./g, "\\.")}}`;
    return {
        selector: { matchLabels: labels },
        template: {
            metadata: { labels },
            spec: {
                serviceAccountName,
                priorityClassName: "system-node-critical",
                nodeSelector: { [LABELS.pool]: pool.name },
                tolerations: [GPU_TAINT, GPU_CONFIG_STARTUP_TAINT].map((t) => ({
                    key: t.key,
                    operator: "Exists",
                    effect: t.effect,
                })),
                securityContext: {
                    runAsNonRoot: true,
                    runAsUser: 65532,
                    runAsGroup: 65532,
                    seccompProfile: { type: "RuntimeDefault" },
                },
                volumes: [{ name: "tmp", emptyDir: {} }],
                initContainers: [
                    // $(NODE_NAME) is expanded by the kubelet: the image has no shell.
                    step("hold", ["taint", "node", "$(NODE_NAME)", taint, "--overwrite"]),
                    ...Object.entries(pool.nodeResources).map(([resource, count], i) =>
                        step(`wait-${i}`, [
                            "wait",
                            "node/$(NODE_NAME)",
                            `--for=jsonpath=${allocatable(resource)}=${count}`,
                            "--timeout=-1s",
                        ]),
                    ),
                    step("release", [
                        "taint",
                        "node",
                        "$(NODE_NAME)",
                        `${GPU_CONFIG_STARTUP_TAINT.key}:${GPU_CONFIG_STARTUP_TAINT.effect}-`,
                    ]),
                ],
                containers: [{ name: "pause", image: GPU_CONFIG_GATE_IMAGES.pause, ...hardened() }],
            },
        },
    };
}

function hardened(): Pick<k8s.types.input.core.v1.Container, "resources" | "securityContext"> {
    const requests = {
        cpu: `${GPU_CONFIG_GATE_REQUESTS.cpuMillis}m`,
        memory: `${GPU_CONFIG_GATE_REQUESTS.memoryMiB}Mi`,
    };
    return {
        resources: { requests, limits: { memory: `${GPU_CONFIG_GATE_REQUESTS.memoryMiB * 2}Mi` } },
        securityContext: {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ["ALL"] },
        },
    };
}
