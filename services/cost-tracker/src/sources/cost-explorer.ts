/**
 * AWS Cost Explorer: the account's bill per day, grouped by the cost-allocation tag that names
 * the team and by record type.
 *
 * GetCostAndUsage with `GroupBy: [{Type: "TAG", Key}, {Type: "DIMENSION", Key: "RECORD_TYPE"}]`
 * answers `ResultsByTime[]` (each with `Estimated`, true until the day's figures are final) whose
 * `Groups[].Keys` are ["<tag key>$<tag value>", "<record type>"] ("team$" for untagged spend) and
 * `Metrics.<metric>.Amount` a decimal string; pages through `NextPageToken` (Cost Explorer API
 * reference: GetCostAndUsage, and the RECORD_TYPE dimension of GetDimensionValues). The tag must be
 * activated as a cost-allocation tag in the billing console.
 *
 * - Metric: `AmortizedCost` by default (what finance reconciles: upfront fees of reservations and
 *   Savings Plans spread over their term), `UnblendedCost` as an option.
 * - Each group lands on exactly one line: a team's tag → the team's `other-aws`; credits,
 *   refunds and tax (record types Credit, Refund, Tax) → `credits-tax`, the team's when tagged;
 *   untagged, or a tag value that is no team ("Ml-Research", "marketing") → the unallocated line
 *   of its category, its tag named in the detail; the cluster's own tag (its nodes, which the
 *   in-cluster sources distribute) → the day's bill figures only, never a team's usage.
 * - The day's account total and cluster part are kept (`bill_days`) for the monthly reconciliation.
 */
import {
    CostExplorerClient,
    GetCostAndUsageCommand,
    type GetCostAndUsageCommandOutput,
} from "@aws-sdk/client-cost-explorer";
import type { Category, UsageRecord } from "../model";
import { addDays, daysBetween, monthOf } from "../rules";
import { SourceError, numberOr0, type BillDay, type BillSource } from "./source";

export interface CostExplorerOptions {
    readonly client: CostExplorerClient;
    readonly tagKey: string;
    readonly teams: readonly string[];
    /** Default AmortizedCost. */
    readonly metric?: "AmortizedCost" | "UnblendedCost";
    /** Default "platform". */
    readonly clusterTagValue?: string;
    /** Default 5. */
    readonly closeDay?: number;
    /** Complete days re-read besides today (the scheduler's look-back). */
    readonly lookbackDays: number;
}

/** Record types that are not usage: their own line (Cost Explorer's RECORD_TYPE values). */
const CREDITS_REFUNDS_TAX = new Set(["Credit", "Refund", "Tax"]);
/** How far back an Estimated day is re-read: Cost Explorer finalises a month within days of its close. */
const MAX_REVISION_DAYS = 95;

export class CostExplorerSource implements BillSource {
    readonly name = "cost-explorer";
    constructor(private readonly options: CostExplorerOptions) {}

    /**
     * The days to re-read: the look-back, the whole previous month until its close day, and
     * every day still Estimated on record (up to 95 days back), each run until it is final.
     */
    revisionDays(today: string, estimatedOnRecord: readonly string[]): string[] {
        const starts = [addDays(today, -this.options.lookbackDays)];
        if (Number(today.slice(8, 10)) <= (this.options.closeDay ?? 5))
            starts.push(
                monthOf(new Date(`${addDays(monthOf(new Date(`${today}T00:00:00Z`)).start, -1)}T00:00:00Z`)).start,
            );
        const oldestAllowed = addDays(today, -MAX_REVISION_DAYS);
        for (const day of estimatedOnRecord) if (day >= oldestAllowed && day < today) starts.push(day);
        return daysBetween(starts.sort()[0], today);
    }

    async read(days: readonly string[], signal: AbortSignal): Promise<UsageRecord[]> {
        return (await this.readWithBill(days, signal)).records;
    }

    async readWithBill(
        days: readonly string[],
        signal: AbortSignal,
    ): Promise<{ records: UsageRecord[]; bill: BillDay[] }> {
        const metricName = this.options.metric ?? "AmortizedCost";
        const records: UsageRecord[] = [];
        const bill = new Map<string, BillDay>();
        let nextPageToken: string | undefined;
        do {
            const page: GetCostAndUsageCommandOutput = await this.options.client.send(
                new GetCostAndUsageCommand({
                    // End is exclusive.
                    TimePeriod: { Start: days[0], End: addDays(days[days.length - 1], 1) },
                    Granularity: "DAILY",
                    Metrics: [metricName],
                    GroupBy: [
                        { Type: "TAG", Key: this.options.tagKey },
                        { Type: "DIMENSION", Key: "RECORD_TYPE" },
                    ],
                    NextPageToken: nextPageToken,
                }),
                { abortSignal: signal },
            );
            if (!Array.isArray(page.ResultsByTime))
                throw new SourceError(this.name, "GetCostAndUsage answered without ResultsByTime");
            for (const result of page.ResultsByTime) {
                const day = result.TimePeriod?.Start ?? "";
                if (!days.includes(day)) continue;
                const estimated = result.Estimated === true;
                const figures = bill.get(day) ?? { day, metric: metricName, totalUsd: 0, clusterUsd: 0, estimated };
                figures.estimated ||= estimated;
                bill.set(day, figures);
                for (const group of result.Groups ?? []) {
                    const metric = group.Metrics?.[metricName];
                    if (!metric) continue;
                    const [tag = "", recordType = "Usage"] = group.Keys ?? [];
                    if (metric.Unit && metric.Unit !== "USD")
                        throw new SourceError(this.name, `cost for ${tag} on ${day} is in ${metric.Unit}, not USD`);
                    const amountUsd = numberOr0(metric.Amount);
                    if (amountUsd === 0) continue;
                    figures.totalUsd += amountUsd;
                    const record = this.recordOf(day, tag, recordType, amountUsd, estimated);
                    if (record) records.push(record);
                    else figures.clusterUsd += amountUsd;
                }
            }
            nextPageToken = page.NextPageToken;
        } while (nextPageToken);
        return { records: mergeByKey(records), bill: [...bill.values()] };
    }

    /** The line one group lands on; undefined for the cluster's own usage (a bill figure only). */
    private recordOf(
        day: string,
        tag: string,
        recordType: string,
        amountUsd: number,
        estimated: boolean,
    ): UsageRecord | undefined {
        const prefix = `${this.options.tagKey}$`;
        const value = tag.startsWith(prefix) ? tag.slice(prefix.length) : "";
        const category: Category = CREDITS_REFUNDS_TAX.has(recordType) ? "credits-tax" : "other-aws";
        if (category === "other-aws" && value !== "" && value === (this.options.clusterTagValue ?? "platform"))
            return undefined;
        const team = this.options.teams.includes(value) ? value : "";
        const detail = team
            ? `Cost Explorer, ${recordType}, tag ${tag}`
            : value === ""
              ? `Cost Explorer, ${recordType}, untagged`
              : `Cost Explorer, ${recordType}, tag ${this.options.tagKey}=${value} matches no team`;
        return { day, team, line: team ? "team" : "unallocated", category, amountUsd, estimated, detail };
    }
}

/** Groups that land on one line (several untagged record types, say) become one record, keeping the first detail. */
function mergeByKey(records: readonly UsageRecord[]): UsageRecord[] {
    const merged = new Map<string, UsageRecord>();
    for (const r of records) {
        const key = JSON.stringify([r.day, r.line, r.team, r.category]);
        const prior = merged.get(key);
        merged.set(
            key,
            prior
                ? {
                      ...prior,
                      amountUsd: prior.amountUsd + r.amountUsd,
                      detail: "Cost Explorer, several tags or record types",
                  }
                : r,
        );
    }
    return [...merged.values()];
}
