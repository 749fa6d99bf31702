/**
 * The scheduler's side of a source run (src/sources/scheduler.ts): which records it refuses and
 * why, what it tells operators (the run log, source_runs, /metrics' counters, the service log),
 * the bookkeeping after the sources (utilisation, alerts), and stopping a run in flight.
 *
 * The sources here are small adapters written for the spec behind the one UsageSource interface
 * the scheduler takes (the real adapters against recorded APIs are in sources.spec.ts); Prometheus
 * is the real client against a loopback server.
 */
import * as assert from "assert";
import * as http from "http";
import type { AddressInfo } from "net";
import type { FastifyBaseLogger } from "fastify";
import type { Database } from "../src/db/database";
import { createMetrics, type Metrics } from "../src/metrics";
import type { UsageRecord } from "../src/model";
import type { PipelineInputs, PipelineInputsSource } from "../src/sources/pipeline-inputs";
import { PrometheusClient } from "../src/sources/prometheus";
import { runSourcesOnce, startScheduler, type SchedulerDeps } from "../src/sources/scheduler";
import type { UsageSource } from "../src/sources/source";
import { clock, recordingNotifier, resetDatabase, testConfig, testDatabase } from "./helpers";

const NOW = "2026-11-20T12:00:00Z";
/** A look-back of 2 days at NOW: the run reads 18, 19 and 20 November. */
const LOOKBACK_DAYS = 2;

type Logged = [level: "info" | "warn" | "error", message: string, fields: Record<string, unknown>];

function recordingLog(): { log: FastifyBaseLogger; lines: Logged[] } {
    const lines: Logged[] = [];
    const at =
        (level: Logged[0]) =>
        (fields: Record<string, unknown>, message: string): void =>
            void lines.push([level, message, fields]);
    return { log: { info: at("info"), warn: at("warn"), error: at("error") } as unknown as FastifyBaseLogger, lines };
}

/** A source that answers `records` for any days, keeping the days it was asked for. */
function answering(name: string, records: UsageRecord[]): UsageSource & { asked: string[][] } {
    const asked: string[][] = [];
    return {
        name,
        asked,
        read: async (days) => {
            asked.push([...days]);
            return records;
        },
    };
}

const failing = (name: string, message: string): UsageSource => ({
    name,
    read: () => Promise.reject(new Error(message)),
});

/** A GPU record of ml-research on 19 November, one field changed per case. */
const record = (change: Partial<UsageRecord> = {}): UsageRecord => ({
    day: "2026-11-19",
    team: "ml-research",
    line: "team",
    category: "gpu",
    amountUsd: 10,
    ...change,
});

async function metricLines(metrics: Metrics, name: string): Promise<string[]> {
    return (await metrics.registry.metrics()).split("\n").filter((l) => l.startsWith(`${name}{`));
}

describe("cost tracker: the source scheduler", () => {
    let db: Database;
    const time = clock(NOW);
    const config = testConfig();

    before(async () => {
        db = await testDatabase();
    });
    beforeEach(async () => {
        time.set(NOW);
        await resetDatabase(db, config);
    });

    function deps(sources: UsageSource[], extra: Partial<SchedulerDeps> = {}) {
        const { log, lines } = recordingLog();
        const metrics = createMetrics(async () => []);
        const notifier = recordingNotifier();
        const d: SchedulerDeps = {
            db,
            config: { ...config, sources: { ...config.sources, lookbackDays: LOOKBACK_DAYS, timeoutSeconds: 5 } },
            sources,
            notifiers: [notifier],
            log,
            metrics,
            now: time.now,
            ...extra,
        };
        return { deps: d, lines, metrics, notifier };
    }

    async function runs() {
        const { rows } = await db.query<{
            source: string;
            outcome: string;
            days: string;
            records: number;
            error: string | null;
        }>("SELECT source, outcome, days, records, error FROM source_runs ORDER BY source");
        return rows.map((r) => ({ ...r, records: Number(r.records) }));
    }

    describe("the records it refuses", () => {
        // Each case fails the whole run of its source (a bad record second, after a good one) and says why.
        const cases: Array<[string, UsageRecord, string]> = [
            [
                "a day it did not ask for",
                record({ day: "2026-11-17" }),
                "a record for 2026-11-17, outside the days asked for",
            ],
            ["an unknown line", record({ line: "shared" as never }), "a record on unknown line shared"],
            [
                "a team not in the config",
                record({ team: "marketing" }),
                'a record for unknown team "marketing" on the team line',
            ],
            [
                "a team on the unallocated line",
                record({ line: "unallocated", team: "inference" }),
                'a record for unknown team "inference" on the unallocated line',
            ],
            [
                "an unknown team on the idle line",
                record({ line: "idle", team: "marketing", pool: "h100" }),
                'a record for unknown team "marketing" on the idle line',
            ],
            ["an unknown category", record({ category: "snacks" as never }), "a record of unknown category snacks"],
            ["an amount that is not a number", record({ amountUsd: Number.NaN }), "an amount of NaN"],
            ["an infinite amount", record({ amountUsd: Number.POSITIVE_INFINITY }), "an amount of Infinity"],
            // The bound is a billion dollars either way (scheduler.ts: Math.abs(amount) > 1e9).
            ["an amount over a billion dollars", record({ amountUsd: 1_000_000_000.01 }), "an amount of 1000000000.01"],
            [
                "a refund over a billion dollars",
                record({ amountUsd: -1_000_000_000.01 }),
                "an amount of -1000000000.01",
            ],
        ];
        for (const [what, bad, problem] of cases) {
            it(`refuses ${what}: the source's run fails, naming it, and stores nothing of it`, async () => {
                const { deps: d } = deps([answering("spec-source", [record(), bad])]);
                const outcomes = await runSourcesOnce(d);
                assert.deepStrictEqual(outcomes, [
                    { source: "spec-source", ok: false, records: 0, error: `spec-source: ${problem}` },
                ]);
                const { rows } = await db.query("SELECT 1 FROM usage WHERE source = 'spec-source'");
                assert.strictEqual(rows.length, 0);
            });
        }

        it("takes every line's team as the model allows it: a team's, nobody's, a pool's idle or a team's share of it", async () => {
            const good = [
                record({ line: undefined }), // no line: a team's
                record({ line: "unallocated", team: "", category: "other-aws" }),
                record({ line: "idle", team: "", pool: "h100" }),
                record({ line: "idle", team: "inference", pool: "h100" }),
                record({ day: "2026-11-18", amountUsd: 1_000_000_000 }), // exactly the bound
                record({ amountUsd: -1_000_000_000, category: "credits-tax" }),
            ];
            const { deps: d } = deps([answering("spec-source", good)]);
            assert.deepStrictEqual(await runSourcesOnce(d), [{ source: "spec-source", ok: true, records: 6 }]);
        });
    });

    describe("what it tells operators", () => {
        it("asks each source for today and the look-back days, and records each run: source_runs, the log, /metrics", async () => {
            const good = answering("good", [record(), record({ day: "2026-11-20", team: "inference" })]);
            const { deps: d, lines, metrics } = deps([good, failing("broken", "connection refused")]);
            const outcomes = await runSourcesOnce(d);
            assert.deepStrictEqual(good.asked, [["2026-11-18", "2026-11-19", "2026-11-20"]]);
            assert.deepStrictEqual(outcomes, [
                { source: "good", ok: true, records: 2 },
                { source: "broken", ok: false, records: 0, error: "connection refused" },
            ]);
            assert.deepStrictEqual(await runs(), [
                {
                    source: "broken",
                    outcome: "failed",
                    days: "2026-11-18..2026-11-20",
                    records: 0,
                    error: "connection refused",
                },
                { source: "good", outcome: "ok", days: "2026-11-18..2026-11-20", records: 2, error: null },
            ]);
            // The two run at once: their lines in either order.
            assert.deepStrictEqual(
                lines.filter(([, , fields]) => fields.source === "good" || fields.source === "broken").sort(),
                [
                    ["info", "source read", { source: "good", days: 3, records: 2 }],
                    ["warn", "source failed; its stored data stays", { source: "broken", err: "connection refused" }],
                ],
            );
            assert.deepStrictEqual((await metricLines(metrics, "cost_tracker_source_runs_total")).sort(), [
                'cost_tracker_source_runs_total{source="broken",outcome="failed"} 1',
                'cost_tracker_source_runs_total{source="good",outcome="ok"} 1',
            ]);
        });

        it("says a source that ran out of time timed out", async () => {
            const slow: UsageSource = {
                name: "slow",
                read: (_days, signal) =>
                    new Promise((_resolve, reject) =>
                        signal.addEventListener("abort", () => reject(signal.reason as Error)),
                    ),
            };
            const { deps: d } = deps([slow]);
            // timeoutSeconds 0.01: the run's AbortSignal.timeout fires after 10 ms and the source gives up.
            const quick = { ...d, config: { ...d.config, sources: { ...d.config.sources, timeoutSeconds: 0.01 } } };
            assert.deepStrictEqual(await runSourcesOnce(quick), [
                { source: "slow", ok: false, records: 0, error: "timed out" },
            ]);
        });

        it("keeps the run going when its record cannot be written, and says so", async () => {
            const { deps: d, lines } = deps([answering("good", [record()])]);
            await db.query("ALTER TABLE source_runs RENAME TO source_runs_away");
            let outcomes;
            try {
                outcomes = await runSourcesOnce(d);
            } finally {
                await db.query("ALTER TABLE source_runs_away RENAME TO source_runs");
            }
            assert.deepStrictEqual(outcomes, [{ source: "good", ok: true, records: 1 }]);
            const notRecorded = lines.filter(([, message]) => message === "source run not recorded");
            assert.strictEqual(notRecorded.length, 1);
            assert.strictEqual(notRecorded[0][0], "warn");
            assert.strictEqual(notRecorded[0][2].source, "good");
            assert.match(String(notRecorded[0][2].err), /source_runs/);
        });

        it("counts and logs the pipelines' inputs, read or not", async () => {
            // The scheduler takes a pipeline-inputs source's name and read, as any source's.
            const pipelineSource = (read: PipelineInputsSource["read"]) =>
                ({ name: "pipeline-inputs", read }) as Pick<
                    PipelineInputsSource,
                    "name" | "read"
                > as PipelineInputsSource;
            const read = pipelineSource(async () => [] as PipelineInputs[]);
            const broken = pipelineSource(() => Promise.reject(new Error("CloudWatch said no")));
            const ok = deps([], { pipelineInputs: read });
            await runSourcesOnce(ok.deps);
            assert.deepStrictEqual(await metricLines(ok.metrics, "cost_tracker_source_runs_total"), [
                'cost_tracker_source_runs_total{source="pipeline-inputs",outcome="ok"} 1',
            ]);
            const failed = deps([], { pipelineInputs: broken });
            await runSourcesOnce(failed.deps);
            assert.deepStrictEqual(await metricLines(failed.metrics, "cost_tracker_source_runs_total"), [
                'cost_tracker_source_runs_total{source="pipeline-inputs",outcome="failed"} 1',
            ]);
            assert.deepStrictEqual(failed.lines, [
                [
                    "warn",
                    "pipeline inputs not read; the stored counts stay",
                    { source: "pipeline-inputs", err: "CloudWatch said no" },
                ],
            ]);
        });

        it("logs a Prometheus that cannot answer the utilisation query, and finishes the run", async () => {
            const server = http.createServer((_req, res) => res.writeHead(503).end("overloaded"));
            await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
            try {
                const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
                const prometheus = new PrometheusClient({
                    url,
                    namespaceLabel: "namespace",
                    poolLabel: "gpu-platform/pool",
                });
                const { deps: d, lines } = deps([answering("good", [record()])], { prometheus });
                assert.deepStrictEqual(await runSourcesOnce(d), [{ source: "good", ok: true, records: 1 }]);
                const prom = lines.filter(([, , fields]) => fields.source === "prometheus");
                assert.strictEqual(prom.length, 1);
                assert.deepStrictEqual(prom[0].slice(0, 2), [
                    "warn",
                    "GPU utilisation not read; the last reading stays",
                ]);
                // SourceError's message: "<source>: <path> answered <status>: <body>" (source.ts getJson).
                assert.match(String(prom[0][2].err), /answered 503: overloaded/);
            } finally {
                server.closeAllConnections();
                await new Promise((resolve) => server.close(resolve));
            }
        });

        it("raises, counts and sends the alerts new spend calls for", async () => {
            // ml-research: $96,000 of its $120,000 budget on 19 November = 80 %: the 50 % and 80 % thresholds (defaults 50, 80, 100).
            const { deps: d, metrics, notifier } = deps([answering("good", [record({ amountUsd: 96_000 })])]);
            await runSourcesOnce(d);
            const thresholds = notifier.sent.filter((s) => s.startsWith("budget-threshold: "));
            assert.strictEqual(thresholds.length, 2, notifier.sent.join("\n"));
            assert.ok(
                (await metricLines(metrics, "cost_tracker_alerts_total")).includes(
                    'cost_tracker_alerts_total{kind="budget-threshold"} 2',
                ),
            );
        });
    });

    describe("on a schedule", () => {
        it("runs at once, and stop aborts the source's request in flight and waits for the run to end", async () => {
            let reads = 0;
            let started!: () => void;
            const reading = new Promise<void>((resolve) => (started = resolve));
            const hanging: UsageSource = {
                name: "hanging",
                read: (_days, signal) => {
                    reads++;
                    started();
                    return new Promise((_resolve, reject) =>
                        signal.addEventListener("abort", () => reject(new Error("aborted by stop"))),
                    );
                },
            };
            const { deps: d, lines } = deps([hanging]);
            // An hour between runs: only the first run, which starts at once, can happen in this spec.
            const scheduler = startScheduler(d, 3_600_000);
            await reading;
            await scheduler.stop();
            assert.strictEqual(reads, 1);
            assert.deepStrictEqual(await runs(), [
                {
                    source: "hanging",
                    outcome: "failed",
                    days: "2026-11-18..2026-11-20",
                    records: 0,
                    error: "aborted by stop",
                },
            ]);
            assert.ok(
                lines.some(
                    ([level, message]) => level === "warn" && message === "source failed; its stored data stays",
                ),
            );
        });

        it("runs again every interval until stopped, and not after", async () => {
            let reads = 0;
            let secondRun!: () => void;
            const twice = new Promise<void>((resolve) => (secondRun = resolve));
            const counting: UsageSource = {
                name: "counting",
                read: async () => {
                    if (++reads === 2) secondRun();
                    return [];
                },
            };
            const { deps: d } = deps([counting]);
            const scheduler = startScheduler(d, 5);
            await twice;
            await scheduler.stop();
            const afterStop = reads;
            // Ten intervals after stop: no further run.
            await new Promise((resolve) => setTimeout(resolve, 50));
            assert.strictEqual(reads, afterStop);
        });

        it("logs a run that fails as a whole, and still stops", async () => {
            let started!: () => void;
            const running = new Promise<void>((resolve) => (started = resolve));
            const { deps: d, lines } = deps([answering("good", [record()])], {
                now: () => {
                    started();
                    return time.now();
                },
            });
            // A config without its alert rules: the alerts after the sources throw, and with them the run.
            const broken = { ...d, config: { ...d.config, alerts: undefined as never } };
            const scheduler = startScheduler(broken, 3_600_000);
            await running;
            await scheduler.stop();
            const errors = lines.filter(([level]) => level === "error");
            assert.strictEqual(errors.length, 1);
            assert.strictEqual(errors[0][1], "source run failed");
            assert.match(String(errors[0][2].err), /anomaly/);
        });
    });
});
