/**
 * A source of spend: one adapter per system, each with a real client, all behind this interface
 * so the scheduler runs them alike and one failing never stops the others.
 */
import type { UsageRecord } from "../model";

export interface UsageSource {
    /** Stable name; a source's records are replaced per (name, day), so re-reading a day never counts it twice. */
    readonly name: string;
    /** Everything the source holds for the given UTC days ("YYYY-MM-DD", oldest first, the last one today). */
    read(days: readonly string[], signal: AbortSignal): Promise<UsageRecord[]>;
}

/** The account's bill for one day, as Cost Explorer answers it: what the monthly report reconciles against. */
export interface BillDay {
    day: string;
    metric: string;
    /** Every group, tagged or not, credits and tax included. */
    totalUsd: number;
    /** The part tagged as the cluster's own, which the in-cluster sources distribute. */
    clusterUsd: number;
    estimated: boolean;
}

/** A source that reads the bill: its figures are revised after the fact, so it picks the days it re-reads. */
export interface BillSource extends UsageSource {
    readWithBill(days: readonly string[], signal: AbortSignal): Promise<{ records: UsageRecord[]; bill: BillDay[] }>;
    /** The days to read on a run today, given the days still estimated on record. */
    revisionDays(today: string, estimatedOnRecord: readonly string[]): string[];
}

export function isBillSource(source: UsageSource): source is BillSource {
    return typeof (source as Partial<BillSource>).readWithBill === "function";
}

/** A source answered something the adapter cannot read: logged, the run skipped, stored data kept. */
export class SourceError extends Error {
    constructor(source: string, problem: string) {
        super(`${source}: ${problem}`);
        this.name = "SourceError";
    }
}

/** How a source's HTTP GETs travel: straight to the URL, or through a cluster's API server (kubernetes-api.ts). */
export interface HttpTransport {
    get(url: URL, signal: AbortSignal): Promise<{ status: number; body: string }>;
}

export const directTransport: HttpTransport = {
    async get(url, signal) {
        const response = await fetch(url, { headers: { accept: "application/json" }, signal });
        return { status: response.status, body: await response.text() };
    },
};

/** `path` (with its query) under `base`, keeping base's own path: a service proxy URL ends in `/proxy`. */
export function sourceUrl(base: string, path: string): URL {
    return new URL(base.replace(/\/+$/, "") + path);
}

/** GETs JSON from `url`, failing with a SourceError on a non-2xx answer or a body that is not JSON. */
export async function getJson(
    source: string,
    url: URL,
    signal: AbortSignal,
    transport: HttpTransport = directTransport,
): Promise<unknown> {
    const { status, body: text } = await transport.get(url, signal);
    if (status < 200 || status > 299)
        throw new SourceError(source, `${url.pathname} answered ${status}: ${text.slice(0, 200)}`);
    try {
        return JSON.parse(text);
    } catch {
        throw new SourceError(
            source,
            `${url.pathname} answered something that is not JSON: ${JSON.stringify(text.slice(0, 80))}`,
        );
    }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A finite number from a field OpenCost or Prometheus may leave null or NaN. */
export function numberOr0(value: unknown): number {
    const n = typeof value === "string" ? Number(value) : value;
    return typeof n === "number" && Number.isFinite(n) ? n : 0;
}
