/**
 * Migration 6: inputs each inference pipeline completed per UTC day (CloudWatch's
 * `AWS/SQS NumberOfMessagesDeleted` of its input queue), the divisor of its cost per processed
 * input. A day's row is replaced when the day is read again, as late CloudWatch data arrives.
 */
import type { Migration } from "./migrations";

export const MIGRATION_6: Migration = {
    version: 6,
    name: "pipeline inputs",
    statements: [
        `CREATE TABLE pipeline_inputs (
            pipeline text NOT NULL,
            day date NOT NULL,
            queue_name text NOT NULL,
            inputs bigint NOT NULL CHECK (inputs >= 0),
            read_at timestamptz NOT NULL,
            PRIMARY KEY (pipeline, day)
        )`,
    ],
};
