/**
 * GPU allocation, computed by the platform for every GPU resource: what each pod requested of
 * `nvidia.com/*` while it ran, priced from the catalog as approvals are (a whole GPU, a MIG slice
 * at its compute fraction, a time-sliced share at 1/replicas: pricing.ts), and each pool's
 * node-hours at the instance's price. What no pod requested is the pool's idle cost; with
 * `sources.gpuIdle: "share-of-use"` it is split over the teams that used the pool that day, in
 * proportion to their GPU spend there. OpenCost counts GPUs only from `nvidia.com/gpu` requests,
 * so shares and slices would cost nothing there (DESIGN.md, "Facts for the cost tracker").
 *
 * Per UTC day, instant queries evaluated at the day's end (or now, for today) over subqueries
 * with a 5-minute step, so each sample stands for 5 minutes:
 * - `kube_pod_container_resource_requests{resource=~"nvidia_com_.*"}` (kube-state-metrics; labels
 *   namespace, pod, container, node, resource, unit; the resource name sanitised to
 *   [a-zA-Z0-9_]: kubernetes/kube-state-metrics internal/store/pod.go) times
 *   `kube_pod_status_phase{phase="Running"} == 1`, summed per namespace, pod, node and resource:
 *   units × samples while the pod ran.
 * - `kube_node_labels{label_<pool label>!=""}` counted per node: samples while the node existed.
 * - `kube_pod_owner` and `kube_replicaset_owner`: a pod's workload (a ReplicaSet's Deployment).
 * - `kube_namespace_labels{label_<team label>}`: a namespace's team (else a namespace named after one).
 */
import type { CostTrackerConfig, TrackerPool } from "@gpu-platform/catalog/contracts";
import type { UsageRecord } from "../model";
import { instanceType } from "@gpu-platform/catalog";
import { addDays } from "../rules";
import { resourceOnPool, sanitizeLabelName } from "./labels";
import type { PrometheusClient, Sample } from "./prometheus";
import { SourceError, type UsageSource } from "./source";

/** Seconds one subquery sample stands for. */
export const STEP_SECONDS = 300;
const HOURS_PER_SAMPLE = STEP_SECONDS / 3600;

export interface GpuAllocationOptions {
    readonly prometheus: PrometheusClient;
    readonly config: Pick<CostTrackerConfig, "teams" | "pools" | "labels" | "sources">;
    readonly now: () => Date;
}

/** What one pod asked of one GPU resource on one node during a day. */
interface PodRequest {
    namespace: string;
    pod: string;
    node: string;
    resource: string;
    unitHours: number;
}

export class GpuAllocationSource implements UsageSource {
    readonly name = "gpu-allocation";
    constructor(private readonly options: GpuAllocationOptions) {}

    async read(days: readonly string[], signal: AbortSignal): Promise<UsageRecord[]> {
        const records: UsageRecord[] = [];
        for (const day of days) records.push(...(await this.readDay(day, signal)));
        return records;
    }

    private async readDay(day: string, signal: AbortSignal): Promise<UsageRecord[]> {
        const dayStart = Date.parse(`${day}T00:00:00Z`);
        const end = Math.min(this.options.now().getTime(), Date.parse(`${addDays(day, 1)}T00:00:00Z`));
        // Whole steps since midnight: the subquery's samples then fall inside the day.
        const seconds = Math.floor((end - dayStart) / 1000 / STEP_SECONDS) * STEP_SECONDS;
        if (seconds <= 0) return [];
        const at = new Date(dayStart + seconds * 1000);
        const window = `[${seconds}s:${STEP_SECONDS}s]`;
        const { labels } = this.options.config;
        const poolLabel = `label_${sanitizeLabelName(labels.pool)}`;
        const teamLabel = `label_${sanitizeLabelName(labels.team)}`;
        const q = (promql: string) => this.options.prometheus.query(promql, signal, at);
        const [requests, nodes, podOwners, replicaSetOwners, namespaces] = await Promise.all([
            q(
                `sum by (namespace, pod, node, resource) (sum_over_time((kube_pod_container_resource_requests{resource=~"nvidia_com_.*"} * on (namespace, pod) group_left() max by (namespace, pod) (kube_pod_status_phase{phase="Running"} == 1))${window}))`,
            ),
            q(`count by (node, ${poolLabel}) (count_over_time(kube_node_labels{${poolLabel}!=""}${window}))`),
            q(`max by (namespace, pod, owner_kind, owner_name) (last_over_time(kube_pod_owner[${seconds}s]))`),
            q(
                `max by (namespace, replicaset, owner_kind, owner_name) (last_over_time(kube_replicaset_owner[${seconds}s]))`,
            ),
            q(`max by (namespace, ${teamLabel}) (last_over_time(kube_namespace_labels[${seconds}s]))`),
        ]);
        const context: DayContext = {
            day,
            pools: this.options.config.pools,
            nodePool: new Map(nodes.map((s) => [s.metric.node, s.metric[poolLabel]])),
            workloadOf: workloadResolver(podOwners, replicaSetOwners),
            teamOf: teamResolver(namespaces, teamLabel, this.options.config.teams),
        };
        const nodeHours = poolNodeHours(nodes, poolLabel, context.pools);
        const allocated = requests.map((s) => toPodRequest(s)).map((r) => priceRequest(r, context));
        return [
            ...mergeByKey(allocated),
            ...idleRecords(day, nodeHours, allocated, this.options.config.sources.gpuIdle ?? "pool"),
        ];
    }
}

interface DayContext {
    day: string;
    pools: readonly TrackerPool[];
    nodePool: Map<string, string>;
    workloadOf: (namespace: string, pod: string) => string;
    teamOf: (namespace: string) => string | undefined;
}

function toPodRequest(s: Sample): PodRequest {
    const { namespace = "", pod = "", node = "", resource = "" } = s.metric;
    if (!namespace || !pod || !resource)
        throw new SourceError(
            "gpu-allocation",
            `a request series without namespace, pod or resource: ${JSON.stringify(s.metric)}`,
        );
    return { namespace, pod, node, resource, unitHours: s.value * HOURS_PER_SAMPLE };
}

function priceRequest(r: PodRequest, c: DayContext): UsageRecord {
    const poolName = c.nodePool.get(r.node);
    const pool = c.pools.find((p) => p.name === poolName);
    const resource = pool && resourceOnPool(pool, r.resource);
    const team = c.teamOf(r.namespace);
    const base = {
        day: c.day,
        team: team ?? "",
        line: team ? ("team" as const) : ("unallocated" as const),
        category: "gpu" as const,
        workload: c.workloadOf(r.namespace, r.pod),
        resourceHours: r.unitHours,
    };
    if (!pool || !resource) {
        // A GPU outside the configured pools has no catalog price here, and its node no pool cost either.
        return {
            ...base,
            amountUsd: 0,
            gpuHours: 0,
            pool: poolName,
            gpuResource: r.resource,
            detail: `namespace ${r.namespace}: ${r.resource} on node ${r.node || "?"}, which no configured pool prices`,
        };
    }
    return {
        ...base,
        amountUsd: r.unitHours * resource.usdPerUnitHour,
        gpuHours: r.unitHours * resource.fractionOfGpu,
        pool: pool.name,
        gpuResource: resource.gpuResource,
        detail: `namespace ${r.namespace}`,
    };
}

/** Pods of one workload on one pool and resource become one record. */
function mergeByKey(records: readonly UsageRecord[]): UsageRecord[] {
    const merged = new Map<string, UsageRecord>();
    for (const r of records) {
        const key = JSON.stringify([r.line, r.team, r.workload, r.pool, r.gpuResource]);
        const prior = merged.get(key);
        merged.set(
            key,
            prior
                ? {
                      ...prior,
                      amountUsd: prior.amountUsd + r.amountUsd,
                      gpuHours: (prior.gpuHours ?? 0) + (r.gpuHours ?? 0),
                      resourceHours: (prior.resourceHours ?? 0) + (r.resourceHours ?? 0),
                  }
                : r,
        );
    }
    return [...merged.values()];
}

/** Node-hours per configured pool, with its cost at the instance's on-demand price and its GPU-hours. */
function poolNodeHours(
    nodes: readonly Sample[],
    poolLabel: string,
    pools: readonly TrackerPool[],
): Map<string, { usd: number; gpuHours: number }> {
    const byPool = new Map<string, { usd: number; gpuHours: number }>();
    for (const s of nodes) {
        const pool = pools.find((p) => p.name === s.metric[poolLabel]);
        if (!pool) continue;
        const hours = s.value * HOURS_PER_SAMPLE;
        const type = instanceType(pool.instanceType);
        const prior = byPool.get(pool.name) ?? { usd: 0, gpuHours: 0 };
        byPool.set(pool.name, {
            usd: prior.usd + hours * type.onDemandUsdPerHour,
            gpuHours: prior.gpuHours + hours * (type.gpu?.count ?? 0),
        });
    }
    return byPool;
}

/**
 * Each pool's cost less what its pods were allocated: on the pool's idle line, or split over the
 * teams that used the pool that day by their share of its allocated spend. A pool whose pods asked
 * for more than its nodes held (samples at the edges of a node's life) gets no idle, not a negative one.
 */
export function idleRecords(
    day: string,
    nodeHours: Map<string, { usd: number; gpuHours: number }>,
    allocated: readonly UsageRecord[],
    mode: "pool" | "share-of-use",
): UsageRecord[] {
    const records: UsageRecord[] = [];
    for (const [pool, capacity] of [...nodeHours].sort(([a], [b]) => a.localeCompare(b))) {
        const onPool = allocated.filter((r) => r.pool === pool);
        const usedUsd = onPool.reduce((sum, r) => sum + r.amountUsd, 0);
        const usedHours = onPool.reduce((sum, r) => sum + (r.gpuHours ?? 0), 0);
        const idleUsd = Math.max(0, capacity.usd - usedUsd);
        const idleHours = Math.max(0, capacity.gpuHours - usedHours);
        if (idleUsd === 0 && idleHours === 0) continue;
        const byTeam = new Map<string, number>();
        for (const r of onPool) if (r.line === "team") byTeam.set(r.team, (byTeam.get(r.team) ?? 0) + r.amountUsd);
        const teamUsd = [...byTeam.values()].reduce((a, b) => a + b, 0);
        if (mode === "share-of-use" && teamUsd > 0) {
            for (const [team, usd] of [...byTeam].sort(([a], [b]) => a.localeCompare(b))) {
                const share = usd / teamUsd;
                records.push({
                    day,
                    team,
                    line: "idle",
                    category: "gpu",
                    pool,
                    amountUsd: idleUsd * share,
                    gpuHours: idleHours * share,
                    detail: `idle ${pool} capacity, ${(share * 100).toFixed(1)} % by share of use`,
                });
            }
        } else {
            records.push({
                day,
                team: "",
                line: "idle",
                category: "gpu",
                pool,
                amountUsd: idleUsd,
                gpuHours: idleHours,
                detail: `idle ${pool} capacity: node-hours no pod requested`,
            });
        }
    }
    return records;
}

function workloadResolver(
    podOwners: readonly Sample[],
    replicaSetOwners: readonly Sample[],
): (namespace: string, pod: string) => string {
    const podOwner = new Map(podOwners.map((s) => [`${s.metric.namespace}/${s.metric.pod}`, s.metric]));
    const rsOwner = new Map(replicaSetOwners.map((s) => [`${s.metric.namespace}/${s.metric.replicaset}`, s.metric]));
    return (namespace, pod) => {
        const owner = podOwner.get(`${namespace}/${pod}`);
        if (!owner?.owner_kind || owner.owner_kind === "<none>") return `${namespace}/pod/${pod}`;
        if (owner.owner_kind === "ReplicaSet") {
            const deployment = rsOwner.get(`${namespace}/${owner.owner_name}`);
            if (deployment?.owner_kind && deployment.owner_kind !== "<none>")
                return `${namespace}/${deployment.owner_kind.toLowerCase()}/${deployment.owner_name}`;
        }
        return `${namespace}/${owner.owner_kind.toLowerCase()}/${owner.owner_name}`;
    };
}

function teamResolver(
    namespaces: readonly Sample[],
    teamLabel: string,
    teams: CostTrackerConfig["teams"],
): (namespace: string) => string | undefined {
    const names = new Set(teams.map((t) => t.name));
    const labelled = new Map(namespaces.map((s) => [s.metric.namespace, s.metric[teamLabel]]));
    return (namespace) => {
        const team = labelled.get(namespace) || namespace;
        return names.has(team) ? team : undefined;
    };
}
