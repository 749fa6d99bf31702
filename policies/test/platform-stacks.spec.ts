import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { record, validStackConfig } from "../../test/harness";
import { buildPlatform } from "../../platform";
import type { RecordedResource } from "@gpu-platform/offline/recorder";
import { loadPackConfig, parsePackConfig, runPolicies, Violation } from "../runner";

const show = (violations: Violation[]) =>
    violations.map((v) => `  [${v.level}] ${v.policy} ${v.urn ?? "(stack)"}: ${v.message}`).join("\n");

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
    // The cost tracker (Fargate ARM64 $0.03238 per vCPU-hour, $0.00356 per GB-hour): 2 tasks at most
    // × (0.5 × 0.03238 + 1 × 0.00356) × 730 = 28.84; ALB 0.0225 × 730 = 16.43; db.t4g.micro
    // 0.016 × 730 = 11.68, 20 GB gp3 × 0.115 = 2.30, its password's secret 0.40; the API token's
    // secret 0.40; its own database user's secret 0.40; the callers' tokens (the budget gate's, the portal's, and one for
    // each of dev's 2 teams) 4 × 0.40 = 1.60; the database's KMS key 1.00. On the CPU pool (m7i.xlarge: 4 vCPU, 16 GiB,
    // $0.2016/h), each pod at the larger of its CPU and memory shares: Prometheus 250m/1Gi
    // 0.0625 × 0.2016 × 730 = 9.20, kube-state-metrics 50m/128Mi 0.0125 × … = 1.84, node-exporter
    // 20m/32Mi 0.005 × 0.2016 × 6 nodes × 730 = 4.42, OpenCost 100m/256Mi 0.025 × … = 3.68, and
    // Prometheus' 20 GiB gp3 volume × 0.08 = 1.60. Together 82.19.
    // The portal: db.t4g.micro 11.68, 20 GB gp3 2.30, its KMS key 1.00; the ALB of ingress group
    // "portal" 0.0225 × 730 = 16.43; secrets 7 × 0.40 = 2.80 (master, Backstage's, MLflow's and MLflow
    // auth's database users, MLflow's admin, one MLflow user for each of dev's 2 teams); pods on an m7i.xlarge at 0.2016 × 730 per node share: load balancer controller
    // 2 × 100m/128Mi 0.025 each = 7.36, External Secrets 3 × 50m 0.0125 = 5.52, Argo CD's controller
    // 250m/1Gi 0.0625 = 9.20, server 50m 1.84, repo server 100m 3.68, ApplicationSet 50m 1.84,
    // Redis 50m 1.84, MLflow 250m/1Gi 9.20, Backstage 500m/1Gi 0.125 = 18.40. Together 93.09.
    dev: "18,283.27",
    // system m7i.2xlarge 0.4032 × 10 × 730 = 2,943.36; a100-shared p4d 21.957642 × 4 × 730 = 64,116.31;
    // a100-mig p4de 27.44705 × 4 × 730 = 80,145.39; h100 p5 55.04 × 4 × 730 = 160,716.80; three NAT
    // gateways 98.55; KMS key 1.00; batch-embeddings' two alarms 0.20; EKS 0.10 × 730 = 73.00 while
    // 1.35 is in standard support (until 2027-03-27), then, prod keeping its version (EXTENDED),
    // 0.60 × 730 = 438.00; gp3 root volumes at 0.08 per GB-month: system 10 × 50 = 40.00,
    // a100-shared 4 × 200 = 64.00, a100-mig 4 × 500 = 160.00, h100 4 × 1,000 = 320.00.
    // The cost tracker: 4 tasks at most × 0.01975 × 730 = 57.67; ALB 16.43; db.t4g.small Multi-AZ
    // 0.064 × 730 = 46.72, 20 GB gp3 Multi-AZ × 0.23 = 4.60, secrets 0.40 + 0.40 + 0.40 (master, API token, service user) and the callers' tokens (the gate's, the portal's, one for each of
    // prod's 3 teams) 5 × 0.40 = 2.00, KMS key 1.00. On
    // the CPU pool (m7i.2xlarge: 8 vCPU, 32 GiB, $0.4032/h): Prometheus 250m/1536Mi (sized for
    // 22 nodes) 0.046875 × 0.4032 × 730 = 13.80, kube-state-metrics 0.00625 × … = 1.84,
    // node-exporter 0.0025 × 0.4032 × 22 nodes × 730 = 16.19, OpenCost 0.0125 × … = 3.68, the
    // 20 GiB volume 1.60. Together 164.73.
    // The portal: db.t4g.small Multi-AZ 46.72, 20 GB gp3 Multi-AZ 4.60, KMS key 1.00; its ALB 16.43;
    // secrets 8 × 0.40 = 3.20 (dev's five, one more team user); pods on an m7i.2xlarge (half the dev shares): load balancer controller 2 × 3.68,
    // External Secrets 3 × 1.84, Argo CD's controller 9.20, servers 2 × 1.84, repo servers 2 × 3.68,
    // ApplicationSet 2 × 1.84, Redis HA 3 × (100m/256Mi 3.68 + sentinel 20m 0.74) and HAProxy
    // 3 × 1.84, MLflow 2 × 9.20, Backstage 2 × 18.40. Together 182.71.
    prod: "309,028.05",
};
/** After 1.35's standard support ends, prod (EXTENDED) pays 0.60 × 730 = 438.00 for its control plane instead of 73.00. */
const PROD_MONTHLY_MAX_IN_EXTENDED_SUPPORT = "309,393.05";
/** The day the specs price at: any fixed day works; this one is inside 1.35's standard support. */
const PRICED_ON = "2026-12-07";

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
            const stackFile = parse(
                fs.readFileSync(path.join(__dirname, "..", "..", `Pulumi.${stack}.yaml`), "utf8"),
            ) as { config: Record<string, { name: string }[]> };
            const teams = stackFile.config["gpu-platform:teams"].map((t) => t.name);
            assert.deepStrictEqual(loadPackConfig(stack).policies["team-namespace-label"].config.teams, teams);
        });

        it("gets the same verdict from inputs alone, without the fake cloud's outputs", async () => {
            const inputsOnly = resources.map(({ urn, type, name, parent, inputs, provider, dependencies }) => ({
                urn,
                type,
                name,
                parent,
                inputs,
                provider,
                dependencies,
            }));
            assert.deepStrictEqual(await runPolicies(inputsOnly, loadPackConfig(stack)), violations);
        });

        it("is checked, not passed over: without their public access blocks its buckets are reported", async () => {
            const withoutBlocks = resources.filter(
                (r) => r.type !== "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
            );
            const reported = (await runPolicies(withoutBlocks, loadPackConfig(stack))).filter(
                (v) => v.policy === "s3-public-access-blocked",
            );
            const buckets = resources.filter((r) => r.type === "aws:s3/bucket:Bucket").map((r) => r.urn);
            assert.ok(buckets.length > 0);
            assert.deepStrictEqual(
                reported.map((v) => v.urn),
                buckets,
            );
        });

        const pricedAt = async (asOf: string) => {
            const overAnyBudget = parsePackConfig(
                JSON.stringify({
                    all: "disabled",
                    "stack-monthly-budget": { enforcementLevel: "advisory", monthlyBudgetUsd: 0, asOf },
                }),
                "spec",
            );
            const [v] = await runPolicies(resources, overAnyBudget);
            return v.message;
        };
        const costs = (amount: string) =>
            `at maximum scale the stack costs $${amount} a month, $${amount} over its budget of $0.00`;

        it(`prices the stack at maximum scale from the catalog: $${MONTHLY_MAX[stack]} a month`, async () => {
            const message = await pricedAt(PRICED_ON);
            assert.ok(message.startsWith(costs(MONTHLY_MAX[stack])), message);
        });

        if (stack === "prod") {
            it(`prices prod's control plane at the extended-support rate once 1.35 leaves standard support: $${PROD_MONTHLY_MAX_IN_EXTENDED_SUPPORT}`, async () => {
                const message = await pricedAt("2027-03-28");
                assert.ok(message.startsWith(costs(PROD_MONTHLY_MAX_IN_EXTENDED_SUPPORT)), message);
            });
        }
    });
}
