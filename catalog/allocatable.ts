/**
 * What one node of a catalog instance type leaves for the pods the platform and its teams
 * schedule: the node's capacity, less what the EKS AL2023 AMI reserves for the kubelet and the
 * eviction threshold (its allocatable), less the requests of the DaemonSets the platform runs on
 * every node. A pod that asks for more than this can never be scheduled, and Cluster Autoscaler
 * will not start a node for it either.
 *
 * The reservation rules are nodeadm's (awslabs/amazon-eks-ami, nodeadm/internal/kubelet at tag
 * v20260724): `config.go` withDefaultReservedResources (l.274-288), getCPUMillicoresToReserve
 * (l.410-440), getMemoryMebibytesToReserve (l.442-444) and the eviction threshold in
 * defaultKubeletSubConfig (l.110-114); the pod limit from `eni_max_pods.go`
 * calculateStandardMaxPods (l.75-77). nodeadm sets no system-reserved.
 */
import { InstanceType, instanceType } from "./instances";

/** How the kubelet's reservation is sized on the EKS AL2023 AMI. */
export const EKS_NODE_RESERVATION = {
    /** kube-reserved CPU, in basis points of each band of the node's millicores: 6% of the first core, 1% of the second, 0.5% of the third and fourth, 0.25% above. */
    cpuBands: [
        { upToMillis: 1000, basisPoints: 600 },
        { upToMillis: 2000, basisPoints: 100 },
        { upToMillis: 4000, basisPoints: 50 },
        { upToMillis: Infinity, basisPoints: 25 },
    ],
    /** kube-reserved memory: 11 MiB per pod the node may run, plus 255 MiB. */
    memoryPerPodMiB: 11,
    memoryBaseMiB: 255,
    /** evictionHard memory.available: the kubelet evicts below this, so pods cannot use it. */
    evictionMemoryMiB: 100,
    /**
     * Indirect evidence: the share of an instance's nominal memory the kernel does not report as
     * capacity (MemTotal is below the GiB EC2 sells). The catalog has only nominal GiB; 7.5% is
     * Karpenter's default estimate (VM_MEMORY_OVERHEAD_PERCENT, karpenter.sh "Settings"), not an
     * EKS figure. Measure `kubectl get node -o jsonpath='{.status.capacity.memory}'` to refine it.
     */
    vmMemoryOverhead: 0.075,
    /**
     * Managed node groups cap a node's pods at 110 below 30 vCPUs and 250 from 30 up (EKS user
     * guide, "Create a managed node group", and "Amazon VPC CNI"); nodeadm's ENI formula has no cap.
     */
    managedNodeGroupMaxPods: { below30Vcpus: 110, from30Vcpus: 250 },
} as const;

/** Which nodes a DaemonSet runs on: every node, or only GPU nodes that share their GPUs (time-slicing, MIG). */
export type DaemonSetPlacement = "every-node" | "shared-gpu-nodes";

export interface DaemonSetRequests {
    readonly name: string;
    readonly cpuMillis: number;
    readonly memoryMiB: number;
    readonly runsOn: DaemonSetPlacement;
}

/**
 * Requests of the platform's own startup gate for time-sliced and MIG nodes
 * (components/gpu/gpu-config-gate.ts sets them from here, so the two cannot drift).
 */
export const GPU_CONFIG_GATE_REQUESTS = { cpuMillis: 10, memoryMiB: 32 } as const;

/**
 * The DaemonSets with requests that run on the platform's nodes. Not listed, because they
 * request nothing (`resources: {}`): the GPU Operator's device plugin, feature discovery, DCGM
 * exporter, validator and MIG manager (NVIDIA/gpu-operator v26.7.0 deployments/gpu-operator/values.yaml,
 * l.67, 250, 307, 367, 378), the node monitoring agent's dcgm-server, and the Pod Identity agent
 * (aws/eks-pod-identity-agent charts/eks-pod-identity-agent/values.yaml l.165).
 */
export const PLATFORM_DAEMONSETS: readonly DaemonSetRequests[] = [
    // amazon-vpc-cni-k8s v1.23.0 charts/aws-vpc-cni/values.yaml l.190-192 (aws-node 25m; its node agent sets none, l.57).
    { name: "aws-node", cpuMillis: 25, memoryMiB: 0, runsOn: "every-node" },
    // Indirect evidence: the EKS kube-proxy add-on's manifest is not public; 100m is what the add-on
    // runs with on EKS clusters. Check with `kubectl -n kube-system get ds kube-proxy -o jsonpath='{..resources}'`.
    { name: "kube-proxy", cpuMillis: 100, memoryMiB: 0, runsOn: "every-node" },
    // aws-ebs-csi-driver chart 2.64.0: node 10m/40Mi (values.yaml l.415-418), node-driver-registrar and
    // liveness-probe 10m/32Mi each (templates/_node.tpl l.238-247, 269-276).
    { name: "ebs-csi-node", cpuMillis: 30, memoryMiB: 104, runsOn: "every-node" },
    // node-feature-discovery 0.19.0 inside gpu-operator v26.7.0: worker 5m/64Mi, and no nodeSelector (CPU nodes too).
    { name: "nfd-worker", cpuMillis: 5, memoryMiB: 64, runsOn: "every-node" },
    // aws/eks-node-monitoring-agent v1.7.0 charts/eks-node-monitoring-agent/values.yaml l.78-84.
    { name: "eks-node-monitoring-agent", cpuMillis: 10, memoryMiB: 30, runsOn: "every-node" },
    { name: "gpu-config-gate", ...GPU_CONFIG_GATE_REQUESTS, runsOn: "shared-gpu-nodes" },
];

/** What a node leaves for pods, and where the rest went, in millicores and MiB (rounded down). */
export interface PodRoom {
    readonly cpuMillis: number;
    readonly memoryMiB: number;
    /** Pods the node may run (DaemonSet pods included). */
    readonly maxPods: number;
    readonly capacity: { readonly cpuMillis: number; readonly memoryMiB: number };
    readonly kubeReserved: { readonly cpuMillis: number; readonly memoryMiB: number };
    readonly evictionMemoryMiB: number;
    readonly daemonSets: { readonly cpuMillis: number; readonly memoryMiB: number };
}

/** Pods the VPC CNI can address on one node: ENIs × (IPv4 per ENI − 1) + 2 (nodeadm calculateStandardMaxPods). */
export function eniMaxPods(type: InstanceType): number {
    return type.eni.maxInterfaces * (type.eni.ipv4PerInterface - 1) + 2;
}

/** The pods a managed node group's node may run: the ENI limit, capped by the managed node group. */
export function managedNodeMaxPods(type: InstanceType): number {
    const cap = EKS_NODE_RESERVATION.managedNodeGroupMaxPods;
    return Math.min(eniMaxPods(type), type.vcpu < 30 ? cap.below30Vcpus : cap.from30Vcpus);
}

/** kube-reserved CPU in millicores for a node of `vcpu` vCPUs. */
export function kubeReservedCpuMillis(vcpu: number): number {
    const total = vcpu * 1000;
    let from = 0;
    let reserved = 0;
    for (const band of EKS_NODE_RESERVATION.cpuBands) {
        if (total > from)
            reserved += Math.floor(((Math.min(total, band.upToMillis) - from) * band.basisPoints) / 10_000);
        from = band.upToMillis;
    }
    return reserved;
}

/**
 * kube-reserved memory in MiB. Indirect evidence: nodeadm sizes it from its own ENI pod limit
 * before the managed node group's cap applies (its e2e case
 * test/e2e/cases/custom-max-pods-expression keeps 915Mi = 11 × 60 + 255 with maxPods 1), so the
 * uncapped limit is used: on p4d/p5-class nodes that reserves more than the capped count would,
 * the conservative side.
 */
export function kubeReservedMemoryMiB(type: InstanceType): number {
    return EKS_NODE_RESERVATION.memoryPerPodMiB * eniMaxPods(type) + EKS_NODE_RESERVATION.memoryBaseMiB;
}

/** The DaemonSets on a node: every node's, and the shared-GPU ones on time-sliced and MIG nodes. */
export function daemonSetsOn(sharedGpus: boolean): DaemonSetRequests[] {
    return PLATFORM_DAEMONSETS.filter((ds) => ds.runsOn === "every-node" || sharedGpus);
}

/**
 * What one node of `name` leaves for pods. `sharedGpus`: the node time-slices or MIG-partitions
 * its GPUs, and so also runs the platform's GPU config gate.
 */
export function podRoom(name: string, sharedGpus = false): PodRoom {
    const type = instanceType(name);
    const capacity = {
        cpuMillis: type.vcpu * 1000,
        memoryMiB: type.memoryGiB * 1024 * (1 - EKS_NODE_RESERVATION.vmMemoryOverhead),
    };
    const kubeReserved = { cpuMillis: kubeReservedCpuMillis(type.vcpu), memoryMiB: kubeReservedMemoryMiB(type) };
    const daemonSets = daemonSetsOn(sharedGpus).reduce(
        (sum, ds) => ({ cpuMillis: sum.cpuMillis + ds.cpuMillis, memoryMiB: sum.memoryMiB + ds.memoryMiB }),
        {
            cpuMillis: 0,
            memoryMiB: 0,
        },
    );
    const eviction = EKS_NODE_RESERVATION.evictionMemoryMiB;
    return {
        cpuMillis: Math.floor(capacity.cpuMillis - kubeReserved.cpuMillis - daemonSets.cpuMillis),
        memoryMiB: Math.floor(capacity.memoryMiB - kubeReserved.memoryMiB - eviction - daemonSets.memoryMiB),
        maxPods: managedNodeMaxPods(type),
        capacity: { cpuMillis: capacity.cpuMillis, memoryMiB: Math.floor(capacity.memoryMiB) },
        kubeReserved,
        evictionMemoryMiB: eviction,
        daemonSets,
    };
}
