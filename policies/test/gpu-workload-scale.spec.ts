/**
 * GPU workloads at their most: every multiplier above a pod template counts (replicas, an
 * autoscaler's or KEDA's maximum, Job parallelism capped by completions, Kubeflow and Ray replica
 * specs), against the team's quota and in the stack's price. Prices are worked out by hand from
 * catalog/instances.ts (730 hours a month): the catalog's costliest GPU is p5.48xlarge's H100,
 * $55.04/h / 8 = $6.88/h; a MIG 3g.40gb slice is 3/7 of it, $2.948571/h.
 */
import * as assert from "assert";
import { gpuWorkloadTeamQuota } from "../gpu-team-quota";
import { priceResources } from "../pricing";
import { stackMonthlyBudget } from "../stack-budget";
import { KEDA_DEFAULT_MAX_REPLICAS, gpusAtMost, scaledWorkloads } from "../lib/workload-scale";
import { UNKNOWN as COMPUTED } from "../lib/values";
import { changed, resource, violationsOf } from "./support/check";
import type { PlanResource } from "../runner";

/** A computed value as the engine sends it to the runner, and as the runner hands it to the library. */
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const NS = "ml-research";

const podSpec = (gpus: number, resourceName = "nvidia.com/gpu") => ({
    containers: [{ name: "c", image: "i", resources: { limits: { [resourceName]: String(gpus) } } }],
});
const template = (gpus: number, resourceName?: string) => ({ spec: podSpec(gpus, resourceName) });
const meta = (name: string) => ({ name, namespace: NS });

const deployment = (replicas: number, gpus = 1) =>
    resource("kubernetes:apps/v1:Deployment", "web", {
        metadata: meta("web"),
        spec: { replicas, template: template(gpus) },
    });
const job = (spec: Record<string, unknown>) =>
    resource("kubernetes:batch/v1:Job", "train", { metadata: meta("train"), spec: { ...spec, template: template(2) } });
const hpa = (maxReplicas: unknown) =>
    resource("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "web-hpa", {
        metadata: meta("web-hpa"),
        spec: { scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "web" }, maxReplicas },
    });
const quota = (gpus: string, extra: Record<string, string> = {}) =>
    resource("kubernetes:core/v1:ResourceQuota", "q", {
        metadata: { name: "gpu", namespace: NS },
        spec: { hard: { "requests.nvidia.com/gpu": gpus, ...extra } },
    });

/** GPUs of each resource the stack's workloads hold at their most, summed; null when one has no bound. */
function held(resources: PlanResource[]): Record<string, number> | null {
    const total: Record<string, number> = {};
    for (const w of scaledWorkloads(resources.map((r) => ({ ...r, props: r.inputs })))) {
        const m = gpusAtMost(w);
        if (!m) return null;
        for (const [k, n] of m) total[k] = (total[k] ?? 0) + n;
    }
    return total;
}

function monthlyMax(resources: PlanResource[]): number {
    const items = priceResources(
        resources.map((r) => ({ urn: r.urn, type: r.type, name: r.name, parent: null, props: r.inputs })),
        "2026-12-07",
    );
    return Math.round(items.reduce((t, i) => t + i.monthlyMax, 0) * 100) / 100;
}

const quotaMessages = async (resources: PlanResource[], config: Record<string, unknown> = {}) =>
    (await violationsOf(gpuWorkloadTeamQuota, resources, config)).map((v) => v.message);

describe("policies: GPU workloads at their most", () => {
    describe("multipliers", () => {
        it("counts a Deployment's replicas times GPUs per pod: 3 × 2 = 6", () => {
            assert.deepStrictEqual(held([deployment(3, 2)]), { "nvidia.com/gpu": 6 });
        });

        it("takes a HorizontalPodAutoscaler's maxReplicas over the replicas it scales: 6 × 1", () => {
            assert.deepStrictEqual(held([deployment(2), hpa(6)]), { "nvidia.com/gpu": 6 });
            const other = changed(hpa(6), "inputs.spec.scaleTargetRef.name", "api");
            assert.deepStrictEqual(held([deployment(2), other]), { "nvidia.com/gpu": 2 }, "an HPA of another object");
        });

        it("takes a KEDA ScaledObject's maxReplicaCount, KEDA's default 100 when unset", () => {
            const scaled = (spec: Record<string, unknown>) =>
                resource("kubernetes:keda.sh/v1alpha1:ScaledObject", "so", {
                    metadata: meta("so"),
                    spec: { scaleTargetRef: { name: "web" }, ...spec },
                });
            assert.deepStrictEqual(held([deployment(1), scaled({ maxReplicaCount: 4 })]), { "nvidia.com/gpu": 4 });
            assert.deepStrictEqual(held([deployment(1), scaled({})]), { "nvidia.com/gpu": KEDA_DEFAULT_MAX_REPLICAS });
        });

        it("scales a Deployment at replicas 0 to its ScaledObject's maximum, and takes the larger of two autoscalers", () => {
            const scaled = resource("kubernetes:keda.sh/v1alpha1:ScaledObject", "so", {
                metadata: meta("so"),
                spec: { scaleTargetRef: { name: "web" }, minReplicaCount: 0, maxReplicaCount: 4 },
            });
            assert.deepStrictEqual(held([deployment(0, 2), scaled]), { "nvidia.com/gpu": 8 }, "4 × 2");
            assert.deepStrictEqual(held([deployment(0, 2), scaled, hpa(6)]), { "nvidia.com/gpu": 12 }, "6 × 2");
        });

        it("finds no bound when an autoscaler's maximum is computed, and applies one whose target is computed to every Deployment there", () => {
            assert.strictEqual(held([deployment(2), hpa(COMPUTED)]), null);
            const anyTarget = changed(hpa(5), "inputs.spec.scaleTargetRef.name", COMPUTED);
            assert.deepStrictEqual(held([deployment(2), anyTarget]), { "nvidia.com/gpu": 5 });
        });

        it("counts a Job's parallelism, capped by completions: min(4, 3) × 2 = 6; parallelism 4 alone: 8", () => {
            assert.deepStrictEqual(held([job({ parallelism: 4, completions: 3 })]), { "nvidia.com/gpu": 6 });
            assert.deepStrictEqual(held([job({ parallelism: 4 })]), { "nvidia.com/gpu": 8 });
        });

        it("counts a KEDA ScaledJob's jobs at once times each job's parallelism: 5 × 2 × 1 = 10", () => {
            const scaledJob = resource("kubernetes:keda.sh/v1alpha1:ScaledJob", "sj", {
                metadata: meta("sj"),
                spec: { maxReplicaCount: 5, jobTargetRef: { parallelism: 2, template: template(1) } },
            });
            assert.deepStrictEqual(held([scaledJob]), { "nvidia.com/gpu": 10 });
        });

        it("adds a PyTorchJob's replica specs, workers at elasticPolicy.maxReplicas: 1 × 8 + 5 × 8 = 48", () => {
            const pytorch = resource("kubernetes:kubeflow.org/v1:PyTorchJob", "pt", {
                metadata: meta("pt"),
                spec: {
                    elasticPolicy: { minReplicas: 1, maxReplicas: 5 },
                    pytorchReplicaSpecs: {
                        Master: { replicas: 1, template: template(8) },
                        Worker: { replicas: 3, template: template(8) },
                    },
                },
            });
            assert.deepStrictEqual(held([pytorch]), { "nvidia.com/gpu": 48 });
        });

        it("counts a RayCluster's worker groups at maxReplicas × numOfHosts: 4 × 2 × 1 = 8", () => {
            const ray = resource("kubernetes:ray.io/v1:RayCluster", "ray", {
                metadata: meta("ray"),
                spec: {
                    headGroupSpec: { template: { spec: podSpec(0) } },
                    workerGroupSpecs: [
                        { replicas: 1, minReplicas: 1, maxReplicas: 4, numOfHosts: 2, template: template(1) },
                    ],
                },
            });
            assert.deepStrictEqual(held([ray]), { "nvidia.com/gpu": 8 });
        });

        it("counts a LeaderWorkerSet's groups: replicas 3 × size 4 with one template is 12 pods; with a leader template, 3 × (4 − 1) workers", () => {
            const lws = (leaderWorkerTemplate: Record<string, unknown>) =>
                resource("kubernetes:leaderworkerset.x-k8s.io/v1:LeaderWorkerSet", "lws", {
                    metadata: meta("lws"),
                    spec: { replicas: 3, leaderWorkerTemplate: { size: 4, ...leaderWorkerTemplate } },
                });
            assert.deepStrictEqual(held([lws({ workerTemplate: template(1) })]), { "nvidia.com/gpu": 12 });
            // 3 leaders × 0 GPUs + 3 × 3 workers × 2 GPUs = 18
            const split = lws({ leaderTemplate: { spec: podSpec(0) }, workerTemplate: template(2) });
            assert.deepStrictEqual(held([split]), { "nvidia.com/gpu": 18 });
        });

        it("finds no bound for a DaemonSet, an overlapping CronJob or a computed count", () => {
            const daemons = resource("kubernetes:apps/v1:DaemonSet", "d", {
                metadata: meta("d"),
                spec: { template: template(1) },
            });
            const cron = (concurrencyPolicy?: string) =>
                resource("kubernetes:batch/v1:CronJob", "c", {
                    metadata: meta("c"),
                    spec: { schedule: "@hourly", concurrencyPolicy, jobTemplate: { spec: { template: template(1) } } },
                });
            assert.strictEqual(held([daemons]), null);
            assert.strictEqual(held([cron()]), null);
            assert.deepStrictEqual(held([cron("Forbid")]), { "nvidia.com/gpu": 1 });
            assert.strictEqual(held([deployment(COMPUTED as unknown as number)]), null);
        });
    });

    describe("gpu-workload-team-quota", () => {
        it("passes workloads within the namespace's ResourceQuota: 6 + 2 = 8 of 8", async () => {
            assert.deepStrictEqual(
                await quotaMessages([quota("8"), deployment(2), hpa(6), job({ parallelism: 1 })]),
                [],
            );
        });

        it("refuses the same stack once the autoscaler may go past it: 7 + 2 = 9 of 8, naming each workload", async () => {
            const [message, ...rest] = await quotaMessages([
                quota("8"),
                deployment(2),
                hpa(7),
                job({ parallelism: 1 }),
            ]);
            assert.deepStrictEqual(rest, []);
            assert.match(message, /^team namespace "ml-research" asks for up to 9 nvidia\.com\/gpu at once/);
            assert.match(
                message,
                /Deployment "web" 7 pods \(replicas 2 × HorizontalPodAutoscaler "web-hpa" maxReplicas 7\) × 1/,
            );
            assert.match(message, /above its quota of 8 \(the stack's ResourceQuota "q"\)/);
        });

        it("takes teamGpuQuotas from the policy config, each resource apart: a MIG slice not listed is 0", async () => {
            const config = { teamGpuQuotas: { [NS]: { "nvidia.com/gpu": 6 } } };
            assert.deepStrictEqual(await quotaMessages([deployment(3, 2)], config), []);
            const mig = resource("kubernetes:batch/v1:Job", "mig", {
                metadata: meta("mig"),
                spec: { template: template(1, "nvidia.com/mig-3g.40gb") },
            });
            const [message] = await quotaMessages([deployment(3, 2), mig], config);
            assert.match(message, /asks for up to 1 nvidia\.com\/mig-3g\.40gb at once .* above its quota of 0/);
        });

        it("refuses a workload with no bound in a team namespace, and leaves namespaces without a quota alone", async () => {
            const [message] = await quotaMessages([quota("8"), deployment(UNKNOWN as unknown as number)]);
            assert.match(
                message,
                /^Deployment "web" in team namespace "ml-research" asks for GPUs with no bound .*replicas is computed/,
            );
            const elsewhere = changed(deployment(50), "inputs.metadata.namespace", "sandbox");
            assert.deepStrictEqual(await quotaMessages([quota("8"), elsewhere]), []);
        });

        it("reads workloads and quotas inside a yaml/v2 ConfigGroup", async () => {
            const group = resource("kubernetes:yaml/v2:ConfigGroup", "team", {
                objs: [
                    {
                        apiVersion: "v1",
                        kind: "ResourceQuota",
                        metadata: { name: "q", namespace: NS },
                        spec: { hard: { "requests.nvidia.com/gpu": "4" } },
                    },
                    {
                        apiVersion: "batch/v1",
                        kind: "Job",
                        metadata: meta("big"),
                        spec: { parallelism: 3, template: template(2) },
                    },
                ],
            });
            const [message] = await quotaMessages([group]);
            assert.match(message, /asks for up to 6 nvidia\.com\/gpu at once/);
        });
    });

    describe("priced into the stack budget", () => {
        it("prices a team stack's GPU pods at their most: 6 GPUs × $6.88 × 730 = $30,134.40", () => {
            assert.strictEqual(monthlyMax([deployment(2), hpa(6)]), 30134.4);
        });

        it("prices a MIG slice at its compute share: 7 slices × $2.948571 × 730 = $15,067.20", () => {
            const mig = resource("kubernetes:batch/v1:Job", "mig", {
                metadata: meta("mig"),
                spec: { parallelism: 7, template: template(1, "nvidia.com/mig-3g.40gb") },
            });
            assert.strictEqual(monthlyMax([mig]), 15067.2);
        });

        it("leaves pods within GPU capacity the stack launches unpriced twice, and prices what goes past it", () => {
            // One p5.48xlarge node (8 H100): $55.04 × 730 = $40,179.20, and its 20 GiB gp3 root volume (EKS's default)
            // at $0.08/GB-month = $1.60. 8 pods of 1 GPU fit on it; 10 put 2 past it: + 2 × $6.88 × 730 = $10,044.80.
            const group = resource("aws:eks/nodeGroup:NodeGroup", "gpu", {
                instanceTypes: ["p5.48xlarge"],
                amiType: "AL2023_x86_64_NVIDIA",
                scalingConfig: { minSize: 0, maxSize: 1, desiredSize: 0 },
            });
            assert.strictEqual(monthlyMax([group, deployment(8)]), 40180.8);
            assert.strictEqual(monthlyMax([group, deployment(10)]), 50225.6);
        });

        it("gives the stack's GPU capacity to its workloads in urn order, whatever order they registered in", () => {
            // One p5.48xlarge node (8 H100s) and two Deployments of 6 one-GPU pods: 12 pods, 4 past the node.
            // In urn order "a" comes first: its 6 fit ($0), and 4 of "b"'s go past: 4 × $6.88 × 730 = $20,089.60.
            const group = resource("aws:eks/nodeGroup:NodeGroup", "gpu", {
                instanceTypes: ["p5.48xlarge"],
                amiType: "AL2023_x86_64_NVIDIA",
                scalingConfig: { minSize: 0, maxSize: 1, desiredSize: 0 },
            });
            const named = (name: string) =>
                resource("kubernetes:apps/v1:Deployment", name, {
                    metadata: meta(name),
                    spec: { replicas: 6, template: template(1) },
                });
            const workloadPrices = (resources: PlanResource[]) =>
                Object.fromEntries(
                    priceResources(
                        resources.map((r) => ({
                            urn: r.urn,
                            type: r.type,
                            name: r.name,
                            parent: null,
                            props: r.inputs,
                        })),
                        "2026-12-07",
                    )
                        .filter((i) => i.urn.endsWith("::a") || i.urn.endsWith("::b"))
                        .map((i) => [i.urn.slice(-1), i.monthlyMax]),
                );
            const [a, b] = [named("a"), named("b")];
            assert.deepStrictEqual(workloadPrices([group, a, b]), { a: 0, b: 20089.6 });
            assert.deepStrictEqual(workloadPrices([group, b, a]), { a: 0, b: 20089.6 });
        });

        it("has the budget refuse a team stack whose GPU pods have no bound, and pass a bounded one under it", async () => {
            const budget = { monthlyBudgetUsd: 10000 };
            const unbounded = resource("kubernetes:apps/v1:DaemonSet", "d", {
                metadata: meta("d"),
                spec: { template: template(1) },
            });
            const [message] = (await violationsOf(stackMonthlyBudget, [unbounded], budget)).map((v) => v.message);
            assert.match(message, /DaemonSet "d": GPU pods without a bound \(a DaemonSet runs one pod on every node\)/);
            // 1 GPU × $6.88 × 730 = $5,022.40, under $10,000; 2 GPUs = $10,044.80, over it.
            assert.deepStrictEqual(await violationsOf(stackMonthlyBudget, [deployment(1)], budget), []);
            assert.strictEqual((await violationsOf(stackMonthlyBudget, [deployment(2)], budget)).length, 1);
        });
    });
});
