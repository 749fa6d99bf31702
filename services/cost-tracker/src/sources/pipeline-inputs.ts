/**
 * Inputs each inference pipeline completed per UTC day: the daily Sum of CloudWatch's
 * `AWS/SQS NumberOfMessagesDeleted` for the pipeline's input queue (dimension `QueueName`). A
 * worker deletes a message once it has finished that input, so deletions count completed inputs;
 * a message that fails goes to the dead-letter queue instead and is not counted. SQS counts every
 * successful delete, a repeated delete of one message included (Amazon SQS developer guide,
 * "Available CloudWatch metrics for Amazon SQS"), so a worker that deletes twice overcounts.
 *
 * One GetMetricData call for all queues (a MetricStat per queue, Period 86400, Stat Sum), paged
 * through NextToken; each result's Timestamps[i] is the start of the day Values[i] sums
 * (CloudWatch API reference: GetMetricData, MetricDataResult). A day with no datapoint had no
 * deletions: 0 inputs. Needs `cloudwatch:GetMetricData` (which takes no resource-level scoping).
 */
import { CloudWatchClient, GetMetricDataCommand, type GetMetricDataCommandOutput } from "@aws-sdk/client-cloudwatch";
import type { TrackerPipeline } from "@gpu-platform/catalog/contracts";
import type { Queryable } from "../db/database";
import { addDays } from "../rules";
import { SourceError } from "./source";

const SECONDS_PER_DAY = 86_400;

/** Inputs one pipeline completed on one UTC day. */
export interface PipelineInputs {
    readonly pipeline: string;
    readonly queueName: string;
    readonly day: string;
    readonly inputs: number;
}

export interface PipelineInputsOptions {
    readonly client: CloudWatchClient;
    readonly pipelines: readonly TrackerPipeline[];
}

export class PipelineInputsSource {
    readonly name = "pipeline-inputs";
    constructor(private readonly options: PipelineInputsOptions) {}

    /** Every configured pipeline's inputs on each of `days` (oldest first), 0 where CloudWatch holds no datapoint. */
    async read(days: readonly string[], signal: AbortSignal): Promise<PipelineInputs[]> {
        const { pipelines } = this.options;
        if (pipelines.length === 0 || days.length === 0) return [];
        const counts = new Map<string, number>();
        let nextToken: string | undefined;
        do {
            const page: GetMetricDataCommandOutput = await this.options.client.send(
                new GetMetricDataCommand({
                    StartTime: new Date(`${days[0]}T00:00:00Z`),
                    // EndTime is exclusive: the day after the last one.
                    EndTime: new Date(`${addDays(days[days.length - 1], 1)}T00:00:00Z`),
                    ScanBy: "TimestampAscending",
                    MetricDataQueries: pipelines.map((p, i) => ({
                        Id: queryId(i),
                        Label: p.name,
                        MetricStat: {
                            Metric: {
                                Namespace: "AWS/SQS",
                                MetricName: "NumberOfMessagesDeleted",
                                Dimensions: [{ Name: "QueueName", Value: p.queueName }],
                            },
                            Period: SECONDS_PER_DAY,
                            Stat: "Sum",
                        },
                        ReturnData: true,
                    })),
                    NextToken: nextToken,
                }),
                { abortSignal: signal },
            );
            for (const result of page.MetricDataResults ?? []) this.addResult(result, days, counts);
            nextToken = page.NextToken;
        } while (nextToken);
        return pipelines.flatMap((p, i) =>
            days.map((day) => ({
                pipeline: p.name,
                queueName: p.queueName,
                day,
                inputs: counts.get(`${queryId(i)}/${day}`) ?? 0,
            })),
        );
    }

    private addResult(
        result: NonNullable<GetMetricDataCommandOutput["MetricDataResults"]>[number],
        days: readonly string[],
        counts: Map<string, number>,
    ): void {
        if (result.StatusCode === "InternalError" || result.StatusCode === "Forbidden") {
            const why = (result.Messages ?? []).map((m) => `${m.Code}: ${m.Value}`).join("; ");
            throw new SourceError(
                this.name,
                `GetMetricData answered ${result.StatusCode} for ${result.Label ?? result.Id}${why ? ` (${why})` : ""}`,
            );
        }
        const timestamps = result.Timestamps ?? [];
        const values = result.Values ?? [];
        if (timestamps.length !== values.length)
            throw new SourceError(
                this.name,
                `${result.Id}: ${timestamps.length} timestamps for ${values.length} values`,
            );
        timestamps.forEach((at, k) => {
            const day = at.toISOString().slice(0, 10);
            const value = values[k];
            if (!days.includes(day)) return;
            if (!Number.isFinite(value) || value < 0)
                throw new SourceError(this.name, `${result.Id} on ${day}: ${value} messages deleted`);
            const key = `${result.Id}/${day}`;
            counts.set(key, (counts.get(key) ?? 0) + Math.round(value));
        });
    }
}

/** A GetMetricData id must start with a lower-case letter and hold only letters, digits and "_": a pipeline's position, not its name. */
function queryId(index: number): string {
    return `q${index}`;
}

/** Stores what was read, replacing each (pipeline, day) read before: a run holds pipelines × days rows, a few dozen. */
export async function storePipelineInputs(db: Queryable, rows: readonly PipelineInputs[], now: Date): Promise<void> {
    for (const r of rows)
        await db.query(
            `INSERT INTO pipeline_inputs (pipeline, day, queue_name, inputs, read_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (pipeline, day) DO UPDATE SET queue_name = $3, inputs = $4, read_at = $5`,
            [r.pipeline, r.day, r.queueName, r.inputs, now],
        );
}
