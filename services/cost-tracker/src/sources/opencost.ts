/**
 * OpenCost's allocation API: spend per namespace, node and controller, one set per day.
 *
 *   GET /allocation/compute?window=<RFC3339>,<RFC3339>&aggregate=namespace,node,controllerKind,controller&step=1d&accumulate=false
 *
 * answers `{code, data: [{"<key>": allocation, …}, …]}`, one map per step; each allocation has
 * `properties` (namespace, node, controllerKind, controller, namespaceLabels), `start`, `end`,
 * `gpuHours` and per-resource costs with their adjustments (opencost/opencost,
 * core/pkg/opencost/allocation_json.go and allocationprops.go). OpenCost splits a node's list
 * price into CPU, RAM and GPU by default ratios, so these are estimates; Cost Explorer and the
 * bill are the reconciliation.
 *
 * Namespaces map to teams by the platform's team label on the namespace (OpenCost sanitises
 * label names: gpu-platform/team arrives as gpu_platform_team), or else by a namespace named
 * after a team (TeamNamespace's convention); any other namespace's spend goes to the unallocated
 * line, never dropped.
 *
 * What is taken (ownership.ts): CPU and memory, PVs, network and load balancers. Not GPU cost:
 * OpenCost counts GPUs only from `nvidia.com/gpu` requests (opencost v1.112), so time-sliced and
 * MIG pods cost nothing there; the gpu-allocation source owns the category. Not CPU and memory on
 * a GPU pool's nodes either: the catalog prices a GPU as the instance's price over its GPUs, CPU
 * and memory included, so gpu-allocation already holds the whole node. Nodes map to pools
 * through Prometheus (`isGpuNode`); when that map cannot be read the run fails rather than
 * count a GPU node's price twice. `externalCost` and `sharedCost` are Cost Explorer's and the
 * unallocated line's to report.
 */
import type { UsageRecord } from "../model";
import { sanitizeLabelName } from "./prometheus";
import { SourceError, getJson, isRecord, numberOr0, sourceUrl, type HttpTransport, type UsageSource } from "./source";

export interface OpenCostOptions {
    readonly url: string;
    readonly teams: readonly string[];
    readonly teamLabel: string;
    /** Node name → GPU pool name; configured with Prometheus, its failure fails the run. */
    readonly nodePools?: (signal: AbortSignal) => Promise<Map<string, string>>;
    readonly now: () => Date;
    /** Default: straight to `url`. */
    readonly transport?: HttpTransport;
}

/** Keys OpenCost gives to cost that belongs to no workload. */
const NOT_A_WORKLOAD = /^__(idle|unallocated|unmounted)__$/;

export class OpenCostSource implements UsageSource {
    readonly name = "opencost";
    constructor(private readonly options: OpenCostOptions) {}

    async read(days: readonly string[], signal: AbortSignal): Promise<UsageRecord[]> {
        const first = days[0];
        const last = days[days.length - 1];
        const windowEnd = new Date(
            Math.min(this.options.now().getTime(), Date.parse(`${last}T00:00:00Z`) + 86_400_000),
        );
        const url = sourceUrl(this.options.url, "/allocation/compute");
        url.searchParams.set("window", `${first}T00:00:00Z,${windowEnd.toISOString().replace(/\.\d{3}Z$/, "Z")}`);
        url.searchParams.set("aggregate", "namespace,node,controllerKind,controller");
        url.searchParams.set("step", "1d");
        url.searchParams.set("accumulate", "false");
        const [body, nodePools] = await Promise.all([
            getJson(this.name, url, signal, this.options.transport),
            this.options.nodePools?.(signal) ?? Promise.resolve(new Map<string, string>()),
        ]);
        if (!isRecord(body) || !Array.isArray(body.data))
            throw new SourceError(this.name, "the allocation response has no data list");
        if (body.code !== undefined && body.code !== 200)
            throw new SourceError(this.name, `the allocation response has code ${JSON.stringify(body.code)}`);

        const teamLabel = sanitizeLabelName(this.options.teamLabel);
        const records: UsageRecord[] = [];
        for (const set of body.data) {
            if (!isRecord(set)) continue; // OpenCost answers null for a step with no data
            for (const [key, allocation] of Object.entries(set)) {
                if (!isRecord(allocation) || NOT_A_WORKLOAD.test(key)) continue;
                const day = typeof allocation.start === "string" ? allocation.start.slice(0, 10) : "";
                if (!days.includes(day)) continue;
                records.push(...this.recordsOf(allocation, day, teamLabel, nodePools));
            }
        }
        return records;
    }

    private recordsOf(
        allocation: Record<string, unknown>,
        day: string,
        teamLabel: string,
        gpuNodes: Map<string, string>,
    ): UsageRecord[] {
        const props = isRecord(allocation.properties) ? allocation.properties : {};
        const text = (value: unknown) => (typeof value === "string" ? value : "");
        const namespace = text(props.namespace);
        const labels = isRecord(props.namespaceLabels) ? props.namespaceLabels : {};
        const named = text(labels[teamLabel]) || namespace;
        const team = this.options.teams.includes(named) ? named : "";
        const kind = text(props.controllerKind);
        const controller = text(props.controller);
        const workload =
            kind && controller && !NOT_A_WORKLOAD.test(controller)
                ? `${namespace}/${kind.toLowerCase()}/${controller}`
                : undefined;
        const cost = (field: string) => numberOr0(allocation[field]) + numberOr0(allocation[`${field}Adjustment`]);
        const onGpuPool = gpuNodes.get(text(props.node));
        const amounts = {
            "cpu-memory": onGpuPool ? 0 : cost("cpuCost") + cost("ramCost"),
            storage: cost("pvCost"),
            network: cost("networkCost") + cost("loadBalancerCost"),
        } as const;
        const line = team ? ("team" as const) : ("unallocated" as const);
        const detail = team ? `namespace ${namespace}` : `namespace ${namespace || "(none)"}, of no team`;
        return (Object.entries(amounts) as [keyof typeof amounts, number][])
            .filter(([, amountUsd]) => amountUsd !== 0)
            .map(([category, amountUsd]) => ({ day, team, line, category, amountUsd, workload, detail }));
    }
}
