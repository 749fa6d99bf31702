import * as assert from "assert";
import * as path from "path";
import { plan } from "@gpu-platform/plan/plan";
import type { PlanResult } from "@gpu-platform/plan/render";

const REPO_ROOT = path.resolve(__dirname, "..", "..");

/**
 * Plans test/fixtures/transform-team-stack (dev) as the offline plan does: its resources look
 * small where they are declared and grow in transforms, which the offline engine runs as the
 * Pulumi engine does (tools/offline/transforms.ts). Everything is judged and priced after them.
 * Prices by hand from catalog/instances.ts: g5.xlarge $1.006/h (1 A10G), 730 hours a month.
 */
describe("the offline plan runs transforms before judging and pricing (test/fixtures/transform-team-stack)", function () {
    this.timeout(60_000);
    let planned: PlanResult;
    before(async () => {
        planned = await plan({
            programDir: path.join(REPO_ROOT, "test", "fixtures", "transform-team-stack"),
            stack: "dev",
        });
    });

    const byType = (type: string) => {
        const found = planned.resources.find((r) => r.type === type);
        assert.ok(found, `the stack creates a ${type}`);
        return found;
    };
    const messages = (policy: string) => planned.violations.filter((v) => v.policy === policy).map((v) => v.message);

    it("records the node group with the maxSize a stack transform set (24, declared 2), and refuses it", () => {
        const group = byType("aws:eks/nodeGroup:NodeGroup");
        assert.deepStrictEqual(group.inputs.scalingConfig, { minSize: 0, maxSize: 24, desiredSize: 0 });
        assert.match(
            messages("gpu-pool-gpu-limit")[0] ?? "",
            /^node group "a10g" can scale to 24 GPUs \(scalingConfig\.maxSize 24/,
        );
        assert.match(messages("gpu-stack-gpu-limit")[0] ?? "", /can scale to 24 GPUs together/);
    });

    it("prices the node group at the transformed maxSize: 24 × $1.006 × 730 = $17,625.12", () => {
        const item = planned.cost.items.find((i) => i.urn === byType("aws:eks/nodeGroup:NodeGroup").urn && i.gpu);
        assert.strictEqual(item?.monthlyMax, 17625.12);
    });

    it("applies a component's transforms to its child and the older transformations in the SDK: 3 pods of 4 GPUs", () => {
        const deployment = byType("kubernetes:apps/v1:Deployment");
        const spec = deployment.inputs.spec as {
            replicas: number;
            template: { spec: { containers: { resources: unknown }[] } };
        };
        assert.strictEqual(spec.replicas, 3);
        const annotations = (deployment.inputs.metadata as { annotations?: Record<string, string> }).annotations;
        assert.strictEqual(
            annotations?.transforms,
            "own,parent,stack",
            "the engine's order: own, each ancestor's, the stack's",
        );
        assert.deepStrictEqual(spec.template.spec.containers[0].resources, { limits: { "nvidia.com/gpu": "4" } });
        assert.match(messages("gpu-workload-class-limit")[0] ?? "", /^Deployment "chat" asks for 4 GPUs per pod/);
        const item = planned.cost.items.find((i) => i.urn === deployment.urn);
        assert.match(item?.description ?? "", /GPU pods at their most, 12 nvidia\.com\/gpu/);
    });

    it("stops on a transform that throws, with one line naming the resource and the transform's error", async () => {
        await assert.rejects(
            plan({ programDir: path.join(REPO_ROOT, "test", "fixtures", "failing-transform-stack"), stack: "dev" }),
            (err: Error) => {
                assert.match(
                    err.message,
                    /transform of aws:ec2\/instance:Instance "gpu-box" failed: .*instances are not for this team/,
                );
                assert.doesNotMatch(err.message, /\n\s+at /, "no stack trace");
                return true;
            },
        );
    });
});
