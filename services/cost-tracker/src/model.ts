/** Shapes shared by the sources, the ingestion and the API. */

/** Spend categories, as the API and the dashboard show them. */
export const CATEGORIES = ["gpu", "cpu-memory", "storage", "ai-api", "other-aws"] as const;
export type Category = (typeof CATEGORIES)[number];

/** One amount of spend a source observed. */
export interface UsageRecord {
    /** UTC day the spend accrued on, "YYYY-MM-DD". */
    readonly day: string;
    readonly team: string;
    readonly category: Category;
    readonly amountUsd: number;
    /** The GPU pool, for GPU spend a source can place. */
    readonly pool?: string;
    readonly gpuHours?: number;
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
