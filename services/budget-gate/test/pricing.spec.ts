/**
 * The gate prices a Kueue Workload as the cost tracker prices a request: units × the unit's
 * hourly price × hours. Expected figures are computed by hand from the catalog's on-demand
 * prices (us-east-1): p5.48xlarge $55.04/h for 8 H100 (so $6.88 per GPU-hour), p4de.24xlarge
 * $27.44705/h for 8 A100 80 GB, p4d.24xlarge $21.957642/h for 8 A100 40 GB.
 */
import * as assert from "assert";
import { buildBudgetGateConfig } from "@gpu-platform/catalog/contracts";
import { buildCostTrackerConfig } from "@gpu-platform/catalog/contracts";
import { nextMonthStart, priceWorkload } from "../src/pricing";
import type { Workload } from "../src/workload";

const tracker = buildCostTrackerConfig({
    teams: [{ name: "ml-research", costCenter: "CC-1001", monthlyBudgetUsd: 1000 }],
    nodePools: [
        { name: "h100", instanceType: "p5.48xlarge", maxSize: 4, gpuSharing: { mode: "exclusive" } },
        {
            name: "a100-mig",
            instanceType: "p4de.24xlarge",
            maxSize: 2,
            gpuSharing: { mode: "mig", layout: { "3g.40gb": 1, "2g.20gb": 1, "1g.10gb": 2 } },
        },
        {
            name: "a100-shared",
            instanceType: "p4d.24xlarge",
            maxSize: 2,
            gpuSharing: { mode: "time-slicing", replicas: 3 },
        },
    ],
});
const config = buildBudgetGateConfig({
    tracker,
    classes: [
        { name: "production-inference", value: 1000 },
        { name: "training", value: 500 },
        { name: "research", value: 100 },
    ],
    admissionCheck: "budget",
    namespace: "budget-gate",
    defaultRunHours: { training: 12 },
});
const NOW = new Date("2026-03-10T12:00:00Z");
const JOB = { namespace: "ml-research", kind: "Job", name: "train", uid: "job-uid" };

function workload(
    usage: Record<string, string>,
    flavor: string,
    extra: { maxSeconds?: number; className?: string; restartPolicy?: string } = {},
): Workload {
    return {
        apiVersion: "kueue.x-k8s.io/v1beta2",
        kind: "Workload",
        metadata: { name: "job-train-1a2b3", namespace: "ml-research", uid: "wl-uid" },
        spec: {
            podSets: [
                {
                    name: "main",
                    count: 2,
                    template: {
                        spec: {
                            priorityClassName: extra.className ?? "training",
                            restartPolicy: extra.restartPolicy ?? "Never",
                            containers: [],
                        },
                    },
                },
            ],
            ...(extra.maxSeconds ? { maximumExecutionTimeSeconds: extra.maxSeconds } : {}),
        },
        status: {
            admission: {
                clusterQueue: "ml-research",
                podSetAssignments: [
                    {
                        name: "main",
                        count: 2,
                        flavors: { cpu: "any-node", ...Object.fromEntries(Object.keys(usage).map((r) => [r, flavor])) },
                        resourceUsage: { cpu: "16", ...usage },
                    },
                ],
            },
        },
    };
}

describe("budget gate pricing", () => {
    it("whole GPUs for the maximum execution time: 2 pods x 8 H100 for 3 h = 16 x $6.88 x 3 = $330.24", () => {
        const p = priceWorkload(workload({ "nvidia.com/gpu": "16" }, "h100", { maxSeconds: 10_800 }), JOB, config, NOW);
        assert.deepStrictEqual(p.kind === "priced" && [p.units, p.hours, p.estimatedCostUsd, p.openEnded], [
            16,
            3,
            330.24,
            false,
        ]);
    });

    it("without one, the class's default run time from the stack: 16 H100 x 12 h = 16 x $82.56 = $1320.96", () => {
        const p = priceWorkload(workload({ "nvidia.com/gpu": "16" }, "h100"), JOB, config, NOW);
        assert.deepStrictEqual(p.kind === "priced" && [p.hours, p.estimatedCostUsd], [12, 1320.96]);
    });

    it("a MIG slice at its compute fraction: 3g.40gb is 3/7 of a $3.43088125 A100-hour; 2 slices for 10 h = $29.41", () => {
        // 27.44705 / 8 = 3.43088125 per GPU-hour; x 3/7 = 1.470377679 per slice-hour; x 2 x 10 = 29.4075 -> $29.41.
        const p = priceWorkload(
            workload({ "nvidia.com/mig-3g.40gb": "2" }, "a100-mig", { maxSeconds: 36_000 }),
            JOB,
            config,
            NOW,
        );
        assert.strictEqual(p.kind === "priced" && p.estimatedCostUsd, 29.41);
    });

    it("a time-sliced share at 1/replicas of a GPU: 1/3 of $2.74470525 for 24 h (research's default) = $21.96", () => {
        // 21.957642 / 8 = 2.74470525 per GPU-hour; / 3 = 0.91490175 per share-hour; x 24 = 21.9576 -> $21.96.
        const p = priceWorkload(
            workload({ "nvidia.com/gpu.shared": "1" }, "a100-shared", { className: "research" }),
            JOB,
            config,
            NOW,
        );
        assert.strictEqual(p.kind === "priced" && p.estimatedCostUsd, 21.96);
    });

    it("a Deployment reserves to the end of the budget month: 10 March 12:00 to 1 April is 21.5 days = 516 h", () => {
        const p = priceWorkload(
            workload({ "nvidia.com/gpu": "1" }, "h100", { className: "production-inference", restartPolicy: "Always" }),
            { ...JOB, kind: "Deployment", name: "llm" },
            config,
            NOW,
        );
        // 516 h x $6.88 = $3550.08
        assert.deepStrictEqual(p.kind === "priced" && [p.hours, p.openEnded, p.estimatedCostUsd, p.critical], [
            516,
            true,
            3550.08,
            true,
        ]);
        assert.strictEqual(nextMonthStart(new Date("2026-12-31T23:00:00Z")).toISOString(), "2027-01-01T00:00:00.000Z");
    });

    it("no GPU is free; two GPU kinds, an unknown class or a flavor that is no pool cannot be priced, and say why", () => {
        assert.deepStrictEqual(priceWorkload(workload({}, "h100"), JOB, config, NOW), { kind: "free" });
        const two = workload({ "nvidia.com/gpu": "1" }, "h100");
        (two.status!.admission!.podSetAssignments as any[]).push({
            name: "w",
            flavors: { "nvidia.com/gpu.shared": "a100-shared" },
            resourceUsage: { "nvidia.com/gpu.shared": "1" },
        });
        const messages = [
            priceWorkload(two, JOB, config, NOW),
            priceWorkload(workload({ "nvidia.com/gpu": "1" }, "h100", { className: "vip" }), JOB, config, NOW),
            priceWorkload(workload({ "nvidia.com/gpu": "1" }, "any-node"), JOB, config, NOW),
        ].map((p) => (p.kind === "unpriceable" ? p.message : p.kind));
        assert.deepStrictEqual(messages, [
            "uses nvidia.com/gpu on h100 and nvidia.com/gpu.shared on a100-shared; the budget gate reserves one GPU resource per workload: split it into one workload per GPU kind",
            'names priority class "vip"; set priorityClassName to one of production-inference, training, research',
            'Kueue assigned nvidia.com/gpu from flavor "any-node", which is no GPU pool offering it',
        ]);
    });
});
