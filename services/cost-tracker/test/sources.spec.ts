/**
 * The sources and notifiers against a local HTTP server on loopback that answers as the real
 * APIs do: OpenCost's allocation API (a response in the shape of opencost/opencost's
 * AllocationJSON), Prometheus' query API, Cost Explorer's GetCostAndUsage (awsJson1_1) and SNS
 * Publish (awsQuery) served to the real AWS SDK clients, and a Slack-style webhook. The network
 * is faked; every client is the real one.
 */
import * as assert from "assert";
import * as fs from "fs";
import type * as http from "http";
import * as path from "path";
import { CostExplorerClient } from "@aws-sdk/client-cost-explorer";
import { SNSClient } from "@aws-sdk/client-sns";
import { deliverAlerts, insertAlert, snsNotifier, webhookNotifier } from "../src/alerts";
import type { Database } from "../src/db/database";
import { createMetrics } from "../src/metrics";
import { CostExplorerSource } from "../src/sources/cost-explorer";
import { GpuAllocationSource } from "../src/sources/gpu-allocation";
import { OpenCostSource } from "../src/sources/opencost";
import { PrometheusClient } from "../src/sources/prometheus";
import { monthlyReport } from "../src/reconciliation";
import { runSourcesOnce, type SchedulerDeps } from "../src/sources/scheduler";
import { gpuHoursByPool, teamDailySpend, teamSummaries } from "../src/spend";
import { clock, resetDatabase, testConfig, testDatabase } from "./helpers";
import { fakeApi, json, type Handler, type Seen } from "./loopback-api";

const FIXTURES = path.join(__dirname, "fixtures");
const ALLOCATION = fs.readFileSync(path.join(FIXTURES, "opencost-allocation.json"), "utf8");
const PROMETHEUS = JSON.parse(fs.readFileSync(path.join(FIXTURES, "prometheus-gpu-allocation.json"), "utf8")) as Record<
    string,
    unknown
>;
/** Where the gpu-allocation source evaluates 19 November: its end (the fixture's day). */
const END_OF_19_NOV = String(Date.parse("2026-11-20T00:00:00Z") / 1000);
const CE_PAGES = JSON.parse(
    fs.readFileSync(path.join(FIXTURES, "cost-explorer-get-cost-and-usage.json"), "utf8"),
) as unknown[];

const vector = (result: Array<[Record<string, string>, string]>) => ({
    status: "success",
    data: { resultType: "vector", result: result.map(([metric, value]) => ({ metric, value: [1795392000, value] })) },
});

const empty = vector([]);

/** The gpu-allocation source's queries, by their shape; the recorded answers hold 19 November, other days are empty. */
function gpuAllocationAnswer(query: string, time: string | null): unknown {
    const kinds: Array<[string, string]> = [
        ["sum by (namespace, pod, node, resource) (sum_over_time(", "requests"],
        ["count by (node, label_gpu_platform_pool) (count_over_time(", "nodes"],
        ["max by (namespace, pod, owner_kind, owner_name)", "podOwners"],
        ["max by (namespace, replicaset, owner_kind, owner_name)", "replicaSetOwners"],
        ["max by (namespace, label_gpu_platform_team)", "namespaces"],
    ];
    const kind = kinds.find(([prefix]) => query.startsWith(prefix))?.[1];
    if (!kind) return undefined;
    return time === END_OF_19_NOV ? PROMETHEUS[kind] : empty;
}

/** Answers as OpenCost, Prometheus and Cost Explorer do, by path and target. */
function realApis(req: Seen, res: http.ServerResponse): void {
    if (req.url.startsWith("/allocation/compute")) return json(res, ALLOCATION);
    if (req.url.startsWith("/api/v1/query")) {
        const params = new URL(req.url, "http://x").searchParams;
        const query = params.get("query") ?? "";
        const allocation = gpuAllocationAnswer(query, params.get("time"));
        if (allocation) return json(res, allocation);
        if (query.startsWith("kube_node_labels")) {
            return json(
                res,
                vector([
                    [{ node: "ip-10-30-1-17.ec2.internal", label_gpu_platform_pool: "h100" }, "1"],
                    [{ node: "ip-10-30-2-9.ec2.internal", label_gpu_platform_pool: "a100-mig" }, "1"],
                    [{ node: "ip-10-30-4-2.ec2.internal", label_gpu_platform_pool: "a100-shared" }, "1"],
                ]),
            );
        }
        return json(res, utilisationAnswer(query));
    }
    if (req.headers["x-amz-target"] === "AWSInsightsIndexService.GetCostAndUsage") {
        const page = JSON.parse(req.body).NextPageToken === "page-2" ? CE_PAGES[1] : CE_PAGES[0];
        return json(res, page, "application/x-amz-json-1.1");
    }
    res.writeHead(404).end();
}

/**
 * DCGM and kube-state-metrics now, for a team holding 1 whole H100, two 3g.40gb MIG slices and
 * three time-sliced shares of one A100 (the case): 2.86 GPU-equivalents on both sides.
 */
function utilisationAnswer(query: string): unknown {
    if (query.startsWith("avg by (namespace, UUID) (DCGM_FI_DEV_GPU_UTIL"))
        return vector([
            [{ namespace: "ml-research", UUID: "GPU-h100-0" }, "90"],
            // Three pods share this GPU: one series per pod, averaged per UUID into one GPU.
            [{ namespace: "ml-research", UUID: "GPU-a100-shared-3" }, "30"],
        ]);
    if (query.startsWith("avg by (namespace, UUID, GPU_I_ID, GPU_I_PROFILE) (DCGM_FI_PROF_GR_ENGINE_ACTIVE"))
        return vector([
            [{ namespace: "ml-research", UUID: "GPU-a100-mig-1", GPU_I_ID: "1", GPU_I_PROFILE: "3g.40gb" }, "0.5"],
            [{ namespace: "ml-research", UUID: "GPU-a100-mig-1", GPU_I_ID: "2", GPU_I_PROFILE: "3g.40gb" }, "0.7"],
        ]);
    if (query.startsWith("sum by (namespace, node, resource) (kube_pod_container_resource_requests"))
        return vector([
            [{ namespace: "ml-research", node: "ip-10-30-1-17.ec2.internal", resource: "nvidia_com_gpu" }, "1"],
            [{ namespace: "ml-research", node: "ip-10-30-2-9.ec2.internal", resource: "nvidia_com_mig_3g_40gb" }, "2"],
            [{ namespace: "ml-research", node: "ip-10-30-4-2.ec2.internal", resource: "nvidia_com_gpu_shared" }, "3"],
        ]);
    return empty;
}

describe("cost tracker: sources", () => {
    let db: Database;
    let api: Awaited<ReturnType<typeof fakeApi>>;
    const time = clock("2026-11-20T12:00:00Z");
    const config = testConfig();
    const teams = config.teams.map((t) => t.name);
    const log = { info() {}, warn() {}, error() {} } as unknown as SchedulerDeps["log"];

    before(async () => {
        db = await testDatabase();
        api = await fakeApi();
    });
    after(() => api.close());
    beforeEach(async () => {
        await resetDatabase(db, config);
        api.seen.length = 0;
        api.handle(realApis);
    });

    function deps(timeoutSeconds = 5): SchedulerDeps {
        const prometheus = new PrometheusClient({
            url: api.url,
            namespaceLabel: "namespace",
            poolLabel: "gpu-platform/pool",
        });
        const costExplorer = new CostExplorerClient({
            region: "us-east-1",
            endpoint: api.url,
            // Dummy credentials for this test only: the fake server checks no signature.
            credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "test-secret" },
            maxAttempts: 1,
        });
        return {
            db,
            config: { ...config, sources: { ...config.sources, lookbackDays: 3, timeoutSeconds } },
            sources: [
                new OpenCostSource({
                    url: api.url,
                    teams,
                    teamLabel: "gpu-platform/team",
                    nodePools: (signal) => prometheus.nodePools(signal),
                    now: time.now,
                }),
                new GpuAllocationSource({ prometheus, config, now: time.now }),
                new CostExplorerSource({ client: costExplorer, tagKey: "team", teams, lookbackDays: 3 }),
            ],
            prometheus,
            notifiers: [],
            log,
            metrics: createMetrics(async () => []),
            now: time.now,
        };
    }
    const spendOf = async (team: string) =>
        (await teamDailySpend(db, team, "2026-11-17", "2026-11-20")).days.map((d) => [d.day, d.byCategory]);
    const zero = { gpu: 0, "cpu-memory": 0, storage: 0, network: 0, "ai-api": 0, "other-aws": 0, "credits-tax": 0 };

    it("prices every GPU resource from kube-state-metrics' requests, takes the rest from OpenCost and the bill from Cost Explorer", async () => {
        const outcomes = await runSourcesOnce(deps());
        assert.deepStrictEqual(
            outcomes.map((o) => [o.source, o.ok, o.error]),
            [
                ["opencost", true, undefined],
                ["gpu-allocation", true, undefined],
                ["cost-explorer", true, undefined],
            ],
        );
        const call = api.seen.find((s) => s.url.startsWith("/allocation/compute"))!;
        const params = Object.fromEntries(new URL(call.url, "http://x").searchParams);
        assert.deepStrictEqual(params, {
            window: "2026-11-17T00:00:00Z,2026-11-20T12:00:00Z",
            aggregate: "namespace,node,controllerKind,controller",
            step: "1d",
            accumulate: "false",
        });
        // By hand, from the fixtures. GPU (19 Nov, 288 five-minute samples a day):
        //   ml-research llama-ft: 2304 samples × 5/60 = 192 GPU-hours × $6.88 (p5.48xlarge $55.04 / 8) = $1,320.96
        //   inference embed (3g.40gb): 288 × 5/60 = 24 h × 3/7 × $3.43088125 (p4de $27.44705 / 8) = $35.289064
        //   inference rag (1g.10gb ×2): 576 × 5/60 = 48 h × 1/7 × $3.43088125 = $23.526043 → $58.815107 → $58.82
        //   applied-ml notebook (3 shares): 432 × 5/60 = 36 h × $2.74470525 / 3 (p4d $21.957642 / 8) = $32.936463
        // OpenCost: on GPU nodes only PVs and network (the node's price is the GPU's); ml-research $3.50 + $0.40,
        // applied-ml's notebook $0.80 + ($0.10 + $0.20), its pod off the GPU pools $5.00 + $2.00 of CPU and memory.
        // Cost Explorer (amortised): inference $41.2301, $39.87, $40; ml-research $12.50; applied-ml $7.25 and a $5 credit.
        assert.deepStrictEqual(await spendOf("ml-research"), [
            ["2026-11-17", zero],
            ["2026-11-18", { ...zero, "other-aws": 12.5 }],
            ["2026-11-19", { ...zero, gpu: 1320.96, storage: 3.5, network: 0.4 }],
            ["2026-11-20", { ...zero, storage: 1.75 }],
        ]);
        assert.deepStrictEqual(await spendOf("inference"), [
            ["2026-11-17", { ...zero, "other-aws": 41.23 }],
            ["2026-11-18", { ...zero, "other-aws": 39.87 }],
            ["2026-11-19", { ...zero, gpu: 58.82, "other-aws": 40 }],
            ["2026-11-20", zero],
        ]);
        assert.deepStrictEqual((await spendOf("applied-ml"))[2], [
            "2026-11-19",
            { ...zero, gpu: 32.94, "cpu-memory": 7, storage: 0.8, network: 0.3, "other-aws": 7.25, "credits-tax": -5 },
        ]);
        // Idle: a100-mig 24 node-hours × $27.44705 = $658.7292 − $58.815107 = $599.914093 (192 − 10.29 − 6.86 GPU-hours);
        // a100-shared 144 samples = 12 node-hours × $21.957642 = $263.491704 − $32.936463 − $10.978821 (monitoring's
        // probe, unallocated: 12 h × $0.91490175) = $219.57642 (96 − 12 − 4 GPU-hours); h100 fully requested.
        assert.deepStrictEqual(await gpuHoursByPool(db, "2026-11-17", "2026-11-20"), [
            {
                pool: "a100-mig",
                gpuHours: 17.14,
                gpuUsd: 58.82,
                idleGpuHours: 174.86,
                idleUsd: 599.91,
                resources: [
                    { gpuResource: "nvidia.com/mig-1g.10gb", resourceHours: 48, gpuHours: 6.86, gpuUsd: 23.53 },
                    { gpuResource: "nvidia.com/mig-3g.40gb", resourceHours: 24, gpuHours: 10.29, gpuUsd: 35.29 },
                ],
            },
            {
                pool: "a100-shared",
                gpuHours: 16,
                gpuUsd: 43.92,
                idleGpuHours: 80,
                idleUsd: 219.58,
                resources: [{ gpuResource: "nvidia.com/gpu.shared", resourceHours: 48, gpuHours: 16, gpuUsd: 43.92 }],
            },
            {
                pool: "h100",
                gpuHours: 192,
                gpuUsd: 1320.96,
                idleGpuHours: 0,
                idleUsd: 0,
                resources: [{ gpuResource: "nvidia.com/gpu", resourceHours: 192, gpuHours: 192, gpuUsd: 1320.96 }],
            },
        ]);
        const { rows } = await db.query<{ workload: string }>(
            "SELECT DISTINCT workload FROM usage WHERE source = 'gpu-allocation' AND workload IS NOT NULL ORDER BY workload",
        );
        assert.deepStrictEqual(
            rows.map((r) => r.workload),
            [
                "applied-ml/deployment/notebook",
                "batch-embeddings/job/embed-20261119",
                "inference/deployment/rag",
                "ml-research/job/llama-ft",
                "monitoring/pod/dcgm-probe",
            ],
        );
    });

    it("puts untagged, unmatched and non-team spend on the unallocated line, never dropping it, and keeps the bill's figures", async () => {
        await runSourcesOnce(deps());
        const { rows } = await db.query<{ day: string; category: string; usd: number; estimated: boolean }>(
            `SELECT day, category, round(sum(amount_usd), 6)::float8 AS usd, bool_or(estimated) AS estimated FROM daily_spend
              WHERE line = 'unallocated' GROUP BY day, category ORDER BY day, category`,
        );
        assert.deepStrictEqual(rows, [
            // Untagged usage $310.4412 and tax $25.10; kube-system's $1.20 + $0.40 of CPU and memory.
            { day: "2026-11-17", category: "credits-tax", usd: 25.1, estimated: false },
            { day: "2026-11-17", category: "other-aws", usd: 310.4412, estimated: false },
            // $305.10 untagged + $4.50 tagged "Ml-Research", which is no team's name.
            { day: "2026-11-18", category: "other-aws", usd: 309.6, estimated: false },
            // kube-system $1.60, monitoring $1.20 of CPU and memory; monitoring's $2.25 of PVs; its GPU probe $10.978821.
            { day: "2026-11-19", category: "cpu-memory", usd: 2.8, estimated: false },
            { day: "2026-11-19", category: "credits-tax", usd: -100, estimated: true },
            { day: "2026-11-19", category: "gpu", usd: 10.978821, estimated: false },
            { day: "2026-11-19", category: "storage", usd: 2.25, estimated: false },
            { day: "2026-11-20", category: "cpu-memory", usd: 0.8, estimated: false },
        ]);
        const bill = await db.query<{
            day: string;
            total: number;
            cluster: number;
            estimated: boolean;
            metric: string;
        }>("SELECT day, total_usd AS total, cluster_usd AS cluster, estimated, metric FROM bill_days ORDER BY day");
        assert.deepStrictEqual(bill.rows, [
            // 310.4412 + 41.2301 + 988.12 + 25.10; the cluster's own nodes $988.12.
            { day: "2026-11-17", total: 1364.8913, cluster: 988.12, estimated: false, metric: "AmortizedCost" },
            // 305.10 + 39.87 + 12.50 + 4.50 + 950 (Savings Plan covered usage of the cluster's nodes).
            { day: "2026-11-18", total: 1311.97, cluster: 950, estimated: false, metric: "AmortizedCost" },
            // 40 + 7.25 − 5 − 100 + 1000.
            { day: "2026-11-19", total: 942.25, cluster: 1000, estimated: true, metric: "AmortizedCost" },
            { day: "2026-11-20", total: 0, cluster: 0, estimated: true, metric: "AmortizedCost" },
        ]);
        const days = (await teamDailySpend(db, "inference", "2026-11-18", "2026-11-19")).days;
        assert.deepStrictEqual(
            days.map((d) => [d.day, d.estimated]),
            [
                ["2026-11-18", false],
                ["2026-11-19", true],
            ],
        );
    });

    it("reconciles the month: teams + unallocated + idle = the sum of the sources, to the cent, beside the bill", async () => {
        await runSourcesOnce(deps());
        const report = await monthlyReport(db, "2026-11");
        // By hand, from the figures of the two specs above (17–20 November):
        //   gpu-allocation $2,243.180904 = the pools' node-hours: h100 24 × $55.04 + a100-mig 24 × $27.44705
        //     + a100-shared 12 × $21.957642 (every requested dollar plus idle $599.914093 + $219.57642);
        //   OpenCost $19.60 (ml-research 3.50 + 0.40 + 1.75; applied-ml 7 + 0.80 + 0.30; unallocated 2.80 + 0.80 + 2.25);
        //   Cost Explorer $680.9913 (the bill's $3,619.1113 less the cluster's own $2,938.12).
        // Teams: ml-research 12.50 + 1320.96 + 3.90 + 1.75 = $1,339.11; inference 41.2301 + 39.87 + 40 + 58.815107
        //   = $179.915207; applied-ml 32.936463 + 8.10 + 7.25 − 5 = $43.286463. Unallocated $561.970021 (listed above).
        //   1339.11 + 179.915207 + 43.286463 + 561.970021 + 819.490513 = $2,943.772204 = 2243.180904 + 19.60 + 680.9913.
        assert.deepStrictEqual(
            report.teams.map((t) => [t.team, t.totalUsd, t.idleShareUsd]),
            [
                ["applied-ml", 43.29, 0],
                ["inference", 179.92, 0],
                ["ml-research", 1339.11, 0],
            ],
        );
        // Cost centres from the config: ml-research CC-1001, applied-ml CC-1002, inference CC-1003.
        assert.deepStrictEqual(report.costCenters, [
            { costCenter: "CC-1001", totalUsd: 1339.11 },
            { costCenter: "CC-1002", totalUsd: 43.29 },
            { costCenter: "CC-1003", totalUsd: 179.92 },
        ]);
        assert.deepStrictEqual(
            [report.unallocated.totalUsd, report.idle],
            [
                561.97,
                {
                    byPool: [
                        { pool: "a100-mig", usd: 599.91 },
                        { pool: "a100-shared", usd: 219.58 },
                    ],
                    totalUsd: 819.49,
                },
            ],
        );
        assert.deepStrictEqual(report.sources, [
            { source: "cost-explorer", totalUsd: 680.99 },
            { source: "gpu-allocation", totalUsd: 2243.18 },
            { source: "opencost", totalUsd: 19.6 },
        ]);
        assert.deepStrictEqual(
            [report.linesTotalUsd, report.sourcesTotalUsd, report.differenceUsd],
            [2943.77, 2943.77, 0],
        );
        // The bill: $3,619.1113 against $2,943.772204 tracked (no AI API spend here): $675.339096 more, the cluster's
        // $2,938.12 of nodes as paid (Savings Plan) against the $2,262.780904 the in-cluster sources priced on demand.
        assert.deepStrictEqual(report.bill, {
            metric: "AmortizedCost",
            totalUsd: 3619.11,
            clusterUsd: 2938.12,
            trackedAwsUsd: 2943.77,
            differenceUsd: 675.34,
            estimatedDays: ["2026-11-19", "2026-11-20"],
        });
    });

    it("asks Cost Explorer for daily amortised cost grouped by the team tag and record type, page by page", async () => {
        await runSourcesOnce(deps());
        const calls = api.seen
            .filter((s) => s.headers["x-amz-target"] === "AWSInsightsIndexService.GetCostAndUsage")
            .map((s) => JSON.parse(s.body));
        assert.deepStrictEqual(calls[0], {
            TimePeriod: { Start: "2026-11-17", End: "2026-11-21" },
            Granularity: "DAILY",
            Metrics: ["AmortizedCost"],
            GroupBy: [
                { Type: "TAG", Key: "team" },
                { Type: "DIMENSION", Key: "RECORD_TYPE" },
            ],
        });
        assert.strictEqual(calls[1].NextPageToken, "page-2");
        assert.match(
            String(api.seen.find((s) => s.headers["x-amz-target"])!.headers.authorization),
            /^AWS4-HMAC-SHA256 Credential=AKIDTEST\//,
        );
    });

    it("measures GPU utilisation like with like, in GPU-equivalents, with the MIG metric for MIG instances", async () => {
        await runSourcesOnce(deps());
        const summary = (await teamSummaries(db, time.now())).find((t) => t.name === "ml-research")!;
        // Devices: the H100 (1 GPU, 90 %), the shared A100 counted once (1 GPU, 30 %), two 3g.40gb
        // instances (3/7 each, 50 % and 70 % engine active): (90 + 30 + 3/7 × 50 + 3/7 × 70) / (2 + 6/7)
        // = 171.4286 / 2.857143 = 60 %. Requested: 1 + 2 × 3/7 + 3 × 1/3 = 2.857 → 2.86 on both sides.
        assert.deepStrictEqual(
            { ...summary.gpuUtilisation, observedAt: undefined },
            { averagePct: 60, gpusReporting: 2.86, gpusRequested: 2.86, observedAt: undefined },
        );
        const queries = api.seen
            .filter((s) => s.url.startsWith("/api/v1/query"))
            .map((s) => new URL(s.url, "http://x").searchParams.get("query"));
        assert.ok(queries.includes('kube_node_labels{label_gpu_platform_pool!=""}'));
    });

    it("counts a re-read window once", async () => {
        await runSourcesOnce(deps());
        const first = await teamSummaries(db, time.now());
        await runSourcesOnce(deps());
        assert.deepStrictEqual(await teamSummaries(db, time.now()), first);
        const { rows } = await db.query<{ n: number }>("SELECT count(*) AS n FROM usage WHERE source = 'opencost'");
        // 19 Nov: ml-research storage, network; applied-ml's CPU and memory (off the GPU pools), its notebook's
        // storage, network; kube-system CPU and memory; monitoring CPU and memory, storage (8).
        // 20 Nov: ml-research storage, kube-system CPU and memory (2).
        assert.strictEqual(rows[0].n, 10);
    });

    const failures: Array<[string, Handler, string, number?]> = [
        [
            "answers 500",
            (_req, res) => res.writeHead(500).end("upstream down"),
            "opencost: /allocation/compute answered 500: upstream down",
        ],
        [
            "answers something that is not JSON",
            (_req, res) => res.writeHead(200).end("<html>login</html>"),
            'opencost: /allocation/compute answered something that is not JSON: "<html>login</html>"',
        ],
        [
            "answers JSON of another shape",
            (_req, res) => json(res, { code: 200, data: "nope" }),
            "opencost: the allocation response has no data list",
        ],
        ["never answers", () => undefined, "timed out", 1],
    ];
    for (const [what, failing, message, timeoutSeconds] of failures) {
        it(`keeps the other sources and the stored data when OpenCost ${what}`, async () => {
            await runSourcesOnce(deps());
            const before = await spendOf("ml-research");
            api.handle((req, res) =>
                req.url.startsWith("/allocation/compute") ? failing(req, res) : realApis(req, res),
            );
            const outcomes = await runSourcesOnce(deps(timeoutSeconds));
            assert.deepStrictEqual(
                outcomes.map((o) => [o.source, o.ok, o.error]),
                [
                    ["opencost", false, message],
                    ["gpu-allocation", true, undefined],
                    ["cost-explorer", true, undefined],
                ],
            );
            assert.deepStrictEqual(await spendOf("ml-research"), before);
            const { rows } = await db.query<{ outcome: string; error: string }>(
                "SELECT outcome, error FROM source_runs WHERE source = 'opencost' ORDER BY id DESC LIMIT 1",
            );
            assert.deepStrictEqual(rows[0], { outcome: "failed", error: message });
        });
    }
});

describe("cost tracker: alert delivery", () => {
    let db: Database;
    let api: Awaited<ReturnType<typeof fakeApi>>;
    before(async () => {
        db = await testDatabase();
        api = await fakeApi();
    });
    after(() => api.close());
    beforeEach(() => resetDatabase(db, testConfig()));

    it("publishes to SNS through the SDK and posts {text} to a Slack-style webhook, recording delivery", async () => {
        api.handle((req, res) => {
            if (req.url === "/hook") return json(res, "ok", "text/plain");
            // SNS Publish is an awsQuery call: form-encoded in, XML out (SNS API reference, Publish).
            res.writeHead(200, { "content-type": "text/xml" }).end(
                '<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>94f20ce6-13c5-43a0-9a9e-ca52d816e90b</MessageId></PublishResult><ResponseMetadata><RequestId>f187a3c1-376f-11df-8963-01868b7c937a</RequestId></ResponseMetadata></PublishResponse>',
            );
        });
        const sns = new SNSClient({
            region: "us-east-1",
            endpoint: api.url,
            credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "test-secret" },
            maxAttempts: 1,
        });
        const topic = "arn:aws:sns:us-east-1:123456789012:gpu-budget-alerts";
        const alert = (await insertAlert(db, {
            dedupeKey: "t1",
            team: "inference",
            kind: "budget-threshold",
            message: "inference has spent $40000 of its $80000 budget for 2026-11: 50 % reached",
        }))!;
        await deliverAlerts(db, [snsNotifier(topic, sns), webhookNotifier(`${api.url}/hook`)], [alert]);
        const publish = new URLSearchParams(api.seen[0].body);
        assert.deepStrictEqual(
            [publish.get("Action"), publish.get("TopicArn"), publish.get("Subject"), publish.get("Message")],
            ["Publish", topic, "Cost tracker: budget-threshold for inference", alert.message],
        );
        assert.deepStrictEqual(JSON.parse(api.seen[1].body), { text: `[cost tracker] ${alert.message}` });
        const { rows } = await db.query<{ delivered: boolean; delivery_error: string | null }>(
            "SELECT delivered_at IS NOT NULL AS delivered, delivery_error FROM alerts",
        );
        assert.deepStrictEqual(rows[0], { delivered: true, delivery_error: null });
        assert.strictEqual(
            await insertAlert(db, { dedupeKey: "t1", team: "inference", kind: "budget-threshold", message: "again" }),
            undefined,
            "once per key",
        );
    });

    it("keeps an alert whose delivery failed, with the reason", async () => {
        api.handle((_req, res) => res.writeHead(500).end());
        const alert = (await insertAlert(db, {
            dedupeKey: "t2",
            team: "applied-ml",
            kind: "anomaly",
            message: "spike",
        }))!;
        await deliverAlerts(db, [webhookNotifier(`${api.url}/hook`)], [alert]);
        const { rows } = await db.query<{ delivered_at: Date | null; delivery_error: string }>(
            "SELECT delivered_at, delivery_error FROM alerts",
        );
        assert.deepStrictEqual(rows[0], { delivered_at: null, delivery_error: "webhook: webhook answered 500" });
    });
});
