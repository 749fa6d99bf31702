/**
 * JSON schemas of every route: Fastify validates requests and serialises responses with them,
 * and @fastify/swagger turns them into /openapi.json. Names that come from the config (teams,
 * pools, priority classes) are enums, so the OpenAPI document lists what a caller may send.
 */
import { CALLER_KINDS, type CostTrackerConfig } from "@gpu-platform/catalog/contracts";
import { CATEGORIES } from "../model";

const usd = { type: "number", description: "US dollars, to the cent" } as const;
const day = { type: "string", format: "date", description: "UTC day, YYYY-MM-DD" } as const;
const nullable = <T extends Record<string, unknown>>(schema: T) => ({ ...schema, nullable: true });

export const errorSchema = {
    type: "object",
    required: ["error", "message"],
    properties: {
        error: { type: "string" },
        message: { type: "string", description: "One line naming the field and what is wrong" },
        field: { type: "string", description: "The field, header or parameter at fault" },
    },
} as const;

export const idempotencyHeaders = {
    type: "object",
    required: ["idempotency-key"],
    properties: {
        "idempotency-key": {
            type: "string",
            minLength: 1,
            maxLength: 200,
            description: "Repeating a key returns the first answer and writes nothing",
        },
    },
} as const;

const categoryAmounts = {
    type: "object",
    required: [...CATEGORIES],
    properties: Object.fromEntries(CATEGORIES.map((c) => [c, usd])),
} as const;

/**
 * Free text a person reads back as one name (a requester, a resource name): no control or format
 * characters (validation.ts). Every string, identifier or not, is refused with NUL or an unpaired
 * surrogate by the validation layer itself.
 */
const identifier = (maxLength: number) => ({ type: "string", minLength: 1, maxLength, "x-identifier": true }) as const;

/**
 * Kubernetes' rules for the names a workload is found by ("Object Names and IDs", kubernetes.io
 * docs): a namespace is a DNS-1123 label, most kinds' names (Job, Deployment, Workload) DNS-1123
 * subdomains, a kind an identifier. A "/" would also make the workload key (namespace/kind/name)
 * ambiguous.
 */
const DNS_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const workloadProperties = {
    namespace: { ...identifier(63), pattern: `^${DNS_LABEL}$` },
    kind: { ...identifier(63), pattern: "^[A-Za-z][A-Za-z0-9]*$", examples: ["Job"] },
    name: { ...identifier(253), pattern: `^${DNS_LABEL}(\\.${DNS_LABEL})*$` },
} as const;

/** The workload a usage record's spend belongs to. */
const workload = {
    type: "object",
    additionalProperties: false,
    required: ["namespace", "kind", "name"],
    description: "The workload that spent it; GPU spend of a workload replaces its reservation as it accrues",
    properties: workloadProperties,
} as const;

const workloadUid = {
    type: "string",
    format: "uuid",
    description: "The workload's Kubernetes UID (metadata.uid)",
} as const;

/** The workload a reservation is for; with its UID once the workload exists. */
const boundWorkload = {
    type: "object",
    additionalProperties: false,
    required: ["namespace", "kind", "name"],
    description:
        "The workload that will hold the reservation (e.g. a Kueue workload's Job); its observed GPU spend replaces the reservation as it accrues. A live reservation for the same workload is adopted, never made twice: the one bound to `uid`, else one made for the same team, namespace, kind and name without a UID",
    properties: { ...workloadProperties, uid: workloadUid },
} as const;

export const teamSummarySchema = {
    type: "object",
    required: [
        "name",
        "costCenter",
        "monthlyBudgetUsd",
        "month",
        "monthToDateUsd",
        "reservedUsd",
        "remainingUsd",
        "forecastUsd",
        "forecast",
        "byCategory",
    ],
    properties: {
        name: { type: "string" },
        costCenter: { type: "string" },
        monthlyBudgetUsd: usd,
        month: { type: "string", description: "YYYY-MM, UTC" },
        monthToDateUsd: usd,
        reservedUsd: { ...usd, description: "What live reservations still hold" },
        remainingUsd: { ...usd, description: "Budget minus month-to-date spend minus reservations" },
        forecastUsd: nullable({
            ...usd,
            description:
                "Month-end forecast's point: spend through the last complete day plus the 14-day daily mean times the days left; null with under 7 days of history",
        }),
        forecast: {
            type: "object",
            required: ["method", "asOfDay", "historyDays", "confidencePct", "pointUsd", "lowUsd", "highUsd"],
            properties: {
                method: { type: "string", enum: ["daily-mean-with-prediction-interval"] },
                asOfDay: { ...day, description: "The last complete UTC day: the forecast is fixed for today" },
                historyDays: { type: "integer", description: "Complete days measured, at most 14" },
                confidencePct: { type: "number", description: "The range's confidence" },
                pointUsd: nullable(usd),
                lowUsd: nullable(usd),
                highUsd: nullable(usd),
            },
        },
        byCategory: categoryAmounts,
        gpuUtilisation: nullable({
            type: "object",
            description: "From DCGM through Prometheus, when configured",
            properties: {
                averagePct: nullable({ type: "number" }),
                gpusReporting: { type: "number" },
                gpusRequested: { type: "number" },
                observedAt: { type: "string", format: "date-time" },
            },
        }),
    },
} as const;

export const spendSchema = {
    type: "object",
    required: ["team", "from", "to", "days", "totals", "totalUsd", "gpuHoursByPool"],
    properties: {
        team: { type: "string" },
        from: day,
        to: day,
        days: {
            type: "array",
            items: {
                type: "object",
                required: ["day", "totalUsd", "byCategory", "estimated"],
                properties: {
                    day,
                    totalUsd: usd,
                    byCategory: categoryAmounts,
                    estimated: {
                        type: "boolean",
                        description:
                            "Some of the day's figures are Cost Explorer's Estimated ones, revised until final",
                    },
                },
            },
        },
        totals: categoryAmounts,
        totalUsd: usd,
        gpuHoursByPool: { type: "array", items: { $ref: "PoolUsage#" } },
    },
} as const;

export const poolUsageSchema = {
    $id: "PoolUsage",
    type: "object",
    required: ["pool", "gpuHours", "gpuUsd", "idleGpuHours", "idleUsd", "resources"],
    properties: {
        pool: { type: "string" },
        gpuHours: {
            type: "number",
            description: "GPU-equivalent hours requested: a MIG slice counts its compute fraction, a share 1/replicas",
        },
        gpuUsd: usd,
        idleGpuHours: { type: "number", description: "GPU-equivalent hours of node-hours no pod requested" },
        idleUsd: usd,
        resources: {
            type: "array",
            items: {
                type: "object",
                required: ["gpuResource", "resourceHours", "gpuHours", "gpuUsd"],
                properties: {
                    gpuResource: { type: "string" },
                    resourceHours: { type: "number", description: "Hours of the resource's units, as requested" },
                    gpuHours: { type: "number" },
                    gpuUsd: usd,
                },
            },
        },
    },
} as const;

export const requestSchema = {
    $id: "GpuRequest",
    type: "object",
    properties: {
        id: { type: "string", format: "uuid" },
        team: { type: "string" },
        pool: { type: "string" },
        gpuResource: { type: "string" },
        gpus: { type: "integer" },
        hours: { type: "number" },
        priorityClass: { type: "string" },
        requester: { type: "string", description: "The identity the caller's credential proved" },
        claimedRequester: {
            type: "string",
            description: "The requester the body named, when it differs: a label only",
        },
        purpose: nullable({ type: "string" }),
        workload: nullable({
            type: "object",
            properties: {
                namespace: { type: "string" },
                kind: { type: "string" },
                name: { type: "string" },
                uid: { type: "string" },
            },
        }),
        status: { type: "string", enum: ["approved", "rejected"] },
        overBudget: { type: "boolean" },
        reason: { type: "string" },
        estimatedCostUsd: usd,
        consumedUsd: {
            ...usd,
            description: "Observed spend of the named workload that has replaced part of the reservation",
        },
        createdAt: { type: "string", format: "date-time" },
        expiresAt: nullable({ type: "string", format: "date-time" }),
        reservation: nullable({ type: "string", enum: ["active", "released", "expired", "replaced-by-spend", null] }),
    },
} as const;

export const alertSchema = {
    $id: "Alert",
    type: "object",
    properties: {
        id: { type: "integer" },
        team: { type: "string" },
        kind: {
            type: "string",
            enum: [
                "budget-threshold",
                "late-budget-threshold",
                "forecast-over-budget",
                "anomaly",
                "critical-over-budget",
                "budget-overrun",
            ],
        },
        message: { type: "string" },
        createdAt: { type: "string", format: "date-time" },
        deliveredAt: nullable({ type: "string", format: "date-time" }),
        deliveryError: nullable({ type: "string" }),
    },
} as const;

/** USD figures of a team's month, as a caller reports them: within what a day-total column holds, to the cent. */
const reportedUsd = { type: "number", minimum: 0, maximum: 9_999_999_999.99, "x-decimals": 2 } as const;

/**
 * An overrun the budget gate observed: the team's month-to-date spend and live reservations
 * past its budget, and what the gate did about it. The tracker words the alert itself (it knows
 * the budget), so no free text from the caller reaches a notifier.
 */
export function overrunAlertBody(config: CostTrackerConfig) {
    return {
        type: "object",
        additionalProperties: false,
        required: ["team", "kind", "action", "spentUsd", "reservedUsd", "stopped"],
        properties: {
            team: { type: "string", enum: config.teams.map((t) => t.name) },
            kind: { type: "string", enum: ["budget-overrun"], description: "The one kind of alert a caller raises" },
            action: {
                type: "string",
                enum: ["suspended", "queued"],
                description:
                    "suspended: the gate deactivated the workloads in `stopped`; queued: it only holds the team's new GPU workloads",
            },
            spentUsd: { ...reportedUsd, description: "Month-to-date spend when the overrun was seen" },
            reservedUsd: { ...reportedUsd, description: "Live reservations when the overrun was seen" },
            stopped: {
                type: "array",
                maxItems: 100,
                description:
                    "The workloads the gate deactivated, in the team's namespace, in the order it stopped them",
                items: {
                    type: "object",
                    additionalProperties: false,
                    required: ["namespace", "kind", "name"],
                    properties: workloadProperties,
                },
            },
        },
    } as const;
}

export function gpuRequestBody(config: CostTrackerConfig) {
    return {
        type: "object",
        additionalProperties: false,
        required: ["team", "pool", "gpus", "hours", "priorityClass", "requester"],
        properties: {
            team: { type: "string", enum: config.teams.map((t) => t.name) },
            pool: { type: "string", enum: config.pools.map((p) => p.name) },
            gpuResource: {
                ...identifier(100),
                description:
                    "nvidia.com/gpu, nvidia.com/gpu.shared or nvidia.com/mig-<profile>; required when the pool offers several (see GET /v1/pools)",
            },
            gpus: {
                type: "integer",
                minimum: 1,
                maximum: 4096,
                description: "Units of gpuResource: whole GPUs, time-sliced shares or MIG slices",
            },
            hours: {
                type: "number",
                // gpu_requests.hours is numeric(8, 2) (migration 1): hundredths of an hour, from 0.01.
                minimum: 0.01,
                maximum: 744,
                "x-decimals": 2,
                description: "How long the GPUs are held; the reservation lasts this plus the grace period",
            },
            priorityClass: { type: "string", enum: [...config.priorityClasses] },
            requester: {
                ...identifier(200),
                description:
                    "Who asks, as the caller names them; recorded as claimedRequester beside the identity the credential proves",
            },
            purpose: { type: "string", maxLength: 1000 },
            workload: boundWorkload,
        },
    } as const;
}

export function usageBody(config: CostTrackerConfig) {
    return {
        type: "object",
        additionalProperties: false,
        required: ["records"],
        properties: {
            source: {
                type: "string",
                pattern: "^[a-z][a-z0-9-]{0,62}$",
                description:
                    'Who pushes (default "default"): a record replaces the earlier record of its team, category, day, workload, pool and GPU resource from the same source',
            },
            records: {
                type: "array",
                minItems: 1,
                maxItems: 1000,
                items: {
                    type: "object",
                    additionalProperties: false,
                    required: ["team", "category", "amountUsd", "occurredAt"],
                    properties: {
                        team: { type: "string", enum: config.teams.map((t) => t.name) },
                        category: {
                            type: "string",
                            enum: [...CATEGORIES],
                            description: "ai-api for model API spend reported by a team's gateway",
                        },
                        // usage.amount_usd numeric(16, 6), gpu_hours numeric(14, 4) (migration 1); a day's total is checked in usage.ts.
                        amountUsd: { type: "number", minimum: 0, maximum: 1_000_000, "x-decimals": 6 },
                        occurredAt: {
                            type: "string",
                            format: "date-time",
                            description: "When the spend accrued; counted on its UTC day",
                        },
                        pool: { type: "string", enum: config.pools.map((p) => p.name) },
                        gpuHours: {
                            type: "number",
                            minimum: 0,
                            maximum: 100_000,
                            "x-decimals": 4,
                            description:
                                "GPU-equivalent hours; refused on a pool whose units are not whole GPUs (send gpuResource and resourceHours)",
                        },
                        gpuResource: {
                            type: "string",
                            maxLength: 100,
                            description: "The pool's GPU resource the resourceHours are of (see GET /v1/pools)",
                        },
                        resourceHours: {
                            type: "number",
                            minimum: 0,
                            maximum: 1_000_000,
                            "x-decimals": 4,
                            description:
                                "Hours of gpuResource's units; the service counts a MIG slice at its compute fraction, a share at 1/replicas",
                        },
                        workload,
                        description: { type: "string", maxLength: 200, examples: ["openai gpt-4.1, 1.2M tokens"] },
                    },
                },
            },
        },
    } as const;
}

/** `from`/`to` of the spend reads: UTC days, both included. */
export const rangeQuery = {
    type: "object",
    properties: { from: day, to: day },
} as const;

export const poolsSchema = {
    type: "object",
    properties: {
        from: { type: "string" },
        to: { type: "string" },
        pools: {
            type: "array",
            items: {
                type: "object",
                properties: {
                    name: { type: "string" },
                    instanceType: { type: "string" },
                    gpuSharing: { type: "object", additionalProperties: true },
                    maxNodes: { type: "integer" },
                    resources: {
                        type: "array",
                        items: {
                            type: "object",
                            properties: {
                                gpuResource: { type: "string" },
                                fractionOfGpu: { type: "number" },
                                usdPerUnitHour: { type: "number" },
                                maxUnits: { type: "integer" },
                            },
                        },
                    },
                },
            },
        },
        gpuHoursByPool: { type: "array", items: { $ref: "PoolUsage#" } },
        criticalPriorityClasses: {
            type: "array",
            items: { type: "string" },
            description:
                "Priority classes approved past the budget (flagged) when a caller of criticalApprovers asks, so a form can label them before a request",
        },
        criticalApprovers: {
            type: "array",
            items: { type: "string", enum: [...CALLER_KINDS] },
            description:
                "The caller kinds whose critical-class requests pass the budget; anyone else's (the portal's, unless listed) are judged against it",
        },
    },
} as const;

/** `?team&limit` of the lists of decisions and alerts. */
export function recentQuery(config: CostTrackerConfig) {
    return {
        type: "object",
        properties: {
            team: { type: "string", enum: config.teams.map((t) => t.name) },
            limit: { type: "integer", minimum: 1, maximum: 500, default: 50 },
        },
    } as const;
}

export const teamParams = { type: "object", properties: { team: { type: "string" } } } as const;
export const requestIdParams = { type: "object", properties: { id: { type: "string", format: "uuid" } } } as const;

export const approvedSchema = {
    type: "object",
    properties: {
        id: { type: "string", format: "uuid" },
        status: { type: "string", enum: ["approved"] },
        estimatedCostUsd: { type: "number" },
        remainingUsd: {
            type: "number",
            description: "What is left after this reservation; negative for a critical class approved past the budget",
        },
        expiresAt: { type: "string", format: "date-time" },
        overBudget: { type: "boolean" },
        reason: { type: "string" },
    },
} as const;

/** 200: the workload's live reservation, adopted (and grown to this request's estimate if that is larger). */
export const adoptedSchema = {
    ...approvedSchema,
    properties: {
        ...approvedSchema.properties,
        adopted: { type: "boolean", enum: [true], description: "An existing reservation answered this request" },
    },
} as const;

export const rejectedSchema = {
    type: "object",
    required: ["id", "status", "reason", "message", "estimatedCostUsd", "remainingUsd"],
    properties: {
        id: { type: "string", format: "uuid" },
        status: { type: "string", enum: ["rejected"] },
        reason: {
            type: "string",
            enum: ["over-budget", "exceeds-monthly-budget"],
            description:
                "over-budget: it would fit in an empty month, retry when money frees up (GET /v1/events); exceeds-monthly-budget: the estimate alone is more than the team's whole monthly budget, it never fits",
        },
        message: { type: "string", description: "The decision in a sentence: asked, left, spent, reserved" },
        estimatedCostUsd: { type: "number" },
        remainingUsd: { type: "number" },
    },
} as const;

export const workloadReleaseBody = {
    type: "object",
    additionalProperties: false,
    required: ["uid"],
    properties: { uid: workloadUid },
} as const;

export const workloadReleasedSchema = {
    type: "object",
    required: ["released"],
    properties: {
        released: {
            type: "array",
            items: { type: "string", format: "uuid" },
            description: "The reservations this call released; empty for a UID that holds none",
        },
    },
} as const;

/** Most seconds a long poll of GET /v1/events waits. */
export const MAX_WAIT_SECONDS = 30;

export const eventsQuery = {
    type: "object",
    properties: {
        after: {
            type: "string",
            pattern: "^[0-9]{1,18}$",
            description: "The cursor of the previous answer; absent, the feed from its oldest kept event",
        },
        waitSeconds: {
            type: "integer",
            minimum: 0,
            maximum: MAX_WAIT_SECONDS,
            default: 0,
            description: "How long to wait for an event when none is past the cursor",
        },
    },
} as const;

export const eventsSchema = {
    type: "object",
    required: ["events", "cursor"],
    properties: {
        events: {
            type: "array",
            items: {
                type: "object",
                required: ["id", "team", "kind", "at"],
                properties: {
                    id: { type: "string" },
                    team: { type: "string" },
                    kind: {
                        type: "string",
                        enum: ["released", "expired", "spend-replaced", "budget-changed", "month-started"],
                    },
                    at: { type: "string", format: "date-time" },
                },
            },
        },
        cursor: { type: "string", description: "Opaque: pass it as `after` next time" },
    },
} as const;

export const usageAcceptedSchema = {
    type: "object",
    properties: {
        accepted: { type: "integer" },
        days: { type: "array", items: { type: "string" } },
    },
} as const;

export const auditQuery = {
    type: "object",
    additionalProperties: false,
    properties: {
        team: { type: "string", maxLength: 63 },
        before: { type: "string", pattern: "^[1-9][0-9]{0,17}$", description: "An entry id: the page before it" },
        limit: { type: "integer", minimum: 1, maximum: 500, default: 100 },
    },
} as const;

export const auditSchema = {
    type: "array",
    items: {
        type: "object",
        required: ["id", "at", "caller", "action", "teams", "statusCode", "outcome"],
        properties: {
            id: { type: "string" },
            at: { type: "string", format: "date-time" },
            caller: { type: "string", description: "The identity the credential proved" },
            action: { type: "string", examples: ["POST /v1/gpu-requests"] },
            teams: { type: "array", items: { type: "string" } },
            target: { type: "string" },
            statusCode: { type: "integer" },
            outcome: { type: "string" },
        },
    },
} as const;

export const monthQuery = {
    type: "object",
    additionalProperties: false,
    properties: {
        month: {
            type: "string",
            pattern: "^[0-9]{4}-(0[1-9]|1[0-2])$",
            description: "YYYY-MM (UTC); default this month",
        },
    },
} as const;

const total = (description: string) => ({ ...usd, description });

export const monthlyReportSchema = {
    type: "object",
    required: [
        "month",
        "teams",
        "costCenters",
        "unallocated",
        "idle",
        "sources",
        "linesTotalUsd",
        "sourcesTotalUsd",
        "differenceUsd",
        "bill",
        "pipelines",
        "jobs",
    ],
    properties: {
        month: { type: "string" },
        teams: {
            type: "array",
            items: {
                type: "object",
                required: ["team", "costCenter", "byCategory", "totalUsd", "idleShareUsd"],
                properties: {
                    team: { type: "string" },
                    costCenter: { type: "string" },
                    byCategory: categoryAmounts,
                    totalUsd: total("The team's own usage"),
                    idleShareUsd: total(
                        "Idle GPU capacity split to the team by share of use (counted on the idle line)",
                    ),
                },
            },
        },
        costCenters: {
            type: "array",
            items: {
                type: "object",
                required: ["costCenter", "totalUsd"],
                properties: {
                    costCenter: { type: "string" },
                    totalUsd: total("Its teams' usage and idle shares"),
                },
            },
        },
        unallocated: {
            type: "object",
            required: ["byCategory", "totalUsd"],
            properties: { byCategory: categoryAmounts, totalUsd: usd },
        },
        idle: {
            type: "object",
            required: ["byPool", "totalUsd"],
            properties: {
                byPool: {
                    type: "array",
                    items: {
                        type: "object",
                        required: ["pool", "usd"],
                        properties: { pool: { type: "string" }, usd },
                    },
                },
                totalUsd: usd,
            },
        },
        sources: {
            type: "array",
            items: {
                type: "object",
                required: ["source", "totalUsd"],
                properties: { source: { type: "string" }, totalUsd: usd },
            },
        },
        linesTotalUsd: total("Teams + unallocated + idle"),
        sourcesTotalUsd: total("The sum of the sources' records"),
        differenceUsd: total("Lines minus sources: 0 when every dollar is on exactly one line"),
        bill: nullable({
            type: "object",
            required: ["metric", "totalUsd", "clusterUsd", "trackedAwsUsd", "differenceUsd", "estimatedDays"],
            properties: {
                metric: { type: "string", enum: ["AmortizedCost", "UnblendedCost"] },
                totalUsd: total("Cost Explorer's account total for the month's days on record"),
                clusterUsd: total("The part tagged as the cluster's own nodes"),
                trackedAwsUsd: total("Every line except ai-api (not on the AWS bill)"),
                differenceUsd: total("Bill minus tracked AWS spend"),
                estimatedDays: { type: "array", items: day, description: "Days Cost Explorer still marks Estimated" },
            },
        }),
        pipelines: {
            type: "array",
            description:
                "Each configured inference pipeline: its workers' spend over the inputs it completed (its queue's deleted messages, CloudWatch AWS/SQS NumberOfMessagesDeleted)",
            items: {
                type: "object",
                required: ["pipeline", "team", "inputs", "byCategory", "totalUsd", "usdPerInput"],
                properties: {
                    pipeline: { type: "string" },
                    team: { type: "string" },
                    inputs: { type: "integer", minimum: 0, description: "Inputs completed in the month" },
                    byCategory: categoryAmounts,
                    totalUsd: total("Its workers' spend, every category"),
                    usdPerInput: nullable({
                        type: "number",
                        description: "totalUsd / inputs, to a millionth of a dollar; null with no input",
                    }),
                },
            },
        },
        jobs: {
            type: "array",
            description: "Each batch Job's cost (a pipeline's Jobs count under the pipeline), costliest first",
            items: {
                type: "object",
                required: ["team", "workload", "byCategory", "totalUsd", "gpuHours"],
                properties: {
                    team: { type: "string" },
                    workload: { type: "string", description: "<namespace>/job/<name>" },
                    byCategory: categoryAmounts,
                    totalUsd: total("The Job's own usage"),
                    gpuHours: { type: "number", description: "GPU-equivalent hours" },
                },
            },
        },
    },
} as const;

export const csvSchema = { type: "string", description: "CSV (RFC 4180), a header row first" } as const;

const monthPattern = { type: "string", pattern: "^[0-9]{4}-(0[1-9]|1[0-2])$" } as const;

export const historyQuery = {
    type: "object",
    additionalProperties: false,
    properties: {
        from: { ...monthPattern, description: "First month, YYYY-MM; default 11 months before `to`" },
        to: { ...monthPattern, description: "Last month, YYYY-MM; default this month" },
    },
} as const;

export const historySchema = {
    type: "array",
    items: {
        type: "object",
        required: ["month", "teams", "costCenters", "unallocatedUsd", "idleUsd", "totalUsd"],
        properties: {
            month: { type: "string" },
            teams: {
                type: "array",
                items: {
                    type: "object",
                    required: ["team", "costCenter", "usd"],
                    properties: { team: { type: "string" }, costCenter: { type: "string" }, usd },
                },
            },
            costCenters: {
                type: "array",
                items: {
                    type: "object",
                    required: ["costCenter", "usd"],
                    properties: { costCenter: { type: "string" }, usd },
                },
            },
            unallocatedUsd: usd,
            idleUsd: total("Idle GPU capacity not split to teams"),
            totalUsd: total("Every line"),
        },
    },
} as const;
