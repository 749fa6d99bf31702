/**
 * GPU models the platform knows, with the MIG profiles each can make.
 *
 * A MIG profile `<c>g.<m>gb` takes `c` of the GPU's 7 compute slices and a share of its 8
 * memory slices. Profile names depend on the GPU's memory: an A100 40 GB makes 1g.5gb where an
 * A100 80 GB or H100 80 GB makes 1g.10gb.
 * Source: NVIDIA Multi-Instance GPU User Guide, "Supported MIG Profiles"
 * (docs.nvidia.com/datacenter/tesla/mig-user-guide), read 2026-11-22.
 *
 * Where an instance may sit: each profile occupies `memorySlices` consecutive memory slices
 * starting at one of its `placementStarts`, and instances on one GPU may not overlap. A100 40 GB,
 * A100 80 GB and H100 80 GB share one placement table, as `nvidia-smi mig -lgipp` lists it
 * (MIG User Guide, "List GPU Instance Profiles" and the H100 profile table):
 * 1g {0..6}:1, 1g with twice the memory {0,2,4,6}:2, 2g {0,2,4}:2, 3g {0,4}:4, 4g {0}:4, 7g {0}:8.
 */

export interface MigProfile {
    /** Compute slices used, of the GPU's 7. */
    readonly computeSlices: number;
    /** Memory slices used, of the GPU's 8. */
    readonly memorySlices: number;
    /** How many instances of this profile alone fit on one GPU. */
    readonly maxPerGpu: number;
    /** Memory slices an instance of this profile may start at (NVML's possible placements). */
    readonly placementStarts: readonly number[];
}

export interface GpuModel {
    /** The product name the driver reports (`nvidia-smi --query-gpu=name`). */
    readonly productName: string;
    readonly memoryGiB: number;
    /** Value of the `k8s.amazonaws.com/accelerator` node label Cluster Autoscaler uses to spot GPU nodes. */
    readonly acceleratorLabel: string;
    /** MIG profiles by name; empty when the GPU has no MIG. */
    readonly migProfiles: Readonly<Record<string, MigProfile>>;
}

const MIG_SLICES_PER_GPU = { compute: 7, memory: 8 } as const;
export { MIG_SLICES_PER_GPU };

const a100x40: Record<string, MigProfile> = {
    "1g.5gb": { computeSlices: 1, memorySlices: 1, maxPerGpu: 7, placementStarts: [0, 1, 2, 3, 4, 5, 6] },
    "1g.5gb+me": { computeSlices: 1, memorySlices: 1, maxPerGpu: 1, placementStarts: [0, 1, 2, 3, 4, 5, 6] },
    "1g.10gb": { computeSlices: 1, memorySlices: 2, maxPerGpu: 4, placementStarts: [0, 2, 4, 6] },
    "2g.10gb": { computeSlices: 2, memorySlices: 2, maxPerGpu: 3, placementStarts: [0, 2, 4] },
    "3g.20gb": { computeSlices: 3, memorySlices: 4, maxPerGpu: 2, placementStarts: [0, 4] },
    "4g.20gb": { computeSlices: 4, memorySlices: 4, maxPerGpu: 1, placementStarts: [0] },
    "7g.40gb": { computeSlices: 7, memorySlices: 8, maxPerGpu: 1, placementStarts: [0] },
};

// The A100 80 GB and the H100 80 GB share one profile set.
const eightyGb: Record<string, MigProfile> = {
    "1g.10gb": { computeSlices: 1, memorySlices: 1, maxPerGpu: 7, placementStarts: [0, 1, 2, 3, 4, 5, 6] },
    "1g.10gb+me": { computeSlices: 1, memorySlices: 1, maxPerGpu: 1, placementStarts: [0, 1, 2, 3, 4, 5, 6] },
    "1g.20gb": { computeSlices: 1, memorySlices: 2, maxPerGpu: 4, placementStarts: [0, 2, 4, 6] },
    "2g.20gb": { computeSlices: 2, memorySlices: 2, maxPerGpu: 3, placementStarts: [0, 2, 4] },
    "3g.40gb": { computeSlices: 3, memorySlices: 4, maxPerGpu: 2, placementStarts: [0, 4] },
    "4g.40gb": { computeSlices: 4, memorySlices: 4, maxPerGpu: 1, placementStarts: [0] },
    "7g.80gb": { computeSlices: 7, memorySlices: 8, maxPerGpu: 1, placementStarts: [0] },
};

export const GPU_MODELS = {
    "a100-40gb": {
        productName: "NVIDIA A100-SXM4-40GB",
        memoryGiB: 40,
        acceleratorLabel: "nvidia-a100",
        migProfiles: a100x40,
    },
    "a100-80gb": {
        productName: "NVIDIA A100-SXM4-80GB",
        memoryGiB: 80,
        acceleratorLabel: "nvidia-a100",
        migProfiles: eightyGb,
    },
    "h100-80gb": {
        productName: "NVIDIA H100 80GB HBM3",
        memoryGiB: 80,
        acceleratorLabel: "nvidia-h100",
        migProfiles: eightyGb,
    },
    "a10g-24gb": {
        productName: "NVIDIA A10G",
        memoryGiB: 24,
        acceleratorLabel: "nvidia-a10g",
        migProfiles: {},
    },
    "l40s-48gb": {
        productName: "NVIDIA L40S",
        memoryGiB: 48,
        acceleratorLabel: "nvidia-l40s",
        migProfiles: {},
    },
} as const satisfies Record<string, GpuModel>;

export type GpuModelId = keyof typeof GPU_MODELS;

/**
 * The MIG profiles the platform offers on a GPU: all but the media-extension ones ("+me"),
 * whose "+" makes no valid Kubernetes resource name.
 */
export function offeredMigProfiles(gpu: GpuModel): string[] {
    return Object.keys(gpu.migProfiles).filter((profile) => !profile.includes("+"));
}
