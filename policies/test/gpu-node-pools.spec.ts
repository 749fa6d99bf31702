import * as assert from "assert";
import { gpuInstanceTypeAllowed, gpuNodeGroupTaint, gpuPoolGpuLimit, gpuStackGpuLimit } from "../gpu-node-pools";
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
            const cpu = resource(NODE_GROUP, "system-group", { instanceTypes: ["m7i.xlarge"], amiType: "AL2023_x86_64_STANDARD", scalingConfig: { minSize: 1, maxSize: 3 } });
            assert.deepStrictEqual(await violationsOf(gpuNodeGroupTaint, [h100(), cpu]), []);
        });

        it("reports a GPU node group without taints, naming the taint to add", async () => {
            const v = await theViolation(gpuNodeGroupTaint, [h100(changed(h100Inputs, "taints", undefined))]);
            assert.strictEqual(v.urn, h100().urn);
            assert.match(v.message, /node group "h100-group" launches GPU instances \(p5\.48xlarge\) but its taints do not include nvidia\.com\/gpu/);
            assert.match(v.message, /add \{ key: "nvidia\.com\/gpu", value: "true", effect: "NO_SCHEDULE" \} to taints/);
        });

        it("reports the GPU taint with another effect", async () => {
            const v = await theViolation(gpuNodeGroupTaint, [h100(changed(h100Inputs, "taints.0.effect", "PREFER_NO_SCHEDULE"))]);
            assert.match(v.message, /with taint nvidia\.com\/gpu=true:PREFER_NO_SCHEDULE; set it to \{ key: "nvidia\.com\/gpu", value: "true", effect: "NO_SCHEDULE" \}/);
        });

        it("treats a GPU AMI as a GPU node group even when the catalog does not know its instance type", async () => {
            const unknownType = changed(changed(h100Inputs, "instanceTypes", ["p6-b200.48xlarge"]), "taints", []);
            assert.match((await theViolation(gpuNodeGroupTaint, [h100(unknownType)])).message, /launches GPU instances \(p6-b200\.48xlarge\)/);
        });
    });

    describe("gpu-instance-type-allowed", () => {
        const allowed = { allowedGpuInstanceTypes: ["p5.48xlarge", "p4d.24xlarge"] };

        it("passes allowed GPU types and any CPU type", async () => {
            const cpu = resource(NODE_GROUP, "system-group", { instanceTypes: ["m7i.2xlarge"], scalingConfig: { maxSize: 3 } });
            assert.deepStrictEqual(await violationsOf(gpuInstanceTypeAllowed, [h100(), cpu], allowed), []);
        });

        it("reports a GPU type the stack does not allow, naming instanceTypes and the allowed types", async () => {
            const v = await theViolation(gpuInstanceTypeAllowed, [h100(changed(h100Inputs, "instanceTypes", ["p4de.24xlarge"]))], allowed);
            assert.match(v.message, /node group "h100-group" sets instanceTypes to p4de\.24xlarge, which is not an allowed GPU instance type in this stack \(allowed here: p5\.48xlarge, p4d\.24xlarge\)/);
            assert.match(v.message, /change instanceTypes to an allowed type, or allow it in allowedGpuInstanceTypes/);
        });

        it("reports a GPU-AMI node group whose type is not in the catalog", async () => {
            const v = await theViolation(gpuInstanceTypeAllowed, [h100(changed(h100Inputs, "instanceTypes", ["p6-b200.48xlarge"]))], allowed);
            assert.match(v.message, /p6-b200\.48xlarge, which is not in the catalog \(catalog\/instances\.ts\), so its GPUs cannot be counted or priced/);
        });

        it("reports a launch template's GPU instanceType", async () => {
            const template = resource("aws:ec2/launchTemplate:LaunchTemplate", "gpu-lt", { instanceType: "g5.12xlarge" });
            assert.match((await theViolation(gpuInstanceTypeAllowed, [template], allowed)).message, /launch template "gpu-lt" sets instanceType to g5\.12xlarge/);
        });
    });

    describe("gpu-pool-gpu-limit", () => {
        it("passes a pool within the limit (2 × 8 = 16 GPUs)", async () => {
            assert.deepStrictEqual(await violationsOf(gpuPoolGpuLimit, [h100()], { maxGpusPerPool: 16 }), []);
        });

        it("reports a pool whose maxSize takes it over the limit, with the arithmetic and the size that fits", async () => {
            const v = await theViolation(gpuPoolGpuLimit, [h100(changed(h100Inputs, "scalingConfig.maxSize", 3))], { maxGpusPerPool: 16 });
            assert.match(v.message, /node group "h100-group" can scale to 24 GPUs \(scalingConfig\.maxSize 3 × 8 GPUs per p5\.48xlarge\), above the limit of 16 GPUs per pool/);
            assert.match(v.message, /lower scalingConfig\.maxSize to 2 or raise maxGpusPerPool/);
        });
    });

    describe("gpu-stack-gpu-limit", () => {
        const pools = [h100(), h100(changed(h100Inputs, "instanceTypes", ["p4d.24xlarge"]), "a100-group")];

        it("passes when the pools' GPUs add up to the limit (16 + 16)", async () => {
            assert.deepStrictEqual(await violationsOf(gpuStackGpuLimit, pools, { maxGpusPerStack: 32 }), []);
        });

        it("reports the stack when one more node takes the total over, naming each pool's share", async () => {
            const bigger = [pools[0], h100(changed(changed(h100Inputs, "instanceTypes", ["p4d.24xlarge"]), "scalingConfig.maxSize", 3), "a100-group")];
            const v = await theViolation(gpuStackGpuLimit, bigger, { maxGpusPerStack: 32 });
            assert.strictEqual(v.urn, null);
            assert.match(v.message, /can scale to 40 GPUs together \(h100-group 16 and a100-group 24\), above the limit of 32; lower their scalingConfig\.maxSize or raise maxGpusPerStack/);
        });
    });
});
