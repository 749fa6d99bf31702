/**
 * What the /v1 API answers: the service builds these and the dashboard reads them. Types only,
 * free of Node, so the dashboard's bundle shares them.
 */
import type { BoundWorkload, Category } from "./model";

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
    forecastUsd: number;
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
}

export interface PoolUsage {
    pool: string;
    gpuHours: number;
    gpuUsd: number;
}

export interface RequestRow {
    id: string;
    team: string;
    pool: string;
    gpuResource: string;
    gpus: number;
    hours: number;
    priorityClass: string;
    requester: string;
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

export type AlertKind = "budget-threshold" | "forecast-over-budget" | "anomaly" | "critical-over-budget";

export interface AlertRow {
    id: number;
    team: string;
    kind: AlertKind;
    message: string;
    createdAt: string;
    deliveredAt: string | null;
    deliveryError: string | null;
}
