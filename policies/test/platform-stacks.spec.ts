import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { record, validStackConfig } from "../../test/harness";
import { buildPlatform } from "../../platform";
import type { RecordedResource } from "../../tools/offline/recorder";
import { loadPackConfig, parsePackConfig, runPolicies, Violation } from "../runner";

const show = (violations: Violation[]) => violations.map((v) => `  [${v.level}] ${v.policy} ${v.urn ?? "(stack)"}: ${v.message}`).join("\n");

/**
 * Each stack at maximum scale, per 730-hour month, worked out by hand from the catalog's prices
 * (catalog/instances.ts, catalog/services.ts) and the stack files; each item rounded to the cent.
 */
const MONTHLY_MAX = {
    // system m7i.xlarge 0.2016 × 3 × 730 = 441.50; gpu-dev g5.xlarge 1.006 × 2 × 730 = 1,468.76;
    // a100-shared p4d.24xlarge 21.957642 × 1 × 730 = 16,029.08; EKS 0.10 × 730 = 73.00; one NAT
    // gateway 0.045 × 730 = 32.85; the secrets KMS key 1.00; dev-embeddings' two alarms 0.20;
    // gp3 root volumes at 0.08 per GB-month: system 3 × 50 = 12.00, gpu-dev 2 × 200 = 32.00,
    // a100-shared 1 × 200 = 16.00.
    dev: "18,106.39",
    // system m7i.2xlarge 0.4032 × 10 × 730 = 2,943.36; a100-shared p4d 21.957642 × 4 × 730 = 64,116.31;
    // a100-mig p4de 27.44705 × 4 × 730 = 80,145.39; h100 p5 55.04 × 4 × 730 = 160,716.80; three NAT
    // gateways 98.55; KMS key 1.00; batch-embeddings' two alarms 0.20; EKS 0.10 × 730 = 73.00 while
    // 1.35 is in standard support (until 2027-03-27), then, prod keeping its version (EXTENDED),
    // 0.60 × 730 = 438.00; gp3 root volumes at 0.08 per GB-month: system 10 × 50 = 40.00,
    // a100-shared 4 × 200 = 64.00, a100-mig 4 × 500 = 160.00, h100 4 × 1,000 = 320.00.
    prod: new Date().toISOString().slice(0, 10) <= "2027-03-27" ? "308,678.61" : "309,043.61",
};

for (const stack of ["dev", "prod"] as const) {
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

        it(`knows the stack's teams: the team-namespace-label policy lists the teams of Pulumi.${stack}.yaml`, () => {
            const stackFile = parse(fs.readFileSync(path.join(__dirname, "..", "..", `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, { name: string }[]> };
            const teams = stackFile.config["gpu-platform:teams"].map((t) => t.name);
            assert.deepStrictEqual(loadPackConfig(stack).policies["team-namespace-label"].config.teams, teams);
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

        it(`prices the stack at maximum scale from the catalog: $${MONTHLY_MAX[stack]} a month`, async () => {
            const overAnyBudget = parsePackConfig(JSON.stringify({ all: "disabled", "stack-monthly-budget": { enforcementLevel: "advisory", monthlyBudgetUsd: 0 } }), "spec");
            const [v] = await runPolicies(resources, overAnyBudget);
            assert.ok(v.message.startsWith(`at maximum scale the stack costs $${MONTHLY_MAX[stack]} a month, $${MONTHLY_MAX[stack]} over its budget of $0.00`), v.message);
        });
    });
}
