/**
 * The pieces under the adapters (src/sources/source.ts, labels.ts) and the GPU allocation source's
 * pricing of pods, workloads and idle capacity (gpu-allocation.ts), each against a loopback HTTP
 * server that answers as Prometheus' query API does (`{status: "success", data: {resultType:
 * "vector", result: [{metric, value: [time, "<number>"]}]}}`, prometheus/prometheus
 * docs/querying/api.md). Expected figures are worked by hand from the catalog's on-demand prices:
 * p5.48xlarge $55.04/h for 8 H100s, $6.88 per GPU-hour.
 */
import * as assert from "assert";
import * as http from "http";
import type { AddressInfo } from "net";
import type { TrackerPool } from "@gpu-platform/catalog/contracts";
import type { UsageRecord } from "../src/model";
import { GpuAllocationSource, idleRecords } from "../src/sources/gpu-allocation";
import { resourceOnPool } from "../src/sources/labels";
import { PrometheusClient } from "../src/sources/prometheus";
import { getJson, isRecord, numberOr0, sourceUrl } from "../src/sources/source";
import { clock, testConfig } from "./helpers";

interface Seen {
    path: string;
    query: string;
    accept: string | undefined;
}

/** A loopback HTTP server; `answer` picks status and body per request path and PromQL query. */
async function loopback(answer: (seen: Seen) => [number, string]) {
    const seen: Seen[] = [];
    const server = http.createServer((req, res) => {
        const url = new URL(req.url ?? "/", "http://loopback");
        const s = { path: url.pathname, query: url.searchParams.get("query") ?? "", accept: req.headers.accept };
        seen.push(s);
        const [status, body] = answer(s);
        res.writeHead(status, { "content-type": "application/json" }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return {
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        seen,
        close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
    };
}

const vector = (samples: Array<[Record<string, string>, number]>) =>
    JSON.stringify({
        status: "success",
        data: { resultType: "vector", result: samples.map(([metric, v]) => ({ metric, value: [0, String(v)] })) },
    });

/** Numbers to 6 places and undefined fields dropped, so that a record compares with a hand-worked one. */
const rounded = (records: UsageRecord[]) =>
    JSON.parse(JSON.stringify(records, (_k, v: unknown) => (typeof v === "number" ? Math.round(v * 1e6) / 1e6 : v)));

const signal = () => AbortSignal.timeout(5000);

describe("cost tracker: a source's HTTP GET, label names and pools", () => {
    let api: Awaited<ReturnType<typeof loopback>>;
    let status = 200;
    let body = "{}";
    before(async () => {
        api = await loopback(() => [status, body]);
    });
    after(() => api.close());
    beforeEach(() => {
        api.seen.length = 0;
        status = 200;
        body = "{}";
    });

    it("asks for JSON at the path under the base, however many slashes the base ends with", async () => {
        body = '{"ok":true}';
        assert.deepStrictEqual(await getJson("spec", sourceUrl(`${api.url}/proxy//`, "/api/v1/query?x=1"), signal()), {
            ok: true,
        });
        assert.deepStrictEqual(await getJson("spec", sourceUrl(`${api.url}/`, "/allocation"), signal()), { ok: true });
        assert.deepStrictEqual(
            api.seen.map((s) => [s.path, s.accept]),
            [
                ["/proxy/api/v1/query", "application/json"],
                ["/allocation", "application/json"],
            ],
        );
    });

    it("takes any 2xx answer, up to 299, and refuses 300 with the status and the start of the body", async () => {
        status = 299;
        body = "[1]";
        assert.deepStrictEqual(await getJson("spec", new URL(`${api.url}/a`), signal()), [1]);
        status = 300;
        body = "y".repeat(250);
        await assert.rejects(getJson("spec", new URL(`${api.url}/b`), signal()), {
            name: "SourceError",
            // The body cut to its first 200 characters.
            message: `spec: /b answered 300: ${"y".repeat(200)}`,
        });
        status = 503;
        body = "overloaded";
        await assert.rejects(getJson("spec", new URL(`${api.url}/c`), signal()), {
            name: "SourceError",
            message: "spec: /c answered 503: overloaded",
        });
    });

    it("refuses a body that is not JSON, quoting its first 80 characters", async () => {
        body = "<html>" + "z".repeat(100);
        await assert.rejects(getJson("spec", new URL(`${api.url}/d`), signal()), {
            name: "SourceError",
            message: `spec: /d answered something that is not JSON: "<html>${"z".repeat(74)}"`, // 6 + 74 = 80
        });
    });

    it("tells a JSON object from null, arrays and scalars", () => {
        assert.deepStrictEqual([{}, { a: 1 }, null, [], [1], "text", 3, undefined].map(isRecord), [
            true,
            true,
            false,
            false,
            false,
            false,
            false,
            false,
        ]);
    });

    it("reads a number from a number or numeric text, and anything else or non-finite as 0", () => {
        assert.deepStrictEqual(
            [12.5, "7.25", "NaN", "+Inf", Number.NaN, null, undefined, true, [5], { n: 1 }].map(numberOr0),
            [12.5, 7.25, 0, 0, 0, 0, 0, 0, 0, 0],
        );
    });

    describe("which of a pool's resources a sanitised label names", () => {
        const pools = testConfig().pools;
        const pool = (name: string): TrackerPool => pools.find((p) => p.name === name)!;
        const oneProfileMig: TrackerPool = {
            ...pool("a100-mig"),
            gpuSharing: { mode: "mig", layout: { "3g.40gb": 2 } },
        };
        const named = (p: TrackerPool, sanitized: string) => resourceOnPool(p, sanitized)?.gpuResource;

        it("the resource of that name, wherever the pool offers it", () => {
            assert.strictEqual(named(pool("h100"), "nvidia_com_gpu"), "nvidia.com/gpu");
            assert.strictEqual(named(pool("a100-mig"), "nvidia_com_mig_1g_10gb"), "nvidia.com/mig-1g.10gb");
            assert.strictEqual(named(pool("a100-shared"), "nvidia_com_gpu_shared"), "nvidia.com/gpu.shared");
        });

        it("nvidia.com/gpu on a pool of one other resource is that resource: a share, or the only MIG profile", () => {
            assert.strictEqual(named(pool("a100-shared"), "nvidia_com_gpu"), "nvidia.com/gpu.shared");
            assert.strictEqual(named(oneProfileMig, "nvidia_com_gpu"), "nvidia.com/mig-3g.40gb");
        });

        it("nothing for nvidia.com/gpu on a pool of several profiles, or another name the pool does not offer", () => {
            assert.strictEqual(named(pool("a100-mig"), "nvidia_com_gpu"), undefined);
            assert.strictEqual(named(pool("a100-shared"), "nvidia_com_mig_1g_10gb"), undefined);
            assert.strictEqual(named(oneProfileMig, "nvidia_com_mig_1g_10gb"), undefined);
            assert.strictEqual(named(pool("h100"), "nvidia_com_gpu_shared"), undefined);
        });
    });
});

describe("cost tracker: GPU allocation priced per workload", () => {
    const config = testConfig();
    const time = clock("2026-11-20T01:00:00Z");
    let answers: Record<string, string> = {};
    let prom: Awaited<ReturnType<typeof loopback>>;

    /** The source's five queries, by the start the module's doc gives them. */
    const QUERIES: Array<[string, string]> = [
        ["sum by (namespace, pod, node, resource) (sum_over_time(", "requests"],
        ["count by (node, label_gpu_platform_pool) (count_over_time(", "nodes"],
        ["max by (namespace, pod, owner_kind, owner_name)", "podOwners"],
        ["max by (namespace, replicaset, owner_kind, owner_name)", "replicaSetOwners"],
        ["max by (namespace, label_gpu_platform_team)", "namespaces"],
    ];

    before(async () => {
        prom = await loopback(({ query }) => {
            const kind = QUERIES.find(([start]) => query.startsWith(start))?.[1];
            return kind ? [200, answers[kind] ?? vector([])] : [404, "{}"];
        });
    });
    after(() => prom.close());
    beforeEach(() => {
        time.set("2026-11-20T01:00:00Z");
        prom.seen.length = 0;
        answers = {};
    });

    const source = (gpuIdle?: "pool" | "share-of-use") =>
        new GpuAllocationSource({
            prometheus: new PrometheusClient({
                url: prom.url,
                namespaceLabel: "namespace",
                poolLabel: "gpu-platform/pool",
            }),
            config: { ...config, sources: { ...config.sources, gpuIdle } },
            now: time.now,
        });

    it("prices each workload's pods on a pool as one record, names workloads by their owners, and the rest of the pool idle", async () => {
        // One hour into 20 November: 12 five-minute samples. One h100 node all hour: 12 samples = 1 node-hour.
        const h100 = { node: "n-h100", resource: "nvidia_com_gpu" };
        answers = {
            requests: vector([
                [{ namespace: "inference", pod: "rag-a", ...h100 }, 12], // 1 h
                [{ namespace: "ml-research", pod: "train-0", ...h100 }, 12], // 1 h
                [{ namespace: "inference", pod: "rag-b", ...h100 }, 6], // 0.5 h, same Deployment as rag-a
                [{ namespace: "applied-ml", pod: "solo-x", ...h100 }, 12],
                [{ namespace: "applied-ml", pod: "orphan-y", ...h100 }, 12],
                [{ namespace: "ml-research", pod: "lost", resource: "nvidia_com_gpu" }, 12], // no node label
            ]),
            nodes: vector([[{ node: "n-h100", label_gpu_platform_pool: "h100" }, 12]]),
            podOwners: vector([
                [{ namespace: "inference", pod: "rag-a", owner_kind: "ReplicaSet", owner_name: "rag-5d8f" }, 1],
                [{ namespace: "inference", pod: "rag-b", owner_kind: "ReplicaSet", owner_name: "rag-5d8f" }, 1],
                [{ namespace: "ml-research", pod: "train-0", owner_kind: "Job", owner_name: "train" }, 1],
                [{ namespace: "applied-ml", pod: "solo-x", owner_kind: "ReplicaSet", owner_name: "solo" }, 1],
                [{ namespace: "applied-ml", pod: "orphan-y", owner_kind: "ReplicaSet", owner_name: "orphan" }, 1],
                [{ namespace: "ml-research", pod: "lost", owner_kind: "<none>", owner_name: "<none>" }, 1],
            ]),
            replicaSetOwners: vector([
                [{ namespace: "inference", replicaset: "rag-5d8f", owner_kind: "Deployment", owner_name: "rag" }, 1],
                // A ReplicaSet that happens to share the Job's name: the Job's pod is still the Job's.
                [{ namespace: "ml-research", replicaset: "train", owner_kind: "Deployment", owner_name: "web" }, 1],
                // A ReplicaSet nobody owns: kube-state-metrics says owner_kind "<none>" (docs/metrics/workload/replicaset-metrics.md).
                [{ namespace: "applied-ml", replicaset: "solo", owner_kind: "<none>", owner_name: "<none>" }, 1],
                // "orphan" has no series at all.
            ]),
        };
        const records = await source().read(["2026-11-20"], signal());
        const team = (t: string, workload: string, hours: number) => ({
            day: "2026-11-20",
            team: t,
            line: "team",
            category: "gpu",
            workload,
            resourceHours: hours,
            amountUsd: hours * 6.88,
            gpuHours: hours,
            pool: "h100",
            gpuResource: "nvidia.com/gpu",
            detail: `namespace ${t}`,
        });
        assert.deepStrictEqual(rounded(records), [
            team("inference", "inference/deployment/rag", 1.5), // rag-a 1 h + rag-b 0.5 h: $10.32
            team("ml-research", "ml-research/job/train", 1),
            team("applied-ml", "applied-ml/replicaset/solo", 1),
            team("applied-ml", "applied-ml/replicaset/orphan", 1),
            {
                day: "2026-11-20",
                team: "ml-research",
                line: "team",
                category: "gpu",
                workload: "ml-research/pod/lost",
                resourceHours: 1,
                amountUsd: 0,
                gpuHours: 0,
                gpuResource: "nvidia_com_gpu",
                detail: "namespace ml-research: nvidia_com_gpu on node ?, which no configured pool prices",
            },
            {
                // 1 node-hour × $55.04 − 4.5 GPU-hours × $6.88 ($30.96) = $24.08; 8 − 4.5 = 3.5 GPU-hours.
                day: "2026-11-20",
                team: "",
                line: "idle",
                category: "gpu",
                pool: "h100",
                amountUsd: 24.08,
                gpuHours: 3.5,
                detail: "idle h100 capacity: node-hours no pod requested",
            },
        ]);
        // Samples are summed over the hour so far in 5-minute steps: [3600s:300s].
        const requests = prom.seen.find((s) => s.query.startsWith(QUERIES[0][0]))!;
        assert.ok(requests.query.endsWith(")[3600s:300s]))"), requests.query);
        const owners = prom.seen.find((s) => s.query.startsWith(QUERIES[2][0]))!;
        assert.ok(owners.query.endsWith("(last_over_time(kube_pod_owner[3600s]))"), owners.query);
    });

    it("asks nothing for a day without one whole 5-minute step yet", async () => {
        time.set("2026-11-20T00:04:59Z");
        assert.deepStrictEqual(await source().read(["2026-11-20"], signal()), []);
        assert.strictEqual(prom.seen.length, 0);
        time.set("2026-11-20T00:05:00Z");
        assert.deepStrictEqual(await source().read(["2026-11-20"], signal()), []);
        assert.strictEqual(prom.seen.length, 5, "one step in: the five queries");
    });

    for (const [missing, metric] of [
        ["namespace", { pod: "p", node: "n-h100", resource: "nvidia_com_gpu" }],
        ["pod", { namespace: "inference", node: "n-h100", resource: "nvidia_com_gpu" }],
        ["resource", { namespace: "inference", pod: "p", node: "n-h100" }],
    ] as const) {
        it(`refuses a request series without its ${missing}, quoting its labels`, async () => {
            answers = { requests: vector([[metric, 12]]) };
            await assert.rejects(source().read(["2026-11-20"], signal()), {
                name: "SourceError",
                message: `gpu-allocation: a request series without namespace, pod or resource: ${JSON.stringify(metric)}`,
            });
        });
    }
});

describe("cost tracker: a GPU pool's idle capacity", () => {
    const used = (
        team: string,
        amountUsd: number,
        gpuHours: number,
        line: UsageRecord["line"] = "team",
    ): UsageRecord => ({
        day: "2026-11-19",
        team,
        line,
        category: "gpu",
        pool: "h100",
        amountUsd,
        gpuHours,
    });
    // h100 held $100 and 10 GPU-hours; ml-research used $30 + $10 (4 h), inference $20 (2 h), an unknown namespace $10 (1 h).
    // Idle: $100 − $70 = $30 and 10 − 7 = 3 GPU-hours. Teams' use $60: inference 1/3, ml-research 2/3 (the unallocated $10 no share).
    const allocated = [
        used("ml-research", 30, 3),
        used("inference", 20, 2),
        used("", 10, 1, "unallocated"),
        used("ml-research", 10, 1),
    ];
    const capacity = new Map([["h100", { usd: 100, gpuHours: 10 }]]);

    it("splits it over the teams that used the pool by their share of its spend, teams in name order", () => {
        assert.deepStrictEqual(rounded(idleRecords("2026-11-19", capacity, allocated, "share-of-use")), [
            {
                day: "2026-11-19",
                team: "inference",
                line: "idle",
                category: "gpu",
                pool: "h100",
                amountUsd: 10,
                gpuHours: 1,
                detail: "idle h100 capacity, 33.3 % by share of use",
            },
            {
                day: "2026-11-19",
                team: "ml-research",
                line: "idle",
                category: "gpu",
                pool: "h100",
                amountUsd: 20,
                gpuHours: 2,
                detail: "idle h100 capacity, 66.7 % by share of use",
            },
        ]);
    });

    it("keeps it on the pool's line when no team used the pool, or when the config says so", () => {
        const pooled = {
            day: "2026-11-19",
            team: "",
            line: "idle",
            category: "gpu",
            pool: "h100",
            amountUsd: 30,
            gpuHours: 3,
            detail: "idle h100 capacity: node-hours no pod requested",
        };
        assert.deepStrictEqual(rounded(idleRecords("2026-11-19", capacity, allocated, "pool")), [pooled]);
        // Only the unknown namespace used it: $100 − $10, 10 − 1 GPU-hours.
        assert.deepStrictEqual(rounded(idleRecords("2026-11-19", capacity, [allocated[2]], "share-of-use")), [
            { ...pooled, amountUsd: 90, gpuHours: 9 },
        ]);
    });

    it("gives a line to idle dollars or idle GPU-hours alone, none to a pool used in full, pools in name order", () => {
        const pools = new Map([
            ["h100", { usd: 55.04, gpuHours: 8 }], // its dollars used in full, 8 − 6 = 2 GPU-hours not
            ["cpu", { usd: 5, gpuHours: 0 }], // nodes without GPUs: dollars only
            ["a100-shared", { usd: 21.96, gpuHours: 8 }], // used in full
        ]);
        const records = idleRecords(
            "2026-11-19",
            pools,
            [
                { ...used("ml-research", 55.04, 6), pool: "h100" }, // dollars used in full, 2 GPU-hours left
                { ...used("ml-research", 21.96, 8), pool: "a100-shared" },
            ],
            "pool",
        );
        assert.deepStrictEqual(
            rounded(records).map((r: UsageRecord) => [r.pool, r.amountUsd, r.gpuHours]),
            [
                ["cpu", 5, 0],
                ["h100", 0, 2],
            ],
        );
    });
});
