/**
 * OpenCost, Prometheus and CloudWatch answers that the recorded fixtures do not hold, each served
 * by a loopback server to the real client: OpenCost's allocation API (opencost/opencost
 * AllocationJSON: `{code, data: [{<key>: {properties, start, <cost>, <cost>Adjustment}} | null]}`),
 * Prometheus' query API (prometheus.io/docs/prometheus/latest/querying/api: `{status, data:
 * {resultType: "vector", result: [{metric, value: [ts, "v"]}]}}`), and CloudWatch's
 * GetMetricData in the awsJson1_0 protocol (CloudWatch API reference: MetricDataResult, with
 * StatusCode Complete | InternalError | PartialData | Forbidden and Messages [{Code, Value}]).
 */
import * as assert from "assert";
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import type { TrackerPipeline } from "@gpu-platform/catalog/contracts";
import type { Database } from "../src/db/database";
import { OpenCostSource } from "../src/sources/opencost";
import { PipelineInputsSource } from "../src/sources/pipeline-inputs";
import { PrometheusClient, recordUtilisation } from "../src/sources/prometheus";
import { resetDatabase, testConfig, testDatabase } from "./helpers";
import { fakeApi, json, type LoopbackApi } from "./loopback-api";

const TEAMS = ["ml-research", "inference", "applied-ml"];
const DAY = "2026-11-19";
const signal = () => AbortSignal.timeout(5000);
const vector = (result: unknown[]) => ({ status: "success", data: { resultType: "vector", result } });
const sample = (metric: Record<string, string>, value: string) => ({ metric, value: [1795392000, value] });

describe("cost tracker: source answers off the recorded path", () => {
    let api: LoopbackApi;
    before(async () => {
        api = await fakeApi();
    });
    after(() => api.close());
    beforeEach(() => void (api.seen.length = 0));

    describe("OpenCost", () => {
        const source = () =>
            new OpenCostSource({
                url: api.url,
                teams: TEAMS,
                teamLabel: "gpu-platform/team",
                now: () => new Date("2026-11-20T12:00:00Z"),
            });
        const allocation = (properties: Record<string, string>, costs: Record<string, number>) => ({
            properties,
            start: `${DAY}T00:00:00Z`,
            end: "2026-11-20T00:00:00Z",
            ...costs,
        });

        it("adds each cost's adjustment, names workloads only with a kind and a controller, and says whose namespace", async () => {
            api.handle((_req, res) =>
                json(res, {
                    code: 200,
                    data: [
                        // A step with no data.
                        null,
                        {
                            "applied-ml/node-a/deployment/notebook": allocation(
                                {
                                    namespace: "applied-ml",
                                    node: "node-a",
                                    controllerKind: "deployment",
                                    controller: "notebook",
                                },
                                {
                                    cpuCost: 1,
                                    cpuCostAdjustment: 0.5,
                                    ramCost: 2,
                                    pvCost: 0.25,
                                    networkCost: 0.25,
                                    loadBalancerCost: 0.5,
                                },
                            ),
                            "kube-system/node-a/daemonset/": allocation(
                                { namespace: "kube-system", node: "node-a", controllerKind: "daemonset" },
                                { cpuCost: 1 },
                            ),
                            "inference/node-b//rag": allocation(
                                { namespace: "inference", node: "node-b", controller: "rag" },
                                { ramCost: 2 },
                            ),
                            "/node-b/pod/__unmounted__": allocation(
                                { node: "node-b", controllerKind: "pod", controller: "__unmounted__" },
                                { pvCost: 4 },
                            ),
                        },
                    ],
                }),
            );
            const records = await source().read([DAY], signal());
            const own = { day: DAY, team: "applied-ml", line: "team", workload: "applied-ml/deployment/notebook" };
            assert.deepStrictEqual(records, [
                // CPU 1 + 0.5 adjustment, RAM 2: 3.5; network 0.25 + load balancer 0.5: 0.75.
                { ...own, category: "cpu-memory", amountUsd: 3.5, detail: "namespace applied-ml" },
                { ...own, category: "storage", amountUsd: 0.25, detail: "namespace applied-ml" },
                { ...own, category: "network", amountUsd: 0.75, detail: "namespace applied-ml" },
                {
                    day: DAY,
                    team: "",
                    line: "unallocated",
                    category: "cpu-memory",
                    amountUsd: 1,
                    workload: undefined,
                    detail: "namespace kube-system, of no team",
                },
                {
                    day: DAY,
                    team: "inference",
                    line: "team",
                    category: "cpu-memory",
                    amountUsd: 2,
                    workload: undefined,
                    detail: "namespace inference",
                },
                {
                    day: DAY,
                    team: "",
                    line: "unallocated",
                    category: "storage",
                    amountUsd: 4,
                    workload: undefined,
                    detail: "namespace (none), of no team",
                },
            ]);
        });

        it("takes an answer without a code, and refuses one whose code is not 200", async () => {
            api.handle((_req, res) => json(res, { data: [] }));
            assert.deepStrictEqual(await source().read([DAY], signal()), []);
            api.handle((_req, res) => json(res, { code: 500, data: [] }));
            await assert.rejects(source().read([DAY], signal()), {
                name: "SourceError",
                message: "opencost: the allocation response has code 500",
            });
        });
    });

    describe("Prometheus", () => {
        const client = () =>
            new PrometheusClient({ url: api.url, namespaceLabel: "namespace", poolLabel: "gpu-platform/pool" });
        const answer = (byPrefix: Array<[string, unknown]>) =>
            api.handle((req, res) => {
                const query = new URL(req.url, "http://x").searchParams.get("query") ?? "";
                json(res, byPrefix.find(([prefix]) => query.startsWith(prefix))?.[1] ?? vector([]));
            });

        it("refuses an answer that is not a success, naming the query, and skips results that are not objects", async () => {
            answer([["up", { status: "error", errorType: "bad_data", error: "parse error" }]]);
            await assert.rejects(client().query("up", signal()), {
                name: "SourceError",
                message: "prometheus: query up answered without a data.result list",
            });
            answer([["up", vector([null, sample({ job: "kubelet" }, "1")])]]);
            assert.deepStrictEqual(await client().query("up", signal()), [{ metric: { job: "kubelet" }, value: 1 }]);
        });

        it("maps nodes to pools only from series that name both", async () => {
            answer([
                [
                    "kube_node_labels",
                    vector([
                        sample({ node: "ip-10-30-1-17.ec2.internal", label_gpu_platform_pool: "h100" }, "1"),
                        sample({ label_gpu_platform_pool: "a100-mig" }, "1"),
                        sample({ node: "ip-10-30-4-2.ec2.internal" }, "1"),
                    ]),
                ],
            ]);
            assert.deepStrictEqual([...(await client().nodePools(signal()))], [["ip-10-30-1-17.ec2.internal", "h100"]]);
        });

        it("averages only series of a namespace and a known MIG profile, and has no average for a namespace that only requests", async () => {
            answer([
                [
                    "avg by (namespace, UUID) (DCGM_FI_DEV_GPU_UTIL",
                    vector([
                        sample({ namespace: "ml-research", UUID: "GPU-1" }, "80"),
                        sample({ UUID: "GPU-2" }, "10"),
                    ]),
                ],
                [
                    "avg by (namespace, UUID, GPU_I_ID, GPU_I_PROFILE) (DCGM_FI_PROF_GR_ENGINE_ACTIVE",
                    vector([
                        sample(
                            { namespace: "ml-research", UUID: "GPU-3", GPU_I_ID: "1", GPU_I_PROFILE: "7g.80gb" },
                            "0.1",
                        ),
                        sample({ namespace: "ml-research", UUID: "GPU-3", GPU_I_ID: "2" }, "0.9"),
                        sample({ UUID: "GPU-3", GPU_I_ID: "3", GPU_I_PROFILE: "1g.10gb" }, "0.9"),
                    ]),
                ],
                ["kube_node_labels", vector([sample({ node: "n-h100", label_gpu_platform_pool: "h100" }, "1")])],
                [
                    "sum by (namespace, node, resource) (kube_pod_container_resource_requests",
                    vector([sample({ namespace: "inference", node: "n-h100", resource: "nvidia_com_gpu" }, "2")]),
                ],
            ]);
            const byNamespace = await client().utilisation(signal(), testConfig().pools);
            // ml-research: GPU-1 at 80 % (weight 1) and a 7g.80gb instance at 10 % (weight 7/7 = 1): (80 + 10) / 2 = 45 %.
            assert.deepStrictEqual(
                [...byNamespace],
                [
                    ["ml-research", { averagePct: 45, gpusReporting: 2, gpusRequested: 0 }],
                    ["inference", { averagePct: null, gpusReporting: 0, gpusRequested: 2 }],
                ],
            );
        });

        describe("stored", () => {
            let db: Database;
            before(async () => {
                db = await testDatabase();
            });
            beforeEach(() => resetDatabase(db, testConfig()));

            it("stores each team Prometheus reports and counts them, skipping namespaces of no team", async () => {
                const u = { averagePct: 50, gpusReporting: 1, gpusRequested: 1 };
                const stored = await recordUtilisation(
                    db,
                    new Map([
                        ["ml-research", u],
                        ["inference", u],
                        ["kube-system", u],
                    ]),
                    TEAMS,
                    new Date("2026-11-20T12:00:00Z"),
                );
                assert.strictEqual(stored, 2);
            });
        });
    });

    describe("CloudWatch pipeline inputs", () => {
        const PIPELINES: TrackerPipeline[] = [
            {
                name: "pdf-ocr",
                team: "inference",
                namespace: "inference",
                worker: "pdf-ocr",
                queueName: "pdf-ocr-queue-77ab",
            },
        ];
        const client = () =>
            new CloudWatchClient({
                region: "us-east-1",
                endpoint: api.url,
                // Dummy credentials for this test only: the fake server checks no signature.
                credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "test-secret" },
                maxAttempts: 1,
            });
        const source = (pipelines = PIPELINES) => new PipelineInputsSource({ client: client(), pipelines });
        const answer = (results: unknown[]) =>
            api.handle((_req, res) =>
                json(res, { MetricDataResults: results, Messages: [] }, "application/x-amz-json-1.0"),
            );
        // 17 November 2026 00:00 UTC = 1794873600 s; a day later 1794960000.
        const NOV_16 = 1794787200;
        const NOV_17 = 1794873600;

        it("asks nothing when there is no pipeline or no day", async () => {
            answer([]);
            assert.deepStrictEqual(await source([]).read(["2026-11-17"], signal()), []);
            assert.deepStrictEqual(await source().read([], signal()), []);
            assert.strictEqual(api.seen.length, 0);
        });

        it("counts a day with zero deletions, and leaves alone a datapoint of a day not asked for", async () => {
            answer([
                {
                    Id: "q0",
                    Label: "pdf-ocr",
                    Timestamps: [NOV_16, NOV_17],
                    Values: [-5, 0],
                    StatusCode: "Complete",
                },
            ]);
            assert.deepStrictEqual(await source().read(["2026-11-17"], signal()), [
                { pipeline: "pdf-ocr", queueName: "pdf-ocr-queue-77ab", day: "2026-11-17", inputs: 0 },
            ]);
            assert.strictEqual(api.seen.length, 1);
        });

        it("refuses an InternalError with CloudWatch's messages, mismatched lists, and a negative count", async () => {
            answer([
                {
                    Id: "q0",
                    Timestamps: [],
                    Values: [],
                    StatusCode: "InternalError",
                    Messages: [
                        { Code: "InternalError", Value: "try again" },
                        { Code: "ArithmeticError", Value: "overflow" },
                    ],
                },
            ]);
            await assert.rejects(source().read(["2026-11-17"], signal()), {
                name: "SourceError",
                message:
                    "pipeline-inputs: GetMetricData answered InternalError for q0 (InternalError: try again; ArithmeticError: overflow)",
            });
            answer([{ Id: "q0", Timestamps: [NOV_16, NOV_17], Values: [3], StatusCode: "Complete" }]);
            await assert.rejects(source().read(["2026-11-17"], signal()), {
                message: "pipeline-inputs: q0: 2 timestamps for 1 values",
            });
            answer([{ Id: "q0", Timestamps: [NOV_17], Values: [-1], StatusCode: "Complete" }]);
            await assert.rejects(source().read(["2026-11-17"], signal()), {
                message: "pipeline-inputs: q0 on 2026-11-17: -1 messages deleted",
            });
        });

        it("stops when the run is aborted", async () => {
            answer([]);
            const controller = new AbortController();
            controller.abort();
            await assert.rejects(source().read(["2026-11-17"], controller.signal));
            assert.strictEqual(api.seen.length, 0);
        });
    });
});
