/** Shapes shared by the sources, the ingestion and the API. */

/**
 * Spend categories, as the API and the dashboard show them. `network` is in-cluster network and
 * load balancers (OpenCost); `credits-tax` is Cost Explorer's credits, refunds and tax, a line of
 * their own so that they never hide inside a team's usage.
 */
export const CATEGORIES = ["gpu", "cpu-memory", "storage", "network", "ai-api", "other-aws", "credits-tax"] as const;
export type Category = (typeof CATEGORIES)[number];

/**
 * Whose a dollar is: a team's, nobody's that a source could name ("unallocated": untagged spend,
 * tags that match no team, namespaces of no team), or capacity nobody used ("idle": GPU
 * node-hours no pod requested, per pool; split over teams when the config says so).
 */
export const LINES = ["team", "unallocated", "idle"] as const;
export type Line = (typeof LINES)[number];

/** One amount of spend a source observed. */
export interface UsageRecord {
    /** UTC day the spend accrued on, "YYYY-MM-DD". */
    readonly day: string;
    /** The team; "" on the unallocated line and on a pool's idle line. */
    readonly team: string;
    /** Default "team". */
    readonly line?: Line;
    readonly category: Category;
    readonly amountUsd: number;
    /** The GPU pool, for GPU spend a source can place. */
    readonly pool?: string;
    /** GPU-equivalent hours: a whole GPU counts 1 per hour, a MIG slice its compute fraction, a time-sliced share 1/replicas. */
    readonly gpuHours?: number;
    /** The GPU resource the hours are of (nvidia.com/gpu, nvidia.com/gpu.shared, nvidia.com/mig-<profile>). */
    readonly gpuResource?: string;
    /** Hours of `gpuResource`'s units, as requested (10 h on one MIG slice is 10 here, 10 × 3/7 in gpuHours). */
    readonly resourceHours?: number;
    /** Cost Explorer marks a day Estimated until the bill for it is final; such figures are revised later. */
    readonly estimated?: boolean;
    /** "<namespace>/<kind>/<name>" of the workload that spent it, kind in lower case (see workloadKey). */
    readonly workload?: string;
    /** Free text for people: the model, the service, the namespace. */
    readonly detail?: string;
}

/** A workload a reservation can name, so that its observed spend replaces the reservation as it accrues. */
export interface WorkloadRef {
    readonly namespace: string;
    readonly kind: string;
    readonly name: string;
}

/** A workload a reservation is for; its Kubernetes UID, once it exists, binds the reservation to it (see approve_gpu_request). */
export interface BoundWorkload extends WorkloadRef {
    readonly uid?: string;
}

/** The one spelling of a workload that usage records and reservations are matched on. Kinds compare case-insensitively (OpenCost reports "job", Kubernetes says "Job"). */
export function workloadKey(workload: WorkloadRef): string {
    return `${workload.namespace}/${workload.kind.toLowerCase()}/${workload.name}`;
}

/** Bad input from a caller: answered 400 with the field named and nothing written. */
export class BadInput extends Error {
    constructor(
        public readonly field: string,
        public readonly problem: string,
    ) {
        super(`${field}: ${problem}`);
        this.name = "BadInput";
    }
}

/** The caller asked for something that does not exist: answered 404. */
export class NotFound extends Error {
    constructor(message: string) {
        super(message);
        this.name = "NotFound";
    }
}
