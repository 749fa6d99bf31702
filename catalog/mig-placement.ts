/**
 * Whether a MIG layout can be made on one GPU, decided the way NVIDIA's nvidia-mig-parted
 * applies a layout: it tries every distinct order of creating the instances
 * (`iteratePermutationsUntilSuccess` in pkg/mig/config/config.go) and creates each one with
 * `nvmlDeviceCreateGpuInstance`, which fails when no placement of the profile is free; the layout
 * is valid if some order succeeds. The driver's choice of a free placement is taken to be the
 * lowest one, the order NVML lists them in. A layout can use fewer compute and memory slices
 * than the GPU has and still fail here: `1g.20gb: 3` with `1g.10gb: 2` on an A100 80 GB leaves
 * one free slice where a 1g.10gb may start, not two.
 */
import { MIG_SLICES_PER_GPU, MigProfile } from "./gpus";

/** An instance placed on the GPU: its profile and the first memory slice it occupies. */
export interface MigPlacement {
    readonly profile: string;
    readonly start: number;
}

/**
 * A placement of every instance of `layout` (profile name → instances per GPU), or undefined
 * when no order of creating them fits. Profiles must be keys of `profiles`.
 */
export function placeMigLayout(
    profiles: Readonly<Record<string, MigProfile>>,
    layout: Readonly<Record<string, number>>,
): MigPlacement[] | undefined {
    const remaining = new Map<string, number>();
    let instances = 0;
    for (const [profile, count] of Object.entries(layout)) {
        if (!Object.hasOwn(profiles, profile))
            throw new Error(`placeMigLayout: "${profile}" is not a profile of this GPU`);
        remaining.set(profile, count);
        instances += count;
    }
    // No GPU holds more instances than memory slices; the search below stays small.
    if (instances > MIG_SLICES_PER_GPU.memory) return undefined;
    const used: boolean[] = new Array<boolean>(MIG_SLICES_PER_GPU.memory).fill(false);
    const placed: MigPlacement[] = [];

    // Each level picks which distinct profile is created next, as a distinct permutation would.
    const search = (): boolean => {
        if (placed.length === instances) return true;
        for (const [profile, left] of remaining) {
            if (left === 0) continue;
            const { memorySlices, placementStarts } = profiles[profile];
            const start = placementStarts.find((s) => used.slice(s, s + memorySlices).every((u) => !u));
            if (start === undefined) continue; // this order fails at this instance
            occupy(used, start, memorySlices, true);
            remaining.set(profile, left - 1);
            placed.push({ profile, start });
            if (search()) return true;
            placed.pop();
            remaining.set(profile, left);
            occupy(used, start, memorySlices, false);
        }
        return false;
    };
    return search() ? placed : undefined;
}

function occupy(used: boolean[], start: number, size: number, value: boolean): void {
    for (let i = start; i < start + size; i++) used[i] = value;
}
