import { GPU_MODELS, GpuModel, GpuModelId } from "./gpus";

/**
 * EC2 instance types the platform can run node pools on: the one place node pools, the GPU
 * Operator configs, the policies and the cost estimate read hardware facts and prices from.
 *
 * vCPU, memory and GPU counts: Cluster Autoscaler's generated EC2 instance table
 * (kubernetes/autoscaler, cluster-autoscaler/cloudprovider/aws/ec2_instance_types.go, 2026-01).
 * Prices: Linux on-demand, per hour, in PRICE_REGION, from the AWS Price List data as generated
 * on PRICE_DATE (aws/karpenter-provider-aws, pkg/providers/pricing/zz_generated.pricing_aws.go);
 * P4/P5 prices are the ones after AWS's June 2025 reduction. Read 2026-11-22.
 * Network interfaces (`eni`): the EKS AMI's own table, which nodeadm sizes a node's pods and
 * reservations from (awslabs/amazon-eks-ami, nodeadm/internal/kubelet/instance-info.jsonl at tag
 * v20260724: `defaultMaxENIs`, `ipv4AddressesPerInterface`).
 * Capacity Blocks: the EC2 user guide, "Capacity Blocks for ML", supported instance types
 * (p4d.24xlarge and p5.48xlarge among the catalog's), read 2026-11-24.
 */
export const PRICE_REGION = "us-east-1";
export const PRICE_DATE = "2026-07-20";
export const PRICE_CURRENCY = "USD";

export interface InstanceType {
    readonly vcpu: number;
    readonly memoryGiB: number;
    /** GPUs on the instance; absent on CPU-only types. */
    readonly gpu?: { readonly model: GpuModelId; readonly count: number };
    readonly onDemandUsdPerHour: number;
    /** Network interfaces the instance takes and IPv4 addresses per interface: the VPC CNI's pod limit. */
    readonly eni: { readonly maxInterfaces: number; readonly ipv4PerInterface: number };
    /** True when EC2 sells Capacity Blocks for ML of this type. */
    readonly capacityBlocks?: boolean;
}

export const INSTANCE_TYPES = {
    // General purpose, for system and platform workloads.
    "m6i.xlarge": {
        vcpu: 4,
        memoryGiB: 16,
        onDemandUsdPerHour: 0.192,
        eni: { maxInterfaces: 4, ipv4PerInterface: 15 },
    },
    "m6i.2xlarge": {
        vcpu: 8,
        memoryGiB: 32,
        onDemandUsdPerHour: 0.384,
        eni: { maxInterfaces: 4, ipv4PerInterface: 15 },
    },
    "m7i.xlarge": {
        vcpu: 4,
        memoryGiB: 16,
        onDemandUsdPerHour: 0.2016,
        eni: { maxInterfaces: 4, ipv4PerInterface: 15 },
    },
    "m7i.2xlarge": {
        vcpu: 8,
        memoryGiB: 32,
        onDemandUsdPerHour: 0.4032,
        eni: { maxInterfaces: 4, ipv4PerInterface: 15 },
    },
    "m7i.4xlarge": {
        vcpu: 16,
        memoryGiB: 64,
        onDemandUsdPerHour: 0.8064,
        eni: { maxInterfaces: 8, ipv4PerInterface: 30 },
    },
    "c7i.2xlarge": {
        vcpu: 8,
        memoryGiB: 16,
        onDemandUsdPerHour: 0.357,
        eni: { maxInterfaces: 4, ipv4PerInterface: 15 },
    },
    // Single-GPU types, for development and small inference.
    "g5.xlarge": {
        vcpu: 4,
        memoryGiB: 16,
        gpu: { model: "a10g-24gb", count: 1 },
        onDemandUsdPerHour: 1.006,
        eni: { maxInterfaces: 4, ipv4PerInterface: 15 },
    },
    "g5.12xlarge": {
        vcpu: 48,
        memoryGiB: 192,
        gpu: { model: "a10g-24gb", count: 4 },
        onDemandUsdPerHour: 5.672,
        eni: { maxInterfaces: 15, ipv4PerInterface: 50 },
    },
    "g6e.xlarge": {
        vcpu: 4,
        memoryGiB: 32,
        gpu: { model: "l40s-48gb", count: 1 },
        onDemandUsdPerHour: 1.861,
        eni: { maxInterfaces: 4, ipv4PerInterface: 15 },
    },
    // Eight-GPU training and inference types.
    "p4d.24xlarge": {
        vcpu: 96,
        memoryGiB: 1152,
        gpu: { model: "a100-40gb", count: 8 },
        onDemandUsdPerHour: 21.957642,
        eni: { maxInterfaces: 15, ipv4PerInterface: 50 },
        capacityBlocks: true,
    },
    "p4de.24xlarge": {
        vcpu: 96,
        memoryGiB: 1152,
        gpu: { model: "a100-80gb", count: 8 },
        onDemandUsdPerHour: 27.44705,
        eni: { maxInterfaces: 15, ipv4PerInterface: 50 },
    },
    "p5.48xlarge": {
        vcpu: 192,
        memoryGiB: 2048,
        gpu: { model: "h100-80gb", count: 8 },
        onDemandUsdPerHour: 55.04,
        eni: { maxInterfaces: 2, ipv4PerInterface: 50 },
        capacityBlocks: true,
    },
} as const satisfies Record<string, InstanceType>;

export type InstanceTypeName = keyof typeof INSTANCE_TYPES;

/** Hours in the month the cost estimate prices (365 × 24 / 12). */
export const HOURS_PER_MONTH = 730;

export function isKnownInstanceType(name: string): name is InstanceTypeName {
    return Object.hasOwn(INSTANCE_TYPES, name);
}

export function instanceType(name: string): InstanceType {
    if (!isKnownInstanceType(name)) {
        throw new Error(`unknown instance type "${name}"; known: ${Object.keys(INSTANCE_TYPES).join(", ")}`);
    }
    return INSTANCE_TYPES[name];
}

/** The GPU model on an instance type, or undefined for a CPU-only type. */
export function gpuOf(name: string): (GpuModel & { id: GpuModelId; count: number }) | undefined {
    const gpu = instanceType(name).gpu;
    return gpu && { ...GPU_MODELS[gpu.model], id: gpu.model, count: gpu.count };
}

export function gpusPerInstance(name: string): number {
    return instanceType(name).gpu?.count ?? 0;
}

/**
 * True for any type of EC2's accelerated computing families (DL, F, G, Gr, Inf, P, Trn, VT:
 * "p5.48xlarge", "g6e.xlarge", "p6-b200.48xlarge", "trn2.48xlarge"), whether or not the catalog
 * knows it, in any letter case. Source: Amazon EC2 User Guide, "Amazon EC2 instance types",
 * accelerated computing, read 2026-11-23.
 */
export function isAcceleratedInstanceType(name: string): boolean {
    return /^(dl|f|g|gr|inf|p|trn|vt)\d/.test(name.trim().toLowerCase());
}
