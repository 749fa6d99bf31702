/**
 * Prometheus, where the cluster has it (OpenCost needs it anyway): which pool each node belongs
 * to, and GPU utilisation per team next to what the team's pods requested.
 *
 * Series read:
 * - `kube_node_labels{label_<pool label>}` from kube-state-metrics, which exports a node label
 *   only when allowed (`--metric-labels-allowlist=nodes=[gpu-platform/pool]`); label names are
 *   sanitised to [a-zA-Z0-9_].
 * - `DCGM_FI_DEV_GPU_UTIL` (percent) from NVIDIA's DCGM exporter, with `namespace`/`pod` labels
 *   when its Kubernetes mapping is on; scraped without honor_labels they arrive as
 *   `exported_namespace` (NVIDIA/dcgm-exporter#85), hence the configurable label.
 * - `kube_pod_container_resource_requests{resource=~"nvidia_com_…"}` from kube-state-metrics:
 *   GPU units requested (whole, shared and MIG), resource names sanitised the same way.
 * The HTTP API answers `{status: "success", data: {resultType: "vector", result: [{metric, value: [ts, "v"]}]}}`
 * (prometheus.io/docs/prometheus/latest/querying/api).
 */
import type { Queryable } from "../db/database";
import { SourceError, getJson, isRecord, numberOr0, sourceUrl, type HttpTransport } from "./source";

export interface PrometheusOptions {
    readonly url: string;
    readonly namespaceLabel: string;
    /** The node label naming a node's pool, as set on the node (e.g. gpu-platform/pool). */
    readonly poolLabel: string;
    /** Default: straight to `url`. */
    readonly transport?: HttpTransport;
}

interface Sample {
    metric: Record<string, string>;
    value: number;
}

/** Prometheus' rule for label names in exported series: anything outside [a-zA-Z0-9_] becomes "_". */
export function sanitizeLabelName(name: string): string {
    return name.replace(/[^a-zA-Z0-9_]/g, "_");
}

export class PrometheusClient {
    constructor(private readonly options: PrometheusOptions) {}

    async query(promql: string, signal: AbortSignal): Promise<Sample[]> {
        const url = sourceUrl(this.options.url, "/api/v1/query");
        url.searchParams.set("query", promql);
        const body = await getJson("prometheus", url, signal, this.options.transport);
        if (!isRecord(body) || body.status !== "success" || !isRecord(body.data) || !Array.isArray(body.data.result)) {
            throw new SourceError("prometheus", `query ${promql} answered without a data.result list`);
        }
        return body.data.result.filter(isRecord).map((r) => ({
            metric: (isRecord(r.metric) ? r.metric : {}) as Record<string, string>,
            value: numberOr0(Array.isArray(r.value) ? r.value[1] : undefined),
        }));
    }

    /** Node name → pool name. */
    async nodePools(signal: AbortSignal): Promise<Map<string, string>> {
        const label = `label_${sanitizeLabelName(this.options.poolLabel)}`;
        const samples = await this.query(`kube_node_labels{${label}!=""}`, signal);
        return new Map(
            samples.filter((s) => s.metric.node && s.metric[label]).map((s) => [s.metric.node, s.metric[label]]),
        );
    }

    /** Per namespace: mean GPU utilisation (percent), GPUs reporting, GPU units requested. */
    async utilisation(
        signal: AbortSignal,
    ): Promise<Map<string, { averagePct: number | null; gpusReporting: number; gpusRequested: number }>> {
        const ns = this.options.namespaceLabel;
        const [average, reporting, requested] = await Promise.all([
            this.query(`avg by (${ns}) (DCGM_FI_DEV_GPU_UTIL{${ns}!=""})`, signal),
            this.query(`count by (${ns}) (DCGM_FI_DEV_GPU_UTIL{${ns}!=""})`, signal),
            this.query(
                `sum by (namespace) (kube_pod_container_resource_requests{resource=~"nvidia_com_gpu.*|nvidia_com_mig_.*"})`,
                signal,
            ),
        ]);
        const result = new Map<string, { averagePct: number | null; gpusReporting: number; gpusRequested: number }>();
        const entry = (namespace: string) => {
            if (!result.has(namespace)) result.set(namespace, { averagePct: null, gpusReporting: 0, gpusRequested: 0 });
            return result.get(namespace)!;
        };
        for (const s of average) if (s.metric[ns]) entry(s.metric[ns]).averagePct = Math.round(s.value * 100) / 100;
        for (const s of reporting) if (s.metric[ns]) entry(s.metric[ns]).gpusReporting = s.value;
        for (const s of requested) if (s.metric.namespace) entry(s.metric.namespace).gpusRequested = s.value;
        return result;
    }
}

/** Stores the latest utilisation of each team whose namespace Prometheus reports. */
export async function recordUtilisation(
    q: Queryable,
    byNamespace: Map<string, { averagePct: number | null; gpusReporting: number; gpusRequested: number }>,
    teams: readonly string[],
    now: Date,
): Promise<number> {
    let stored = 0;
    for (const team of teams) {
        const u = byNamespace.get(team);
        if (!u) continue;
        await q.query(
            `INSERT INTO gpu_utilisation (team, observed_at, average_pct, gpus_reporting, gpus_requested) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (team) DO UPDATE SET observed_at = $2, average_pct = $3, gpus_reporting = $4, gpus_requested = $5`,
            [team, now, u.averagePct, u.gpusReporting, u.gpusRequested],
        );
        stored++;
    }
    return stored;
}
