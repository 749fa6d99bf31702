import * as assert from "assert";
import * as path from "path";
import { plan } from "@gpu-platform/plan/plan";
import type { PlanResult } from "@gpu-platform/plan/render";
import type { Violation } from "../runner";

const REPO_ROOT = path.resolve(__dirname, "..", "..");

/**
 * Plans test/fixtures/careless-team-stack (dev) as the offline plan does: the program in its
 * own process against the plan's engine, then the pack with policies/config.dev.json.
 */
function planCarelessStack(): Promise<PlanResult> {
    return plan({ programDir: path.join(REPO_ROOT, "test", "fixtures", "careless-team-stack"), stack: "dev" });
}

describe("policies on a careless team stack (test/fixtures/careless-team-stack)", function () {
    this.timeout(60_000);
    let planned: PlanResult;
    before(async () => {
        planned = await planCarelessStack();
    });

    /** The mandatory violations of `policy` against the resource of `type`. */
    function reported(type: string, policy: string): Violation[] {
        const resource = planned.resources.find((r) => r.type === type);
        assert.ok(resource, `the stack creates a ${type}`);
        return planned.violations.filter(
            (v) => v.urn === resource.urn && v.policy === policy && v.level === "mandatory",
        );
    }

    it("reports the untagged bucket: no budget tags, no public access block, no declared encryption", () => {
        assert.match(
            reported("aws:s3/bucket:Bucket", "budget-tags")[0]?.message ?? "",
            /^Bucket "training-data" lacks the tags team, cost-center, environment and budget/,
        );
        assert.match(
            reported("aws:s3/bucket:Bucket", "s3-public-access-blocked")[0]?.message ?? "",
            /has no public access block; create an aws\.s3\.BucketPublicAccessBlock/,
        );
        assert.strictEqual(reported("aws:s3/bucket:Bucket", "s3-default-encryption").length, 1);
    });

    it("reports SSH open to the world", () => {
        const [v] = reported("aws:ec2/securityGroup:SecurityGroup", "no-public-ingress");
        assert.match(
            v?.message ?? "",
            /^security group "notebook-access" opens tcp port 22 to 0\.0\.0\.0\/0 \(ingress\[0\]\.cidrBlocks\)/,
        );
    });

    it("reports the H100 node group without the GPU taint, and with an instance type dev does not allow", () => {
        const [taint] = reported("aws:eks/nodeGroup:NodeGroup", "gpu-node-group-taint");
        assert.match(
            taint?.message ?? "",
            /^node group "h100" launches GPU instances \(p5\.48xlarge\) but its taints do not include nvidia\.com\/gpu/,
        );
        assert.match(
            reported("aws:eks/nodeGroup:NodeGroup", "gpu-instance-type-allowed")[0]?.message ?? "",
            /p5\.48xlarge, which is not an allowed GPU instance type/,
        );
    });

    it("reports the development pod asking for 16 GPUs: over its class's 1, with no limit and no toleration", () => {
        const [overClass] = reported("kubernetes:core/v1:Pod", "gpu-workload-class-limit");
        assert.match(
            overClass?.message ?? "",
            /^Pod "finetune" asks for 16 GPUs per pod \(container "trainer": nvidia\.com\/gpu 16\), above the 1 a "development" pod may take/,
        );
        assert.strictEqual(reported("kubernetes:core/v1:Pod", "gpu-workload-limits").length, 1);
        assert.strictEqual(reported("kubernetes:core/v1:Pod", "gpu-workload-toleration").length, 1);
    });

    it("reports every resource it creates, and nothing it does not", () => {
        const created = planned.resources.filter((r) => r.type !== "pulumi:pulumi:StackReference").map((r) => r.urn);
        const flagged = new Set(planned.violations.filter((v) => v.level === "mandatory").map((v) => v.urn));
        assert.deepStrictEqual(
            created.filter((urn) => !flagged.has(urn)),
            [],
        );
        assert.deepStrictEqual(
            [...flagged].filter((urn) => urn !== null && !created.includes(urn)),
            [],
        );
    });
});
