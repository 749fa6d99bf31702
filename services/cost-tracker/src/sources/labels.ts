/** Prometheus label names and the GPU resources kube-state-metrics names with them. */
import type { TrackerPool } from "@gpu-platform/catalog/contracts";
import { poolResources, type PoolResource } from "../pricing";

/** Prometheus' rule for label names in exported series: anything outside [a-zA-Z0-9_] becomes "_". */
export function sanitizeLabelName(name: string): string {
    return name.replace(/[^a-zA-Z0-9_]/g, "_");
}

/**
 * The resource a sanitised name stands for on a pool. On a time-sliced pool a pod may still ask
 * for nvidia.com/gpu (the device plugin advertises shares under it unless it renames them), and on a
 * MIG pool with one profile under the single strategy: either way it gets the pool's only unit.
 */
export function resourceOnPool(pool: TrackerPool, sanitized: string): PoolResource | undefined {
    const offered = poolResources(pool);
    const exact = offered.find((r) => sanitizeLabelName(r.gpuResource) === sanitized);
    if (exact) return exact;
    return sanitized === "nvidia_com_gpu" && offered.length === 1 ? offered[0] : undefined;
}
