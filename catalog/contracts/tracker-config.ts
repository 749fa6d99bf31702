/**
 * The cost tracker's config document: what the platform passes to the service
 * (`services/cost-tracker/`) as one JSON file. Teams and budgets come from the stack's `teams`,
 * pools and their GPU sharing from its `nodePools`, prices from the catalog (the service prices
 * every request from the catalog itself; the document carries no prices).
 *
 * Pure: no Pulumi, no stack config. The cost tracker component (a later issue) builds the
 * document with `buildCostTrackerConfig`; the service checks it with `costTrackerConfigProblems`
 * before it starts.
 */
import { DEFAULT_WORKLOAD_CLASSES, INSTANCE_TYPES, LABELS, gpuOf, isKnownInstanceType, offeredMigProfiles } from "..";

/** How pods share a pool's GPUs: the stack config's `gpuSharing` shape. */
export type TrackerGpuSharing =
    | { readonly mode: "exclusive" }
    | { readonly mode: "time-slicing"; readonly replicas: number }
    | { readonly mode: "mig"; readonly layout: Readonly<Record<string, number>> };

export interface TrackerTeam {
    readonly name: string;
    readonly costCenter: string;
    readonly monthlyBudgetUsd: number;
}

export interface TrackerPool {
    readonly name: string;
    /** A GPU instance type of the catalog. */
    readonly instanceType: string;
    readonly gpuSharing: TrackerGpuSharing;
    /** Most nodes the pool may run: a request for more GPUs than that is refused as absurd. */
    readonly maxNodes: number;
}

export interface TrackerAlerts {
    /** Percentages of the monthly budget that raise an alert, once each per team and month. */
    readonly thresholdsPct: readonly number[];
    /** A day is anomalous when its spend passes `factor` × the median of the `trailingDays` before it, and `minDailyUsd`. */
    readonly anomaly: { readonly factor: number; readonly trailingDays: number; readonly minDailyUsd: number };
    /** SNS topic that receives every alert. */
    readonly snsTopicArn?: string;
    /** Slack-compatible incoming webhook (`{"text": …}`) that receives every alert. */
    readonly webhookUrl?: string;
}

export interface TrackerSources {
    /** How often the pull sources run. */
    readonly intervalMinutes: number;
    /** Complete days re-read on every run besides today, so late data replaces early data. */
    readonly lookbackDays: number;
    /** Seconds one source may take before it is abandoned for this run. */
    readonly timeoutSeconds: number;
    /** OpenCost's API, e.g. http://opencost.opencost:9003. */
    readonly opencost?: { readonly url: string };
    /** AWS Cost Explorer, grouped by a cost-allocation tag (activated in the billing console). */
    readonly costExplorer?: {
        readonly region: string;
        readonly tagKey: string;
        /** What finance reconciles: amortised cost (default; upfront reservation and Savings Plans fees spread over their term), or unblended. */
        readonly metric?: "AmortizedCost" | "UnblendedCost";
        /** The tag value of the cluster's own resources (its nodes), whose cost the in-cluster sources distribute; default "platform". */
        readonly clusterTagValue?: string;
        /** Day of the month until which the previous month is re-read for revisions (default 5); Estimated days are re-read until final. */
        readonly closeDay?: number;
    };
    /**
     * Inputs each inference pipeline completed, for its cost per processed input: CloudWatch's
     * `AWS/SQS NumberOfMessagesDeleted` of the pipeline's input queue (a worker deletes a message
     * once it has finished that input), read daily through `cloudwatch:GetMetricData`.
     */
    readonly pipelineInputs?: {
        /** The region of the queues. */
        readonly region: string;
        readonly pipelines: readonly TrackerPipeline[];
    };
    /** A GPU pool's idle cost (node-hours no pod requested): on the pool's own line (default), or split over the teams that used the pool that day by their share of its spend. */
    readonly gpuIdle?: "pool" | "share-of-use";
    /** Prometheus holding DCGM exporter and kube-state-metrics series. */
    readonly prometheus?: {
        readonly url: string;
        /** The label carrying the pod's namespace on DCGM series: "exported_namespace" when Prometheus scrapes without honor_labels. */
        readonly namespaceLabel: string;
    };
    /**
     * An EKS cluster's API server whose service proxy the in-cluster sources are reached through
     * (`<server>/api/v1/namespaces/<ns>/services/<svc>:<port>/proxy`): a source URL under
     * `server` is fetched with an EKS token of the service's IAM identity, verifying the server
     * against the cluster's certificate authority; any other URL is fetched as it is.
     */
    readonly kubernetesApi?: KubernetesApiAccess;
}

/** An inference pipeline whose spend the monthly report divides by the inputs it completed. */
export interface TrackerPipeline {
    /** The pipeline's name, as reports show it. */
    readonly name: string;
    /** The team that owns it (one of `teams`). */
    readonly team: string;
    /** The namespace its workers run in. */
    readonly namespace: string;
    /**
     * The worker's name: a KEDA ScaledJob's (its Jobs are `<worker>-<suffix>`) or the Deployment
     * a ScaledObject scales. Spend recorded for those workloads is the pipeline's.
     */
    readonly worker: string;
    /** The input queue's name, the `QueueName` dimension of the AWS/SQS metrics. */
    readonly queueName: string;
}

export interface KubernetesApiAccess {
    /** The API server, e.g. https://ABC123.gr7.us-east-1.eks.amazonaws.com. */
    readonly server: string;
    /** The cluster's certificate authority: base64 of its PEM, as EKS gives it (`certificateAuthority.data`). */
    readonly certificateAuthorityData: string;
    /** The EKS cluster's name, which the token is bound to (`x-k8s-aws-id`). */
    readonly clusterName: string;
    /** The region whose STS endpoint the token's GetCallerIdentity request is signed for. */
    readonly region: string;
}

/** The document the service reads (`COST_TRACKER_CONFIG`). */
export interface CostTrackerConfig {
    readonly version: 1;
    readonly teams: readonly TrackerTeam[];
    /** GPU pools; CPU pools take no GPU requests and are left out. */
    readonly pools: readonly TrackerPool[];
    /** Priority class names a request may name. */
    readonly priorityClasses: readonly string[];
    /** Classes approved past the budget (flagged and alerted), so a budget never takes production down. */
    readonly criticalPriorityClasses: readonly string[];
    /**
     * The kinds of caller whose critical-class requests are approved past the budget; anyone
     * else's are judged against the budget like every other class, so a team cannot label its
     * own job critical to skip it. Absent: admin and platform.
     */
    readonly criticalApprovers?: readonly CallerKind[];
    /** Hours a reservation outlives the hours it asked for before it expires. */
    readonly reservationGraceHours: number;
    /** Namespace label naming a namespace's team, and node label naming a node's pool. */
    readonly labels: { readonly team: string; readonly pool: string };
    readonly alerts: TrackerAlerts;
    readonly sources: TrackerSources;
}

/** What the platform knows, in the shapes of the validated stack config. */
export interface CostTrackerConfigInput {
    readonly teams: readonly TrackerTeam[];
    readonly nodePools: readonly {
        name: string;
        instanceType: string;
        maxSize: number;
        gpuSharing?: TrackerGpuSharing;
    }[];
    /** Default: the catalog's workload classes. */
    readonly priorityClasses?: readonly { name: string }[];
    /** Default: `production-inference`, when the stack has that class. */
    readonly criticalPriorityClasses?: readonly string[];
    /** Default: admin and platform. */
    readonly criticalApprovers?: readonly CallerKind[];
    /** Default 2. */
    readonly reservationGraceHours?: number;
    readonly alerts?: Partial<TrackerAlerts>;
    readonly sources?: Partial<TrackerSources>;
}

export const TRACKER_DEFAULTS = {
    reservationGraceHours: 2,
    thresholdsPct: [50, 80, 100],
    // Three times the trailing two weeks' median, and at least $100, so a quiet team's first busy day is not news.
    anomaly: { factor: 3, trailingDays: 14, minDailyUsd: 100 },
    intervalMinutes: 15,
    // Cost Explorer data lags about a day: re-read the last three.
    lookbackDays: 3,
    timeoutSeconds: 30,
    criticalClass: "production-inference",
    criticalApprovers: ["admin", "platform"],
} as const;

/**
 * The kinds of caller the service tells apart (services/cost-tracker/src/http/callers.ts): the
 * platform team, the budget gate, the portal acting for a signed-in user, a team's own pusher.
 */
export const CALLER_KINDS = ["admin", "platform", "portal", "team"] as const;
export type CallerKind = (typeof CALLER_KINDS)[number];

/** The document for a stack: GPU pools only, every default applied. */
export function buildCostTrackerConfig(input: CostTrackerConfigInput): CostTrackerConfig {
    const classes = (input.priorityClasses ?? DEFAULT_WORKLOAD_CLASSES).map((c) => c.name);
    const critical = input.criticalPriorityClasses ?? classes.filter((c) => c === TRACKER_DEFAULTS.criticalClass);
    return {
        version: 1,
        teams: input.teams.map(({ name, costCenter, monthlyBudgetUsd }) => ({ name, costCenter, monthlyBudgetUsd })),
        pools: input.nodePools
            .filter((pool) => isKnownInstanceType(pool.instanceType) && gpuOf(pool.instanceType))
            .map((pool) => ({
                name: pool.name,
                instanceType: pool.instanceType,
                gpuSharing: pool.gpuSharing ?? { mode: "exclusive" },
                maxNodes: pool.maxSize,
            })),
        priorityClasses: classes,
        criticalPriorityClasses: critical,
        criticalApprovers: input.criticalApprovers ?? TRACKER_DEFAULTS.criticalApprovers,
        reservationGraceHours: input.reservationGraceHours ?? TRACKER_DEFAULTS.reservationGraceHours,
        labels: { team: LABELS.team, pool: LABELS.pool },
        alerts: {
            thresholdsPct: TRACKER_DEFAULTS.thresholdsPct,
            anomaly: TRACKER_DEFAULTS.anomaly,
            ...input.alerts,
        },
        sources: {
            intervalMinutes: TRACKER_DEFAULTS.intervalMinutes,
            lookbackDays: TRACKER_DEFAULTS.lookbackDays,
            timeoutSeconds: TRACKER_DEFAULTS.timeoutSeconds,
            ...input.sources,
        },
    };
}

export interface TrackerConfigProblem {
    /** Path of the field in the document: `teams[1].monthlyBudgetUsd`. */
    readonly key: string;
    readonly message: string;
}

const NAME = /^[a-z]([a-z0-9-]*[a-z0-9])?$/;
const SNS_TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}$/;
const AWS_REGION = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;
const TIME_SLICING_REPLICAS = { min: 2, max: 16 } as const;

/**
 * Every problem with a document, one per field, each naming it. Empty when the document is
 * usable. Checks pools against the catalog the way the stack config does (MIG profiles the GPU
 * makes, replicas 2–16), and that every name a field refers to exists.
 */
export function costTrackerConfigProblems(doc: unknown): TrackerConfigProblem[] {
    const problems: TrackerConfigProblem[] = [];
    const add = (key: string, message: string) => problems.push({ key, message });
    if (!isRecord(doc)) return [{ key: "(document)", message: "must be a JSON object with teams, pools and settings" }];

    const known = [
        "version",
        "teams",
        "pools",
        "priorityClasses",
        "criticalPriorityClasses",
        "criticalApprovers",
        "reservationGraceHours",
        "labels",
        "alerts",
        "sources",
    ];
    for (const key of Object.keys(doc))
        if (!known.includes(key)) add(key, `is not a known key; known: ${known.join(", ")}`);
    if (doc.version !== 1) add("version", `must be 1 (found ${describe(doc.version)})`);

    const teamNames = checkList(doc.teams, "teams", add, (team, key) => {
        if (!isRecord(team)) return void add(key, "must be an object with name, costCenter and monthlyBudgetUsd");
        checkName(team.name, `${key}.name`, add);
        if (typeof team.costCenter !== "string" || team.costCenter.length === 0)
            add(`${key}.costCenter`, `must be a non-empty string (found ${describe(team.costCenter)})`);
        checkNumber(team.monthlyBudgetUsd, `${key}.monthlyBudgetUsd`, add, { min: 0, exclusiveMin: true });
        return typeof team.name === "string" ? team.name : undefined;
    });
    checkList(doc.pools, "pools", add, (pool, key) => {
        if (!isRecord(pool)) return void add(key, "must be an object with name, instanceType, gpuSharing and maxNodes");
        checkName(pool.name, `${key}.name`, add);
        checkNumber(pool.maxNodes, `${key}.maxNodes`, add, { min: 1, integer: true });
        checkPoolHardware(pool, key, add);
        return typeof pool.name === "string" ? pool.name : undefined;
    });
    const classes = checkList(doc.priorityClasses, "priorityClasses", add, (name, key) => {
        checkName(name, key, add);
        return typeof name === "string" ? name : undefined;
    });
    if (Array.isArray(doc.criticalPriorityClasses)) {
        doc.criticalPriorityClasses.forEach((name, i) => {
            if (!classes.includes(name as string))
                add(
                    `criticalPriorityClasses[${i}]`,
                    `${describe(name)} is not in priorityClasses (${classes.join(", ")})`,
                );
        });
    } else
        add(
            "criticalPriorityClasses",
            `must be a list of priority class names (found ${describe(doc.criticalPriorityClasses)})`,
        );
    checkCriticalApprovers(doc.criticalApprovers, add);
    if (teamNames.length === 0 && Array.isArray(doc.teams))
        add("teams", "is empty; the tracker needs at least one team");
    checkNumber(doc.reservationGraceHours, "reservationGraceHours", add, { min: 0, max: 168 });
    if (!isRecord(doc.labels) || typeof doc.labels.team !== "string" || typeof doc.labels.pool !== "string") {
        add("labels", `must be {"team": <namespace label>, "pool": <node label>} (found ${describe(doc.labels)})`);
    }
    checkAlerts(doc.alerts, add);
    checkSources(doc.sources, add);
    if (isRecord(doc.sources) && doc.sources.pipelineInputs !== undefined)
        checkPipelineInputs(doc.sources.pipelineInputs, teamNames, add);
    return problems;
}

function checkCriticalApprovers(value: unknown, add: (key: string, message: string) => void): void {
    if (value === undefined) return;
    if (!Array.isArray(value)) {
        add(
            "criticalApprovers",
            `must be a list of caller kinds: ${CALLER_KINDS.join(", ")} (found ${describe(value)})`,
        );
        return;
    }
    value.forEach((kind, i) => {
        if (!(CALLER_KINDS as readonly unknown[]).includes(kind))
            add(`criticalApprovers[${i}]`, `${describe(kind)} is not a caller kind; known: ${CALLER_KINDS.join(", ")}`);
    });
}

function checkPoolHardware(
    pool: Record<string, unknown>,
    key: string,
    add: (key: string, message: string) => void,
): void {
    const type = pool.instanceType;
    if (typeof type !== "string" || !isKnownInstanceType(type)) {
        add(
            `${key}.instanceType`,
            `${describe(type)} is not in the catalog; allowed: ${Object.keys(INSTANCE_TYPES).join(", ")}`,
        );
        return;
    }
    const gpu = gpuOf(type);
    if (!gpu) return add(`${key}.instanceType`, `${type} has no GPU; only GPU pools take GPU requests`);
    const sharing = pool.gpuSharing;
    if (!isRecord(sharing))
        return add(
            `${key}.gpuSharing`,
            `must be {"mode": "exclusive" | "time-slicing" | "mig", …} (found ${describe(sharing)})`,
        );
    if (sharing.mode === "exclusive") return;
    if (sharing.mode === "time-slicing") {
        const r = sharing.replicas;
        if (
            typeof r !== "number" ||
            !Number.isInteger(r) ||
            r < TIME_SLICING_REPLICAS.min ||
            r > TIME_SLICING_REPLICAS.max
        ) {
            add(
                `${key}.gpuSharing.replicas`,
                `must be a whole number from ${TIME_SLICING_REPLICAS.min} to ${TIME_SLICING_REPLICAS.max} (found ${describe(r)})`,
            );
        }
        return;
    }
    if (sharing.mode === "mig") {
        const allowed = offeredMigProfiles(gpu);
        if (allowed.length === 0)
            return add(`${key}.gpuSharing.mode`, `is "mig" but ${type}'s ${gpu.productName} has no MIG`);
        if (!isRecord(sharing.layout) || Object.keys(sharing.layout).length === 0)
            return add(`${key}.gpuSharing.layout`, 'must map MIG profiles to counts, e.g. {"3g.40gb": 2}');
        for (const [profile, count] of Object.entries(sharing.layout)) {
            if (!allowed.includes(profile))
                add(
                    `${key}.gpuSharing.layout.${profile}`,
                    `is not a MIG profile of ${gpu.productName}; allowed: ${allowed.join(", ")}`,
                );
            else checkNumber(count, `${key}.gpuSharing.layout.${profile}`, add, { min: 1, integer: true });
        }
        return;
    }
    add(`${key}.gpuSharing.mode`, `must be "exclusive", "time-slicing" or "mig" (found ${describe(sharing.mode)})`);
}

function checkAlerts(alerts: unknown, add: (key: string, message: string) => void): void {
    if (!isRecord(alerts)) return add("alerts", `must be an object (found ${describe(alerts)})`);
    if (!Array.isArray(alerts.thresholdsPct) || alerts.thresholdsPct.length === 0)
        add("alerts.thresholdsPct", "must be a list of percentages, e.g. [50, 80, 100]");
    else
        alerts.thresholdsPct.forEach((pct, i) =>
            checkNumber(pct, `alerts.thresholdsPct[${i}]`, add, { min: 1, max: 1000 }),
        );
    const anomaly = alerts.anomaly;
    if (!isRecord(anomaly))
        add("alerts.anomaly", `must be {"factor", "trailingDays", "minDailyUsd"} (found ${describe(anomaly)})`);
    else {
        checkNumber(anomaly.factor, "alerts.anomaly.factor", add, { min: 1, exclusiveMin: true });
        checkNumber(anomaly.trailingDays, "alerts.anomaly.trailingDays", add, { min: 3, max: 90, integer: true });
        checkNumber(anomaly.minDailyUsd, "alerts.anomaly.minDailyUsd", add, { min: 0 });
    }
    if (
        alerts.snsTopicArn !== undefined &&
        (typeof alerts.snsTopicArn !== "string" || !SNS_TOPIC_ARN.test(alerts.snsTopicArn))
    ) {
        add(
            "alerts.snsTopicArn",
            `must be an SNS topic ARN, arn:aws:sns:<region>:<account>:<name> (found ${describe(alerts.snsTopicArn)})`,
        );
    }
    if (alerts.webhookUrl !== undefined) checkUrl(alerts.webhookUrl, "alerts.webhookUrl", add);
}

function checkSources(sources: unknown, add: (key: string, message: string) => void): void {
    if (!isRecord(sources)) return add("sources", `must be an object (found ${describe(sources)})`);
    checkNumber(sources.intervalMinutes, "sources.intervalMinutes", add, { min: 1, max: 1440 });
    checkNumber(sources.lookbackDays, "sources.lookbackDays", add, { min: 0, max: 31, integer: true });
    checkNumber(sources.timeoutSeconds, "sources.timeoutSeconds", add, { min: 1, max: 600 });
    if (sources.opencost !== undefined) {
        if (!isRecord(sources.opencost))
            add("sources.opencost", `must be {"url": …} (found ${describe(sources.opencost)})`);
        else checkUrl(sources.opencost.url, "sources.opencost.url", add);
    }
    if (sources.costExplorer !== undefined) {
        const ce = sources.costExplorer;
        if (!isRecord(ce)) add("sources.costExplorer", `must be {"region", "tagKey"} (found ${describe(ce)})`);
        else {
            if (typeof ce.region !== "string" || !AWS_REGION.test(ce.region))
                add(
                    "sources.costExplorer.region",
                    `must be an AWS region such as us-east-1 (found ${describe(ce.region)})`,
                );
            if (typeof ce.tagKey !== "string" || ce.tagKey.length === 0)
                add(
                    "sources.costExplorer.tagKey",
                    `must be the cost-allocation tag key, e.g. "team" (found ${describe(ce.tagKey)})`,
                );
            if (ce.metric !== undefined && ce.metric !== "AmortizedCost" && ce.metric !== "UnblendedCost")
                add(
                    "sources.costExplorer.metric",
                    `must be "AmortizedCost" or "UnblendedCost" (found ${describe(ce.metric)})`,
                );
            if (
                ce.clusterTagValue !== undefined &&
                (typeof ce.clusterTagValue !== "string" || ce.clusterTagValue === "")
            )
                add(
                    "sources.costExplorer.clusterTagValue",
                    `must be a tag value such as "platform" (found ${describe(ce.clusterTagValue)})`,
                );
            if (ce.closeDay !== undefined)
                checkNumber(ce.closeDay, "sources.costExplorer.closeDay", add, { min: 1, max: 28, integer: true });
        }
    }
    if (sources.gpuIdle !== undefined && sources.gpuIdle !== "pool" && sources.gpuIdle !== "share-of-use") {
        add("sources.gpuIdle", `must be "pool" or "share-of-use" (found ${describe(sources.gpuIdle)})`);
    }
    if (sources.kubernetesApi !== undefined) checkKubernetesApi(sources.kubernetesApi, add);
    if (sources.prometheus !== undefined) {
        const prom = sources.prometheus;
        if (!isRecord(prom)) add("sources.prometheus", `must be {"url", "namespaceLabel"} (found ${describe(prom)})`);
        else {
            checkUrl(prom.url, "sources.prometheus.url", add);
            if (typeof prom.namespaceLabel !== "string" || !/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(prom.namespaceLabel)) {
                add(
                    "sources.prometheus.namespaceLabel",
                    `must be a Prometheus label name such as "namespace" (found ${describe(prom.namespaceLabel)})`,
                );
            }
        }
    }
}

const SQS_QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}(\.fifo)?$/;

function checkPipelineInputs(
    value: unknown,
    teams: readonly string[],
    add: (key: string, message: string) => void,
): void {
    const key = "sources.pipelineInputs";
    if (!isRecord(value)) return add(key, `must be {"region", "pipelines": [...]} (found ${describe(value)})`);
    if (typeof value.region !== "string" || !AWS_REGION.test(value.region))
        add(`${key}.region`, `must be an AWS region such as us-east-1 (found ${describe(value.region)})`);
    checkList(value.pipelines, `${key}.pipelines`, add, (pipeline, at) => {
        if (!isRecord(pipeline))
            return void add(at, "must be an object with name, team, namespace, worker and queueName");
        checkName(pipeline.name, `${at}.name`, add);
        if (!teams.includes(pipeline.team as string))
            add(`${at}.team`, `${describe(pipeline.team)} is not in teams (${teams.join(", ")})`);
        checkName(pipeline.namespace, `${at}.namespace`, add);
        checkName(pipeline.worker, `${at}.worker`, add);
        if (typeof pipeline.queueName !== "string" || !SQS_QUEUE_NAME.test(pipeline.queueName))
            add(
                `${at}.queueName`,
                `must be an SQS queue name: 1-80 letters, digits, '-' or '_' (found ${describe(pipeline.queueName)})`,
            );
        return typeof pipeline.name === "string" ? pipeline.name : undefined;
    });
}

function checkKubernetesApi(api: unknown, add: (key: string, message: string) => void): void {
    if (!isRecord(api))
        return add(
            "sources.kubernetesApi",
            `must be {"server", "certificateAuthorityData", "clusterName", "region"} (found ${describe(api)})`,
        );
    if (typeof api.server !== "string" || !/^https:\/\/[^\s/]+$/.test(api.server)) {
        add(
            "sources.kubernetesApi.server",
            `must be the API server's https URL without a path, e.g. https://ABC.gr7.us-east-1.eks.amazonaws.com (found ${describe(api.server)})`,
        );
    }
    if (
        typeof api.certificateAuthorityData !== "string" ||
        !/^[A-Za-z0-9+/]+={0,2}$/.test(api.certificateAuthorityData)
    ) {
        add(
            "sources.kubernetesApi.certificateAuthorityData",
            "must be the cluster's certificate authority as base64 (certificateAuthority.data of the EKS cluster)",
        );
    }
    if (typeof api.clusterName !== "string" || !/^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/.test(api.clusterName)) {
        add("sources.kubernetesApi.clusterName", `must be an EKS cluster name (found ${describe(api.clusterName)})`);
    }
    if (typeof api.region !== "string" || !AWS_REGION.test(api.region))
        add("sources.kubernetesApi.region", `must be an AWS region such as us-east-1 (found ${describe(api.region)})`);
}

/** Checks each entry of a list; returns the names the entries gave, reporting duplicates. */
function checkList(
    value: unknown,
    key: string,
    add: (key: string, message: string) => void,
    check: (entry: unknown, key: string) => string | undefined,
): string[] {
    if (!Array.isArray(value)) {
        add(key, `must be a list (found ${describe(value)})`);
        return [];
    }
    const names: string[] = [];
    value.forEach((entry, i) => {
        const name = check(entry, `${key}[${i}]`);
        if (typeof name !== "string") return;
        const first = names.indexOf(name);
        if (first >= 0) add(`${key}[${i}]`, `duplicates ${key}[${first}] "${name}"; names must be unique`);
        names.push(name);
    });
    return names;
}

function checkName(value: unknown, key: string, add: (key: string, message: string) => void): void {
    if (typeof value !== "string" || !NAME.test(value) || value.length > 63) {
        add(key, `must be lower-case letters, digits and '-', starting with a letter (found ${describe(value)})`);
    }
}

function checkNumber(
    value: unknown,
    key: string,
    add: (key: string, message: string) => void,
    rule: { min: number; max?: number; exclusiveMin?: boolean; integer?: boolean },
): void {
    const ok =
        typeof value === "number" &&
        Number.isFinite(value) &&
        (rule.exclusiveMin ? value > rule.min : value >= rule.min) &&
        (rule.max === undefined || value <= rule.max) &&
        (!rule.integer || Number.isInteger(value));
    if (ok) return;
    const range = `${rule.exclusiveMin ? "more than" : "at least"} ${rule.min}${rule.max === undefined ? "" : ` and at most ${rule.max}`}`;
    add(key, `must be a ${rule.integer ? "whole number" : "number"} ${range} (found ${describe(value)})`);
}

function checkUrl(value: unknown, key: string, add: (key: string, message: string) => void): void {
    try {
        const url = new URL(String(value));
        if (typeof value === "string" && (url.protocol === "http:" || url.protocol === "https:")) return;
    } catch {
        // reported below
    }
    add(key, `must be an http(s) URL (found ${describe(value)})`);
}

function describe(value: unknown): string {
    if (value === undefined) return "nothing";
    if (value === null || ["string", "number", "boolean"].includes(typeof value)) return JSON.stringify(value);
    return Array.isArray(value) ? "a list" : "an object";
}

function isRecord(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}
