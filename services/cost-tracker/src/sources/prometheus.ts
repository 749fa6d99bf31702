/**
 * Prometheus, where the cluster has it (OpenCost needs it anyway): which pool each node belongs
 * to, and GPU utilisation per team next to what the team's pods requested.
 *
 * Series read:
 * - `kube_node_labels{label_<pool label>}` from kube-state-metrics, which exports a node label
 *   only when allowed (`--metric-labels-allowlist=nodes=[gpu-platform/pool]`); label names are
 *   sanitised to [a-zA-Z0-9_].
 * - `DCGM_FI_DEV_GPU_UTIL` and, for MIG instances, `DCGM_FI_PROF_GR_ENGINE_ACTIVE` from NVIDIA's
 *   DCGM exporter, with `namespace`/`pod` labels when its Kubernetes mapping is on; scraped
 *   without honor_labels they arrive as `exported_namespace` (NVIDIA/dcgm-exporter#85), hence
 *   the configurable label. MIG series carry `GPU_I_ID` and `GPU_I_PROFILE` (e.g. "3g.40gb").
 * - `kube_pod_container_resource_requests{resource=~"nvidia_com_…"}` from kube-state-metrics:
 *   GPU units requested (whole, shared and MIG), resource names sanitised the same way.
 * The HTTP API answers `{status: "success", data: {resultType: "vector", result: [{metric, value: [ts, "v"]}]}}`
 * (prometheus.io/docs/prometheus/latest/querying/api).
 */
import type { TrackerPool } from "@gpu-platform/catalog/contracts";
import { MIG_SLICES_PER_GPU } from "@gpu-platform/catalog";
import type { Queryable } from "../db/database";
import { resourceOnPool, sanitizeLabelName } from "./labels";

export { sanitizeLabelName };
import { SourceError, getJson, isRecord, numberOr0, sourceUrl, type HttpTransport } from "./source";

export interface PrometheusOptions {
    readonly url: string;
    readonly namespaceLabel: string;
    /** The node label naming a node's pool, as set on the node (e.g. gpu-platform/pool). */
    readonly poolLabel: string;
    /** Default: straight to `url`. */
    readonly transport?: HttpTransport;
}

export interface Sample {
    metric: Record<string, string>;
    value: number;
}

export class PrometheusClient {
    constructor(private readonly options: PrometheusOptions) {}

    /** An instant query, evaluated at `at` (default: Prometheus' now). */
    async query(promql: string, signal: AbortSignal, at?: Date): Promise<Sample[]> {
        const url = sourceUrl(this.options.url, "/api/v1/query");
        url.searchParams.set("query", promql);
        if (at) url.searchParams.set("time", String(at.getTime() / 1000));
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

    /**
     * Per namespace, like with like in GPU-equivalents: the mean utilisation of the GPU devices its
     * pods hold, each weighted by the part of a GPU it is; the GPU-equivalents reporting; and the
     * GPU-equivalents its running pods request.
     *
     * - Whole and time-sliced GPUs: `DCGM_FI_DEV_GPU_UTIL` (percent), averaged per GPU `UUID`, so
     *   three pods sharing one GPU count one GPU, not three series.
     * - MIG instances: `DCGM_FI_DEV_GPU_UTIL` is not reported for them; `DCGM_FI_PROF_GR_ENGINE_ACTIVE`
     *   (a ratio) is, per `UUID` and `GPU_I_ID`, weighted by the profile's compute slices / 7
     *   (NVIDIA/dcgm-exporter#216, #430).
     * - Requested: `kube_pod_container_resource_requests` of running pods, each unit at its pool's
     *   fraction of a GPU (pricing.ts), the node's pool from `kube_node_labels`.
     */
    async utilisation(signal: AbortSignal, pools: readonly TrackerPool[]): Promise<Map<string, Utilisation>> {
        const ns = this.options.namespaceLabel;
        const [whole, mig, requested, nodePools] = await Promise.all([
            this.query(`avg by (${ns}, UUID) (DCGM_FI_DEV_GPU_UTIL{${ns}!="", GPU_I_ID=""})`, signal),
            this.query(
                `avg by (${ns}, UUID, GPU_I_ID, GPU_I_PROFILE) (DCGM_FI_PROF_GR_ENGINE_ACTIVE{${ns}!="", GPU_I_ID!=""})`,
                signal,
            ),
            this.query(
                `sum by (namespace, node, resource) (kube_pod_container_resource_requests{resource=~"nvidia_com_.*"} * on (namespace, pod) group_left() max by (namespace, pod) (kube_pod_status_phase{phase="Running"} == 1))`,
                signal,
            ),
            this.nodePools(signal),
        ]);
        const sums = new Map<string, { weighted: number; weight: number; requested: number }>();
        const entry = (namespace: string) => {
            const e = sums.get(namespace) ?? { weighted: 0, weight: 0, requested: 0 };
            sums.set(namespace, e);
            return e;
        };
        for (const s of whole) {
            if (!s.metric[ns]) continue;
            const e = entry(s.metric[ns]);
            e.weighted += s.value;
            e.weight += 1;
        }
        for (const s of mig) {
            const slices = Number(/^(\d+)g\./.exec(s.metric.GPU_I_PROFILE ?? "")?.[1]);
            if (!s.metric[ns] || !Number.isFinite(slices)) continue;
            const e = entry(s.metric[ns]);
            const weight = slices / MIG_SLICES_PER_GPU.compute;
            e.weighted += s.value * 100 * weight;
            e.weight += weight;
        }
        for (const s of requested) {
            const pool = pools.find((p) => p.name === nodePools.get(s.metric.node ?? ""));
            const resource = pool && resourceOnPool(pool, s.metric.resource ?? "");
            if (s.metric.namespace && resource) entry(s.metric.namespace).requested += s.value * resource.fractionOfGpu;
        }
        const round = (n: number) => Math.round(n * 100) / 100;
        return new Map(
            [...sums].map(([namespace, e]) => [
                namespace,
                {
                    averagePct: e.weight > 0 ? round(e.weighted / e.weight) : null,
                    gpusReporting: round(e.weight),
                    gpusRequested: round(e.requested),
                },
            ]),
        );
    }
}

/** A namespace's GPU utilisation, in GPU-equivalents on both sides. */
export interface Utilisation {
    averagePct: number | null;
    /** GPU-equivalents of the devices reporting: a whole or shared GPU 1, a MIG instance its compute fraction. */
    gpusReporting: number;
    /** GPU-equivalents requested by running pods. */
    gpusRequested: number;
}

/** Stores the latest utilisation of each team whose namespace Prometheus reports. */
export async function recordUtilisation(
    q: Queryable,
    byNamespace: Map<string, Utilisation>,
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
