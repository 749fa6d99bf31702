import { z } from "zod";
import { gpuOf, isKnownInstanceType } from "@gpu-platform/catalog";
import { poolNodes } from "../components/cluster";
import { PIPELINE_DEFAULTS, gpuRequestProblems, pipelineSettingsProblems } from "../components/inference";
import { imagePinProblems } from "../components/shared/image-reference";
import type { SettingProblem } from "../components/shared/problems";
import { someOf } from "./config-keys";
import { dnsName, whole } from "./fields";
import type { NodePoolConfig, UnparsedNames } from "./schema";
import type { PriorityClassConfig } from "./tenancy";

/**
 * The `inferencePipelines` stack-config key: one S3 → SQS → KEDA → GPU worker pipeline per
 * entry. Shapes are checked here; numeric rules live in components/inference/settings.ts so
 * the component enforces the same ones for teams that use it directly.
 */

/** A CPU or memory quantity, as a string whatever YAML made of it; its value is checked in stacks/pipelines-fit.ts. */
const quantity = z.union([z.number(), z.string()]).transform(String);

export const inferencePipelineSchema = z
    .object({
        /** Pipeline name; names its namespace, buckets, queues and worker. */
        name: dnsName(40),
        /** Team that owns it (one of `teams`); labels its namespace, for cost reports and the team-namespace-label policy. */
        team: z.string({
            error: (issue) =>
                issue.input === undefined
                    ? "is required: the pipeline's namespace is labelled with the team that owns it"
                    : "must be a team name",
        }),
        /** GPU node pool the worker runs on (one of `nodePools`). */
        pool: z.string(),
        /** Worker container image, pinned by tag or digest (`latest` pins nothing). */
        image: z.string().regex(/^\S+$/, { message: "must be a container image reference without spaces" }),
        /** GPU resource the worker requests; default the pool's only one. MIG pools offer several: name one. */
        gpuResource: z.string().optional(),
        /** GPUs (or MIG slices) per worker. Default 1. */
        gpusPerWorker: whole.optional(),
        /** Fewest workers. Default 0: no worker, and no GPU node, while the queue is empty. */
        minReplicas: whole.optional(),
        /** Most workers at once. Default 4. */
        maxReplicas: whole.optional(),
        /** Queued messages per worker KEDA aims for. Default 1. */
        messagesPerReplica: whole.optional(),
        /** Longest a worker may spend on one message, at most 43200 (12 h). Default 3600. */
        jobTimeoutSeconds: whole.optional(),
        /** Receives before a message moves to the dead-letter queue. Default 3. */
        maxReceiveCount: whole.optional(),
        /** Only objects under this key prefix start work. Default all. */
        inputPrefix: z.string().optional(),
        /** Only objects with this key suffix start work, e.g. ".jsonl". Default all. */
        inputSuffix: z.string().optional(),
        /** Priority class of the worker pods. Default "production-inference". */
        priorityClass: z.string().optional(),
        /** CPU each worker requests, e.g. "3" or "1500m"; must fit one node of the pool (stacks/pipelines-fit.ts). Default "4". */
        cpu: quantity.optional(),
        /** Memory each worker requests and is limited to, e.g. "12Gi"; must fit one node of the pool. Default "16Gi". */
        memory: quantity.optional(),
        /** "scaled-job" (default; scale-in never kills a running job) or "scaled-object" (a Deployment). */
        workload: z.enum(["scaled-job", "scaled-object"]).optional(),
        /** Days a processed input object is kept. Default 7. */
        processedInputRetentionDays: whole.optional(),
        /** Alarm when the oldest queued message is older than this. Default 3600. */
        oldestMessageAlarmSeconds: whole.optional(),
        /** SNS topic the pipeline's alarms notify. Default none. */
        alarmTopicArn: z
            .string()
            .regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]+$/, { message: "must be an SNS topic ARN" })
            .optional(),
    })
    .strict();

export type InferencePipelineConfig = z.output<typeof inferencePipelineSchema>;

/** An entry as far as it parsed: the fields that passed their own checks. */
export type PartialPipelineConfig = Partial<InferencePipelineConfig>;

/**
 * Parses each entry, and each field of an entry, on its own, so a bad field does not hide the
 * cross-field problems of the entry's other fields or of other entries.
 */
export function parsePipelineEntries(raw: unknown): PartialPipelineConfig[] | undefined {
    if (!Array.isArray(raw)) return undefined;
    return raw.map((entry) => {
        const parsed = inferencePipelineSchema.safeParse(entry);
        if (parsed.success) return parsed.data;
        if (typeof entry !== "object" || entry === null) return {};
        const fields = Object.entries(inferencePipelineSchema.shape).flatMap(([key, schema]) => {
            const field = (schema as z.ZodType).safeParse((entry as Record<string, unknown>)[key]);
            return field.success && field.data !== undefined ? [[key, field.data]] : [];
        });
        return Object.fromEntries(fields) as PartialPipelineConfig;
    });
}

/**
 * Rules that span pipelines, pools, teams and priority classes: unique names, a GPU pool that
 * exists and offers the requested resource, a known team, a defined priority class whose GPU
 * limit the worker fits in, and the numeric settings.
 */
export function inferencePipelineProblems(
    pipelines: PartialPipelineConfig[],
    nodePools: Record<string, NodePoolConfig>,
    teams: Array<{ name: string } | undefined>,
    priorityClasses: PriorityClassConfig[],
    unparsed: UnparsedNames = { nodePools: [], priorityClasses: [] },
): SettingProblem[] {
    const problems: SettingProblem[] = [];
    const seen = new Map<string, number>();
    const teamNames = teams.flatMap((t) => (t ? [t.name] : []));
    const knownTeams = new Set(teamNames);
    const unparsedPools = new Set(unparsed.nodePools);
    const unparsedClasses = new Set(unparsed.priorityClasses);
    const classes = {
        byName: new Map(priorityClasses.map((pc) => [pc.name, pc])),
        names: someOf(priorityClasses.map((pc) => pc.name)),
    };
    const gpuPools = Object.entries(nodePools)
        .filter(([, p]) => isKnownInstanceType(p.instanceType) && gpuOf(p.instanceType))
        .map(([name]) => name);

    pipelines.forEach((pipeline, i) => {
        const key = `inferencePipelines[${i}].`;
        if (pipeline.name !== undefined) {
            const first = seen.get(pipeline.name);
            if (first !== undefined) {
                problems.push({
                    key: `${key}name`,
                    message: `duplicates inferencePipelines[${first}].name "${pipeline.name}"; pipeline names must be unique`,
                });
            } else seen.set(pipeline.name, i);
        }

        if (pipeline.team !== undefined && !knownTeams.has(pipeline.team)) {
            problems.push({
                key: `${key}team`,
                message: `"${pipeline.team}" is not a team; defined teams: ${someOf(teamNames)}`,
            });
        }
        if (pipeline.image !== undefined) problems.push(...imagePinProblems(`${key}image`, pipeline.image));
        problems.push(...pipelineSettingsProblems(key, pipeline));
        const priorityClass = pipeline.priorityClass ?? PIPELINE_DEFAULTS.priorityClassName;
        if (!unparsedClasses.has(priorityClass)) problems.push(...priorityClassProblems(key, pipeline, classes));

        // A pool that failed its own checks is reported under nodePools.
        if (pipeline.pool === undefined || unparsedPools.has(pipeline.pool)) return;
        const pool = Object.hasOwn(nodePools, pipeline.pool) ? nodePools[pipeline.pool] : undefined;
        if (!pool) {
            problems.push({
                key: `${key}pool`,
                message: `"${pipeline.pool}" is not a node pool; GPU pools: ${someOf(gpuPools)}`,
            });
            return;
        }
        if (!isKnownInstanceType(pool.instanceType)) return; // reported under nodePools
        if (!gpuOf(pool.instanceType)) {
            problems.push({
                key: `${key}pool`,
                message: `"${pipeline.pool}" is a CPU pool (${pool.instanceType}); the worker needs a GPU pool: ${someOf(gpuPools)}`,
            });
            return;
        }
        const { labels, nodeResources } = poolNodes(pipeline.pool, pool);
        // Without a prototype, a gpuResource such as "constructor" finds nothing in the lookup and is reported as not offered.
        const offered: Record<string, number> = Object.assign(
            Object.create(null) as Record<string, number>,
            nodeResources,
        );
        problems.push(
            ...gpuRequestProblems(
                key,
                { name: pipeline.pool, labels, nodeResources: offered },
                pipeline.gpuResource,
                pipeline.gpusPerWorker,
            ),
        );
    });
    return problems;
}

/** The worker's priority class must exist, and its GPU limit per pod must leave room for the worker's GPUs. */
function priorityClassProblems(
    key: string,
    pipeline: PartialPipelineConfig,
    classes: { byName: ReadonlyMap<string, PriorityClassConfig>; names: string },
): SettingProblem[] {
    const name = pipeline.priorityClass ?? PIPELINE_DEFAULTS.priorityClassName;
    const found = classes.byName.get(name);
    if (!found) {
        return [
            { key: `${key}priorityClass`, message: `"${name}" is not a priority class; defined: ${classes.names}` },
        ];
    }
    const gpus = pipeline.gpusPerWorker ?? PIPELINE_DEFAULTS.gpusPerWorker;
    if (Number.isInteger(gpus) && gpus > found.maxGpusPerPod) {
        return [
            {
                key: `${key}gpusPerWorker`,
                message: `is ${gpus}, but priority class "${name}" allows at most ${found.maxGpusPerPod} GPUs per pod; the cluster would refuse the worker`,
            },
        ];
    }
    return [];
}
