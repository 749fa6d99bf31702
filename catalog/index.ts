/**
 * The hardware and price catalog (`@gpu-platform/components/catalog`): instance types, GPU
 * models and their MIG profiles, on-demand prices, EKS versions, workload classes, the
 * Kubernetes names (labels, taint, GPU resources) the platform's parts agree on, and Kubernetes
 * quantities read as the API server reads them. Data and pure functions only.
 */
export { GPU_MODELS, MIG_SLICES_PER_GPU, offeredMigProfiles } from "./gpus";
export type { GpuModel, GpuModelId, MigProfile } from "./gpus";
export {
    HOURS_PER_MONTH,
    INSTANCE_TYPES,
    PRICE_CURRENCY,
    PRICE_DATE,
    PRICE_REGION,
    gpuOf,
    gpusPerInstance,
    instanceType,
    isAcceleratedInstanceType,
    isKnownInstanceType,
} from "./instances";
export type { InstanceType, InstanceTypeName } from "./instances";
export {
    PARTITION_DNS_SUFFIX,
    REGIONS,
    REGIONS_BY_PARTITION,
    isKnownRegion,
    managedPolicyArn,
    partitionOf,
    stsHostname,
} from "./regions";
export { SAGEMAKER_USD_PER_HOUR, sageMakerRate } from "./sagemaker";
export type { SageMakerRate } from "./sagemaker";
export type { Partition, Region } from "./regions";
export {
    CLUSTER_AUTOSCALER_IMAGE_TAGS,
    EBS_PRICES,
    EKS_DEFAULT_ROOT_VOLUME,
    EKS_VERSIONS,
    FARGATE_PRICES,
    RDS_POSTGRES_PRICES,
    SERVICE_PRICES,
    inExtendedSupport,
} from "./services";
export type { FargateArchitecture } from "./services";
export {
    EKS_NODE_RESERVATION,
    GPU_CONFIG_GATE_REQUESTS,
    PLATFORM_DAEMONSETS,
    daemonSetsOn,
    eniMaxPods,
    kubeReservedCpuMillis,
    kubeReservedMemoryMiB,
    managedNodeMaxPods,
    podRoom,
} from "./allocatable";
export type { DaemonSetPlacement, DaemonSetRequests, PodRoom } from "./allocatable";
export { cpuMillis, memoryMiB } from "./quantities";
export { isIpv4Cidr, parseIpv4Cidr } from "./ipv4";
export { DEFAULT_WORKLOAD_CLASSES, MAX_GPUS_PER_POD } from "./workload-classes";
export type { WorkloadClass, WorkloadKind } from "./workload-classes";
export { placeMigLayout } from "./mig-placement";
export type { MigPlacement } from "./mig-placement";
export { isWholeQuantity, parseQuantity, quantityValue } from "./kubernetes-quantity";
export type { Quantity } from "./kubernetes-quantity";
export {
    CPU_NODE_SELECTOR,
    GPU_CONFIG_STARTUP_TAINT,
    GPU_RESOURCE,
    GPU_TAINT,
    KUBERNETES_SYSTEM_NAMESPACES,
    LABELS,
    MIG_RESOURCE_PREFIX,
    PORTAL_NAMESPACES,
    RESERVED_NAMESPACE_PREFIXES,
    SCHEDULING_NAMESPACES,
    SHARED_GPU_RESOURCE,
    SYSTEM_NAMESPACES,
    catalogGpuResources,
    isGpuResource,
    isReservedNamespace,
    isSystemNamespace,
} from "./kubernetes-names";
