/**
 * Where a pipeline's workers run and whether they can: in the team's namespace and quota, on a
 * node with room for them, never evicted mid-job by scale-down, and their spend on the team.
 */
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { configProblems, named, ofType, record, validStackConfig } from "./harness";
import type { RecordedResource } from "@gpu-platform/offline/recorder";
import { buildPlatform } from "../platform";
import { InferencePipeline } from "../components/inference";
import { estimateCost } from "@gpu-platform/plan/cost";

const SCALED_JOB = "kubernetes:keda.sh/v1alpha1:ScaledJob";
const SAFE_TO_EVICT = "cluster-autoscaler.kubernetes.io/safe-to-evict";

describe("pipeline workers (prod config)", () => {
    let resources: RecordedResource[];
    before(async () => {
        ({ resources } = await record(() => buildPlatform(validStackConfig("prod"))));
    });

    it("run in their team's namespace, whose quota counts them", () => {
        const job = named(resources, SCALED_JOB, "batch-embeddings-scaled-job").inputs as any;
        assert.strictEqual(job.metadata.namespace, "inference");
        const quota = ofType(resources, "kubernetes:core/v1:ResourceQuota").find(
            (q) => (q.inputs.metadata as any).namespace === "inference",
        )!.inputs as any;
        // The worker requests one 3g.40gb slice; the team may hold 16 (Pulumi.prod.yaml), so at most 16 workers of its
        // pipelines run at once, whatever maxReplicas says, and they count against the team's CPU and memory too.
        const [worker] = job.spec.jobTargetRef.template.spec.containers;
        assert.strictEqual(worker.resources.requests["nvidia.com/mig-3g.40gb"], "1");
        assert.strictEqual(quota.spec.hard["requests.nvidia.com/mig-3g.40gb"], "16");
        assert.deepStrictEqual([worker.resources.requests.cpu, quota.spec.hard["requests.cpu"]], ["4", "64"]);
        // The namespace's network policies and LimitRange apply: the team's, not a namespace of the pipeline's own.
        assert.ok(
            ofType(resources, "kubernetes:networking.k8s.io/v1:NetworkPolicy").some(
                (p) => (p.inputs.metadata as any).namespace === "inference",
            ),
        );
        assert.ok(
            !ofType(resources, "kubernetes:core/v1:Namespace").some(
                (n) => (n.inputs.metadata as any).name === "batch-embeddings",
            ),
        );
    });

    it("wait for the team's namespace before their Kubernetes objects are applied", () => {
        const namespace = named(resources, "kubernetes:core/v1:Namespace", "inference-namespace").urn;
        for (const [type, name] of [
            ["kubernetes:core/v1:ServiceAccount", "batch-embeddings-worker-sa"],
            ["kubernetes:keda.sh/v1alpha1:TriggerAuthentication", "batch-embeddings-trigger-auth"],
            [SCALED_JOB, "batch-embeddings-scaled-job"],
        ]) {
            assert.ok(named(resources, type, name).dependencies.includes(namespace), name);
        }
    });

    it("are never evicted by autoscaler scale-down while they run", () => {
        // kubernetes/autoscaler 1.35.2 utils/drain/drain.go l.36; KEDA copies the job template's pod metadata to each Job.
        const template = (named(resources, SCALED_JOB, "batch-embeddings-scaled-job").inputs as any).spec.jobTargetRef
            .template;
        assert.strictEqual(template.metadata.annotations[SAFE_TO_EVICT], "false");
    });

    it("carry their team's tags on every AWS resource of the pipeline, so the cost table puts them on the team", () => {
        const pipelineUrn = named(resources, "gpu-platform:inference:InferencePipeline", "batch-embeddings").urn;
        const below = (urn: string): RecordedResource[] =>
            resources.filter((r) => r.parent === urn).flatMap((r) => [r, ...below(r.urn)]);
        const tagged = below(pipelineUrn).filter((r) => r.outputs.tagsAll && "tags" in r.inputs);
        assert.deepStrictEqual(tagged.map((r) => r.type.split(":").pop()).sort(), [
            "Bucket",
            "Bucket",
            "MetricAlarm",
            "MetricAlarm",
            "Queue",
            "Queue",
            "Role",
            "Role",
        ]);
        for (const resource of tagged) {
            // The resource's own tags win over the provider's defaults (team platform, CC-0001); environment and budget stay.
            assert.deepStrictEqual(
                resource.outputs.tagsAll,
                { team: "inference", "cost-center": "CC-1003", budget: "platform-prod", environment: "prod" },
                resource.name,
            );
        }
        const alarms = estimateCost(resources).items.filter((i) =>
            i.description.startsWith("CloudWatch alarm batch-embeddings"),
        );
        assert.deepStrictEqual(
            alarms.map((i) => i.team),
            ["inference", "inference"],
        );
    });
});

describe("pipeline worker fit (config)", () => {
    it("accepts the dev pipeline's 3 CPUs and 12Gi on a time-sliced g5.xlarge", () => {
        assert.deepStrictEqual(
            configProblems("dev", () => undefined),
            [],
        );
    });

    it("refuses the worker's default 4 CPUs and 16Gi on a g5.xlarge, naming the pipeline and the numbers", () => {
        // g5.xlarge: 4000m − 80m kube-reserved − 180m DaemonSets (170m everywhere + the 10m gate) = 3740m;
        // 16 GiB × 1024 × 0.925 = 15155.2Mi − 893Mi (11 × 58 + 255) − 100Mi eviction − 230Mi DaemonSets = 13932Mi.
        assert.deepStrictEqual(
            configProblems("dev", (raw) => {
                delete raw.inferencePipelines[0].cpu;
                delete raw.inferencePipelines[0].memory;
            }),
            [
                'inferencePipelines[0].cpu: is "4" (4000m), but one node of pool "gpu-dev" leaves 3740m for pods (g5.xlarge: 4000m less 80m kubelet reservation ' +
                    "and 180m for the platform's DaemonSets): pipeline \"dev-embeddings\"'s worker could never be scheduled; request at most 3740m, or use a pool of larger instances",
                'inferencePipelines[0].memory: is "16Gi" (16384Mi), but one node of pool "gpu-dev" leaves 13932Mi for pods (g5.xlarge: about 15155Mi less 893Mi kubelet ' +
                    "reservation, 100Mi eviction threshold and 230Mi for the platform's DaemonSets): pipeline \"dev-embeddings\"'s worker could never be scheduled; " +
                    "request at most 13932Mi, or use a pool of larger instances",
            ],
        );
        assert.deepStrictEqual(
            configProblems("dev", (raw) => (raw.inferencePipelines[0].cpu = "3740m")),
            [],
            "exactly what is left fits",
        );
        assert.deepStrictEqual(
            configProblems("dev", (raw) => (raw.inferencePipelines[0].cpu = "three")),
            ['inferencePipelines[0].cpu: is "three"; must be a Kubernetes CPU quantity above 0, such as "3" or "500m"'],
        );
    });

    it("refuses a worker the team's quota could never admit", () => {
        assert.deepStrictEqual(
            configProblems("prod", (raw) => {
                raw.teams[1].quota.mig["3g.40gb"] = 0;
            }),
            [
                `inferencePipelines[0].team: team "inference"'s quota allows 0 nvidia.com/mig-3g.40gb in its namespace, where pipeline "batch-embeddings"'s worker runs, ` +
                    "but 1 worker (minReplicas, at least one) needs 1: no worker could start; raise teams[1].quota.mig.3g.40gb, or lower the pipeline's request",
            ],
        );
        assert.deepStrictEqual(
            configProblems("prod", (raw) => {
                raw.teams[1].quota.cpu = "6";
                raw.inferencePipelines[0].minReplicas = 2;
            }),
            [
                `inferencePipelines[0].team: team "inference"'s quota allows 6 CPU in its namespace, where pipeline "batch-embeddings"'s worker runs, ` +
                    "but 2 workers (minReplicas, at least one) need 8000m: no worker could start; raise teams[1].quota.cpu, or lower the pipeline's request",
            ],
        );
    });

    it("is checked by the component too, when the pool says what a node leaves", async () => {
        let thrown: unknown;
        try {
            new InferencePipeline("tight", {
                oidc: { arn: "arn:aws:iam::123456789012:oidc-provider/x", url: "x" },
                region: "us-east-1",
                image: "worker:1",
                pool: {
                    name: "gpu-dev",
                    labels: {},
                    nodeResources: { "nvidia.com/gpu.shared": 3 },
                    podRoom: { cpuMillis: 3740, memoryMiB: 13932 },
                },
            });
        } catch (err) {
            thrown = err;
        }
        assert.ok(pulumi.InputPropertiesError.isInstance(thrown));
        assert.deepStrictEqual(
            thrown.errors.map((e) => e.propertyPath),
            ["cpu", "memory"],
        );
    });
});

describe("pipeline workers as a Deployment (scaled-object)", () => {
    it("are not evicted by scale-down either", async () => {
        const { resources } = await record(
            () =>
                new InferencePipeline("svc", {
                    oidc: { arn: "arn:aws:iam::123456789012:oidc-provider/x", url: "x" },
                    region: "us-east-1",
                    image: "worker:1",
                    workload: "scaled-object",
                    pool: { name: "h100", labels: {}, nodeResources: { "nvidia.com/gpu": 8 } },
                }),
        );
        const deployment = named(resources, "kubernetes:apps/v1:Deployment", "svc-worker").inputs as any;
        assert.strictEqual(deployment.spec.template.metadata.annotations[SAFE_TO_EVICT], "false");
    });
});
