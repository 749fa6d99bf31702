import * as assert from "assert";
import { gpuInstanceTypeAllowed, gpuNodeGroupTaint, gpuPoolGpuLimit, gpuStackGpuLimit } from "../gpu-node-pools";
import { stackMonthlyBudget } from "../stack-budget";
import { changed, resource, theViolation, violationsOf } from "./support/check";

const NODE_GROUP = "aws:eks/nodeGroup:NodeGroup";

/** An H100 pool as the platform's NodePool builds it: tainted, 2 × 8 GPUs. */
const h100Inputs = {
    clusterName: "gpu-platform-prod",
    instanceTypes: ["p5.48xlarge"],
    amiType: "AL2023_x86_64_NVIDIA",
    capacityType: "ON_DEMAND",
    scalingConfig: { minSize: 0, maxSize: 2, desiredSize: 0 },
    taints: [{ key: "nvidia.com/gpu", value: "true", effect: "NO_SCHEDULE" }],
};
const h100 = (inputs = h100Inputs, name = "h100-group") => resource(NODE_GROUP, name, inputs);

describe("policies: GPU node pools", () => {
    describe("gpu-node-group-taint", () => {
        it("passes a GPU node group with the GPU taint, and a CPU node group without one", async () => {
            const cpu = resource(NODE_GROUP, "system-group", {
                instanceTypes: ["m7i.xlarge"],
                amiType: "AL2023_x86_64_STANDARD",
                scalingConfig: { minSize: 1, maxSize: 3 },
            });
            assert.deepStrictEqual(await violationsOf(gpuNodeGroupTaint, [h100(), cpu]), []);
        });

        it("reports a GPU node group without taints, naming the taint to add", async () => {
            const v = await theViolation(gpuNodeGroupTaint, [h100(changed(h100Inputs, "taints", undefined))]);
            assert.strictEqual(v.urn, h100().urn);
            assert.match(
                v.message,
                /node group "h100-group" launches GPU instances \(p5\.48xlarge\) but its taints do not include nvidia\.com\/gpu/,
            );
            assert.match(
                v.message,
                /add \{ key: "nvidia\.com\/gpu", value: "true", effect: "NO_SCHEDULE" \} to taints/,
            );
        });

        it("reports the GPU taint with another effect", async () => {
            const v = await theViolation(gpuNodeGroupTaint, [
                h100(changed(h100Inputs, "taints.0.effect", "PREFER_NO_SCHEDULE")),
            ]);
            assert.match(
                v.message,
                /with taint nvidia\.com\/gpu=true:PREFER_NO_SCHEDULE; set it to \{ key: "nvidia\.com\/gpu", value: "true", effect: "NO_SCHEDULE" \}/,
            );
        });

        it("treats a GPU AMI as a GPU node group even when the catalog does not know its instance type", async () => {
            const unknownType = changed(changed(h100Inputs, "instanceTypes", ["p6-b200.48xlarge"]), "taints", []);
            assert.match(
                (await theViolation(gpuNodeGroupTaint, [h100(unknownType)])).message,
                /launches GPU instances \(p6-b200\.48xlarge\)/,
            );
        });
    });

    describe("gpu-instance-type-allowed", () => {
        const allowed = { allowedGpuInstanceTypes: ["p5.48xlarge", "p4d.24xlarge"] };

        it("passes allowed GPU types and any CPU type", async () => {
            const cpu = resource(NODE_GROUP, "system-group", {
                instanceTypes: ["m7i.2xlarge"],
                scalingConfig: { maxSize: 3 },
            });
            assert.deepStrictEqual(await violationsOf(gpuInstanceTypeAllowed, [h100(), cpu], allowed), []);
        });

        it("reports a GPU type the stack does not allow, naming instanceTypes and the allowed types", async () => {
            const v = await theViolation(
                gpuInstanceTypeAllowed,
                [h100(changed(h100Inputs, "instanceTypes", ["p4de.24xlarge"]))],
                allowed,
            );
            assert.match(
                v.message,
                /node group "h100-group" sets instanceTypes\[0\] to p4de\.24xlarge, which is not an allowed GPU instance type in this stack \(allowed here: p5\.48xlarge, p4d\.24xlarge\)/,
            );
            assert.match(
                v.message,
                /change instanceTypes\[0\] to an allowed type, or allow it in allowedGpuInstanceTypes/,
            );
        });

        it("reports a GPU-AMI node group whose type is not in the catalog", async () => {
            const v = await theViolation(
                gpuInstanceTypeAllowed,
                [h100(changed(h100Inputs, "instanceTypes", ["p6-b200.48xlarge"]))],
                allowed,
            );
            assert.match(
                v.message,
                /p6-b200\.48xlarge, which is not in the catalog \(catalog\/instances\.ts\), so its GPUs cannot be counted or priced/,
            );
        });

        it("reports a launch template's GPU instanceType", async () => {
            const template = resource("aws:ec2/launchTemplate:LaunchTemplate", "gpu-lt", {
                instanceType: "g5.12xlarge",
            });
            assert.match(
                (await theViolation(gpuInstanceTypeAllowed, [template], allowed)).message,
                /launch template "gpu-lt" sets instanceType to g5\.12xlarge/,
            );
        });
    });

    describe("gpu-pool-gpu-limit", () => {
        it("passes a pool within the limit (2 × 8 = 16 GPUs)", async () => {
            assert.deepStrictEqual(await violationsOf(gpuPoolGpuLimit, [h100()], { maxGpusPerPool: 16 }), []);
        });

        it("reports a pool whose maxSize takes it over the limit, with the arithmetic and the size that fits", async () => {
            const v = await theViolation(gpuPoolGpuLimit, [h100(changed(h100Inputs, "scalingConfig.maxSize", 3))], {
                maxGpusPerPool: 16,
            });
            assert.match(
                v.message,
                /node group "h100-group" can scale to 24 GPUs \(scalingConfig\.maxSize 3 × 8 GPUs per p5\.48xlarge\), above the limit of 16 GPUs per pool/,
            );
            assert.match(v.message, /lower scalingConfig\.maxSize to 2 or raise maxGpusPerPool/);
        });
    });

    describe("gpu-stack-gpu-limit", () => {
        const pools = [h100(), h100(changed(h100Inputs, "instanceTypes", ["p4d.24xlarge"]), "a100-group")];

        it("passes when the pools' GPUs add up to the limit (16 + 16)", async () => {
            assert.deepStrictEqual(await violationsOf(gpuStackGpuLimit, pools, { maxGpusPerStack: 32 }), []);
        });

        it("reports the stack when one more node takes the total over, naming each pool's share", async () => {
            const bigger = [
                pools[0],
                h100(
                    changed(changed(h100Inputs, "instanceTypes", ["p4d.24xlarge"]), "scalingConfig.maxSize", 3),
                    "a100-group",
                ),
            ];
            const v = await theViolation(gpuStackGpuLimit, bigger, { maxGpusPerStack: 32 });
            assert.strictEqual(v.urn, null);
            assert.match(
                v.message,
                /can scale to 40 GPUs together \(h100-group 16 and a100-group 24\), above the limit of 32; lower their scalingConfig\.maxSize or raise maxGpusPerStack/,
            );
        });
    });
});

describe("policies: GPU capacity wherever it is launched", () => {
    const LT = "aws:ec2/launchTemplate:LaunchTemplate";
    const template = (instanceType: string, name = "gpu-lt") =>
        resource(
            LT,
            name,
            { instanceType, metadataOptions: { httpTokens: "required" } },
            { outputs: { id: `lt-${name}` } },
        );
    /** The H100 pool with its type in a launch template, as the node pool component could build it. */
    const viaTemplate = (lt = template("p5.48xlarge")) =>
        h100(
            changed(changed(h100Inputs, "instanceTypes", undefined), "launchTemplate", {
                id: `lt-${lt.name}`,
                version: "1",
            }),
        );
    const devAllowlist = { allowedGpuInstanceTypes: ["g5.xlarge", "p4d.24xlarge"] };

    describe("a node group's type from its launch template", () => {
        it("passes the tainted H100 pool whose launch template names p5.48xlarge", async () => {
            assert.deepStrictEqual(await violationsOf(gpuNodeGroupTaint, [template("p5.48xlarge"), viaTemplate()]), []);
        });

        it("reports the untainted group, naming the type its template launches", async () => {
            const untainted = changed(viaTemplate(), "inputs.taints", undefined);
            const v = await theViolation(gpuNodeGroupTaint, [template("p5.48xlarge"), untainted]);
            assert.match(
                v.message,
                /^node group "h100-group" launches GPU instances \(p5\.48xlarge\) but its taints do not include nvidia\.com\/gpu/,
            );
        });

        it("counts the template's GPUs against the pool limit: 3 × 8 = 24 over 16", async () => {
            const bigger = changed(viaTemplate(), "inputs.scalingConfig.maxSize", 3);
            const v = await theViolation(gpuPoolGpuLimit, [template("p5.48xlarge"), bigger], { maxGpusPerPool: 16 });
            assert.match(
                v.message,
                /node group "h100-group" can scale to 24 GPUs \(scalingConfig\.maxSize 3 × 8 GPUs per p5\.48xlarge\)/,
            );
        });

        it("finds the template by the engine's property dependencies when its id is not known yet", async () => {
            const lt = template("p5.48xlarge");
            const group = changed(
                changed(viaTemplate(lt), "inputs.launchTemplate.id", "04da6b54-unknown"),
                "inputs.scalingConfig.maxSize",
                3,
            );
            const linked = { ...group, propertyDependencies: { launchTemplate: [lt.urn] } };
            assert.strictEqual((await violationsOf(gpuPoolGpuLimit, [lt, linked], { maxGpusPerPool: 16 })).length, 1);
        });
    });

    describe("GPU types the catalog does not know", () => {
        it("refuses an accelerated type on a standard AMI, which names no GPU", async () => {
            const unknown = changed(
                changed(h100Inputs, "instanceTypes", ["p6-b200.48xlarge"]),
                "amiType",
                "AL2023_x86_64_STANDARD",
            );
            const v = await theViolation(gpuInstanceTypeAllowed, [h100(unknown)]);
            assert.match(
                v.message,
                /sets instanceTypes\[0\] to p6-b200\.48xlarge, which is not in the catalog \(catalog\/instances\.ts\), so its GPUs cannot be counted or priced/,
            );
        });

        it("refuses one spelled in capitals", async () => {
            const v = await theViolation(gpuInstanceTypeAllowed, [
                h100(changed(h100Inputs, "instanceTypes", ["P5.48XLARGE"])),
            ]);
            assert.match(v.message, /P5\.48XLARGE, which is not in the catalog/);
        });

        it("does not price it at $0: the budget reports that the stack's cost is unknown", async () => {
            const v = await theViolation(
                stackMonthlyBudget,
                [resource("aws:ec2/instance:Instance", "box", { instanceType: "g6.xlarge" })],
                { monthlyBudgetUsd: 100000 },
            );
            assert.strictEqual(v.urn, "urn:pulumi:test::policy-spec::aws:ec2/instance:Instance::box");
            assert.match(
                v.message,
                /^instance "box": g6\.xlarge not in the catalog, GPU capacity not priced: the stack's cost at maximum scale cannot be known/,
            );
        });
    });

    describe("GPU instances outside EKS", () => {
        const instance = (inputs: Record<string, unknown>) =>
            resource("aws:ec2/instance:Instance", "workstation", { ami: "ami-123", ...inputs });
        const asg = (inputs: Record<string, unknown>) =>
            resource("aws:autoscaling/group:Group", "batch", { minSize: 0, maxSize: 2, ...inputs });

        it("passes an allowed GPU instance and a CPU Auto Scaling group", async () => {
            const cpu = asg({
                mixedInstancesPolicy: {
                    launchTemplate: {
                        launchTemplateSpecification: { launchTemplateId: "lt-x" },
                        overrides: [{ instanceType: "m7i.xlarge" }],
                    },
                },
            });
            assert.deepStrictEqual(
                await violationsOf(
                    gpuInstanceTypeAllowed,
                    [instance({ instanceType: "g5.xlarge" }), cpu],
                    devAllowlist,
                ),
                [],
            );
        });

        it("holds an instance, a spot request and a spot fleet to the allowlist", async () => {
            const launched = [
                instance({ instanceType: "p5.48xlarge" }),
                resource("aws:ec2/spotInstanceRequest:SpotInstanceRequest", "cheap", {
                    instanceType: "p4de.24xlarge",
                    spotPrice: "10",
                }),
                resource("aws:ec2/spotFleetRequest:SpotFleetRequest", "fleet", {
                    targetCapacity: 2,
                    launchSpecifications: [{ instanceType: "p5.48xlarge", ami: "ami-1" }],
                }),
            ];
            const messages = (await violationsOf(gpuInstanceTypeAllowed, launched, devAllowlist)).map(
                (v) => v.message.split(", which")[0],
            );
            assert.deepStrictEqual(messages, [
                'instance "workstation" sets instanceType to p5.48xlarge',
                'spot instance request "cheap" sets instanceType to p4de.24xlarge',
                'spot fleet request "fleet" sets launchSpecifications[0].instanceType to p5.48xlarge',
            ]);
        });

        it("reads an Auto Scaling group's mixed-instance overrides, and its launch template's type when there are none", async () => {
            const overrides = asg({
                mixedInstancesPolicy: {
                    launchTemplate: {
                        launchTemplateSpecification: { launchTemplateId: "lt-x" },
                        overrides: [{ instanceType: "m7i.xlarge" }, { instanceType: "p5.48xlarge" }],
                    },
                },
            });
            const v = await theViolation(gpuInstanceTypeAllowed, [overrides], devAllowlist);
            assert.match(
                v.message,
                /^Auto Scaling group "batch" sets mixedInstancesPolicy\.launchTemplate\.overrides\[1\]\.instanceType to p5\.48xlarge, which is not an allowed GPU instance type/,
            );
            const lt = template("p4de.24xlarge");
            const group = asg({ launchTemplate: { id: "lt-gpu-lt" }, maxSize: 5 });
            assert.match(
                (await theViolation(gpuPoolGpuLimit, [lt, group])).message,
                /^Auto Scaling group "batch" can scale to 40 GPUs \(maxSize 5 × 8 GPUs per p4de\.24xlarge\), above the limit of 32/,
            );
        });

        it("refuses attribute-based selection that does not rule out accelerators", async () => {
            const requirements = { vcpuCount: { min: 4 }, memoryMib: { min: 16384 } };
            const group = asg({
                mixedInstancesPolicy: {
                    launchTemplate: {
                        launchTemplateSpecification: { launchTemplateId: "lt-x" },
                        overrides: [{ instanceRequirements: requirements }],
                    },
                },
            });
            const v = await theViolation(gpuInstanceTypeAllowed, [group], devAllowlist);
            assert.match(
                v.message,
                /chooses instance types by attributes \(mixedInstancesPolicy\.launchTemplate\.overrides\[0\]\.instanceRequirements\) .* set mixedInstancesPolicy\.launchTemplate\.overrides\[0\]\.instanceRequirements\.acceleratorCount\.max to 0/,
            );
            const capped = changed(
                group,
                "inputs.mixedInstancesPolicy.launchTemplate.overrides.0.instanceRequirements.acceleratorCount",
                { max: 0 },
            );
            assert.deepStrictEqual(await violationsOf(gpuInstanceTypeAllowed, [capped], devAllowlist), []);
        });

        it("adds instances to the stack's GPUs: a node group's 16 and a p5 instance's 8 are 24", async () => {
            const v = await theViolation(gpuStackGpuLimit, [h100(), instance({ instanceType: "p5.48xlarge" })], {
                maxGpusPerStack: 16,
            });
            assert.match(v.message, /can scale to 24 GPUs together \(h100-group 16 and workstation 8\)/);
        });

        it("prices an Auto Scaling group of GPUs into the stack's budget, weighted capacity counted in instances", async () => {
            // maxSize 8 capacity units at weight 2: at most 4 p5.48xlarge; 4 × $55.04/h × 730 h = $160,716.80.
            const group = asg({
                maxSize: 8,
                mixedInstancesPolicy: {
                    launchTemplate: {
                        launchTemplateSpecification: { launchTemplateId: "lt-x" },
                        overrides: [{ instanceType: "p5.48xlarge", weightedCapacity: "2" }],
                    },
                },
            });
            const v = await theViolation(stackMonthlyBudget, [group], { monthlyBudgetUsd: 150000 });
            assert.match(
                v.message,
                /^at maximum scale the stack costs \$160,716\.80 a month, \$10,716\.80 over its budget/,
            );
        });
    });
});
