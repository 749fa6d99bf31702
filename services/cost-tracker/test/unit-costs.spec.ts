/**
 * Cost per processed input for each inference pipeline, and cost per batch Job: the CloudWatch
 * source against a recorded GetMetricData answer (test/fixtures/README.md) served to the real
 * `@aws-sdk/client-cloudwatch` by a loopback server, run through the scheduler, then the
 * monthly report and its CSV with figures worked by hand.
 *
 * Days: 17–19 November 2026, 1794873600, 1794960000 and 1795046400 in epoch seconds
 * (`date -u -d 2026-11-17 +%s`, and 86,400 a day after it); 20 November is 1795132800.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as http from "http";
import type { AddressInfo } from "net";
import * as path from "path";
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import type { FastifyInstance } from "fastify";
import { costTrackerConfigProblems, type TrackerPipeline } from "@gpu-platform/catalog/contracts";
import type { Database } from "../src/db/database";
import { createMetrics } from "../src/metrics";
import { PipelineInputsSource } from "../src/sources/pipeline-inputs";
import { runSourcesOnce, type SchedulerDeps } from "../src/sources/scheduler";
import { replaceSourceDays } from "../src/usage";
import { clock, resetDatabase, testApp, testConfig, testDatabase } from "./helpers";

const PAGES = JSON.parse(
    fs.readFileSync(path.join(__dirname, "fixtures", "cloudwatch-get-metric-data.json"), "utf8"),
) as unknown[];
const PIPELINES: TrackerPipeline[] = [
    {
        name: "document-scanner",
        team: "inference",
        namespace: "inference",
        worker: "document-scanner",
        queueName: "document-scanner-queue-4f1c2a9",
    },
    { name: "pdf-ocr", team: "inference", namespace: "inference", worker: "pdf-ocr", queueName: "pdf-ocr-queue-77ab" },
];
const config = testConfig();
const withPipelines = {
    ...config,
    sources: { ...config.sources, pipelineInputs: { region: "us-east-1", pipelines: PIPELINES } },
};

interface Seen {
    target: string;
    body: Record<string, any>;
}

/** Answers GetMetricData with the recorded pages, in order, keyed by NextToken. */
async function fakeCloudWatch(answer: (seen: Seen) => { status: number; body: unknown }) {
    const seen: Seen[] = [];
    const server = http.createServer((req, res) => {
        let text = "";
        req.on("data", (c) => (text += c));
        req.on("end", () => {
            const s = { target: String(req.headers["x-amz-target"]), body: JSON.parse(text || "{}") };
            seen.push(s);
            const { status, body } = answer(s);
            res.writeHead(status, { "content-type": "application/x-amz-json-1.0" }).end(JSON.stringify(body));
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const client = new CloudWatchClient({
        region: "us-east-1",
        endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        // Dummy credentials for this test only: the fake server checks no signature.
        credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "test-secret" },
        maxAttempts: 1,
    });
    return {
        client,
        seen,
        close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
    };
}
const recorded = (s: Seen) => ({ status: 200, body: s.body.NextToken === "eyJwYWdlIjoyfQ==" ? PAGES[1] : PAGES[0] });

describe("cost per processed input and per Job", () => {
    let db: Database;
    const time = clock("2026-11-19T18:00:00Z");
    const log = { info() {}, warn() {}, error() {} } as unknown as SchedulerDeps["log"];

    before(async () => {
        db = await testDatabase();
    });
    beforeEach(() => resetDatabase(db, config));

    it("reads each pipeline queue's NumberOfMessagesDeleted per day over every page, 0 where CloudWatch has no datapoint", async () => {
        const api = await fakeCloudWatch(recorded);
        try {
            const source = new PipelineInputsSource({ client: api.client, pipelines: PIPELINES });
            const rows = await source.read(["2026-11-17", "2026-11-18", "2026-11-19"], AbortSignal.timeout(5000));
            assert.deepStrictEqual(
                rows.map((r) => [r.pipeline, r.day, r.inputs]),
                [
                    ["document-scanner", "2026-11-17", 1200],
                    ["document-scanner", "2026-11-18", 950],
                    ["document-scanner", "2026-11-19", 1100],
                    ["pdf-ocr", "2026-11-17", 0],
                    ["pdf-ocr", "2026-11-18", 40],
                    ["pdf-ocr", "2026-11-19", 0],
                ],
            );
            assert.deepStrictEqual(
                api.seen.map((s) => s.target),
                ["GraniteServiceVersion20100801.GetMetricData", "GraniteServiceVersion20100801.GetMetricData"],
            );
            const asked = api.seen[0].body;
            // 17 November 00:00 to 20 November 00:00 (exclusive), one daily Sum per queue.
            assert.deepStrictEqual([asked.StartTime, asked.EndTime], [1794873600, 1795132800]);
            assert.deepStrictEqual(asked.MetricDataQueries[1], {
                Id: "q1",
                Label: "pdf-ocr",
                MetricStat: {
                    Metric: {
                        Namespace: "AWS/SQS",
                        MetricName: "NumberOfMessagesDeleted",
                        Dimensions: [{ Name: "QueueName", Value: "pdf-ocr-queue-77ab" }],
                    },
                    Period: 86400,
                    Stat: "Sum",
                },
                ReturnData: true,
            });
        } finally {
            await api.close();
        }
    });

    it("fails the read, naming the queue, when CloudWatch answers Forbidden for it, and the scheduler keeps the stored counts", async () => {
        const forbidden = {
            MetricDataResults: [
                { Id: "q0", Label: "document-scanner", Timestamps: [], Values: [], StatusCode: "Forbidden" },
            ],
            Messages: [],
        };
        const api = await fakeCloudWatch(() => ({ status: 200, body: forbidden }));
        try {
            const source = new PipelineInputsSource({ client: api.client, pipelines: PIPELINES });
            await assert.rejects(source.read(["2026-11-19"], AbortSignal.timeout(5000)), {
                message: "pipeline-inputs: GetMetricData answered Forbidden for document-scanner",
            });
            await db.query(
                "INSERT INTO pipeline_inputs VALUES ('document-scanner', '2026-11-19', 'document-scanner-queue-4f1c2a9', 7, now())",
            );
            await runSourcesOnce(deps(source));
            const { rows } = await db.query<{ inputs: string }>("SELECT inputs FROM pipeline_inputs");
            assert.deepStrictEqual(
                rows.map((r) => Number(r.inputs)),
                [7],
            );
        } finally {
            await api.close();
        }
    });

    function deps(source: PipelineInputsSource): SchedulerDeps {
        return {
            db,
            config: withPipelines,
            sources: [],
            pipelineInputs: source,
            notifiers: [],
            log,
            metrics: createMetrics(async () => []),
            now: time.now,
        };
    }

    describe("in the monthly report and its CSV", () => {
        let app: FastifyInstance;
        afterEach(() => app?.close());

        /**
         * document-scanner (a ScaledJob's Jobs): GPU $300 + $200, CPU and memory $25, storage $25
         * = $550 over 1,200 + 950 + 1,100 = 3,250 inputs → $0.169230769… = $0.169231 per input.
         * pdf-ocr (a ScaledObject's Deployment): GPU $10 over 40 inputs → $0.25.
         * ml-research/job/train-7: 6 GPUs × 10 h × $6.88 = $412.80 GPU, 60 GPU-hours, + $7.20 CPU = $420.
         * applied-ml/job/sweep-1: $100 GPU, 14.5 h. Neither the API Deployment nor idle is a Job.
         */
        async function seed(): Promise<void> {
            const days = ["2026-11-17", "2026-11-18", "2026-11-19"];
            const gpu = (day: string, team: string, workload: string, amountUsd: number, gpuHours: number) => ({
                day,
                team,
                category: "gpu" as const,
                amountUsd,
                gpuHours,
                pool: "h100",
                workload,
            });
            await replaceSourceDays(
                db,
                "gpu-allocation",
                days,
                [
                    gpu("2026-11-17", "inference", "inference/job/document-scanner-abc12", 300, 43.6),
                    gpu("2026-11-18", "inference", "inference/job/document-scanner-x9k2p", 200, 29.07),
                    gpu("2026-11-18", "inference", "inference/deployment/pdf-ocr", 10, 1.45),
                    gpu("2026-11-18", "inference", "inference/deployment/api", 50, 7.27),
                    gpu("2026-11-17", "ml-research", "ml-research/job/train-7", 412.8, 60),
                    gpu("2026-11-19", "applied-ml", "applied-ml/job/sweep-1", 100, 14.5),
                    {
                        day: "2026-11-19",
                        team: "",
                        line: "idle" as const,
                        category: "gpu" as const,
                        amountUsd: 80,
                        pool: "h100",
                    },
                ],
                time.now(),
            );
            await replaceSourceDays(
                db,
                "opencost",
                days,
                [
                    {
                        day: "2026-11-17",
                        team: "inference",
                        category: "cpu-memory",
                        amountUsd: 25,
                        workload: "inference/job/document-scanner-abc12",
                    },
                    {
                        day: "2026-11-18",
                        team: "inference",
                        category: "storage",
                        amountUsd: 25,
                        workload: "inference/job/document-scanner-x9k2p",
                    },
                    {
                        day: "2026-11-17",
                        team: "ml-research",
                        category: "cpu-memory",
                        amountUsd: 7.2,
                        workload: "ml-research/job/train-7",
                    },
                ],
                time.now(),
            );
            const api = await fakeCloudWatch(recorded);
            try {
                await runSourcesOnce(deps(new PipelineInputsSource({ client: api.client, pipelines: PIPELINES })));
            } finally {
                await api.close();
            }
        }

        it("answers each pipeline's spend, inputs and cost per input, and each Job's cost, costliest first", async () => {
            // The scheduler reads its look-back (the default 3 days) and today: 16–19 November.
            await seed();
            app = await testApp(db, { config: withPipelines, now: time.now });
            const res = await app.inject({ method: "GET", url: "/v1/reports/monthly?month=2026-11" });
            assert.strictEqual(res.statusCode, 200, res.body);
            const { pipelines, jobs } = res.json();
            assert.deepStrictEqual(
                pipelines.map((p: any) => [
                    p.pipeline,
                    p.inputs,
                    p.byCategory.gpu,
                    p.byCategory["cpu-memory"],
                    p.byCategory.storage,
                    p.totalUsd,
                    p.usdPerInput,
                ]),
                [
                    ["document-scanner", 3250, 500, 25, 25, 550, 0.169231],
                    ["pdf-ocr", 40, 10, 0, 0, 10, 0.25],
                ],
            );
            assert.deepStrictEqual(
                jobs.map((j: any) => [
                    j.workload,
                    j.team,
                    j.byCategory.gpu,
                    j.byCategory["cpu-memory"],
                    j.totalUsd,
                    j.gpuHours,
                ]),
                [
                    ["ml-research/job/train-7", "ml-research", 412.8, 7.2, 420, 60],
                    ["applied-ml/job/sweep-1", "applied-ml", 100, 0, 100, 14.5],
                ],
            );
            const csv = await app.inject({ method: "GET", url: "/v1/reports/monthly.csv?month=2026-11" });
            const lines = csv.body.trimEnd().split("\r\n");
            assert.strictEqual(
                lines[0],
                "month,line,name,cost_center,gpu,cpu-memory,storage,network,ai-api,other-aws,credits-tax,total_usd,inputs,usd_per_input",
            );
            assert.deepStrictEqual(
                lines.filter((l) => /^2026-11,(pipeline|job),/.test(l)),
                [
                    "2026-11,pipeline,document-scanner,CC-1003,500,25,25,0,0,0,0,550,3250,0.169231",
                    "2026-11,pipeline,pdf-ocr,CC-1003,10,0,0,0,0,0,0,10,40,0.25",
                    "2026-11,job,ml-research/job/train-7,CC-1001,412.8,7.2,0,0,0,0,0,420,,",
                    "2026-11,job,applied-ml/job/sweep-1,CC-1002,100,0,0,0,0,0,0,100,,",
                ],
            );
            // The unit costs are views of the same dollars, not more lines: the report still reconciles.
            assert.strictEqual(res.json().differenceUsd, 0);
        });

        it("gives a pipeline with spend but no input completed a null cost per input, not a division by zero", async () => {
            await replaceSourceDays(
                db,
                "gpu-allocation",
                ["2026-11-18"],
                [
                    {
                        day: "2026-11-18",
                        team: "inference",
                        category: "gpu",
                        amountUsd: 10,
                        pool: "h100",
                        workload: "inference/deployment/pdf-ocr",
                    },
                ],
                time.now(),
            );
            app = await testApp(db, { config: withPipelines, now: time.now });
            const { pipelines } = (
                await app.inject({ method: "GET", url: "/v1/reports/monthly?month=2026-11" })
            ).json();
            assert.deepStrictEqual(pipelines[1], {
                pipeline: "pdf-ocr",
                team: "inference",
                inputs: 0,
                byCategory: {
                    gpu: 10,
                    "cpu-memory": 0,
                    storage: 0,
                    network: 0,
                    "ai-api": 0,
                    "other-aws": 0,
                    "credits-tax": 0,
                },
                totalUsd: 10,
                usdPerInput: null,
            });
        });
    });

    it("refuses a pipeline config naming an unknown team, a bad queue name or region, one line per field", () => {
        const problems = costTrackerConfigProblems({
            ...config,
            sources: {
                ...config.sources,
                pipelineInputs: {
                    region: "Virginia",
                    pipelines: [
                        { ...PIPELINES[0], team: "marketing", queueName: "https://sqs.us-east-1.amazonaws.com/1/q" },
                    ],
                },
            },
        });
        assert.deepStrictEqual(
            problems.map((p) => p.key),
            [
                "sources.pipelineInputs.region",
                "sources.pipelineInputs.pipelines[0].team",
                "sources.pipelineInputs.pipelines[0].queueName",
            ],
        );
        assert.match(problems[1].message, /"marketing" is not in teams \(ml-research, inference, applied-ml\)/);
    });
});
