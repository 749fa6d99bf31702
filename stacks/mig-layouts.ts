/**
 * MIG layouts that fit a GPU by slice count but not by placement: the GPU Operator's MIG
 * manager (nvidia-mig-parted) would fail to apply them on the node, which then offers none of
 * the slices its pool promised.
 */
import { gpuOf, isKnownInstanceType, placeMigLayout } from "@gpu-platform/catalog";
import type { SettingProblem } from "../components/shared/problems";
import type { NodePoolConfig } from "./schema";

/**
 * The placement problem of a pool's MIG layout, if any. `reported` are the pool's other
 * problems: a layout already refused by count or by profile name is not judged again.
 */
export function migPlacementProblems(
    prefix: string,
    pool: NodePoolConfig,
    reported: readonly SettingProblem[],
): SettingProblem[] {
    const sharing = pool.gpuSharing;
    if (sharing?.mode !== "mig" || !isKnownInstanceType(pool.instanceType)) return [];
    if (reported.some((p) => p.key.startsWith(`${prefix}gpuSharing`))) return [];
    const gpu = gpuOf(pool.instanceType);
    if (!gpu || !Object.keys(sharing.layout).every((profile) => Object.hasOwn(gpu.migProfiles, profile))) return [];
    if (placeMigLayout(gpu.migProfiles, sharing.layout)) return [];

    const layout = Object.entries(sharing.layout)
        .map(([profile, n]) => `${n} × ${profile}`)
        .join(" + ");
    const starts = Object.keys(sharing.layout)
        .map((profile) => {
            const { placementStarts, memorySlices } = gpu.migProfiles[profile];
            return `${profile} takes ${memorySlices} starting at slice ${placementStarts.join(", ")}`;
        })
        .join("; ");
    return [
        {
            key: `${prefix}gpuSharing.layout`,
            message:
                `${layout} fits a ${gpu.productName} by slice count but not by placement: in no order can the MIG manager create them all ` +
                `among its 8 memory slices (${starts}); remove an instance or use a larger profile`,
        },
    ];
}
