import * as assert from "assert";
import {
    gpuWorkloadClassLimit,
    gpuWorkloadLimits,
    gpuWorkloadPriorityClass,
    gpuWorkloadToleration,
} from "../gpu-workloads";
import { changed, resource, theViolation, violationsOf } from "./support/check";

const POD = "kubernetes:core/v1:Pod";
const GPU_POLICIES = [gpuWorkloadLimits, gpuWorkloadPriorityClass, gpuWorkloadToleration, gpuWorkloadClassLimit];

/** A training pod on a whole H100 node: 8 GPUs requested and limited, training class, tolerating the taint. */
const podSpec = {
    priorityClassName: "training",
    tolerations: [{ key: "nvidia.com/gpu", operator: "Equal", value: "true", effect: "NoSchedule" }],
    containers: [
        {
            name: "trainer",
            image: "nvcr.io/nvidia/pytorch:24.08-py3",
            resources: { requests: { cpu: "16", "nvidia.com/gpu": "8" }, limits: { "nvidia.com/gpu": "8" } },
        },
    ],
};
const pod = (spec = podSpec) => resource(POD, "finetune", { metadata: { namespace: "ml-research" }, spec });

async function allViolations(r: ReturnType<typeof resource>) {
    return (await Promise.all(GPU_POLICIES.map((p) => violationsOf(p, [r])))).flat();
}

describe("policies: GPU workloads", () => {
    it("pass a pod that sets GPU limits, a class, the toleration and stays within its class", async () => {
        assert.deepStrictEqual(await allViolations(pod()), []);
    });

    it("pass workloads that ask for no GPU, whatever else they leave out", async () => {
        const web = resource(POD, "web", {
            spec: { containers: [{ name: "web", image: "nginx", resources: { requests: { cpu: "1" } } }] },
        });
        assert.deepStrictEqual(await allViolations(web), []);
    });

    it("find the pod template of each workload kind, and leave KEDA ScaledObjects (no pod template) to their Deployment", async () => {
        const broken = changed(podSpec, "tolerations", []);
        const template = { metadata: { labels: { app: "x" } }, spec: broken };
        const kinds = [
            resource("kubernetes:apps/v1:Deployment", "d", { spec: { template } }),
            resource("kubernetes:apps/v1:StatefulSet", "s", { spec: { template } }),
            resource("kubernetes:batch/v1:Job", "j", { spec: { template } }),
            resource("kubernetes:batch/v1:CronJob", "c", {
                spec: { schedule: "@daily", jobTemplate: { spec: { template } } },
            }),
            resource("kubernetes:keda.sh/v1alpha1:ScaledJob", "k", { spec: { jobTargetRef: { template } } }),
            resource("kubernetes:keda.sh/v1alpha1:ScaledObject", "o", {
                spec: { scaleTargetRef: { name: "d" }, maxReplicaCount: 4 },
            }),
        ];
        const messages = (await violationsOf(gpuWorkloadToleration, kinds)).map((v) => v.message);
        assert.deepStrictEqual(
            messages.map((m) => /^(\w+ "\w+").*but ([\w.]+)\.tolerations/.exec(m)?.slice(1)),
            [
                ['Deployment "d"', "spec.template.spec"],
                ['StatefulSet "s"', "spec.template.spec"],
                ['Job "j"', "spec.template.spec"],
                ['CronJob "c"', "spec.jobTemplate.spec.template.spec"],
                ['ScaledJob "k"', "spec.jobTargetRef.template.spec"],
            ],
        );
    });

    describe("gpu-workload-limits", () => {
        it("passes a container that sets only a GPU limit (Kubernetes takes it as the request)", async () => {
            assert.deepStrictEqual(
                await violationsOf(gpuWorkloadLimits, [
                    pod(changed(podSpec, "containers.0.resources.requests", { cpu: "16" })),
                ]),
                [],
            );
        });

        it("reports a GPU request without a limit, naming the limit to set", async () => {
            const v = await theViolation(gpuWorkloadLimits, [
                pod(changed(podSpec, "containers.0.resources.limits", undefined)),
            ]);
            assert.strictEqual(v.urn, pod().urn);
            assert.strictEqual(
                v.message,
                'Pod "finetune": container "trainer" requests nvidia.com/gpu: 8 but sets no limit for it; set spec.containers[0].resources.limits["nvidia.com/gpu"] to 8, equal to the request.',
            );
        });

        it("reports a limit that differs from the request", async () => {
            const v = await theViolation(gpuWorkloadLimits, [
                pod(changed(podSpec, "containers.0.resources.limits", { "nvidia.com/gpu": "4" })),
            ]);
            assert.match(
                v.message,
                /requests nvidia\.com\/gpu: 8 but limits it to 4; set .*limits\["nvidia\.com\/gpu"\] to 8/,
            );
        });
    });

    describe("gpu-workload-priority-class", () => {
        it("reports a GPU pod without priorityClassName, listing the platform's classes", async () => {
            const v = await theViolation(gpuWorkloadPriorityClass, [
                pod(changed(podSpec, "priorityClassName", undefined)),
            ]);
            assert.match(
                v.message,
                /^Pod "finetune" asks for GPUs \(container "trainer": nvidia\.com\/gpu 8\) but sets no priorityClassName; set spec\.priorityClassName to one of production-inference, critical-agents, training, research and development\.$/,
            );
        });

        it("reports a class the platform does not define", async () => {
            const v = await theViolation(gpuWorkloadPriorityClass, [
                pod(changed(podSpec, "priorityClassName", "system-node-critical")),
            ]);
            assert.match(v.message, /sets priorityClassName "system-node-critical", which is not a platform class/);
        });
    });

    describe("gpu-workload-toleration", () => {
        it("passes a key-only Exists toleration and a wildcard Exists toleration", async () => {
            const keyOnly = changed(podSpec, "tolerations", [{ key: "nvidia.com/gpu", operator: "Exists" }]);
            const wildcard = changed(podSpec, "tolerations", [{ operator: "Exists" }]);
            assert.deepStrictEqual(await violationsOf(gpuWorkloadToleration, [pod(keyOnly), pod(wildcard)]), []);
        });

        it("reports a GPU pod with no toleration for the GPU taint, naming the toleration to add", async () => {
            const v = await theViolation(gpuWorkloadToleration, [pod(changed(podSpec, "tolerations", undefined))]);
            assert.match(
                v.message,
                /but spec\.tolerations does not tolerate the GPU taint; add \{ key: "nvidia\.com\/gpu", operator: "Equal", value: "true", effect: "NoSchedule" \} to spec\.tolerations\./,
            );
        });

        it("reports a toleration with the wrong value, naming it and what to set it to", async () => {
            const v = await theViolation(gpuWorkloadToleration, [
                pod(changed(podSpec, "tolerations.0.value", "present")),
            ]);
            assert.strictEqual(
                v.message,
                'Pod "finetune" asks for GPUs (container "trainer": nvidia.com/gpu 8) but spec.tolerations[0] (operator "Equal", value "present", effect "NoSchedule") ' +
                    'does not match the GPU taint nvidia.com/gpu=true:NoSchedule; set spec.tolerations[0] to { key: "nvidia.com/gpu", operator: "Equal", value: "true", effect: "NoSchedule" }.',
            );
        });
    });

    describe("gpu-workload-class-limit", () => {
        it("reports a development pod asking for more than 1 GPU, naming the classes that would allow it", async () => {
            const v = await theViolation(gpuWorkloadClassLimit, [
                pod(changed(podSpec, "priorityClassName", "development")),
            ]);
            assert.match(
                v.message,
                /^Pod "finetune" asks for 8 GPUs per pod \(container "trainer": nvidia\.com\/gpu 8\), above the 1 a "development" pod may take; /,
            );
            assert.match(
                v.message,
                /lower the GPU requests and limits in spec\.containers to at most 1 in all, or use a class that allows 8 \(training: 8 and research: 8\)\./,
            );
        });

        it("reports a training pod over 8 GPUs, with no class to move to", async () => {
            const nine = changed(podSpec, "containers.0.resources", { limits: { "nvidia.com/gpu": 9 } });
            assert.match(
                (await theViolation(gpuWorkloadClassLimit, [pod(nine)])).message,
                /asks for 9 GPUs per pod .* above the 8 a "training" pod may take; .* and split the work across pods\./,
            );
        });

        it("counts MIG slices as GPUs, and adds up the containers", async () => {
            const slices = { limits: { "nvidia.com/mig-3g.40gb": "1" } };
            const spec = changed(changed(podSpec, "priorityClassName", "production-inference"), "containers", [
                { name: "a", resources: slices },
                { name: "b", resources: slices },
                { name: "c", resources: slices },
            ]);
            const v = await theViolation(gpuWorkloadClassLimit, [pod(spec)]);
            assert.match(
                v.message,
                /asks for 3 GPUs per pod \(container "a": nvidia\.com\/mig-3g\.40gb 1, container "b": .*\), above the 2 a "production-inference" pod may take/,
            );
        });

        it("takes the class limits from the policy config when a stack overrides them", async () => {
            assert.deepStrictEqual(
                await violationsOf(gpuWorkloadClassLimit, [pod()], { maxGpusPerPodByClass: { training: 8 } }),
                [],
            );
            assert.match(
                (await theViolation(gpuWorkloadClassLimit, [pod()], { maxGpusPerPodByClass: { training: 4 } })).message,
                /above the 4 a "training" pod may take/,
            );
        });
    });
});

describe("policies: GPU workloads judged as Kubernetes judges them", () => {
    const development = changed(podSpec, "priorityClassName", "development");
    const withGpus = (spec: typeof podSpec, amount: unknown) =>
        changed(spec, "containers.0.resources", {
            requests: { cpu: "16", "nvidia.com/gpu": amount },
            limits: { "nvidia.com/gpu": amount },
        });

    describe("GPU amounts are Kubernetes quantities", () => {
        // apimachinery's ParseQuantity: "16000m" = 16000 × 10^-3 = 16; "0.016k" = 0.016 × 10^3 = 16; "1e1" = 10.
        for (const amount of ["16000m", "0.016k", "1e1", "16", 16]) {
            it(`counts ${JSON.stringify(amount)} against a development pod's one GPU`, async () => {
                const v = await theViolation(gpuWorkloadClassLimit, [pod(withGpus(development, amount))]);
                assert.match(
                    v.message,
                    /^Pod "finetune" asks for (16|10) GPUs per pod .* above the 1 a "development" pod may take/,
                );
            });
        }

        it("counts MIG slices written in milli-units: 3000m of 3g.40gb is 3 slices, over production-inference's 2", async () => {
            const spec = changed(
                changed(podSpec, "priorityClassName", "production-inference"),
                "containers.0.resources",
                { limits: { "nvidia.com/mig-3g.40gb": "3000m" } },
            );
            const v = await theViolation(gpuWorkloadClassLimit, [pod(spec)]);
            assert.match(
                v.message,
                /asks for 3 GPUs per pod \(container "trainer": nvidia\.com\/mig-3g\.40gb "3000m" \(= 3\)\), above the 2/,
            );
        });

        it("takes a request and a limit written differently but equal (8 and 8000m) as equal", async () => {
            const spec = changed(podSpec, "containers.0.resources.limits", { "nvidia.com/gpu": "8000m" });
            assert.deepStrictEqual(await violationsOf(gpuWorkloadLimits, [pod(spec)]), []);
        });

        it("reports a fractional GPU amount, which the API server refuses", async () => {
            const v = await theViolation(gpuWorkloadLimits, [
                pod(changed(podSpec, "containers.0.resources.limits", { "nvidia.com/gpu": "7.5" })),
            ]);
            assert.match(
                v.message,
                /container "trainer" limits nvidia\.com\/gpu: 7\.5, not a whole number; the API server refuses it: set spec\.containers\[0\]\.resources\.limits\["nvidia\.com\/gpu"\] to a whole number/,
            );
        });

        it("reports an amount that is no quantity at all", async () => {
            const v = await theViolation(gpuWorkloadLimits, [
                pod(changed(podSpec, "containers.0.resources", { limits: { "nvidia.com/gpu": "8 GPUs" } })),
            ]);
            assert.match(v.message, /limits nvidia\.com\/gpu: "8 GPUs", which is not a Kubernetes quantity/);
        });
    });

    describe("sidecars count as the scheduler counts them", () => {
        const sidecar = (gpus: string) => ({
            name: "profiler",
            restartPolicy: "Always",
            resources: { limits: { "nvidia.com/gpu": gpus } },
        });

        it("adds a native sidecar's GPU to the app containers' 8: 9 is over training's 8", async () => {
            const v = await theViolation(gpuWorkloadClassLimit, [
                pod(changed(podSpec, "initContainers", [sidecar("1")])),
            ]);
            assert.match(
                v.message,
                /asks for 9 GPUs per pod \(container "trainer": nvidia\.com\/gpu 8, sidecar "profiler": nvidia\.com\/gpu 1\), above the 8 a "training" pod may take; lower the GPU requests and limits in spec\.containers and \.initContainers/,
            );
        });

        it("passes an init container of 8 GPUs that runs before a 1-GPU sidecar starts, with 7 in the app: max(7 + 1, 8 + 0) = 8", async () => {
            const spec = changed(
                changed(podSpec, "containers.0.resources", { limits: { "nvidia.com/gpu": "7" } }),
                "initContainers",
                [{ name: "warmup", resources: { limits: { "nvidia.com/gpu": "8" } } }, sidecar("1")],
            );
            assert.deepStrictEqual(await violationsOf(gpuWorkloadClassLimit, [pod(spec)]), []);
        });

        it("counts an init container that runs after a sidecar together with it: 8 + 1 = 9", async () => {
            const spec = changed(
                changed(podSpec, "containers.0.resources", { limits: { "nvidia.com/gpu": "1" } }),
                "initContainers",
                [sidecar("1"), { name: "warmup", resources: { limits: { "nvidia.com/gpu": "8" } } }],
            );
            assert.match((await theViolation(gpuWorkloadClassLimit, [pod(spec)])).message, /asks for 9 GPUs per pod/);
        });
    });

    describe("pod templates inside any kind", () => {
        const template = { metadata: { labels: { app: "x" } }, spec: withGpus(development, "4") };

        it("finds a PyTorchJob's replica templates, naming the path", async () => {
            const job = resource("kubernetes:kubeflow.org/v1:PyTorchJob", "train", {
                spec: {
                    pytorchReplicaSpecs: {
                        Master: { replicas: 1, template: { spec: podSpec } },
                        Worker: { replicas: 4, template },
                    },
                },
            });
            const v = await theViolation(gpuWorkloadClassLimit, [job]);
            assert.match(
                v.message,
                /^PyTorchJob "train" asks for 4 GPUs per pod .* lower the GPU requests and limits in spec\.pytorchReplicaSpecs\.Worker\.template\.spec\.containers/,
            );
        });

        it("finds a RayJob's worker groups", async () => {
            const rayJob = resource("kubernetes:ray.io/v1:RayJob", "tune", {
                spec: {
                    rayClusterSpec: {
                        headGroupSpec: {
                            template: { spec: { containers: [{ name: "head", image: "rayproject/ray:2.9.0" }] } },
                        },
                        workerGroupSpecs: [
                            { groupName: "gpu", template: { spec: changed(podSpec, "tolerations", []) } },
                        ],
                    },
                },
            });
            const v = await theViolation(gpuWorkloadToleration, [rayJob]);
            assert.match(
                v.message,
                /^RayJob "tune" asks for GPUs .* add .* to spec\.rayClusterSpec\.workerGroupSpecs\[0\]\.template\.spec\.tolerations\.$/,
            );
        });

        it("judges a patch on what it sets: its GPUs against the largest class limit, its class and tolerations only when set", async () => {
            const patchSpec = { containers: [{ name: "trainer", resources: { limits: { "nvidia.com/gpu": "16" } } }] };
            const patch = resource("kubernetes:apps/v1:DeploymentPatch", "more-gpus", {
                metadata: { name: "trainer" },
                spec: { template: { spec: patchSpec } },
            });
            const all = (await allViolations(patch)).map((v) => `${v.policy}: ${v.message}`);
            assert.deepStrictEqual(all.length, 1, all.join("\n"));
            assert.match(
                all[0],
                /^gpu-workload-class-limit: DeploymentPatch "more-gpus" asks for 16 GPUs per pod .* above the 8 any class's pod may take/,
            );
            const withinLimit = changed(patch, "inputs.spec.template.spec.containers.0.resources.limits", {
                "nvidia.com/gpu": "8",
            });
            assert.deepStrictEqual(await allViolations(withinLimit), []);
        });

        it("reads the objects and YAML of a yaml/v2 ConfigGroup", async () => {
            const jobYaml =
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\n---\napiVersion: batch/v1\nkind: Job\nmetadata:\n  name: embed\nspec:\n  template:\n    spec:\n      priorityClassName: development\n      tolerations: [{key: nvidia.com/gpu, operator: Exists}]\n      containers:\n      - name: embed\n        resources: {limits: {nvidia.com/gpu: '2'}}\n";
            const group = resource("kubernetes:yaml/v2:ConfigGroup", "jobs", {
                objs: [
                    {
                        apiVersion: "v1",
                        kind: "Pod",
                        metadata: { name: "notebook" },
                        spec: withGpus(development, "0.002k"),
                    },
                ],
                yaml: jobYaml,
            });
            const messages = (await violationsOf(gpuWorkloadClassLimit, [group])).map((v) => v.message);
            assert.deepStrictEqual(
                messages.map((m) => /^(.*?) asks for (\d+) GPUs.* in (.*)\.containers/.exec(m)?.slice(1)),
                [
                    ['ConfigGroup "jobs": Pod "notebook"', "2", "objs[0].spec"],
                    ['ConfigGroup "jobs": Job "embed"', "2", "yaml document 2: spec.template.spec"],
                ],
            );
        });
    });
});
