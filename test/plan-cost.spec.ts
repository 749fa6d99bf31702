/**
 * The offline plan's cost table (tools/plan/cost.ts) on a hand-made recording: what it prices
 * from a resource's inputs and the cloud's outputs together, and whose team a resource without
 * tags of its own is. Figures worked by hand from catalog/instances.ts (p5.48xlarge $55.04/h)
 * and the gp3 rate ($0.08 per GB-month, Amazon EBS pricing, us-east-1), per 730-hour month.
 */
import * as assert from "assert";
import type { RecordedResource } from "@gpu-platform/offline/recorder";
import { estimateCost } from "@gpu-platform/plan/cost";

const provider = (name: string, team: string): RecordedResource => ({
    urn: `urn:pulumi:dev::platform::pulumi:providers:aws::${name}`,
    type: "pulumi:providers:aws",
    name,
    parent: null,
    custom: true,
    dependencies: [],
    inputs: { defaultTags: JSON.stringify({ tags: { team } }) },
    outputs: {},
});

// The instance type among the inputs, the scaling only among the outputs: the plan prices both.
const h100Group: RecordedResource = {
    urn: "urn:pulumi:dev::platform::aws:eks/nodeGroup:NodeGroup::h100",
    type: "aws:eks/nodeGroup:NodeGroup",
    name: "h100",
    parent: null,
    custom: true,
    dependencies: [],
    inputs: { instanceTypes: ["p5.48xlarge"] },
    outputs: { scalingConfig: { minSize: 0, maxSize: 2, desiredSize: 0 } },
};

describe("offline plan cost table", () => {
    it("prices a node group from its inputs and the cloud's outputs together", () => {
        const estimate = estimateCost([provider("default", "ml-research"), h100Group]);
        // 2 × $55.04 × 730 h = $80,358.40 of GPUs; 2 × 20 GiB gp3 root volumes × $0.08 = $3.20.
        assert.deepStrictEqual(
            [estimate.monthlyIdle, estimate.gpuMonthlyMax, estimate.monthlyMax],
            [0, 80358.4, 80361.6],
        );
    });

    it("gives a resource without tags the team of the stack's only AWS provider", () => {
        const estimate = estimateCost([provider("default", "ml-research"), h100Group]);
        assert.deepStrictEqual(
            estimate.items.map((i) => i.team),
            ["ml-research", "ml-research"],
        );
    });

    it("gives it no team when two AWS providers could be its own", () => {
        const estimate = estimateCost([provider("a", "ml-research"), provider("b", "inference"), h100Group]);
        assert.deepStrictEqual(
            estimate.items.map((i) => i.team),
            [undefined, undefined],
        );
    });
});
