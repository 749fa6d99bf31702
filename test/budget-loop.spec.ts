/**
 * The budget loop end to end, on loopback: a GPU template of backstage/templates run through the
 * scaffolder's own workflow runner with the portal's real actions (./scaffolder.ts) reserves with
 * the cost tracker through the portal's credential; the Job it renders into the pull request is
 * what Argo CD applies, and Kueue's Job integration makes its Workload (the test plays the API
 * server and Kueue with services/budget-gate/test's fake Kubernetes API and Kueue double); the
 * real budget gate, with the platform's credential, adopts the template's reservation (never
 * reserving twice); usage arrives and replaces the reservation as it accrues; the Job finishes
 * and the gate releases what is left. The team's figures at each step are worked by hand.
 *
 * Prices from catalog/instances.ts: a p5.48xlarge is $55.04/h for 8 H100, $6.88 per GPU-hour.
 */
import * as assert from "assert";
import * as path from "path";
import type { AddressInfo } from "net";
import type { FastifyInstance } from "fastify";
import { parseAllDocuments } from "yaml";
import { REPO_ROOT } from "./harness";
import { catalogTeamGroups, runTemplate } from "./scaffolder";
import { DEFAULT_WORKLOAD_CLASSES } from "@gpu-platform/catalog";
import { GITOPS_APPS_PATH } from "@gpu-platform/catalog/gitops";
import { buildCostTrackerConfig } from "@gpu-platform/catalog/contracts";
import { buildBudgetGateConfig } from "@gpu-platform/catalog/contracts";
import type { Database } from "@gpu-platform/cost-tracker/src/db/database";
import { TOKEN, clock, resetDatabase, testApp, testDatabase } from "@gpu-platform/cost-tracker/test/helpers";
import { type RunningGate, startGate } from "@gpu-platform/budget-gate/src/gate";
import { kubeApi } from "@gpu-platform/budget-gate/src/kube";
import { createMetrics } from "@gpu-platform/budget-gate/src/metrics";
import { trackerClient } from "@gpu-platform/budget-gate/src/tracker";
import { GATE_FINALIZER, type Workload } from "@gpu-platform/budget-gate/src/workload";
import { FakeKubeApi } from "@gpu-platform/budget-gate/test/fake-kube-api";
import {
    type JobManifest,
    allowedByGateRbac,
    reserveQuota,
    schemaErrors,
    waitFor,
    withCondition,
    workloadForJob,
} from "@gpu-platform/budget-gate/test/kueue-double";
import { TRAINING_FORM } from "./training-form";

const PORTAL_TOKEN = "portal-token-0123456789abcdef";
const PLATFORM_TOKEN = "platform-token-0123456789abcdef";
const TEAM = "ml-research";
const GATE_NAMESPACE = "budget-gate";
/** The UID the API server gives the Job when Argo CD applies it. */
const JOB_UID = "3f6c1d2e-8a4b-4c7d-9e0f-1a2b3c4d5e6f";

const trackerConfig = buildCostTrackerConfig({
    teams: [
        { name: TEAM, costCenter: "CC-1001", monthlyBudgetUsd: 1000 },
        { name: "inference", costCenter: "CC-1003", monthlyBudgetUsd: 500 },
    ],
    nodePools: [{ name: "h100", instanceType: "p5.48xlarge", maxSize: 4, gpuSharing: { mode: "exclusive" } }],
    priorityClasses: DEFAULT_WORKLOAD_CLASSES,
});
const gateConfig = buildBudgetGateConfig({
    tracker: trackerConfig,
    classes: DEFAULT_WORKLOAD_CLASSES,
    admissionCheck: "budget",
    namespace: GATE_NAMESPACE,
    breakerMode: "suspend",
    breakerIntervalSeconds: 3600,
});

interface Figures {
    monthToDateUsd: number;
    reservedUsd: number;
    remainingUsd: number;
}
interface RequestRow {
    id: string;
    status: string;
    reservation: string | null;
    estimatedCostUsd: number;
    consumedUsd: number;
    requester: string;
    workload: { namespace: string; kind: string; name: string; uid?: string } | null;
}

describe("the budget loop end to end: template -> Argo CD -> Kueue -> budget gate -> usage -> release", function () {
    this.timeout(60_000);
    let db: Database;
    let app: FastifyInstance;
    let kube: FakeKubeApi;
    let gate: RunningGate | undefined;
    const time = clock("2026-03-10T12:00:00Z");

    const figures = async (): Promise<Figures> => {
        const teams = (await app.inject({ method: "GET", url: "/v1/teams" })).json<(Figures & { name: string })[]>();
        const { monthToDateUsd, reservedUsd, remainingUsd } = teams.find((t) => t.name === TEAM)!;
        return { monthToDateUsd, reservedUsd, remainingUsd };
    };
    const requests = async () =>
        (await app.inject({ method: "GET", url: `/v1/gpu-requests?team=${TEAM}` })).json<RequestRow[]>();
    const pushUsage = async (key: string, amountUsd: number, occurredAt: string) => {
        const answer = await app.inject({
            method: "POST",
            url: "/v1/usage",
            headers: { authorization: `Bearer ${TOKEN}`, "idempotency-key": key },
            payload: {
                source: "gpu-allocation",
                records: [
                    {
                        team: TEAM,
                        category: "gpu",
                        amountUsd,
                        occurredAt,
                        pool: "h100",
                        workload: { namespace: TEAM, kind: "Job", name: TRAINING_FORM.name },
                    },
                ],
            },
        });
        assert.strictEqual(answer.statusCode, 201, answer.body);
    };

    before(async () => {
        db = await testDatabase();
    });

    beforeEach(async () => {
        time.set("2026-03-10T12:00:00Z");
        await resetDatabase(db, trackerConfig);
        app = await testApp(db, {
            config: trackerConfig,
            now: time.now,
            credentials: [
                { kind: "portal", tokens: [PORTAL_TOKEN] },
                { kind: "platform", tokens: [PLATFORM_TOKEN] },
            ],
        });
        await app.listen({ host: "127.0.0.1", port: 0 });
        kube = await new FakeKubeApi().start();
    });

    afterEach(async () => {
        await gate?.stop();
        gate = undefined;
        await kube.close();
        await app.close();
        assert.deepStrictEqual(kube.unexpected, [], "the gate used only the API subset the fake serves");
        assert.deepStrictEqual(
            kube.requests.filter((r) => !allowedByGateRbac(r, gateConfig.teams, GATE_NAMESPACE)),
            [],
            "every request the gate sent is allowed by the BudgetGate component's RBAC",
        );
    });

    /** Runs the training template as ada; returns the approval's outputs and the Job its pull request adds. */
    async function runTrainingTemplate(): Promise<{ approval: Record<string, any>; job: JobManifest }> {
        const { port } = app.server.address() as AddressInfo;
        const run = await runTemplate(path.join(REPO_ROOT, "backstage", "templates", "gpu-training-job.yaml"), {
            parameters: TRAINING_FORM,
            environment: {
                gitopsRepoUrl: "github.com?owner=acme&repo=gpu-gitops",
                argocdUrl: "https://argocd.acme.internal",
                mlflowUrl: "https://mlflow.acme.internal",
            },
            userRef: "user:default/ada",
            taskId: "0c9e4a52-5b7d-4f0e-8a61-3d2f1b0c9e8d",
            costTracker: {
                baseUrl: `http://127.0.0.1:${port}`,
                portalToken: PORTAL_TOKEN,
                groups: catalogTeamGroups([{ name: TEAM, members: ["ada"] }]),
            },
        });
        assert.strictEqual(run.error, undefined, run.log.join("\n"));
        const file = run.pullRequestFiles[`${GITOPS_APPS_PATH}/${TEAM}/${TRAINING_FORM.name}/workload.yaml`];
        const job = parseAllDocuments(file)
            .map((d) => d.toJSON())
            .find((o) => o.kind === "Job") as JobManifest;
        const approval = run.calls.find((c) => c.step === "requestGpus")!.output;
        return { approval, job };
    }

    async function startTheGate(): Promise<void> {
        const { port } = app.server.address() as AddressInfo;
        gate = startGate({
            kube: kubeApi(kube.kubeConfig()),
            tracker: trackerClient({ url: `http://127.0.0.1:${port}`, token: () => Promise.resolve(PLATFORM_TOKEN) }),
            config: gateConfig,
            metrics: createMetrics(false),
            now: time.now,
            log: () => undefined,
            eventWaitSeconds: 1,
        });
        await gate.synced;
    }

    const budgetCheck = (name: string) =>
        kube.get(TEAM, name)?.status?.admissionChecks?.find((c) => c.name === "budget");

    it("the gate adopts the template's reservation, usage replaces it as it accrues, and the finished Job releases the rest", async () => {
        // 1. The template asks the cost tracker first: 8 GPUs x 6 h x $6.88 = $330.24; $1000 - $330.24 = $669.76 left.
        const { approval, job } = await runTrainingTemplate();
        assert.deepStrictEqual(
            [approval.status, approval.estimatedCostUsd, approval.remainingUsd],
            ["approved", 330.24, 669.76],
        );
        assert.deepStrictEqual(await figures(), { monthToDateUsd: 0, reservedUsd: 330.24, remainingUsd: 669.76 });

        // 2. The pull request is merged; Argo CD applies the Job; Kueue makes its Workload and reserves quota.
        time.set("2026-03-10T12:20:00Z");
        const workload: Workload = workloadForJob(job, JOB_UID, DEFAULT_WORKLOAD_CLASSES);
        // The Job's runtime label reaches the Workload: 6 h = 21,600 s, the hours the template approved.
        assert.strictEqual(workload.spec.maximumExecutionTimeSeconds, 21_600);
        const pending = reserveQuota(workload, TEAM, "h100", "2026-03-10T12:20:00Z");
        assert.deepStrictEqual(schemaErrors(pending), []);
        await startTheGate();
        kube.put(pending);

        // 3. The gate prices the same $330.24 and adopts the template's reservation: one reservation, bound to the Job's UID.
        const answer = await waitFor("the budget check's answer", () => {
            const c = budgetCheck(workload.metadata.name);
            return c && c.state !== "Pending" ? c : undefined;
        });
        assert.strictEqual(answer.state, "Ready", answer.message);
        assert.match(
            answer.message,
            new RegExp(
                `^Reserved \\$330\\.24 .*reservation ${approval.reservationId} \\(the reservation made for it earlier, adopted\\)`,
            ),
        );
        const [held, ...others] = await requests();
        assert.deepStrictEqual(others, [], "no second reservation");
        assert.deepStrictEqual(
            [held.id, held.status, held.reservation, held.estimatedCostUsd, held.requester, held.workload],
            [
                approval.reservationId,
                "approved",
                "active",
                330.24,
                "user:default/ada via portal",
                { namespace: TEAM, kind: "Job", name: TRAINING_FORM.name, uid: JOB_UID },
            ],
        );
        assert.deepStrictEqual(await figures(), { monthToDateUsd: 0, reservedUsd: 330.24, remainingUsd: 669.76 });
        assert.deepStrictEqual(kube.get(TEAM, workload.metadata.name)?.metadata.finalizers, [GATE_FINALIZER]);

        // 4. Kueue admits it; two hours of 8 GPUs are observed: 2 x 8 x $6.88 = $110.08 spent, which replaces as much
        //    of the reservation: $330.24 - $110.08 = $220.16 held; $1000 - $110.08 - $220.16 = $669.76 left, unchanged.
        kube.update(TEAM, workload.metadata.name, (w) =>
            withCondition(w, "Admitted", "Admitted", "2026-03-10T12:21:00Z"),
        );
        time.set("2026-03-10T14:30:00Z");
        await pushUsage("gpu-allocation-1", 110.08, "2026-03-10T14:21:00Z");
        assert.deepStrictEqual(await figures(), { monthToDateUsd: 110.08, reservedUsd: 220.16, remainingUsd: 669.76 });
        assert.strictEqual((await requests())[0].consumedUsd, 110.08);

        // 5. The Job succeeds after 3.5 h: the day's total is 3.5 x 8 x $6.88 = $192.64 (a push replaces its day's figure).
        time.set("2026-03-10T16:00:00Z");
        await pushUsage("gpu-allocation-2", 192.64, "2026-03-10T15:51:00Z");
        // $330.24 - $192.64 = $137.60 still held until the gate releases it; $1000 - $192.64 - $137.60 = $669.76.
        assert.deepStrictEqual(await figures(), { monthToDateUsd: 192.64, reservedUsd: 137.6, remainingUsd: 669.76 });
        kube.update(TEAM, workload.metadata.name, (w) =>
            withCondition(w, "Finished", "Succeeded", "2026-03-10T15:51:00Z"),
        );
        await waitFor("the finished workload let go", () =>
            kube.get(TEAM, workload.metadata.name)?.metadata.finalizers?.length === 0 ? true : undefined,
        );

        // 6. Released: nothing held; $1000 - $192.64 = $807.36 left.
        const [released] = await requests();
        assert.deepStrictEqual([released.reservation, released.consumedUsd], ["released", 192.64]);
        assert.deepStrictEqual(await figures(), { monthToDateUsd: 192.64, reservedUsd: 0, remainingUsd: 807.36 });
    });

    it("a template reservation that lapsed before Argo CD synced: the gate reserves anew, once, and the lapsed one stays lapsed", async () => {
        const { approval, job } = await runTrainingTemplate();
        // It expires 6 h + the 2 h grace after 12:00, at 20:00; the merge waited until the next morning.
        assert.strictEqual(approval.expiresAt, "2026-03-10T20:00:00.000Z");
        time.set("2026-03-11T09:00:00Z");
        assert.deepStrictEqual(await figures(), { monthToDateUsd: 0, reservedUsd: 0, remainingUsd: 1000 });
        const workload = workloadForJob(job, JOB_UID, DEFAULT_WORKLOAD_CLASSES);
        await startTheGate();
        kube.put(reserveQuota(workload, TEAM, "h100", "2026-03-11T09:00:00Z"));
        const answer = await waitFor("the budget check's answer", () => {
            const c = budgetCheck(workload.metadata.name);
            return c && c.state !== "Pending" ? c : undefined;
        });
        // A new reservation of the same $330.24: $669.76 left.
        assert.strictEqual(answer.state, "Ready", answer.message);
        const all = await requests();
        assert.deepStrictEqual(
            all.map((r) => [
                r.id === approval.reservationId ? "template" : "gate",
                r.reservation,
                r.workload?.uid ?? null,
            ]),
            [
                ["gate", "active", JOB_UID],
                ["template", "expired", null],
            ],
        );
        assert.deepStrictEqual(await figures(), { monthToDateUsd: 0, reservedUsd: 330.24, remainingUsd: 669.76 });
    });
});
