import * as assert from "assert";
import { record, validStackConfig } from "../../test/harness";
import { buildPlatform } from "../../platform";
import { estimateCost } from "../../tools/plan/cost";
import type { RecordedResource } from "../../tools/offline/recorder";
import { loadPackConfig, parsePackConfig, runPolicies, Violation } from "../runner";

const show = (violations: Violation[]) => violations.map((v) => `  [${v.level}] ${v.policy} ${v.urn ?? "(stack)"}: ${v.message}`).join("\n");

for (const stack of ["dev", "prod"]) {
    describe(`policies on the platform's ${stack} stack`, () => {
        let resources: RecordedResource[];
        let violations: Violation[];
        before(async () => {
            ({ resources } = await record(() => buildPlatform(validStackConfig(stack))));
            violations = await runPolicies(resources, loadPackConfig(stack));
        });

        it("has no mandatory violation (advisory ones are listed when the assertion fails)", () => {
            assert.deepStrictEqual(
                violations.filter((v) => v.level === "mandatory"),
                [],
                `policies/config.${stack}.json violations:\n${show(violations)}`,
            );
        });

        it("gets the same verdict from inputs alone, without the fake cloud's outputs", async () => {
            const inputsOnly = resources.map(({ urn, type, name, parent, inputs, provider, dependencies }) => ({ urn, type, name, parent, inputs, provider, dependencies }));
            assert.deepStrictEqual(await runPolicies(inputsOnly, loadPackConfig(stack)), violations);
        });

        it("is checked, not passed over: without their public access blocks its buckets are reported", async () => {
            const withoutBlocks = resources.filter((r) => r.type !== "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock");
            const reported = (await runPolicies(withoutBlocks, loadPackConfig(stack))).filter((v) => v.policy === "s3-public-access-blocked");
            const buckets = resources.filter((r) => r.type === "aws:s3/bucket:Bucket").map((r) => r.urn);
            assert.ok(buckets.length > 0);
            assert.deepStrictEqual(reported.map((v) => v.urn), buckets);
        });

        it("prices the stack exactly as the offline plan's cost table does", async () => {
            const overAnyBudget = parsePackConfig(JSON.stringify({ all: "disabled", "stack-monthly-budget": { enforcementLevel: "advisory", monthlyBudgetUsd: 0 } }), "spec");
            const [v] = await runPolicies(resources, overAnyBudget);
            const planned = estimateCost(resources).monthlyMax.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
            assert.match(v.message, new RegExp(`^at maximum scale the stack costs \\$${planned.replace(/[.,]/g, "\\$&")} a month`));
        });
    });
}
