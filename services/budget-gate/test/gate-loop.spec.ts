/**
 * The budget gate's logic end to end on loopback: the real gate (informer, controller, breaker,
 * its Kubernetes client and its tracker client) against a fake Kubernetes API server
 * (fake-kube-api.ts) and the real cost tracker (buildApp on PGlite, or PostgreSQL when
 * TEST_DATABASE_URL is set). The test plays Kueue: it writes Workloads as Kueue v0.19.2's Job
 * integration makes them (shape from the v1beta2 CRD, packages/kueue-schemas/fixtures/kueue-0.19.2, each object
 * validated against it) and moves them through quota reservation, eviction and finishing.
 *
 * Prices by hand from the catalog: p5.48xlarge is $55.04/h for 8 H100, so $6.88 per GPU-hour.
 */
import * as assert from "assert";
import * as http from "http";
import type { AddressInfo } from "net";
import type { FastifyInstance } from "fastify";
import { buildCostTrackerConfig } from "@gpu-platform/catalog/contracts";
import { buildBudgetGateConfig } from "@gpu-platform/catalog/contracts";
import { TOKEN, resetDatabase, testApp, testDatabase } from "@gpu-platform/cost-tracker/test/helpers";

const PLATFORM_TOKEN = "platform-token-0123456789abcdef";
import type { Database } from "@gpu-platform/cost-tracker/src/db/database";
import { startGate, type RunningGate } from "../src/gate";
import { kubeApi } from "../src/kube";
import { runElection } from "../src/leader";
import { createMetrics } from "../src/metrics";
import { trackerClient } from "../src/tracker";
import { GATE_FINALIZER, type AdmissionCheckState, type Workload } from "../src/workload";
import { FakeKubeApi } from "./fake-kube-api";
import {
    type JobManifest,
    allowedByGateRbac,
    reserveQuota,
    schemaErrors,
    waitFor,
    withCondition,
    workloadForJob,
} from "./kueue-double";

const NOW = new Date("2026-03-10T12:00:00Z");
const trackerConfig = buildCostTrackerConfig({
    teams: [
        { name: "ml-research", costCenter: "CC-1001", monthlyBudgetUsd: 1000 },
        { name: "inference", costCenter: "CC-1003", monthlyBudgetUsd: 500 },
        { name: "applied-ml", costCenter: "CC-1002", monthlyBudgetUsd: 1000 },
        // Room for one H100 serving a whole month ($4953.60 in April), not two.
        { name: "serving", costCenter: "CC-1004", monthlyBudgetUsd: 6000 },
    ],
    nodePools: [{ name: "h100", instanceType: "p5.48xlarge", maxSize: 4, gpuSharing: { mode: "exclusive" } }],
    priorityClasses: [{ name: "production-inference" }, { name: "training" }, { name: "research" }],
});
const CLASSES = [
    { name: "production-inference", value: 1000 },
    { name: "training", value: 500 },
    { name: "research", value: 100 },
];
const gateConfig = buildBudgetGateConfig({
    tracker: trackerConfig,
    classes: CLASSES,
    admissionCheck: "budget",
    namespace: "budget-gate",
    breakerMode: "suspend",
    // The spec runs the breaker itself.
    breakerIntervalSeconds: 3600,
});

interface JobSpec {
    readonly team: string;
    readonly job: string;
    /** The Job's UID (the tracker takes UUIDs). */
    readonly uid: string;
    readonly gpusPerPod: number;
    readonly pods?: number;
    readonly hours: number;
    readonly className: string;
}

const workloadName = (s: JobSpec) => `job-${s.job}-${s.uid.slice(0, 5)}`;

/** A batch/v1 Job's Workload, as Kueue's Job integration creates it, before any admission. */
function jobWorkload(s: JobSpec): Workload {
    const labels: Record<string, string> = { "kueue.x-k8s.io/priority-class": s.className };
    if (s.hours > 0) labels["kueue.x-k8s.io/max-exec-time-seconds"] = String(s.hours * 3600);
    const job: JobManifest = {
        metadata: { name: s.job, namespace: s.team, labels },
        spec: {
            parallelism: s.pods ?? 1,
            template: {
                spec: {
                    restartPolicy: "Never",
                    containers: [
                        {
                            name: "train",
                            image: "train:1",
                            resources: { requests: { "nvidia.com/gpu": String(s.gpusPerPod), cpu: "4" } },
                        },
                    ],
                },
            },
        },
    };
    return workloadForJob(job, s.uid, CLASSES);
}

describe("budget gate against a fake Kubernetes API and the real cost tracker", function () {
    this.timeout(60_000);
    let db: Database;
    let app: FastifyInstance;
    let trackerUrl: string;
    let kube: FakeKubeApi;
    const gates: RunningGate[] = [];
    /** The tracker's clock; a spec that crosses a month moves it with the gate's. */
    let trackerNow = NOW;

    // The gate presents the platform's credential, as deployed (docs/cost-tracker-api.md); usage and templates use the admin's below.
    const tracker = () => trackerClient({ url: trackerUrl, token: () => Promise.resolve(PLATFORM_TOKEN) });
    const start = async (now: () => Date = () => NOW, config = gateConfig): Promise<RunningGate> => {
        const gate = startGate({
            kube: kubeApi(kube.kubeConfig()),
            tracker: tracker(),
            config,
            metrics: createMetrics(false),
            now,
            log: (m, f) => process.env.GATE_LOG && console.error(m, JSON.stringify(f)),
            eventWaitSeconds: 1,
        });
        gates.push(gate);
        await gate.synced;
        // The events feed answered once: from here the gate answers a team it knows is out of money from memory.
        await waitFor("the events feed", () => gate.controller.cacheEnabled);
        return gate;
    };
    const overrunAlerts = async (name: string) =>
        (await app.inject({ method: "GET", url: `/v1/alerts?team=${name}` }))
            .json<{ kind: string; message: string }[]>()
            .filter((a) => a.kind === "budget-overrun")
            .map((a) => a.message);
    const pushSpend = async (name: string, amountUsd: number, key: string) => {
        const usage = await app.inject({
            method: "POST",
            url: "/v1/usage",
            headers: { authorization: `Bearer ${TOKEN}`, "idempotency-key": key },
            payload: { records: [{ team: name, category: "gpu", amountUsd, occurredAt: "2026-03-10T10:00:00Z" }] },
        });
        assert.strictEqual(usage.statusCode, 201, usage.body);
    };
    const check = (s: JobSpec): AdmissionCheckState | undefined =>
        kube.get(s.team, workloadName(s))?.status?.admissionChecks?.find((c) => c.name === "budget");
    const answered = (s: JobSpec) =>
        waitFor(`an answer for ${s.job}`, () => (check(s)?.state !== "Pending" ? check(s) : undefined));
    const submit = (s: JobSpec, at = "2026-03-10T11:59:00Z") => {
        const w = reserveQuota(jobWorkload(s), s.team, "h100", at);
        assert.deepStrictEqual(schemaErrors(w), []);
        return kube.put(w);
    };
    const team = async (name: string) => {
        const teams = (await app.inject({ method: "GET", url: "/v1/teams" })).json<
            { name: string; monthToDateUsd: number; reservedUsd: number; remainingUsd: number }[]
        >();
        return teams.find((t) => t.name === name)!;
    };
    const requests = async (name: string) =>
        (await app.inject({ method: "GET", url: `/v1/gpu-requests?team=${name}` })).json<
            {
                id: string;
                status: string;
                reservation: string | null;
                estimatedCostUsd: number;
                workload: { uid?: string; kind: string; name: string } | null;
            }[]
        >();

    before(async () => {
        db = await testDatabase();
    });

    beforeEach(async () => {
        await resetDatabase(db, trackerConfig);
        trackerNow = NOW;
        app = await testApp(db, {
            config: trackerConfig,
            now: () => trackerNow,
            credentials: [{ kind: "platform", tokens: [PLATFORM_TOKEN] }],
        });
        trackerUrl = await app.listen({ port: 0, host: "127.0.0.1" });
        kube = await new FakeKubeApi().start();
    });

    afterEach(async () => {
        await Promise.all(gates.splice(0).map((g) => g.stop()));
        await kube.close();
        await app.close();
        assert.deepStrictEqual(kube.unexpected, [], "the gate used only the API subset the fake serves");
        const denied = kube.requests.filter((r) => !allowedByGateRbac(r, gateConfig.teams, "budget-gate"));
        assert.deepStrictEqual(denied, [], "every request the gate sent is allowed by the BudgetGate component's RBAC");
        assert.ok(kube.requests.length > 0);
    });

    const TRAIN_A: JobSpec = {
        team: "ml-research",
        job: "train-a",
        uid: "0b8e0c55-0000-4000-8000-00000000000a",
        gpusPerPod: 8,
        hours: 10,
        className: "training",
    };
    const TRAIN_B: JobSpec = { ...TRAIN_A, job: "train-b", uid: "0b8e0c55-0000-4000-8000-00000000000b" };

    it("pending -> Ready: reserves the estimate bound to the Job's UID, holds a finalizer, names the reservation", async () => {
        await start();
        submit(TRAIN_A);
        const answer = await answered(TRAIN_A);
        // 8 GPUs x $6.88 x 10 h = $550.40; $1000 - $550.40 = $449.60 left.
        assert.strictEqual(answer.state, "Ready");
        assert.match(answer.message, /^Reserved \$550\.40 for 8 x nvidia\.com\/gpu on h100 for 10 h: reservation /);
        assert.match(answer.message, /\$449\.60 left of ml-research's budget/);
        const [reservation] = await requests("ml-research");
        assert.deepStrictEqual(
            [reservation.status, reservation.reservation, reservation.estimatedCostUsd, reservation.workload],
            ["approved", "active", 550.4, { namespace: "ml-research", kind: "Job", name: "train-a", uid: TRAIN_A.uid }],
        );
        assert.deepStrictEqual(answer.podSetUpdates, [
            { name: "main", annotations: { "gpu-platform.io/budget-reservation": reservation.id } },
        ]);
        assert.deepStrictEqual(kube.get("ml-research", workloadName(TRAIN_A))?.metadata.finalizers, [GATE_FINALIZER]);
        const figures = await team("ml-research");
        assert.deepStrictEqual([figures.reservedUsd, figures.remainingUsd], [550.4, 449.6]);
    });

    it("over budget -> Retry (asked again from memory until money frees) -> Ready after a release", async () => {
        const gate = await start();
        submit(TRAIN_A);
        assert.strictEqual((await answered(TRAIN_A)).state, "Ready");
        submit(TRAIN_B);
        const waiting = await answered(TRAIN_B);
        // B needs $550.40; $449.60 is left after A.
        assert.strictEqual(waiting.state, "Retry");
        assert.match(
            waiting.message,
            /^Waiting for budget: this workload needs \$550\.40 .* ml-research has \$449\.60 left/,
        );
        assert.strictEqual(waiting.requeueAfterSeconds, 120);

        // Kueue requeues B and reserves quota again: no money freed, so the gate answers without asking the tracker.
        submit(TRAIN_B, "2026-03-10T11:59:30Z");
        assert.strictEqual((await answered(TRAIN_B)).state, "Retry");
        assert.deepStrictEqual(
            (await requests("ml-research")).map((r) => r.status).sort(),
            ["approved", "rejected"],
            "one approval (A) and one rejection (B): the second attempt did not reach the tracker",
        );

        // A finishes: the gate releases it; the tracker's "released" event tells the gate money freed up.
        kube.update("ml-research", workloadName(TRAIN_A), (w) =>
            withCondition(w, "Finished", "Succeeded", "2026-03-10T12:00:00Z"),
        );
        await waitFor("A's finalizer removed", () =>
            kube.get("ml-research", workloadName(TRAIN_A))?.metadata.finalizers?.length === 0 ? true : undefined,
        );
        let attempt = 0;
        const ready = await waitFor("B admitted", async () => {
            submit(TRAIN_B, `2026-03-10T12:00:${String(++attempt).padStart(2, "0")}Z`);
            const answer = await answered(TRAIN_B);
            return answer.state === "Ready" ? answer : undefined;
        });
        // A's $550.40 released: $1000 - B's $550.40 = $449.60 left.
        assert.match(ready.message, /^Reserved \$550\.40 .*\$449\.60 left/);
        const figures = await team("ml-research");
        assert.deepStrictEqual([figures.reservedUsd, figures.remainingUsd], [550.4, 449.6]);
        assert.ok(gate.controller.cacheEnabled);
    });

    it("too big -> Rejected with a message a data scientist can act on, nothing reserved", async () => {
        await start();
        const big: JobSpec = { ...TRAIN_A, job: "huge", pods: 2 };
        submit(big);
        const answer = await answered(big);
        // 2 pods x 8 GPUs x $6.88 x 10 h = $1100.80, more than the $1000 monthly budget.
        assert.strictEqual(answer.state, "Rejected");
        assert.match(
            answer.message,
            /^Rejected: this workload would cost \$1100\.80 \(16 x nvidia\.com\/gpu on h100 for 10 h\), more than its whole monthly budget of \$1000\.00 for ml-research/,
        );
        assert.match(answer.message, /fewer GPUs or a shorter run/);
        assert.strictEqual((await team("ml-research")).reservedUsd, 0);
    });

    it("critical -> Ready past the budget, flagged, with the tracker's alert", async () => {
        await start();
        const serve: JobSpec = {
            team: "inference",
            job: "serve-eval",
            uid: "0b8e0c55-0000-4000-8000-0000000000c1",
            gpusPerPod: 8,
            hours: 10,
            className: "production-inference",
        };
        submit(serve);
        const answer = await answered(serve);
        // $550.40 against a $500 budget: approved, $50.40 over.
        assert.strictEqual(answer.state, "Ready");
        assert.match(
            answer.message,
            /over inference's budget, approved because production-inference is a critical class \(flagged for review\)/,
        );
        assert.strictEqual((await team("inference")).remainingUsd, -50.4);
        const alerts = (await app.inject({ method: "GET", url: "/v1/alerts?team=inference" })).json<
            { kind: string }[]
        >();
        assert.deepStrictEqual(
            alerts.map((a) => a.kind),
            ["critical-over-budget"],
        );
    });

    it("finished or deleted -> released, finalizer removed, the deleted Workload gone", async () => {
        await start();
        const small: JobSpec = { ...TRAIN_A, gpusPerPod: 1 };
        const other: JobSpec = { ...TRAIN_B, gpusPerPod: 2 };
        submit(small);
        submit(other);
        await answered(small);
        await answered(other);
        // 1 x 6.88 x 10 = 68.80 and 2 x 6.88 x 10 = 137.60: $206.40 reserved.
        assert.strictEqual((await team("ml-research")).reservedUsd, 206.4);
        kube.update("ml-research", workloadName(small), (w) =>
            withCondition(w, "Finished", "Succeeded", "2026-03-10T12:00:00Z"),
        );
        kube.remove("ml-research", workloadName(other), "2026-03-10T12:00:00Z");
        await waitFor("the deleted workload gone", () =>
            kube.get("ml-research", workloadName(other)) ? undefined : true,
        );
        await waitFor("the finished workload let go", () =>
            kube.get("ml-research", workloadName(small))?.metadata.finalizers?.length === 0 ? true : undefined,
        );
        assert.deepStrictEqual(
            (await requests("ml-research")).map((r) => r.reservation),
            ["released", "released"],
        );
        const figures = await team("ml-research");
        assert.deepStrictEqual([figures.reservedUsd, figures.remainingUsd], [0, 1000]);
    });

    it("overrun -> the circuit breaker deactivates non-critical workloads lowest priority first, keeps critical", async () => {
        const gate = await start();
        const base = { team: "applied-ml", hours: 10 };
        const research: JobSpec = {
            ...base,
            job: "sweep",
            uid: "0b8e0c55-0000-4000-8000-0000000000d1",
            gpusPerPod: 2,
            className: "research",
        };
        const training: JobSpec = {
            ...base,
            job: "train",
            uid: "0b8e0c55-0000-4000-8000-0000000000d2",
            gpusPerPod: 1,
            className: "training",
        };
        const critical: JobSpec = {
            ...base,
            job: "serve",
            uid: "0b8e0c55-0000-4000-8000-0000000000d3",
            gpusPerPod: 1,
            className: "production-inference",
        };
        for (const s of [research, training, critical]) {
            submit(s);
            assert.strictEqual((await answered(s)).state, "Ready");
            kube.update(s.team, workloadName(s), (w) =>
                withCondition(w, "Admitted", "Admitted", "2026-03-10T11:59:30Z"),
            );
        }
        // Reserved: research 2 x 68.80 = 137.60, training 68.80, critical 68.80: $275.20.
        const usage = await app.inject({
            method: "POST",
            url: "/v1/usage",
            headers: { authorization: `Bearer ${TOKEN}`, "idempotency-key": "usage-overrun" },
            payload: {
                records: [{ team: "applied-ml", category: "gpu", amountUsd: 800, occurredAt: "2026-03-10T10:00:00Z" }],
            },
        });
        assert.strictEqual(usage.statusCode, 201, usage.body);
        // Spent $800 + reserved $275.20 = $1075.20 > $1000. Stopping research (lowest) frees $137.60: $937.60, within budget.
        const stopped = await gate.breaker();
        assert.deepStrictEqual(stopped, [`applied-ml/${workloadName(research)}`]);
        assert.strictEqual(kube.get("applied-ml", workloadName(research))?.spec.active, false);
        assert.strictEqual(kube.get("applied-ml", workloadName(training))?.spec.active, undefined);
        assert.strictEqual(kube.get("applied-ml", workloadName(critical))?.spec.active, undefined);
        const [event] = kube.events;
        assert.deepStrictEqual(
            [kube.events.length, event.type, event.reason, event.involvedObject.name],
            [1, "Warning", "BudgetOverrun", workloadName(research)],
        );
        const figures = await team("applied-ml");
        assert.deepStrictEqual([figures.monthToDateUsd, figures.reservedUsd], [800, 137.6]);
        // The overrun as the pass saw it, an alert in the tracker beside its own; the workload by its Job's name.
        assert.deepStrictEqual(await overrunAlerts("applied-ml"), [
            "applied-ml is over its $1000.00 budget for 2026-03: $800.00 spent and $275.20 reserved ($1075.20). " +
                "The budget gate stopped 1 workload, lowest priority first: applied-ml/sweep (Job).",
        ]);

        // More spend: $800 + $137.60 + $150 = $1087.60. Training stops ($68.80 freed: $1018.80, still over); critical never does.
        await app.inject({
            method: "POST",
            url: "/v1/usage",
            headers: { authorization: `Bearer ${TOKEN}`, "idempotency-key": "usage-overrun-2" },
            // A push is its key's day total (docs/cost-tracker-finops.md): the same day's $800 and $150 more is $950.
            payload: {
                records: [{ team: "applied-ml", category: "gpu", amountUsd: 950, occurredAt: "2026-03-10T11:00:00Z" }],
            },
        });
        assert.deepStrictEqual(await gate.breaker(), [`applied-ml/${workloadName(training)}`]);
        assert.strictEqual(kube.get("applied-ml", workloadName(critical))?.spec.active, undefined);
        assert.strictEqual((await team("applied-ml")).reservedUsd, 68.8);

        // Still over ($950 + $68.80 = $1018.80) with only the critical workload running: stopped nothing, alerted once.
        assert.deepStrictEqual(await gate.breaker(), []);
        assert.deepStrictEqual(await gate.breaker(), []);
        assert.deepStrictEqual((await overrunAlerts("applied-ml")).slice(0, 2), [
            "applied-ml is over its $1000.00 budget for 2026-03: $950.00 spent and $68.80 reserved ($1018.80). " +
                "The budget gate stopped nothing: only workloads of critical classes are running.",
            "applied-ml is over its $1000.00 budget for 2026-03: $950.00 spent and $137.60 reserved ($1087.60). " +
                "The budget gate stopped 1 workload, lowest priority first: applied-ml/train (Job).",
        ]);
        assert.strictEqual((await overrunAlerts("applied-ml")).length, 3);
    });

    it("queue mode: an overrun stops nothing and is alerted once; an alert the tracker could not take is sent on the next pass", async () => {
        // Between the gate and the tracker, a proxy that answers 503 to the first alert, as a tracker restarting would.
        let refuse = 1;
        const direct = trackerUrl;
        const proxy = http.createServer((req, res) => {
            if (req.url === "/v1/alerts" && refuse-- > 0) {
                res.writeHead(503, { "content-type": "application/json" });
                res.end(JSON.stringify({ error: "Service Unavailable", message: "restarting" }));
                return;
            }
            const upstream = http.request(
                new URL(req.url!, direct),
                { method: req.method, headers: req.headers },
                (up) => {
                    res.writeHead(up.statusCode!, up.headers);
                    up.pipe(res);
                },
            );
            req.pipe(upstream);
        });
        await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
        trackerUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
        try {
            const gate = await start(() => NOW, { ...gateConfig, breakerMode: "queue" });
            const job: JobSpec = {
                ...TRAIN_A,
                team: "inference",
                gpusPerPod: 1,
                uid: "0b8e0c55-0000-4000-8000-0000000000b1",
            };
            submit(job);
            assert.strictEqual((await answered(job)).state, "Ready");
            kube.update(job.team, workloadName(job), (w) =>
                withCondition(w, "Admitted", "Admitted", "2026-03-10T11:59:30Z"),
            );
            // $480 spent + $68.80 reserved (1 x $6.88 x 10 h) = $548.80 > inference's $500.
            await pushSpend("inference", 480, "usage-queue");
            assert.deepStrictEqual(await gate.breaker(), []);
            assert.deepStrictEqual(await overrunAlerts("inference"), [], "the tracker answered 503");
            assert.strictEqual(
                kube.get(job.team, workloadName(job))?.spec.active,
                undefined,
                "queue mode stops nothing",
            );
            // The job finishes and its reservation is released: $480 is within budget, yet the overrun seen is still alerted.
            kube.update(job.team, workloadName(job), (w) =>
                withCondition(w, "Finished", "Succeeded", "2026-03-10T12:00:00Z"),
            );
            await waitFor("the release", async () => ((await team("inference")).reservedUsd === 0 ? true : undefined));
            assert.deepStrictEqual(await gate.breaker(), []);
            const message =
                "inference is over its $500.00 budget for 2026-03: $480.00 spent and $68.80 reserved ($548.80). " +
                "The budget gate admits none of its new GPU workloads until money frees up; running workloads continue (breaker mode queue).";
            assert.deepStrictEqual(await overrunAlerts("inference"), [message]);
            assert.deepStrictEqual(kube.events, []);
        } finally {
            trackerUrl = direct;
            // The gate still holds its long poll and keep-alive connections: end them, or close waits for them.
            proxy.closeAllConnections();
            await new Promise((resolve) => proxy.close(resolve));
        }
    });

    it("a restart mid-way loses and doubles nothing: the template's reservation adopted once, the same key replayed", async () => {
        const job: JobSpec = { ...TRAIN_A, job: "finetune", uid: "0b8e0c55-0000-4000-8000-0000000000e1" };
        // A Backstage template reserved before its pull request: no UID yet. 8 x 6.88 x 10 = $550.40.
        const template = await app.inject({
            method: "POST",
            url: "/v1/gpu-requests",
            headers: { authorization: `Bearer ${TOKEN}`, "idempotency-key": "template-finetune" },
            payload: {
                team: "ml-research",
                pool: "h100",
                gpus: 8,
                hours: 10,
                priorityClass: "training",
                requester: "user:default/jane",
                workload: { namespace: "ml-research", kind: "Job", name: "finetune" },
            },
        });
        assert.strictEqual(template.statusCode, 201, template.body);
        const templateId = template.json<{ id: string }>().id;

        // The first gate reserves (adopts) but every answer it writes fails: it stops before answering.
        kube.failNext("PATCH", /\/status$/, 1000);
        const first = await start();
        submit(job);
        await waitFor("the adoption", async () =>
            (await requests("ml-research"))[0].workload?.uid === job.uid ? true : undefined,
        );
        await first.stop();
        kube.clearFaults();
        assert.strictEqual(check(job)?.state, "Pending");

        // A new gate (a new process: nothing in memory) asks under the same key and gets the stored answer.
        await start();
        const answer = await answered(job);
        assert.strictEqual(answer.state, "Ready");
        assert.match(
            answer.message,
            new RegExp(`reservation ${templateId} \\(the reservation made for it earlier, adopted\\)`),
        );

        // Kueue evicts and admits it again (a new attempt, a new key): the tracker adopts the reservation bound to the UID.
        submit(job, "2026-03-10T12:00:00Z");
        const again = await waitFor("the second attempt's answer", () => {
            const c = check(job);
            return c?.state === "Ready" && c.lastTransitionTime === "2026-03-10T12:00:00Z" ? c : undefined;
        });
        assert.match(again.message, new RegExp(`reservation ${templateId} `));
        const all = await requests("ml-research");
        assert.deepStrictEqual(
            all.map((r) => [r.id, r.reservation]),
            [[templateId, "active"]],
        );
        assert.strictEqual((await team("ml-research")).reservedUsd, 550.4);
    });

    it("a Deployment's pod restarted an hour later: priced from its admission attempt, so the same request replays", async () => {
        // Kueue's pod integration: a Workload per pod, owned by the Pod; the Pod by a ReplicaSet; that by the Deployment.
        const pod: JobSpec = {
            team: "inference",
            job: "serve-7d9f8-x2x4k",
            uid: "0b8e0c55-0000-4000-8000-0000000000f1",
            gpusPerPod: 1,
            hours: 0,
            className: "production-inference",
        };
        const w = reserveQuota(jobWorkload(pod), pod.team, "h100", "2026-03-10T11:59:00Z");
        const owned: Workload = {
            ...w,
            metadata: {
                ...w.metadata,
                name: `pod-${pod.job}-0b8e0`,
                ownerReferences: [{ apiVersion: "v1", kind: "Pod", name: pod.job, uid: pod.uid, controller: true }],
            },
            spec: { ...w.spec, maximumExecutionTimeSeconds: undefined },
        };
        const rs = { apiVersion: "apps/v1", kind: "ReplicaSet", name: "serve-7d9f8", uid: "rs-uid", controller: true };
        kube.addOwned("Pod", "inference", pod.job, rs);
        kube.addOwned("ReplicaSet", "inference", "serve-7d9f8", {
            apiVersion: "apps/v1",
            kind: "Deployment",
            name: "serve",
            uid: "deployment-uid",
            controller: true,
        });
        kube.failNext("PATCH", /\/status$/, 1000);
        const first = await start();
        assert.deepStrictEqual(schemaErrors(owned), []);
        kube.put(owned);
        await waitFor("the reservation", async () => ((await requests("inference")).length === 1 ? true : undefined));
        await first.stop();
        kube.clearFaults();

        // An hour later, a new gate. Run time from the attempt (11:59:00) to 2026-04-01T00:00Z: 21 d 12 h 1 min =
        // 516.0167 h, rounded up to 516.02 h; 1 x $6.88 x 516.02 = $3550.2176 -> $3550.22.
        await start(() => new Date("2026-03-10T13:00:00Z"));
        const answer = await waitFor("the answer", () => {
            const c = kube.get("inference", owned.metadata.name)?.status?.admissionChecks?.[0];
            return c?.state !== "Pending" ? c : undefined;
        });
        assert.strictEqual(answer?.state, "Ready", answer?.message);
        assert.match(
            answer.message,
            /^Reserved \$3550\.22 for 1 x nvidia\.com\/gpu on h100 for 516\.02 h, to the end of the budget month/,
        );
        const all = await requests("inference");
        assert.deepStrictEqual(
            all.map((r) => [r.estimatedCostUsd, r.workload?.kind, r.workload?.name, r.workload?.uid]),
            [[3550.22, "Deployment", "serve", pod.uid]],
        );
    });

    describe("renewal of a Deployment's reservation on the 1st", () => {
        // Quota reserved and admitted at noon on the last day of March: 12 h to the month's end.
        const ADMITTED = "2026-03-31T12:00:00Z";
        const FIRST = new Date("2026-04-01T00:00:01Z");
        let clock = new Date(ADMITTED);
        const now = () => clock;
        const setClock = (at: Date) => {
            clock = at;
            trackerNow = at;
        };

        /** A Deployment's pod as Kueue's pod integration makes its Workload: owned by the Pod, the Pod by a ReplicaSet, that by the Deployment. */
        function deploymentPod(name: string, uid: string, className: string): JobSpec & { workload: string } {
            const spec: JobSpec = {
                team: "serving",
                job: `${name}-7d9f8-x2x4k`,
                uid,
                gpusPerPod: 1,
                hours: 0,
                className,
            };
            const w = reserveQuota(jobWorkload(spec), spec.team, "h100", ADMITTED);
            const workload = `pod-${spec.job}-${uid.slice(-4)}`;
            const owned: Workload = {
                ...w,
                metadata: {
                    ...w.metadata,
                    name: workload,
                    ownerReferences: [{ apiVersion: "v1", kind: "Pod", name: spec.job, uid, controller: true }],
                },
                spec: { ...w.spec, maximumExecutionTimeSeconds: undefined },
            };
            const rs = `${name}-7d9f8`;
            kube.addOwned("Pod", spec.team, spec.job, {
                apiVersion: "apps/v1",
                kind: "ReplicaSet",
                name: rs,
                uid: `rs-${uid}`,
                controller: true,
            });
            kube.addOwned("ReplicaSet", spec.team, rs, {
                apiVersion: "apps/v1",
                kind: "Deployment",
                name,
                uid: `deployment-${uid}`,
                controller: true,
            });
            assert.deepStrictEqual(schemaErrors(owned), []);
            kube.put(owned);
            return { ...spec, workload };
        }
        const checkOfPod = (p: { team: string; workload: string }) =>
            kube.get(p.team, p.workload)?.status?.admissionChecks?.find((c) => c.name === "budget");
        /** Kueue admits it once the check is Ready (and the gate has seen it admitted). */
        async function admitted(gate: RunningGate, p: { team: string; workload: string }) {
            const c = await waitFor(`${p.workload} answered`, () =>
                checkOfPod(p)?.state !== "Pending" ? checkOfPod(p) : undefined,
            );
            assert.strictEqual(c.state, "Ready", c.message);
            kube.update(p.team, p.workload, (w) => withCondition(w, "Admitted", "Admitted", ADMITTED));
            await waitFor(`the gate sees ${p.workload} admitted`, () =>
                gate
                    .workloads()
                    .some(
                        (w) =>
                            w.metadata.name === p.workload && w.status?.conditions?.some((c) => c.type === "Admitted"),
                    )
                    ? true
                    : undefined,
            );
            return c;
        }
        const reservations = async () =>
            (await requests("serving")).map((r) => [r.status, r.reservation, r.estimatedCostUsd]);
        const renewalEvents = () =>
            kube.events.filter((e) => e.reason === "BudgetRenewal").map((e) => [e.type, e.involvedObject.name]);

        beforeEach(() => setClock(new Date(ADMITTED)));

        it("renews for the new month: the old month's reservation released, a whole month reserved, Ready kept", async () => {
            const gate = await start(now);
            const serve = deploymentPod("serve", "0b8e0c55-0000-4000-8000-000000000a01", "training");
            const first = await admitted(gate, serve);
            // 12 h to the end of March: 1 x $6.88 x 12 = $82.56.
            assert.match(first.message, /^Reserved \$82\.56 for 1 x nvidia\.com\/gpu on h100 for 12 h, to the end/);
            assert.deepStrictEqual(await gate.renew(), new Map(), "nothing is due in the month it was admitted");

            setClock(FIRST);
            assert.deepStrictEqual(await gate.renew(), new Map([[`serving/${serve.workload}`, "renewed"]]));
            // April is 30 days: 720 h x $6.88 = $4953.60; $6000 - $4953.60 = $1046.40 left.
            const renewed = checkOfPod(serve)!;
            assert.strictEqual(renewed.state, "Ready");
            assert.match(
                renewed.message,
                /^Renewed for 2026-04: Reserved \$4953\.60 for 1 x nvidia\.com\/gpu on h100 for 720 h, to the end of the budget month: reservation .*\$1046\.40 left of serving's budget/,
            );
            assert.strictEqual(renewed.lastTransitionTime, "2026-04-01T00:00:01Z");
            assert.deepStrictEqual(
                renewed.podSetUpdates,
                first.podSetUpdates,
                "Kueue keeps a Ready check's podSetUpdates",
            );
            // Newest first.
            assert.deepStrictEqual(await reservations(), [
                ["approved", "active", 4953.6],
                ["approved", "released", 82.56],
            ]);
            const april = await team("serving");
            assert.deepStrictEqual([april.reservedUsd, april.remainingUsd], [4953.6, 1046.4]);
            assert.deepStrictEqual(renewalEvents(), [["Normal", serve.workload]]);

            // Asked again (the next breaker pass, a restarted gate): nothing is due, nothing doubled.
            assert.deepStrictEqual(await gate.renew(), new Map());
            await gate.stop();
            const restarted = await start(now);
            assert.deepStrictEqual(await restarted.renew(), new Map());
            assert.strictEqual((await reservations()).length, 2);
        });

        it("a gate down on the 1st renews when it starts; one cut short after reserving replays, never doubles", async () => {
            const first = await start(now);
            const serve = deploymentPod("serve", "0b8e0c55-0000-4000-8000-000000000a02", "training");
            await admitted(first, serve);
            await first.stop();

            // Back on the 2nd at 09:00. Its answers cannot be written yet: it reserves, then fails to say so.
            setClock(new Date("2026-04-02T09:00:00Z"));
            kube.failNext("PATCH", /\/status$/, 1000);
            const cut = await start(now);
            await waitFor("the renewal reserved", async () => ((await reservations()).length === 2 ? true : undefined));
            await cut.stop();
            kube.clearFaults();
            assert.strictEqual(checkOfPod(serve)?.message.startsWith("Reserved $82.56"), true, "not yet rewritten");

            // A new process: released again and reserved again under the same keys, the stored answers come back.
            const again = await start(now);
            await waitFor("the renewal answered", () =>
                checkOfPod(serve)?.message.startsWith("Renewed for 2026-04") ? true : undefined,
            );
            assert.deepStrictEqual(await again.renew(), new Map());
            // Priced from the month's first instant (720 h, $4953.60), held from its approval on the 2nd at 09:00:
            // April carries 687 of its 720 h, $4953.60 x 687 / 720 = $4726.56.
            // March's ran out with its 2 grace hours (04-01 02:00): expired, not released.
            assert.deepStrictEqual(await reservations(), [
                ["approved", "active", 4953.6],
                ["approved", "expired", 82.56],
            ]);
            assert.strictEqual((await team("serving")).reservedUsd, 4726.56);
        });

        for (const mode of ["suspend", "queue"] as const) {
            it(`too little money for both (${mode}): the higher class renewed first, the other ${mode === "suspend" ? "deactivated" : "left running unreserved"}`, async () => {
                const gate = await start(now, { ...gateConfig, breakerMode: mode });
                const low = deploymentPod("sweep", "0b8e0c55-0000-4000-8000-000000000a03", "research");
                await admitted(gate, low);
                const high = deploymentPod("serve", "0b8e0c55-0000-4000-8000-000000000a04", "training");
                await admitted(gate, high);

                setClock(FIRST);
                const outcome = mode === "suspend" ? "suspended" : "unreserved";
                assert.deepStrictEqual(
                    await gate.renew(),
                    new Map([
                        [`serving/${high.workload}`, "renewed"],
                        [`serving/${low.workload}`, outcome],
                    ]),
                );
                // The training one takes $4953.60 of $6000; the research one needs as much and $1046.40 is left.
                assert.strictEqual(kube.get("serving", high.workload)?.spec.active, undefined);
                assert.strictEqual(
                    kube.get("serving", low.workload)?.spec.active,
                    mode === "suspend" ? false : undefined,
                );
                const warning = kube.events.find((e) => e.type === "Warning")!;
                assert.strictEqual(warning.involvedObject.name, low.workload);
                assert.match(
                    warning.message,
                    mode === "suspend"
                        ? /^Stopped: its reservation for 2026-04 was refused \(it needs \$4953\.60 \(1 x nvidia\.com\/gpu on h100 for 720 h, to the end of the budget month\) and serving has \$1046\.40 left\)/
                        : /^Its reservation for 2026-04 was refused \(.*serving has \$1046\.40 left\); it keeps running without one \(breaker mode queue\)/,
                );
                assert.deepStrictEqual((await team("serving")).reservedUsd, 4953.6);

                // The next pass: in queue mode the refusal is replayed, not evented again; suspended ones are not running.
                assert.deepStrictEqual(
                    await gate.renew(),
                    mode === "suspend" ? new Map() : new Map([[`serving/${low.workload}`, "unreserved"]]),
                );
                assert.strictEqual(kube.events.filter((e) => e.type === "Warning").length, 1);
                assert.strictEqual(
                    (await requests("serving")).filter((r) => r.reservation === "active").length,
                    1,
                    "one live reservation: the renewal refused was not reserved",
                );
            });
        }
    });

    it("leader election: one of two replicas leads through the Lease; the other takes over once it lapses", async () => {
        let now = Date.parse("2026-03-10T12:00:00Z");
        const started: string[] = [];
        const stops = [new AbortController(), new AbortController()];
        const replica = (identity: string, i: number) =>
            runElection(
                {
                    kube: kubeApi(kube.kubeConfig()),
                    namespace: "budget-gate",
                    name: "budget-gate",
                    identity,
                    now: () => new Date(now),
                    leaseDurationSeconds: 15,
                    retrySeconds: 0.02,
                    onStarted: () => started.push(identity),
                    onStopped: () => started.push(`${identity} stopped`),
                },
                stops[i].signal,
            );
        const runs = [replica("gate-a", 0), replica("gate-b", 1)];
        await waitFor("a leader", () => (started.length > 0 ? true : undefined));
        await new Promise((resolve) => setTimeout(resolve, 200));
        assert.strictEqual(started.length, 1, `one leader: ${started.join(", ")}`);
        const leader = started[0];
        const [leaderIndex, otherIndex] = leader === "gate-a" ? [0, 1] : [1, 0];
        assert.strictEqual(kube.lease("budget-gate", "budget-gate")?.spec?.holderIdentity, leader);
        // The leader stops renewing; 16 s later (past the 15 s lease) the other takes over.
        stops[leaderIndex].abort();
        await runs[leaderIndex];
        now += 16_000;
        await waitFor("the takeover", () => (started.length === 2 ? true : undefined));
        const lease = kube.lease("budget-gate", "budget-gate");
        assert.deepStrictEqual(
            [lease?.spec?.holderIdentity, lease?.spec?.leaseTransitions],
            [otherIndex === 0 ? "gate-a" : "gate-b", 1],
        );
        stops[otherIndex].abort();
        await runs[otherIndex];
    });
});
