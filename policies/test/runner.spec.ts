import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { ALL_POLICIES } from "../all-policies";
import { PolicyConfigError } from "../lib/config-error";
import { loadPackConfig, parsePackConfig, runPolicies } from "../runner";
import { resource } from "./support/check";

const POLICY_MODULES = [
    "argocd-applications",
    "argocd-projects",
    "cluster-admin",
    "codebuild",
    "compute",
    "data-stores",
    "ecr",
    "ecs",
    "ecs-task-definitions",
    "eks",
    "encryption",
    "gpu-node-pools",
    "gpu-operator",
    "gpu-team-quota",
    "gpu-workloads",
    "helm-secrets",
    "iam",
    "iam-actions",
    "iam-least-privilege",
    "listeners",
    "load-balancers",
    "namespaces",
    "network",
    "rds",
    "resource-policies",
    "stack-budget",
    "storage",
    "tags",
    "team-admission",
];

function configError(text: string): string {
    try {
        parsePackConfig(text, "policies/config.test.json");
    } catch (err) {
        assert.ok(err instanceof PolicyConfigError, String(err));
        return err.message;
    }
    assert.fail("expected a PolicyConfigError");
}

describe("policies: runner", () => {
    describe("the pack", () => {
        it("holds every policy its modules export, each named in kebab-case, described, with a default for every setting", () => {
            const exported = POLICY_MODULES.flatMap((m) =>
                Object.values(require(`../${m}`) as Record<string, unknown>),
            ).filter(
                (v): v is (typeof ALL_POLICIES)[number] =>
                    typeof v === "object" && v !== null && ("validateResource" in v || "validateStack" in v),
            );
            assert.deepStrictEqual(new Set(exported), new Set(ALL_POLICIES));
            assert.strictEqual(new Set(ALL_POLICIES.map((p) => p.name)).size, ALL_POLICIES.length, "names are unique");
            for (const policy of ALL_POLICIES) {
                assert.match(policy.name, /^[a-z0-9]+(-[a-z0-9]+)*$/);
                assert.ok(policy.description.length > 40, `${policy.name} says what it checks`);
                for (const [key, schema] of Object.entries(policy.configSchema?.properties ?? {}))
                    assert.notStrictEqual(schema.default, undefined, `${policy.name}.${key} has a default`);
            }
        });

        it("builds the PolicyPack in index.ts from the same list (index.ts itself starts a server, so it is read, not imported)", () => {
            const index = fs.readFileSync(path.join(__dirname, "..", "index.ts"), "utf8");
            assert.match(index, /import \{ ALL_POLICIES, PACK_NAME \} from "\.\/all-policies";/);
            assert.match(index, /new PolicyPack\(PACK_NAME, \{[\s\S]*policies: \[\.\.\.ALL_POLICIES\]/);
        });
    });

    describe("loadPackConfig", () => {
        it("reads each stack's file: every policy set explicitly, the budget advisory in dev and mandatory in prod", () => {
            for (const stack of ["dev", "prod"]) {
                const file = JSON.parse(
                    fs.readFileSync(path.join(__dirname, "..", `config.${stack}.json`), "utf8"),
                ) as Record<string, unknown>;
                assert.deepStrictEqual(
                    Object.keys(file).sort(),
                    ALL_POLICIES.map((p) => p.name).sort(),
                    `config.${stack}.json names every policy`,
                );
            }
            const dev = loadPackConfig("dev");
            const prod = loadPackConfig("prod");
            assert.match(dev.source, /policies\/config\.dev\.json$/);
            assert.strictEqual(dev.policies["stack-monthly-budget"].enforcementLevel, "advisory");
            assert.strictEqual(prod.policies["stack-monthly-budget"].enforcementLevel, "mandatory");
            assert.deepStrictEqual(dev.policies["gpu-instance-type-allowed"].config.allowedGpuInstanceTypes, [
                "g5.xlarge",
                "p4d.24xlarge",
            ]);
            assert.deepStrictEqual(prod.policies["gpu-instance-type-allowed"].config.allowedGpuInstanceTypes, [
                "p4d.24xlarge",
                "p4de.24xlarge",
                "p5.48xlarge",
            ]);
            assert.strictEqual(prod.policies["eks-private-endpoint"].config.requirePrivateEndpoint, true);
            assert.strictEqual(dev.policies["eks-private-endpoint"].config.requirePrivateEndpoint, false);
        });

        it("runs a stack without a file at the levels and limits policies/README.md lists as defaults", async () => {
            const config = loadPackConfig("staging");
            assert.strictEqual(config.source, "pack defaults", "what the plan reports as the policy config");
            // One p5.48xlarge at most: 8 GPUs, within the default 32 per pool and every catalog GPU type allowed;
            // 55.04 × 730 = $40,179.20 a month, plus its default 20 GiB gp3 root volume at $0.08 per GB-month,
            // $1.60: $40,180.80, over the default budget of $25,000 (advisory); environment
            // "staging" is not one of the default allowed environments, dev and prod (mandatory).
            const h100 = resource("aws:eks/nodeGroup:NodeGroup", "h100", {
                instanceTypes: ["p5.48xlarge"],
                amiType: "AL2023_x86_64_NVIDIA",
                scalingConfig: { minSize: 0, maxSize: 1, desiredSize: 0 },
                taints: [{ key: "nvidia.com/gpu", value: "true", effect: "NO_SCHEDULE" }],
                tags: { team: "vision", "cost-center": "CC-2001", environment: "staging", budget: "vision-staging" },
            });
            const violations = await runPolicies([h100], config);
            assert.deepStrictEqual(
                violations.map((v) => [v.policy, v.level, v.message.split(";")[0]]),
                [
                    ["budget-tags", "mandatory", 'NodeGroup "h100" tag environment is "staging"'],
                    [
                        "stack-monthly-budget",
                        "advisory",
                        "at maximum scale the stack costs $40,180.80 a month, $15,180.80 over its budget of $25,000.00 (largest: node group h100: p5.48xlarge × 0–1 (on-demand, $55.04/h): $40,179.20",
                    ],
                    // No launch template: EKS gives the nodes the AMI's root volume, unencrypted (ebs-encrypted, mandatory by default).
                    [
                        "ebs-encrypted",
                        "mandatory",
                        `node group "h100" has no launch template, so EKS creates its nodes' root volumes as the AMI has them, unencrypted`,
                    ],
                ],
            );
        });
    });

    describe("parsePackConfig", () => {
        it("applies 'all', then each policy's own level; keeps schema defaults under the file's values", () => {
            const config = parsePackConfig(
                JSON.stringify({
                    all: "advisory",
                    "budget-tags": "disabled",
                    "gpu-pool-gpu-limit": { maxGpusPerPool: 4 },
                }),
                "x",
            );
            assert.strictEqual(config.policies["budget-tags"].enforcementLevel, "disabled");
            assert.strictEqual(config.policies["gpu-pool-gpu-limit"].enforcementLevel, "advisory");
            assert.deepStrictEqual(config.policies["gpu-pool-gpu-limit"].config, { maxGpusPerPool: 4 });
            assert.deepStrictEqual(config.policies["stack-monthly-budget"].config, {
                monthlyBudgetUsd: 25000,
                largestItems: 3,
                asOf: "",
            });
        });

        it("rejects a file that does not parse, in one line naming the file", () => {
            const message = configError('{ "budget-tags": "mandatory", }');
            assert.match(message, /^policies\/config\.test\.json: does not parse as JSON: .+$/);
            assert.ok(!message.includes("\n"));
        });

        it("rejects unknown policies, unknown settings, bad levels and values of the wrong type, all on one line", () => {
            const message = configError(
                JSON.stringify({
                    "budget-tag": "mandatory",
                    "gpu-pool-gpu-limit": { maxGpusPerPol: 8 },
                    "sqs-encryption": "strict",
                    "stack-monthly-budget": { monthlyBudgetUsd: "lots" },
                    "gpu-operator-sharing": { allowedTimeSliceReplicas: [2, 3.5] },
                }),
            );
            assert.ok(!message.includes("\n"));
            assert.match(
                message,
                /^policies\/config\.test\.json: unknown policy "budget-tag" \(the pack has gpu-node-group-taint, /,
            );
            assert.match(message, /; "gpu-pool-gpu-limit" has no setting "maxGpusPerPol" \(it takes maxGpusPerPool\)/);
            assert.match(
                message,
                /; "sqs-encryption"\.enforcementLevel is "strict"; use one of advisory, mandatory, remediate, disabled/,
            );
            assert.match(message, /; "stack-monthly-budget"\.monthlyBudgetUsd is "lots"; must be of type number/);
            assert.match(
                message,
                /; "gpu-operator-sharing"\.allowedTimeSliceReplicas \[1\] is 3\.5; must be of type integer$/,
            );
        });
    });

    describe("runPolicies", () => {
        const untagged = resource("aws:s3/bucket:Bucket", "datasets", {});

        it("reports each violation with its policy, level, urn (null for the stack) and message", async () => {
            const violations = await runPolicies(
                [untagged],
                parsePackConfig(
                    JSON.stringify({
                        all: "disabled",
                        "budget-tags": "advisory",
                        "s3-public-access-blocked": "mandatory",
                    }),
                    "x",
                ),
            );
            assert.deepStrictEqual(
                violations.map((v) => [Object.keys(v), v.policy, v.level, v.urn]),
                [
                    [["policy", "level", "urn", "message"], "budget-tags", "advisory", untagged.urn],
                    [["policy", "level", "urn", "message"], "s3-public-access-blocked", "mandatory", untagged.urn],
                ],
            );
        });

        it("runs no disabled policy, and treats remediate as mandatory, as the engine does", async () => {
            assert.deepStrictEqual(
                await runPolicies([untagged], parsePackConfig(JSON.stringify({ all: "disabled" }), "x")),
                [],
            );
            const [v] = await runPolicies(
                [untagged],
                parsePackConfig(JSON.stringify({ all: "disabled", "budget-tags": "remediate" }), "x"),
            );
            assert.strictEqual(v.level, "mandatory");
        });
    });
});
