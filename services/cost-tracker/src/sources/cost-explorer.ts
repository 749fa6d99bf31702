/**
 * AWS Cost Explorer: the AWS spend outside the cluster (buckets, queues, endpoints a team's own
 * stacks create), per day, grouped by the cost-allocation tag that names the team.
 *
 * GetCostAndUsage with `GroupBy: [{Type: "TAG", Key}]` answers `ResultsByTime[].Groups[]` whose
 * `Keys[0]` is "<tag key>$<tag value>" ("team$" for untagged spend) and `Metrics.UnblendedCost.Amount`
 * a decimal string; pages through `NextPageToken` (Cost Explorer API reference, GetCostAndUsage).
 * The tag must be activated as a cost-allocation tag in the billing console, and data lags about
 * a day, hence the look-back. The platform's own nodes carry `team=platform`, not a team's
 * name, so cluster compute (OpenCost's part) is not counted twice.
 */
import {
    CostExplorerClient,
    GetCostAndUsageCommand,
    type GetCostAndUsageCommandOutput,
} from "@aws-sdk/client-cost-explorer";
import type { UsageRecord } from "../model";
import { addDays } from "../rules";
import { SourceError, numberOr0, type UsageSource } from "./source";

export interface CostExplorerOptions {
    readonly client: CostExplorerClient;
    readonly tagKey: string;
    readonly teams: readonly string[];
}

export class CostExplorerSource implements UsageSource {
    readonly name = "cost-explorer";
    constructor(private readonly options: CostExplorerOptions) {}

    async read(days: readonly string[], signal: AbortSignal): Promise<UsageRecord[]> {
        const records: UsageRecord[] = [];
        const prefix = `${this.options.tagKey}$`;
        let nextPageToken: string | undefined;
        do {
            const page: GetCostAndUsageCommandOutput = await this.options.client.send(
                new GetCostAndUsageCommand({
                    // End is exclusive.
                    TimePeriod: { Start: days[0], End: addDays(days[days.length - 1], 1) },
                    Granularity: "DAILY",
                    Metrics: ["UnblendedCost"],
                    GroupBy: [{ Type: "TAG", Key: this.options.tagKey }],
                    NextPageToken: nextPageToken,
                }),
                { abortSignal: signal },
            );
            if (!Array.isArray(page.ResultsByTime))
                throw new SourceError(this.name, "GetCostAndUsage answered without ResultsByTime");
            for (const result of page.ResultsByTime) {
                const day = result.TimePeriod?.Start ?? "";
                if (!days.includes(day)) continue;
                for (const group of result.Groups ?? []) {
                    const key = group.Keys?.[0] ?? "";
                    if (!key.startsWith(prefix)) continue;
                    const team = key.slice(prefix.length);
                    const metric = group.Metrics?.UnblendedCost;
                    if (!this.options.teams.includes(team) || !metric) continue;
                    if (metric.Unit && metric.Unit !== "USD")
                        throw new SourceError(this.name, `cost for ${team} on ${day} is in ${metric.Unit}, not USD`);
                    const amountUsd = numberOr0(metric.Amount);
                    if (amountUsd !== 0)
                        records.push({
                            day,
                            team,
                            category: "other-aws",
                            amountUsd,
                            detail: `Cost Explorer, tag ${key}`,
                        });
                }
            }
            nextPageToken = page.NextPageToken;
        } while (nextPageToken);
        return records;
    }
}
