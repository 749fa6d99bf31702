/**
 * The sources and notifiers against a local HTTP server on loopback that answers as the real
 * APIs do: OpenCost's allocation API (a response in the shape of opencost/opencost's
 * AllocationJSON), Prometheus' query API, Cost Explorer's GetCostAndUsage (awsJson1_1) and SNS
 * Publish (awsQuery) served to the real AWS SDK clients, and a Slack-style webhook. The network
 * is faked; every client is the real one.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as http from "http";
import type { AddressInfo } from "net";
import * as path from "path";
import { CostExplorerClient } from "@aws-sdk/client-cost-explorer";
import { SNSClient } from "@aws-sdk/client-sns";
import { deliverAlerts, insertAlert, snsNotifier, webhookNotifier } from "../src/alerts";
import type { Database } from "../src/db/database";
import { createMetrics } from "../src/metrics";
import { CostExplorerSource } from "../src/sources/cost-explorer";
import { OpenCostSource } from "../src/sources/opencost";
import { PrometheusClient } from "../src/sources/prometheus";
import { runSourcesOnce, type SchedulerDeps } from "../src/sources/scheduler";
import { gpuHoursByPool, teamDailySpend, teamSummaries } from "../src/spend";
import { clock, resetDatabase, testConfig, testDatabase } from "./helpers";

const FIXTURES = path.join(__dirname, "fixtures");
const ALLOCATION = fs.readFileSync(path.join(FIXTURES, "opencost-allocation.json"), "utf8");
const CE_PAGES = JSON.parse(
    fs.readFileSync(path.join(FIXTURES, "cost-explorer-get-cost-and-usage.json"), "utf8"),
) as unknown[];

interface Seen {
    method: string;
    url: string;
    headers: http.IncomingHttpHeaders;
    body: string;
}
type Handler = (req: Seen, res: http.ServerResponse) => void;

/** An HTTP server on 127.0.0.1 whose answer each test sets. */
async function fakeApi(): Promise<{ url: string; seen: Seen[]; handle(h: Handler): void; close(): Promise<void> }> {
    let handler: Handler = (_req, res) => res.writeHead(404).end();
    const seen: Seen[] = [];
    const server = http.createServer((req, res) => {
        let body = "";
        req.on("data", (chunk) => (body += chunk));
        req.on("end", () => {
            const s = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body };
            seen.push(s);
            handler(s, res);
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    return {
        url: `http://127.0.0.1:${port}`,
        seen,
        handle: (h) => void (handler = h),
        close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
    };
}

function json(res: http.ServerResponse, body: unknown, type = "application/json"): void {
    res.writeHead(200, { "content-type": type }).end(typeof body === "string" ? body : JSON.stringify(body));
}
const vector = (result: Array<[Record<string, string>, string]>) => ({
    status: "success",
    data: { resultType: "vector", result: result.map(([metric, value]) => ({ metric, value: [1795392000, value] })) },
});

/** Answers as OpenCost, Prometheus and Cost Explorer do, by path and target. */
function realApis(req: Seen, res: http.ServerResponse): void {
    if (req.url.startsWith("/allocation/compute")) return json(res, ALLOCATION);
    if (req.url.startsWith("/api/v1/query")) {
        const query = new URL(req.url, "http://x").searchParams.get("query") ?? "";
        if (query.startsWith("kube_node_labels")) {
            return json(
                res,
                vector([
                    [{ node: "ip-10-30-1-17.ec2.internal", label_gpu_platform_pool: "h100" }, "1"],
                    [{ node: "ip-10-30-2-9.ec2.internal", label_gpu_platform_pool: "a100-mig" }, "1"],
                ]),
            );
        }
        if (query.startsWith("avg by")) return json(res, vector([[{ namespace: "ml-research" }, "87.5"]]));
        if (query.startsWith("count by")) return json(res, vector([[{ namespace: "ml-research" }, "8"]]));
        return json(
            res,
            vector([
                [{ namespace: "ml-research" }, "8"],
                [{ namespace: "inference" }, "2"],
            ]),
        );
    }
    if (req.headers["x-amz-target"] === "AWSInsightsIndexService.GetCostAndUsage") {
        const page = JSON.parse(req.body).NextPageToken === "page-2" ? CE_PAGES[1] : CE_PAGES[0];
        return json(res, page, "application/x-amz-json-1.1");
    }
    res.writeHead(404).end();
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
                new CostExplorerSource({ client: costExplorer, tagKey: "team", teams }),
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
    const zero = { gpu: 0, "cpu-memory": 0, storage: 0, "ai-api": 0, "other-aws": 0 };

    it("reads OpenCost's allocations per day, maps namespaces to teams by label and nodes to pools through Prometheus", async () => {
        const outcomes = await runSourcesOnce(deps());
        assert.deepStrictEqual(
            outcomes.map((o) => [o.source, o.ok]),
            [
                ["opencost", true],
                ["cost-explorer", true],
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
        // Figures summed by hand from fixtures/opencost-allocation.json (CPU + RAM, PV, network) and the Cost Explorer pages.
        assert.deepStrictEqual(await spendOf("ml-research"), [
            ["2026-11-17", zero],
            ["2026-11-18", { ...zero, "other-aws": 12.5 }],
            ["2026-11-19", { ...zero, gpu: 1320.96, "cpu-memory": 38.9, storage: 3.5, "other-aws": 0.4 }],
            ["2026-11-20", { ...zero, gpu: 660.48, "cpu-memory": 19.45, storage: 1.75 }],
        ]);
        // batch-embeddings is the inference team's by its namespace label.
        assert.deepStrictEqual(await spendOf("inference"), [
            ["2026-11-17", { ...zero, "other-aws": 41.23 }],
            ["2026-11-18", { ...zero, "other-aws": 39.87 }],
            ["2026-11-19", { ...zero, gpu: 35.29, "cpu-memory": 6.4, "other-aws": 40 }],
            ["2026-11-20", zero],
        ]);
        assert.deepStrictEqual((await spendOf("applied-ml"))[2], [
            "2026-11-19",
            { ...zero, "cpu-memory": 7, "other-aws": 7.25 },
        ]);
        assert.deepStrictEqual(await gpuHoursByPool(db, "2026-11-17", "2026-11-20"), [
            { pool: "a100-mig", gpuHours: 24, gpuUsd: 35.29 },
            { pool: "h100", gpuHours: 288, gpuUsd: 1981.44 },
        ]);
        const { rows } = await db.query<{ workload: string }>(
            "SELECT DISTINCT workload FROM usage WHERE workload IS NOT NULL ORDER BY workload",
        );
        assert.deepStrictEqual(
            rows.map((r) => r.workload),
            ["batch-embeddings/job/embed-20261119", "ml-research/job/llama-ft"],
        );
    });

    it("asks Cost Explorer for daily unblended cost grouped by the team tag, page by page", async () => {
        await runSourcesOnce(deps());
        const calls = api.seen
            .filter((s) => s.headers["x-amz-target"] === "AWSInsightsIndexService.GetCostAndUsage")
            .map((s) => JSON.parse(s.body));
        assert.deepStrictEqual(calls[0], {
            TimePeriod: { Start: "2026-11-17", End: "2026-11-21" },
            Granularity: "DAILY",
            Metrics: ["UnblendedCost"],
            GroupBy: [{ Type: "TAG", Key: "team" }],
        });
        assert.strictEqual(calls[1].NextPageToken, "page-2");
        assert.match(
            String(api.seen.find((s) => s.headers["x-amz-target"])!.headers.authorization),
            /^AWS4-HMAC-SHA256 Credential=AKIDTEST\//,
        );
    });

    it("stores GPU utilisation next to what the team's pods requested", async () => {
        await runSourcesOnce(deps());
        const summary = (await teamSummaries(db, time.now())).find((t) => t.name === "ml-research")!;
        assert.deepStrictEqual(
            { ...summary.gpuUtilisation, observedAt: undefined },
            { averagePct: 87.5, gpusReporting: 8, gpusRequested: 8, observedAt: undefined },
        );
        const queries = api.seen
            .filter((s) => s.url.startsWith("/api/v1/query"))
            .map((s) => new URL(s.url, "http://x").searchParams.get("query"));
        assert.ok(queries.includes('avg by (namespace) (DCGM_FI_DEV_GPU_UTIL{namespace!=""})'), queries.join("\n"));
        assert.ok(queries.includes('kube_node_labels{label_gpu_platform_pool!=""}'));
    });

    it("counts a re-read window once", async () => {
        await runSourcesOnce(deps());
        const first = await teamSummaries(db, time.now());
        await runSourcesOnce(deps());
        assert.deepStrictEqual(await teamSummaries(db, time.now()), first);
        const { rows } = await db.query<{ n: number }>("SELECT count(*) AS n FROM usage WHERE source = 'opencost'");
        // 4 team allocations in the fixture: ml-research ×2 days (4 categories, then 3), inference (2), applied-ml (1).
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
