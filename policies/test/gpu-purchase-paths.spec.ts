/**
 * GPU capacity bought outside EKS node groups: each path passes with an allowed type and is
 * priced, and each mutation (a refused type, however spelled; a size past the pool limit; a
 * type the preview cannot know) draws a violation naming the resource and the setting.
 * Prices are worked out by hand from catalog/instances.ts (us-east-1, 730 hours a month):
 * p4d.24xlarge $21.957642/h (8 A100 40 GB), p5.48xlarge $55.04/h (8 H100), g5.xlarge $1.006/h.
 */
import * as assert from "assert";
import { gpuInstanceTypeAllowed, gpuPoolGpuLimit, gpuStackGpuLimit } from "../gpu-node-pools";
import { priceResources } from "../pricing";
import { stackMonthlyBudget } from "../stack-budget";
import { changed, resource, theViolation, violationsOf } from "./support/check";
import type { PlanResource } from "../runner";

const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const allowlist = { allowedGpuInstanceTypes: ["g5.xlarge", "p4d.24xlarge"] };

/** The maximum-scale price of each item, as the budget and the plan's cost table compute it. */
function monthlyMax(resources: PlanResource[]): number[] {
    return priceResources(
        resources.map((r) => ({ urn: r.urn, type: r.type, name: r.name, parent: null, props: r.inputs })),
        "2026-12-07",
    ).map((i) => i.monthlyMax);
}

async function refusals(resources: PlanResource[]): Promise<string[]> {
    return (await violationsOf(gpuInstanceTypeAllowed, resources, allowlist)).map((v) => v.message);
}

describe("policies: every AWS path to GPU capacity", () => {
    describe("EC2 fleets and Auto Scaling groups", () => {
        const fleet = (overrides: Record<string, unknown>[], target = 2) =>
            resource("aws:ec2/fleet:Fleet", "fleet", {
                launchTemplateConfigs: [{ launchTemplateSpecification: { launchTemplateName: "base" }, overrides }],
                targetCapacitySpecification: { totalTargetCapacity: target, defaultTargetCapacityType: "on-demand" },
            });
        const base = resource("aws:ec2/launchTemplate:LaunchTemplate", "base", {
            name: "base",
            instanceType: "g5.xlarge",
        });

        it("passes a fleet whose override is an allowed type and prices it: 2 × $21.957642 × 730 = $32,058.16", async () => {
            const ok = fleet([{ instanceType: "p4d.24xlarge" }]);
            assert.deepStrictEqual(await refusals([base, ok]), []);
            assert.deepStrictEqual(monthlyMax([ok]), [32058.16]);
        });

        it("refuses the same fleet when an override spells another GPU type over its template's allowed one", async () => {
            const [message] = await refusals([base, fleet([{ instanceType: "p5.48xlarge" }])]);
            assert.match(
                message,
                /^EC2 fleet "fleet" sets launchTemplateConfigs\[0\]\.overrides\[0\]\.instanceType to p5\.48xlarge, which is not an allowed GPU instance type/,
            );
        });

        it("prices attribute-based selection at the worst type its constraints allow, and passes it when they allow only allowed types", async () => {
            const narrowed = fleet([
                {
                    instanceRequirements: {
                        allowedInstanceTypes: ["p4d.24xlarge"],
                        vcpuCount: { min: 1 },
                        memoryMib: { min: 1 },
                    },
                },
            ]);
            assert.deepStrictEqual(await refusals([narrowed]), []);
            assert.deepStrictEqual(monthlyMax([narrowed]), [32058.16]);
            const wildcard = changed(
                narrowed,
                "inputs.launchTemplateConfigs.0.overrides.0.instanceRequirements.allowedInstanceTypes",
                ["p*"],
            );
            const [message] = await refusals([wildcard]);
            assert.match(
                message,
                /may launch p4de\.24xlarge, p5\.48xlarge and GPU types the catalog \(catalog\/instances\.ts\) does not know/,
            );
        });

        it("refuses a computed instance type: unknown during the preview, judged as any type", async () => {
            const box = resource("aws:ec2/instance:Instance", "box", { instanceType: UNKNOWN });
            const [message] = await refusals([box]);
            assert.match(
                message,
                /^instance "box" sets instanceType to a value computed during the update, which may launch .*p5\.48xlarge/,
            );
            const budget = await theViolation(stackMonthlyBudget, [box], { monthlyBudgetUsd: 1e9 });
            assert.match(
                budget.message,
                /instance "box": a value computed during the update not in the catalog, GPU capacity not priced/,
            );
        });

        it("finds a spot fleet's type through its launch template named by id, and a group's through its launch configuration", async () => {
            const lt = resource("aws:ec2/launchTemplate:LaunchTemplate", "lt", {
                id: "lt-123",
                instanceType: "p5.48xlarge",
            });
            const spot = resource("aws:ec2/spotFleetRequest:SpotFleetRequest", "spot", {
                targetCapacity: 1,
                launchTemplateConfigs: [{ launchTemplateSpecification: { id: "lt-123" } }],
            });
            const lc = resource("aws:ec2/launchConfiguration:LaunchConfiguration", "lc", {
                name: "old",
                instanceType: "p5.48xlarge",
            });
            const group = resource("aws:autoscaling/group:Group", "asg", { maxSize: 5, launchConfiguration: "old" });
            // The template and the configuration are refused once each, where the type is written.
            assert.deepStrictEqual(
                (await refusals([lt, spot, lc, group])).map((m) => m.split(" sets")[0]),
                ['launch template "lt"', 'launch configuration "lc"'],
            );
            // 5 × 8 H100s through the configuration: 40 GPUs.
            assert.match(
                (await theViolation(gpuPoolGpuLimit, [lc, group])).message,
                /^Auto Scaling group "asg" can scale to 40 GPUs/,
            );
        });
    });

    describe("SageMaker", () => {
        const config = (variant: Record<string, unknown>) =>
            resource("aws:sagemaker/endpointConfiguration:EndpointConfiguration", "llm", {
                name: "llm",
                productionVariants: [{ variantName: "main", modelName: "m", ...variant }],
            });
        const endpoint = resource("aws:sagemaker/endpoint:Endpoint", "llm-endpoint", {
            name: "llm",
            endpointConfigName: "llm",
        });

        it("maps ml.p4d.24xlarge to the catalog's p4d.24xlarge: allowed, 8 GPUs per instance, priced at EC2's rate as a floor", async () => {
            // initialInstanceCount 1, managed scaling to 2: 2 × $21.957642 × 730 = $32,058.16 (SageMaker's premium not in the catalog).
            const ok = config({
                instanceType: "ml.p4d.24xlarge",
                initialInstanceCount: 1,
                managedInstanceScaling: { maxInstanceCount: 2 },
            });
            assert.deepStrictEqual(await refusals([ok, endpoint]), []);
            const [item] = priceResources([
                { urn: ok.urn, type: ok.type, name: ok.name, parent: null, props: ok.inputs },
            ]);
            assert.strictEqual(item.monthlyMax, 32058.16);
            assert.match(item.description, /SageMaker's rate for ml\.p4d\.24xlarge is not in the catalog/);
        });

        it("prices an ml. type at SageMaker's own rate when the catalog has it, with no floor note", async () => {
            const price = (r: PlanResource) =>
                priceResources([{ urn: r.urn, type: r.type, name: r.name, parent: null, props: r.inputs }])[0];
            // ml.g5.xlarge at SageMaker's $1.408/h (EC2's g5.xlarge is $1.006): 2 × 1.408 × 730 = $2,055.68.
            const g5 = price(config({ instanceType: "ml.g5.xlarge", initialInstanceCount: 2 }));
            assert.strictEqual(g5.monthlyMax, 2055.68);
            assert.doesNotMatch(g5.description, /floor/);
            // ml.g6e.xlarge notebook, always on: 2.61 × 730 = $1,905.30.
            const notebook = resource("aws:sagemaker/notebookInstance:NotebookInstance", "nb", {
                instanceType: "ml.g6e.xlarge",
            });
            assert.strictEqual(price(notebook).monthlyMax, 1905.3);
            // ml.p4de.24xlarge training, 10 h: 31.5641075 × 10 = $315.64 (EC2's rate would give $274.47).
            const train = resource("aws:sagemaker/trainingJob:TrainingJob", "train-p4de", {
                resourceConfig: { instanceType: "ml.p4de.24xlarge", instanceCount: 1, volumeSizeInGb: 100 },
                stoppingCondition: { maxRuntimeInSeconds: 36000 },
            });
            assert.strictEqual(price(train).monthlyMax, 315.64);
            // 4 × ml.g5.12xlarge at $7.09 (EC2's $5.672 would give $16,562.24): 4 × 7.09 × 730 = $20,702.80.
            assert.strictEqual(
                price(config({ instanceType: "ml.g5.12xlarge", initialInstanceCount: 4 })).monthlyMax,
                20702.8,
            );
        });

        it("refuses ml.p5.48xlarge, and an ml. GPU type the catalog does not know", async () => {
            const messages = await refusals([
                config({ instanceType: "ml.p5.48xlarge" }),
                resource("aws:sagemaker/notebookInstance:NotebookInstance", "nb", { instanceType: "ml.g6.xlarge" }),
            ]);
            assert.match(
                messages[0],
                /variant "main" sets productionVariants\[0\]\.instanceType to ml\.p5\.48xlarge, which is not an allowed GPU instance type/,
            );
            assert.match(
                messages[1],
                /^SageMaker NotebookInstance "nb" sets instanceType to ml\.g6\.xlarge, which is not in the catalog/,
            );
        });

        it("leaves a serverless variant alone (SageMaker Serverless Inference runs no GPUs)", async () => {
            const serverless = config({ serverlessConfig: { maxConcurrency: 5, memorySizeInMb: 4096 } });
            assert.deepStrictEqual(await refusals([serverless, endpoint]), []);
            assert.deepStrictEqual(monthlyMax([serverless]), []);
        });

        it("counts an auto scaling target's maxCapacity: 6 × 8 GPUs is past the pool limit", async () => {
            const target = resource("aws:appautoscaling/target:Target", "scale", {
                serviceNamespace: "sagemaker",
                resourceId: "endpoint/llm/variant/main",
                scalableDimension: "sagemaker:variant:DesiredInstanceCount",
                minCapacity: 1,
                maxCapacity: 6,
            });
            const v = await theViolation(gpuPoolGpuLimit, [
                config({ instanceType: "ml.p4d.24xlarge" }),
                endpoint,
                target,
            ]);
            assert.match(v.message, /variant "main" can scale to 48 GPUs/);
        });

        it("refuses an endpoint whose configuration this stack does not create: its instances are unknown", async () => {
            const foreign = resource("aws:sagemaker/endpoint:Endpoint", "borrowed", {
                endpointConfigName: "made-elsewhere",
            });
            assert.match(
                (await theViolation(gpuPoolGpuLimit, [foreign])).message,
                /^SageMaker endpoint "borrowed" may launch GPU instances .* without a bound: its endpoint configuration \(made-elsewhere\) is not created in this stack/,
            );
        });

        it("prices a training job for its maximum run time: 2 × $21.957642 × 10 h = $439.15; one day without a stopping condition", async () => {
            const job = (stop?: Record<string, unknown>) =>
                resource("aws:sagemaker/trainingJob:TrainingJob", "train", {
                    resourceConfig: { instanceType: "ml.p4d.24xlarge", instanceCount: 2, volumeSizeInGb: 100 },
                    ...(stop ? { stoppingCondition: stop } : {}),
                });
            assert.deepStrictEqual(monthlyMax([job({ maxRuntimeInSeconds: 36000 })]), [439.15]);
            // 2 × 21.957642 × 24 = 1,053.97
            assert.deepStrictEqual(monthlyMax([job()]), [1053.97]);
            assert.match(
                (await refusals([changed(job(), "inputs.resourceConfig.instanceType", "ml.p5.48xlarge")]))[0],
                /resourceConfig\.instanceType to ml\.p5\.48xlarge/,
            );
        });

        it("multiplies a tuning job by its parallel jobs: 4 × 8 GPUs, run for ceil(8 / 4) × 2 h = 4 h: 4 × $21.957642 × 4 = $351.32", async () => {
            const tuning = resource("aws:sagemaker/hyperParameterTuningJob:HyperParameterTuningJob", "hpo", {
                config: {
                    strategy: "Bayesian",
                    resourceLimits: { maxParallelTrainingJobs: 4, maxNumberOfTrainingJobs: 8 },
                },
                trainingJobDefinition: {
                    resourceConfig: { instanceType: "ml.p4d.24xlarge", instanceCount: 1 },
                    stoppingCondition: { maxRuntimeInSeconds: 7200 },
                },
            });
            assert.deepStrictEqual(monthlyMax([tuning]), [351.32]);
            assert.deepStrictEqual(await violationsOf(gpuPoolGpuLimit, [tuning]), []);
            assert.match(
                (await theViolation(gpuPoolGpuLimit, [tuning], { maxGpusPerPool: 16 })).message,
                /can scale to 32 GPUs/,
            );
        });

        it("reads a pipeline's steps from its JSON definition; a step type set at run time, or a definition in S3, is judged unknown", async () => {
            const pipeline = (instanceType: unknown) =>
                resource("aws:sagemaker/pipeline:Pipeline", "pipe", {
                    pipelineName: "pipe",
                    pipelineDisplayName: "pipe",
                    pipelineDefinition: JSON.stringify({
                        Version: "2020-12-01",
                        Parameters: [{ Name: "TrainType", Type: "String", DefaultValue: "ml.g5.xlarge" }],
                        Steps: [
                            {
                                Name: "Train",
                                Type: "Training",
                                Arguments: {
                                    ResourceConfig: {
                                        InstanceType: instanceType,
                                        InstanceCount: 1,
                                        VolumeSizeInGB: 30,
                                    },
                                },
                            },
                        ],
                    }),
                });
            assert.deepStrictEqual(await refusals([pipeline("ml.g5.xlarge")]), []);
            assert.match(
                (await refusals([pipeline("ml.p5.48xlarge")]))[0],
                /Steps\[0\]\.Arguments\.ResourceConfig\.InstanceType to ml\.p5\.48xlarge/,
            );
            assert.match(
                (await refusals([pipeline({ Get: "Parameters.TrainType" })]))[0],
                /to a value set at run time, which may launch/,
            );
            const s3 = resource("aws:sagemaker/pipeline:Pipeline", "s3", {
                pipelineName: "s3",
                pipelineDefinitionS3Location: { bucket: "b", objectKey: "k" },
            });
            assert.match((await theViolation(gpuPoolGpuLimit, [s3])).message, /its definition is in S3/);
        });
    });

    describe("AWS Batch", () => {
        const environment = (instanceTypes: unknown, maxVcpus = 192, type = "EC2") =>
            resource("aws:batch/computeEnvironment:ComputeEnvironment", "batch", {
                type: "MANAGED",
                computeResources: { type, instanceTypes, maxVcpus, minVcpus: 0, subnets: ["subnet-1"] },
            });

        it("passes the optimal bundle (CPU families only) and Fargate", async () => {
            assert.deepStrictEqual(
                await refusals([environment(["optimal"]), environment(undefined, 16, "FARGATE")]),
                [],
            );
        });

        it("sizes by vCPUs: maxVcpus 192 on a 96-vCPU p4d.24xlarge is 2 instances, $32,058.16 and 16 GPUs", async () => {
            const ok = environment(["p4d.24xlarge"]);
            assert.deepStrictEqual(await refusals([ok]), []);
            assert.deepStrictEqual(monthlyMax([ok]), [32058.16]);
            assert.deepStrictEqual(await violationsOf(gpuPoolGpuLimit, [ok], { maxGpusPerPool: 16 }), []);
            // maxVcpus 400: ceil(400 / 96) = 5 instances, 40 GPUs (Batch may pass maxVcpus by one instance).
            assert.match(
                (await theViolation(gpuPoolGpuLimit, [environment(["p4d.24xlarge"], 400)])).message,
                /can scale to 40 GPUs \(computeResources\.maxVcpus 400 ÷ vCPUs 96 × 8 GPUs per p4d\.24xlarge\).*lower computeResources\.maxVcpus to 384/,
            );
        });

        it("refuses a GPU family name: any size of p5, including sizes the catalog does not know", async () => {
            assert.match(
                (await refusals([environment(["p5"])]))[0],
                /sets computeResources\.instanceTypes\[0\] to p5 \(a family\), which may launch p5\.48xlarge and GPU types the catalog/,
            );
        });
    });

    describe("EMR", () => {
        const cluster = (core: Record<string, unknown>) =>
            resource("aws:emr/cluster:Cluster", "spark", {
                releaseLabel: "emr-7.0.0",
                serviceRole: "r",
                masterInstanceGroup: { instanceType: "m7i.xlarge" },
                coreInstanceGroup: core,
            });

        it("passes an allowed core group and refuses a GPU type in a task fleet", async () => {
            const ok = cluster({ instanceType: "p4d.24xlarge", instanceCount: 2 });
            const tasks = resource("aws:emr/instanceFleet:InstanceFleet", "tasks", {
                clusterId: "j-1",
                targetSpotCapacity: 4,
                instanceTypeConfigs: [
                    { instanceType: "g5.xlarge" },
                    { instanceType: "p5.48xlarge", weightedCapacity: 4 },
                ],
            });
            const messages = await refusals([ok, tasks]);
            assert.deepStrictEqual(messages.length, 1);
            assert.match(
                messages[0],
                /^EMR instance fleet "tasks" sets instanceTypeConfigs\[1\]\.instanceType to p5\.48xlarge/,
            );
        });

        it("judges a core group at its managed scaling maximum: 6 × 8 GPUs", async () => {
            const spark = cluster({ instanceType: "p4d.24xlarge", instanceCount: 2 });
            const policy = resource(
                "aws:emr/managedScalingPolicy:ManagedScalingPolicy",
                "scale",
                {
                    clusterId: "j-1",
                    computeLimits: [{ unitType: "Instances", minimumCapacityUnits: 2, maximumCapacityUnits: 6 }],
                },
                { dependencies: [spark.urn] },
            );
            assert.match(
                (await theViolation(gpuPoolGpuLimit, [spark, policy])).message,
                /^EMR cluster "spark" core group can scale to 48 GPUs/,
            );
        });
    });

    describe("capacity bought ahead: reservations, Capacity Blocks, dedicated hosts", () => {
        it("prices a reservation for every reserved hour, used or not: $21.957642 × 730 = $16,029.08, and refuses a p5 one", async () => {
            const ok = resource("aws:ec2/capacityReservation:CapacityReservation", "cr", {
                instanceType: "p4d.24xlarge",
                instanceCount: 1,
                availabilityZone: "us-east-1a",
                instancePlatform: "Linux/UNIX",
            });
            assert.deepStrictEqual(await refusals([ok]), []);
            assert.deepStrictEqual(monthlyMax([ok]), [16029.08]);
            assert.match(
                (await refusals([changed(ok, "inputs.instanceType", "p5.48xlarge")]))[0],
                /^capacity reservation "cr" sets instanceType to p5\.48xlarge/,
            );
        });

        it("judges a Capacity Block whose type comes from its offering as unknown", async () => {
            const block = resource("aws:ec2/capacityBlockReservation:CapacityBlockReservation", "block", {
                capacityBlockOfferingId: "cb-1",
                instancePlatform: "Linux/UNIX",
            });
            assert.match(
                (await refusals([block]))[0],
                /^Capacity Block "block" sets capacityBlockOfferingId to a value computed during the update/,
            );
        });

        it("refuses a host by GPU family, and prices one by type as a floor", async () => {
            const family = resource("aws:ec2/dedicatedHost:DedicatedHost", "host", {
                instanceFamily: "p5",
                availabilityZone: "us-east-1a",
            });
            assert.match(
                (await refusals([family]))[0],
                /^dedicated host "host" sets instanceFamily to p5 \(a family\)/,
            );
            const typed = resource("aws:ec2/dedicatedHost:DedicatedHost", "host", {
                instanceType: "p4d.24xlarge",
                availabilityZone: "us-east-1a",
            });
            const [item] = priceResources([
                { urn: typed.urn, type: typed.type, name: typed.name, parent: null, props: typed.inputs },
            ]);
            assert.strictEqual(item.monthlyMax, 16029.08);
            assert.match(item.description, /a floor/);
        });
    });

    it("adds every path to the stack's GPUs: a reservation's 8, a Batch environment's 16, an endpoint's 8 are 32", async () => {
        const resources = [
            resource("aws:ec2/capacityReservation:CapacityReservation", "cr", {
                instanceType: "p4d.24xlarge",
                instanceCount: 1,
            }),
            resource("aws:batch/computeEnvironment:ComputeEnvironment", "batch", {
                computeResources: { type: "EC2", instanceTypes: ["p4d.24xlarge"], maxVcpus: 192 },
            }),
            resource("aws:sagemaker/endpointConfiguration:EndpointConfiguration", "llm", {
                productionVariants: [{ instanceType: "ml.p4d.24xlarge" }],
            }),
        ];
        assert.match(
            (await theViolation(gpuStackGpuLimit, resources, { maxGpusPerStack: 24 })).message,
            /can scale to 32 GPUs together/,
        );
    });
});
