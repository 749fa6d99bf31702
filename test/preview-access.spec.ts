/**
 * Issue 21 item 6: CI's `pulumi preview` runs as a read-only role, which needs an EKS access entry
 * of its own to reach the Kubernetes API at all (authentication mode API: no entry, no access).
 * Expected values come from the EKS user guide ("Review access policy permissions":
 * AmazonEKSViewPolicy is the read-only policy; "Create access entries": one entry per principal,
 * a second is refused), not from the code under test.
 */
import * as assert from "assert";
import { configProblems, named, record, validStackConfig } from "./harness";
import { buildPlatform } from "../platform";

const PREVIEW = "arn:aws:iam::123456789012:role/platform-preview";

describe("the preview role's access entry", function () {
    // Each builds whole platforms; the machine may be shared.
    this.timeout(120_000);
    for (const stack of ["dev", "prod"]) {
        it(`gives ${stack}'s preview role AmazonEKSViewPolicy cluster-wide and nothing more`, async () => {
            const config = validStackConfig(stack);
            assert.deepStrictEqual(config.cluster.previewRoleArns, [PREVIEW], `Pulumi.${stack}.yaml names it`);
            const { resources } = await record(() => buildPlatform(config));
            const cluster = named(resources, "eks:index:Cluster", `gpu-platform-${stack}-eks`).inputs as any;
            const entries = Object.values<any>(cluster.accessEntries).filter((e) => e.principalArn === PREVIEW);
            assert.strictEqual(entries.length, 1);
            assert.deepStrictEqual(Object.values(entries[0].accessPolicies), [
                {
                    policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy",
                    accessScope: { type: "cluster" },
                },
            ]);
            assert.strictEqual(entries[0].kubernetesGroups, undefined, "no RBAC group that could add write access");
        });
    }

    it("writes the view policy in the stack's partition", async () => {
        const { resources } = await record(() =>
            buildPlatform({ ...validStackConfig("prod"), region: "us-gov-west-1" }),
        );
        const cluster = named(resources, "eks:index:Cluster", "gpu-platform-prod-eks").inputs as any;
        const view = Object.values<any>(cluster.accessEntries).find((e) => e.principalArn === PREVIEW);
        assert.strictEqual(
            view.accessPolicies.view.policyArn,
            "arn:aws-us-gov:eks::aws:cluster-access-policy/AmazonEKSViewPolicy",
        );
    });

    it("refuses a preview role that already has an access entry, one line per key (EKS allows one entry per role)", () => {
        const problems = configProblems("prod", (raw) => {
            raw.cluster.previewRoleArns = [
                PREVIEW,
                "arn:aws:iam::123456789012:role/platform-deployer",
                "arn:aws:iam::123456789012:role/platform-admin",
                // The same role with a path is the same principal to EKS.
                "arn:aws:iam::123456789012:role/ci/platform-preview",
            ];
            raw.teams[0].iamRoleArn = PREVIEW;
        });
        assert.deepStrictEqual(problems, [
            "cluster.previewRoleArns[1]: is cluster.creatorRoleArn, already cluster admin: use a read-only role",
            "cluster.previewRoleArns[2]: is also in cluster.adminRoleArns; a role has one access entry: use a read-only role",
            "cluster.previewRoleArns[3]: duplicates cluster.previewRoleArns[0]; list each role once",
            "teams[0].iamRoleArn: is cluster.previewRoleArns[0]; a role has one access entry (a second fails with 409): give the team its own role",
        ]);
    });

    it("refuses a preview role that is not an IAM role ARN, naming the key", () => {
        const problems = configProblems("prod", (raw) => (raw.cluster.previewRoleArns = ["platform-preview"]));
        assert.strictEqual(problems.length, 1, problems.join("\n"));
        assert.match(problems[0], /^cluster\.previewRoleArns\.0: |^cluster\.previewRoleArns\[0\]: /);
    });
});
