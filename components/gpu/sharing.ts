/**
 * The GPU Operator's per-node configs for GPU sharing, and the names node pools use to pick
 * them. Pure, so node pools, the operator component and the tests share one definition.
 *
 * A node picks its configs through two labels its pool sets: `nvidia.com/device-plugin.config`
 * (how the device plugin advertises the GPUs) and `nvidia.com/mig.config` (how the MIG manager
 * partitions them). Configs are named after the layout, not the pool, so a pool a team adds
 * in its own stack with a layout the platform already runs finds its config waiting.
 */
import { createHash } from "crypto";
import { stringify } from "yaml";
import { GPU_RESOURCE } from "@gpu-platform/catalog";

/**
 * How the pods on a GPU pool share each GPU:
 * - `exclusive`: one pod per GPU; nodes advertise `nvidia.com/gpu`.
 * - `time-slicing`: `replicas` pods (2 to 16) take turns on each GPU; nodes advertise GPUs ×
 *   replicas as `nvidia.com/gpu.shared`.
 * - `mig`: each GPU is cut into MIG instances, `layout` giving how many of each profile
 *   (`{ "3g.40gb": 1, "2g.20gb": 1, "1g.10gb": 2 }`); nodes advertise `nvidia.com/mig-<profile>`.
 */
export type GpuSharing =
    | { readonly mode: "exclusive" }
    | { readonly mode: "time-slicing"; readonly replicas: number }
    | { readonly mode: "mig"; readonly layout: Readonly<Record<string, number>> };

/** The device-plugin config of whole, unshared GPUs, and the MIG config that turns MIG off. */
export const EXCLUSIVE_CONFIG = "exclusive";
export const MIG_DISABLED_CONFIG = "all-disabled";
/** The device-plugin config of MIG nodes: every profile its own resource (mixed strategy). */
export const MIG_MIXED_CONFIG = "mig-mixed";

/** A GPU pool as the operator needs to know it. */
export interface SharedGpuPool {
    readonly name: string;
    readonly sharing: GpuSharing;
}

/** Kubernetes label values: at most 63 characters of `[A-Za-z0-9._-]`, alphanumeric at both ends. */
const MAX_LABEL_VALUE = 63;

/** Name of the device-plugin config a node with this sharing uses (`nvidia.com/device-plugin.config`). */
export function devicePluginConfigName(sharing: GpuSharing): string {
    switch (sharing.mode) {
        case "exclusive":
            return EXCLUSIVE_CONFIG;
        case "time-slicing":
            return `time-slicing-${sharing.replicas}`;
        case "mig":
            return MIG_MIXED_CONFIG;
    }
}

/** Name of the MIG config a node with this sharing uses (`nvidia.com/mig.config`). */
export function migConfigName(sharing: GpuSharing): string {
    if (sharing.mode !== "mig") return MIG_DISABLED_CONFIG;
    const parts = sortedLayout(sharing.layout).map(([profile, count]) => `${count}x${profile}`);
    const name = `mig-${parts.join("-")}`;
    if (name.length <= MAX_LABEL_VALUE) return name;
    // Layouts of many profiles outgrow a label value; a digest keeps the name stable and unique.
    return `mig-${createHash("sha256").update(parts.join(",")).digest("hex").slice(0, 16)}`;
}

/**
 * The device plugin's config file for one sharing mode (NVIDIA k8s-device-plugin, config
 * `version: v1`). Time-sliced replicas are advertised as `nvidia.com/gpu.shared`, so a pod
 * asking for whole GPUs is never placed on them, and a pod may take one replica only: replicas
 * share one GPU's memory and compute, so two would give it no more GPU than one.
 */
export function devicePluginConfig(sharing: GpuSharing): Record<string, unknown> {
    switch (sharing.mode) {
        case "exclusive":
            return { version: "v1", flags: { migStrategy: "none" } };
        case "time-slicing":
            return {
                version: "v1",
                flags: { migStrategy: "none" },
                sharing: {
                    timeSlicing: {
                        renameByDefault: true,
                        failRequestsGreaterThanOne: true,
                        resources: [{ name: GPU_RESOURCE, replicas: sharing.replicas }],
                    },
                },
            };
        case "mig":
            return { version: "v1", flags: { migStrategy: "mixed" } };
    }
}

/**
 * The device plugin's ConfigMap data: one entry per config the pools use, plus `exclusive`,
 * the default for a GPU node whose label names no config.
 */
export function devicePluginConfigData(pools: readonly SharedGpuPool[]): Record<string, string> {
    const sharings: GpuSharing[] = [{ mode: "exclusive" }, ...pools.map((p) => p.sharing)];
    const data: Record<string, string> = {};
    for (const sharing of sharings) data[devicePluginConfigName(sharing)] = stringify(devicePluginConfig(sharing));
    return sortKeys(data);
}

/**
 * The MIG manager's `config.yaml` (NVIDIA mig-parted, `version: v1`): `all-disabled` for
 * every GPU node that is not a MIG node, and one layout per MIG pool, applied to all the
 * node's GPUs alike.
 */
export function migManagerConfig(pools: readonly SharedGpuPool[]): string {
    const configs: Record<string, unknown[]> = { [MIG_DISABLED_CONFIG]: [{ devices: "all", "mig-enabled": false }] };
    for (const { sharing } of pools) {
        if (sharing.mode !== "mig") continue;
        configs[migConfigName(sharing)] = [
            { devices: "all", "mig-enabled": true, "mig-devices": Object.fromEntries(sortedLayout(sharing.layout)) },
        ];
    }
    return stringify({ version: "v1", "mig-configs": sortKeys(configs) });
}

/** Largest profile first, then by name, so equal layouts get equal names. */
function sortedLayout(layout: Record<string, number>): [string, number][] {
    const slices = (profile: string) => Number(/^(\d+)g\./.exec(profile)?.[1] ?? 0);
    return Object.entries(layout).sort(([a], [b]) => slices(b) - slices(a) || a.localeCompare(b));
}

function sortKeys<T>(record: Record<string, T>): Record<string, T> {
    return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
}
