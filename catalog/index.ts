/**
 * The hardware and price catalog (`@gpu-platform/components/catalog`): instance types, GPU
 * models and their MIG profiles, on-demand prices, EKS versions, workload classes, and the
 * Kubernetes names (labels, taint, GPU resources) the platform's parts agree on. Data and pure
 * functions only.
 */
export { GPU_MODELS, MIG_SLICES_PER_GPU, offeredMigProfiles } from "./gpus";
export type { GpuModel, GpuModelId, MigProfile } from "./gpus";
export { HOURS_PER_MONTH, INSTANCE_TYPES, PRICE_CURRENCY, PRICE_DATE, PRICE_REGION, gpuOf, gpusPerInstance, instanceType, isKnownInstanceType } from "./instances";
export type { InstanceType, InstanceTypeName } from "./instances";
export { REGIONS, REGIONS_BY_PARTITION, isKnownRegion, managedPolicyArn, partitionOf } from "./regions";
export type { Partition, Region } from "./regions";
export { EBS_PRICES, EKS_DEFAULT_ROOT_VOLUME, EKS_VERSIONS, FARGATE_PRICES, RDS_POSTGRES_PRICES, SERVICE_PRICES, inExtendedSupport } from "./services";
export type { FargateArchitecture } from "./services";
export { DEFAULT_WORKLOAD_CLASSES, MAX_GPUS_PER_POD } from "./workload-classes";
export type { WorkloadClass, WorkloadKind } from "./workload-classes";
export { CPU_NODE_SELECTOR, GPU_RESOURCE, GPU_TAINT, LABELS, MIG_RESOURCE_PREFIX, SHARED_GPU_RESOURCE, catalogGpuResources, isGpuResource } from "./kubernetes-names";
