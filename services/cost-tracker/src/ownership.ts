/**
 * Which source owns which dollar, so that none is counted twice.
 *
 * | category | owner | what it covers |
 * | --- | --- | --- |
 * | gpu | gpu-allocation (kube-state-metrics requests × the catalog), with Prometheus | every pod's GPU requests (whole, shares, MIG slices) and each pool's idle node-hours; the whole price of a GPU node |
 * | cpu-memory, storage, network | opencost | pods on nodes outside the GPU pools; volumes; network and load balancers |
 * | other-aws, credits-tax | cost-explorer | AWS spend by the team tag outside the cluster; credits, refunds and tax |
 * | ai-api | pushes | model API spend a team's gateway reports |
 *
 * A pushed record may not claim a category a configured pulled source owns for the same
 * workload (gpu, cpu-memory, storage, network: pulled sources report workloads) or at all
 * (other-aws, credits-tax: Cost Explorer reports the whole account). Pushed records that a
 * pulled source later reports for the same workload and day are shadowed in the roll-up too
 * (migration 4's counted_usage), whichever arrived first.
 */
import type { CostTrackerConfig } from "@gpu-platform/catalog/contracts";
import type { Category } from "./model";

export interface CategoryOwner {
    readonly category: Category;
    readonly source: string;
    /** "workload": it owns the category for the workloads it reports; "account": for everything. */
    readonly scope: "workload" | "account";
    readonly description: string;
}

/** The pulled sources' claims, for the sources this config runs. */
export function pulledOwners(config: CostTrackerConfig): CategoryOwner[] {
    const owners: CategoryOwner[] = [];
    const { prometheus, opencost, costExplorer } = config.sources;
    if (prometheus)
        owners.push({
            category: "gpu",
            source: "gpu-allocation",
            scope: "workload",
            description: "GPU requests from kube-state-metrics priced from the catalog",
        });
    if (opencost)
        for (const category of ["cpu-memory", "storage", "network"] as const)
            owners.push({ category, source: "opencost", scope: "workload", description: "OpenCost's allocation" });
    if (costExplorer)
        for (const category of ["other-aws", "credits-tax"] as const)
            owners.push({ category, source: "cost-explorer", scope: "account", description: "Cost Explorer's bill" });
    return owners;
}

/** The owner a pushed record of `category` (for a workload or not) would collide with, if any. */
export function ownerOfPushed(
    owners: readonly CategoryOwner[],
    category: Category,
    hasWorkload: boolean,
): CategoryOwner | undefined {
    return owners.find((o) => o.category === category && (o.scope === "account" || hasWorkload));
}
