/**
 * What the /v1 API answers: the service builds these and the dashboard reads them. Types only,
 * free of Node, so the dashboard's bundle shares them.
 */
import type { BoundWorkload, Category } from "./model";
import type { Forecast } from "./rules";

export type CategoryAmounts = Record<Category, number>;

export interface TeamSummary {
    name: string;
    costCenter: string;
    monthlyBudgetUsd: number;
    /** "YYYY-MM" */
    month: string;
    monthToDateUsd: number;
    reservedUsd: number;
    remainingUsd: number;
    /** The forecast's point; null without enough history. */
    forecastUsd: number | null;
    forecast: Forecast;
    byCategory: CategoryAmounts;
    gpuUtilisation: {
        averagePct: number | null;
        gpusReporting: number;
        gpusRequested: number;
        observedAt: string;
    } | null;
}

export interface DailySpend {
    day: string;
    totalUsd: number;
    byCategory: CategoryAmounts;
    /** Some of the day's figures are Cost Explorer's Estimated ones, revised later. */
    estimated: boolean;
}

/** One GPU resource's use on a pool: its raw unit-hours beside the GPU-equivalent hours they make. */
export interface ResourceUsage {
    gpuResource: string;
    resourceHours: number;
    gpuHours: number;
    gpuUsd: number;
}

export interface PoolUsage {
    pool: string;
    /** GPU-equivalent hours requested (a MIG slice at its compute fraction, a share at 1/replicas). */
    gpuHours: number;
    gpuUsd: number;
    /** GPU-equivalent hours of the pool's node-hours no pod requested, and their cost. */
    idleGpuHours: number;
    idleUsd: number;
    resources: ResourceUsage[];
}

export interface RequestRow {
    id: string;
    team: string;
    pool: string;
    gpuResource: string;
    gpus: number;
    hours: number;
    priorityClass: string;
    /** The identity the caller's credential proved: `team:ml-research`, `user:default/jane via portal`. */
    requester: string;
    /** The requester the body named, when it differs from the proven one: a label, not an identity. */
    claimedRequester?: string;
    purpose: string | null;
    workload: BoundWorkload | null;
    status: "approved" | "rejected";
    overBudget: boolean;
    reason: string;
    estimatedCostUsd: number;
    consumedUsd: number;
    createdAt: string;
    expiresAt: string | null;
    /** approved requests: "active" while it holds budget; otherwise why it stopped. */
    reservation: "active" | "released" | "expired" | "replaced-by-spend" | null;
}

export type AlertKind =
    | "budget-threshold"
    | "late-budget-threshold"
    | "forecast-over-budget"
    | "anomaly"
    | "critical-over-budget"
    | "budget-overrun";

export interface AlertRow {
    id: number;
    team: string;
    kind: AlertKind;
    message: string;
    createdAt: string;
    deliveredAt: string | null;
    deliveryError: string | null;
}
