/**
 * ARNs in the stack config belong to the region's partition: a role in `aws` cannot be used by a
 * cluster in GovCloud (`aws-us-gov`) or China (`aws-cn`), and the API would refuse it only after
 * half the stack exists. Every string value shaped like an ARN is checked, whatever its key, so a
 * key added later is covered too.
 */
import { REGIONS_BY_PARTITION, partitionOf } from "@gpu-platform/catalog";
import type { SettingProblem } from "../components/shared/problems";
import { segment } from "./config-keys";

const PARTITIONS = Object.keys(REGIONS_BY_PARTITION);

/** Problems with the partition of every ARN in `values` (the project's config, keys without namespace). */
export function arnPartitionProblems(values: Record<string, unknown>, region: string | undefined): SettingProblem[] {
    const partition = region === undefined ? undefined : partitionOf(region);
    const problems: SettingProblem[] = [];
    const visit = (value: unknown, path: string): void => {
        if (typeof value === "string") {
            const problem = arnProblem(value, partition, region);
            if (problem) problems.push({ key: path, message: problem });
        } else if (Array.isArray(value)) {
            value.forEach((item, i) => visit(item, `${path}[${i}]`));
        } else if (typeof value === "object" && value !== null) {
            for (const [key, item] of Object.entries(value)) visit(item, `${path}${segment(key)}`);
        }
    };
    for (const [key, value] of Object.entries(values)) visit(value, key);
    return problems;
}

function arnProblem(value: string, partition: string | undefined, region: string | undefined): string | undefined {
    const match = /^arn:([^:]*):/.exec(value);
    if (!match) return undefined;
    const arnPartition = match[1];
    if (!PARTITIONS.includes(arnPartition))
        return `is an ARN in partition "${arnPartition}", which does not exist; AWS partitions: ${PARTITIONS.join(", ")}`;
    if (partition === undefined || arnPartition === partition) return undefined;
    return `is an ARN in partition "${arnPartition}", but region ${region} is in "${partition}": AWS refuses ARNs of another partition; use arn:${partition}:…`;
}
