/**
 * Kueue's objects for the platform, held against Kueue's own CRD schemas (v0.19.2, fixtures),
 * the quotas they carry, and the admission rule set that refuses GPU pods Kueue does not hold,
 * evaluated as the API server would with a CEL interpreter.
 */
import * as assert from "assert";
import { isCelError, run } from "@bufbuild/cel";
import { DEFAULT_WORKLOAD_CLASSES } from "@gpu-platform/catalog";
import {
    KUBERNETES_JOB_CONTROLLERS,
    kueueManagedGpuPods,
    type AdmissionRuleSet,
} from "@gpu-platform/catalog/admission";
import {
    KUEUE_CONTROLLER,
    budgetAdmissionCheck,
    clusterQueue,
    kueueManagerConfig,
    kueueQueuesArgsProblems,
    localQueue,
    resourceFlavors,
    workloadPriorityClasses,
    type KueueObject,
    type KueuePool,
} from "../components/scheduling";
import { kueueSchemaErrors } from "@gpu-platform/kueue-schemas";

const schemaErrors = (object: KueueObject) => kueueSchemaErrors(object);

// The prod stack's GPU pools, as a node of each advertises (catalog: p5.48xlarge 8 H100; p4de 8 A100 80 GB cut
// 3g.40gb + 2g.20gb + 2 × 1g.10gb per GPU; p4d 8 A100 40 GB time-sliced 3 ways).
const POOLS: KueuePool[] = [
    { name: "h100", nodeResources: { "nvidia.com/gpu": 8 } },
    {
        name: "a100-mig",
        nodeResources: { "nvidia.com/mig-3g.40gb": 8, "nvidia.com/mig-2g.20gb": 8, "nvidia.com/mig-1g.10gb": 16 },
    },
    { name: "a100-shared", nodeResources: { "nvidia.com/gpu.shared": 24 } },
];

describe("Kueue objects", () => {
    const team = {
        name: "ml-research",
        quota: { cpu: "96", memory: "768Gi", gpus: 16 },
        queue: { lendingLimitPercent: 50 },
    };
    const objects: KueueObject[] = [
        ...resourceFlavors(POOLS),
        ...workloadPriorityClasses(DEFAULT_WORKLOAD_CLASSES),
        budgetAdmissionCheck("budget", "gpu-platform.io/budget-gate"),
        clusterQueue(team, POOLS, "budget"),
        clusterQueue({ name: "applied-ml", queue: { borrowingLimitPercent: 0 } }, POOLS, "budget"),
        localQueue("ml-research"),
    ];

    it("every object the program creates is valid against Kueue v0.19.2's own schema", () => {
        for (const object of objects)
            assert.deepStrictEqual(schemaErrors(object), [], `${object.kind} ${object.metadata.name}`);
    });

    it("the schemas notice a mistake: a quota that is no quantity, a flavor with more than 8 node labels", () => {
        const queue = clusterQueue(team, POOLS, "budget");
        const groups = (queue.spec as any).resourceGroups;
        const broken = {
            ...queue,
            spec: {
                ...queue.spec,
                resourceGroups: [
                    {
                        ...groups[0],
                        flavors: [
                            {
                                name: "any-node",
                                resources: [
                                    { name: "cpu", nominalQuota: "lots" },
                                    { name: "memory", nominalQuota: "1Gi" },
                                ],
                            },
                        ],
                    },
                ],
            },
        };
        assert.ok(
            schemaErrors(broken).some((e) => e.includes("nominalQuota")),
            schemaErrors(broken).join("; "),
        );
        const labels = Object.fromEntries([...Array(9).keys()].map((i) => [`l${i}`, "v"]));
        assert.ok(
            schemaErrors({ ...resourceFlavors(POOLS)[1], spec: { nodeLabels: labels } }).some((e) =>
                e.includes("nodeLabels"),
            ),
        );
    });

    it("a team's ClusterQueue carries its ResourceQuota's figures: CPU in millicores, memory in MiB, GPUs in the pools that offer them", () => {
        const spec = clusterQueue(team, POOLS, "budget").spec as any;
        assert.strictEqual(spec.cohortName, "gpu-platform");
        assert.deepStrictEqual(spec.admissionChecksStrategy, { admissionChecks: [{ name: "budget" }] });
        // 96 CPUs = 96000m, lend half: 48000m; 768 GiB = 786432 MiB, lend half: 393216 MiB.
        assert.deepStrictEqual(spec.resourceGroups[0].flavors[0].resources, [
            { name: "cpu", nominalQuota: "96000m", lendingLimit: "48000m" },
            { name: "memory", nominalQuota: "786432Mi", lendingLimit: "393216Mi" },
        ]);
        const gpus = spec.resourceGroups[1];
        const h100 = gpus.flavors.find((f: any) => f.name === "h100").resources;
        // The team's 16 whole GPUs in the pool that has them, 8 of them lendable; none of the shares or slices there.
        assert.deepStrictEqual(
            h100.find((r: any) => r.name === "nvidia.com/gpu"),
            { name: "nvidia.com/gpu", nominalQuota: "16", lendingLimit: "8" },
        );
        assert.strictEqual(h100.find((r: any) => r.name === "nvidia.com/gpu.shared").nominalQuota, "0");
        // Default quota of a resource: one node's worth (TeamQuota): 16 slices of 1g.10gb on a p4de node.
        const mig = gpus.flavors.find((f: any) => f.name === "a100-mig").resources;
        assert.strictEqual(mig.find((r: any) => r.name === "nvidia.com/mig-1g.10gb").nominalQuota, "16");
        assert.strictEqual(mig.find((r: any) => r.name === "nvidia.com/gpu").nominalQuota, "0");
    });

    it("each GPU pool's flavor selects its nodes and tolerates the GPU taint; CPU and memory take any node", () => {
        const [anyNode, h100] = resourceFlavors(POOLS);
        assert.deepStrictEqual(anyNode.spec, {});
        assert.deepStrictEqual(h100.spec, {
            nodeLabels: { "gpu-platform/pool": "h100" },
            nodeTaints: [{ key: "nvidia.com/gpu", value: "true", effect: "NoSchedule" }],
            tolerations: [{ key: "nvidia.com/gpu", operator: "Equal", value: "true", effect: "NoSchedule" }],
        });
    });

    it("Kueue manages every workload of the team namespaces, named queue or not", () => {
        const config = kueueManagerConfig(["batch/job", "pod", "deployment", "statefulset"]) as any;
        assert.strictEqual(config.manageJobsWithoutQueueName, true);
        assert.deepStrictEqual(config.managedJobsNamespaceSelector, {
            matchExpressions: [{ key: "gpu-platform/team", operator: "Exists" }],
        });
        assert.strictEqual(localQueue("ml-research").metadata.name, "default");
    });

    it("reports bad arguments, one line each, naming the property", () => {
        const problems = kueueQueuesArgsProblems({
            pools: [...POOLS, { name: "h100", nodeResources: {} }, { name: "any-node", nodeResources: {} }],
            teams: [
                { name: "a", quota: { cpu: "lots" }, queue: { borrowingLimitPercent: -1, lendingLimitPercent: 150 } },
                { name: "a" },
            ],
            operatorIdentities: ["kuberay"],
        });
        assert.deepStrictEqual(
            problems.map((p) => `${p.key}: ${p.message}`),
            [
                'pools[3].name: duplicates another pool "h100"',
                'pools[4].name: "any-node" is the flavor of CPU and memory; name the pool otherwise',
                'teams[0].quota.cpu: must be a CPU quantity such as "64" or "500m" (found "lots")',
                "teams[0].queue.borrowingLimitPercent: must be a whole percentage from 0 to 1000 (of the team's quota it may borrow beyond it; found -1)",
                "teams[0].queue.lendingLimitPercent: must be a whole percentage from 0 to 100 (of the team's idle quota others may borrow; found 150)",
                'teams[1].name: duplicates another team "a"',
                'operatorIdentities[0]: must be a service account\'s user name, system:serviceaccount:<namespace>:<name> (found "kuberay")',
            ],
        );
    });
});

/** Evaluates a rule set's CEL as the API server does: variables in order, then each validation. */
function refusals(
    rules: AdmissionRuleSet,
    request: { operation: string; username: string },
    object: unknown,
    oldObject?: unknown,
): string[] {
    const toCel = (value: unknown): unknown => {
        if (Array.isArray(value)) return value.map(toCel);
        if (value !== null && typeof value === "object")
            return new Map(Object.entries(value).map(([k, v]) => [k, toCel(v)]));
        if (typeof value === "number" && Number.isInteger(value)) return BigInt(value);
        return value;
    };
    const context = {
        object: toCel(object),
        oldObject: toCel(oldObject ?? null),
        request: toCel({ operation: request.operation, userInfo: { username: request.username } }),
    };
    const variables = new Map<string, unknown>();
    const evaluate = (expression: string) => {
        const result = run(expression, { ...context, variables } as any);
        if (isCelError(result)) throw new Error(`CEL error in ${expression}: ${result.message}`);
        return result;
    };
    for (const v of rules.variables) variables.set(v.name, evaluate(v.expression));
    return rules.validations
        .filter((v) => evaluate(v.expression) !== true)
        .map((v) => evaluate(v.messageExpression) as string);
}

describe("admission: GPU pods in team namespaces start only through Kueue", () => {
    const rules = kueueManagedGpuPods({
        kueueController: KUEUE_CONTROLLER.username,
        workloadControllers: [...KUBERNETES_JOB_CONTROLLERS],
    });
    const user = "arn:aws:sts::123456789012:assumed-role/ml-research/jane";
    const pod = (extra: Record<string, unknown> = {}, gpu = true) => ({
        metadata: { name: "p", namespace: "ml-research", ...((extra.metadata as object) ?? {}) },
        spec: {
            containers: [
                {
                    name: "c",
                    resources: gpu ? { limits: { "nvidia.com/mig-1g.10gb": "1" } } : { requests: { cpu: "1" } },
                },
            ],
            ...((extra.spec as object) ?? {}),
        },
    });
    const gated = { spec: { schedulingGates: [{ name: "kueue.x-k8s.io/admission" }] } };
    const jobOwned = {
        metadata: {
            ownerReferences: [{ apiVersion: "batch/v1", kind: "Job", name: "train", uid: "u", controller: true }],
        },
    };

    it("admits a GPU pod that Kueue holds, a Job's pod made by the Job controller, and any pod without GPUs", () => {
        assert.deepStrictEqual(refusals(rules, { operation: "CREATE", username: user }, pod(gated)), []);
        assert.deepStrictEqual(
            refusals(rules, { operation: "CREATE", username: KUBERNETES_JOB_CONTROLLERS[0] }, pod(jobOwned)),
            [],
        );
        assert.deepStrictEqual(refusals(rules, { operation: "CREATE", username: user }, pod({}, false)), []);
    });

    it("refuses a bare GPU pod, and one whose Job owner reference a team member wrote", () => {
        for (const object of [pod(), pod(jobOwned)]) {
            const refused = refusals(rules, { operation: "CREATE", username: user }, object);
            assert.strictEqual(refused.length, 1);
            assert.match(refused[0], /requests GPUs but Kueue does not hold it/);
        }
    });

    it("only Kueue removes its scheduling gate", () => {
        const held = pod(gated);
        const released = pod();
        assert.match(refusals(rules, { operation: "UPDATE", username: user }, released, held)[0], /only Kueue removes/);
        assert.deepStrictEqual(
            refusals(rules, { operation: "UPDATE", username: KUEUE_CONTROLLER.username }, released, held),
            [],
        );
    });
});
