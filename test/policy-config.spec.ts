/**
 * Issue 21 item 17: the per-stack facts the policy pack reads (teams, the environment, the
 * priority classes' GPU limits) come from the stack config through one command,
 * `npm run policy-config -- --stack <stack>`, and a stale policy config fails the stack's
 * validation (in `pulumi up` and the offline plan) and `npm test` (this spec), naming that
 * command. Everything else in the file stays as people edit it.
 */
import * as assert from "assert";
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { PROJECT, REPO_ROOT, stackConfig } from "./harness";
import {
    PolicyPackSettings,
    policyFactProblems,
    policyPackSettings,
    validatePlatformConfig,
    withPolicyFacts,
} from "../stacks";
import { runPolicyConfig } from "../tools/policy-config/cli";
import { gpuWorkloadTeamQuota } from "gpu-dev-platform-policies/gpu-team-quota";
import { resource, violationsOf } from "gpu-dev-platform-policies/test/support/check";

const fileOf = (stack: string) =>
    JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "policies", `config.${stack}.json`), "utf8")) as Record<
        string,
        any
    >;
const packWith = (stack: string, document: Record<string, unknown>): PolicyPackSettings => ({
    ...policyPackSettings(stack),
    file: { document, project: PROJECT },
});

describe("the policy config's per-stack facts", function () {
    // Each builds whole platforms; the machine may be shared.
    this.timeout(120_000);
    for (const stack of ["dev", "prod"]) {
        it(`policies/config.${stack}.json states Pulumi.${stack}.yaml's facts (else: run npm run policy-config -- --stack ${stack})`, async () => {
            const lines: string[] = [];
            const code = await runPolicyConfig(["--stack", stack, "--check"], (line) => lines.push(line));
            assert.strictEqual(code, 0, lines.join("\n"));
            // The facts, read from the stack file by hand (Pulumi.<stack>.yaml), not through the code under test.
            const teams = (stackConfig(stack).teams as { name: string }[]).map((t) => t.name);
            const doc = fileOf(stack);
            assert.deepStrictEqual(doc["team-namespace-label"].teams, teams);
            assert.deepStrictEqual(doc["budget-tags"].allowedEnvironments, [stackConfig(stack).environment]);
        });
    }

    it("refuses a team added to the stack file alone, one line naming the key and the command", () => {
        const raw = stackConfig("prod");
        (raw.teams as any[]).push({ ...(raw.teams as any[])[0], name: "vision", iamRoleArn: undefined });
        const result = validatePlatformConfig(raw, PROJECT, "prod");
        assert.ok(result.config, "the stack config itself is valid");
        assert.deepStrictEqual(
            policyFactProblems(result.config, packWith("prod", fileOf("prod"))).map((p) => `${p.key}: ${p.message}`),
            [
                'policies/config.prod.json team-namespace-label.teams: is ["ml-research","inference","applied-ml"], but Pulumi.prod.yaml makes it ' +
                    '["ml-research","inference","applied-ml","vision"]: the policy pack would judge this stack by stale facts; ' +
                    "run `npm run policy-config -- --stack prod` and commit the file",
                // Its GPU quota is a fact too, told for the new name alone: the first team's quota (gpus 16) and the pools' defaults.
                "policies/config.prod.json gpu-workload-team-quota.teamGpuQuotas.vision: is unset, but Pulumi.prod.yaml makes it " +
                    '{"nvidia.com/gpu":16,"nvidia.com/gpu.shared":24,"nvidia.com/mig-1g.10gb":16,"nvidia.com/mig-2g.20gb":8,"nvidia.com/mig-3g.40gb":8}: ' +
                    "the policy pack would judge this stack by stale facts; run `npm run policy-config -- --stack prod` and commit the file",
            ],
        );
    });

    it("writes the facts into known keys only: levels, limits and other policies stay as edited", () => {
        const raw = stackConfig("prod");
        (raw.teams as any[]).push({ ...(raw.teams as any[])[0], name: "vision", iamRoleArn: undefined });
        const edited = {
            ...fileOf("prod"),
            "team-namespace-label": "advisory",
            "stack-monthly-budget": { enforcementLevel: "advisory", monthlyBudgetUsd: 1234 },
            "a-policy-added-later": { enforcementLevel: "mandatory", limit: 3 },
        };
        const stale = validatePlatformConfig(raw, PROJECT, "prod", { ...policyPackSettings("prod"), file: undefined });
        assert.ok(stale.config, stale.problems.map((p) => `${p.key}: ${p.message}`).join("\n"));
        const written = withPolicyFacts(edited, stale.config);
        assert.deepStrictEqual(written["team-namespace-label"], {
            enforcementLevel: "advisory",
            teams: ["ml-research", "inference", "applied-ml", "vision"],
        });
        assert.deepStrictEqual(written["stack-monthly-budget"], edited["stack-monthly-budget"]);
        assert.deepStrictEqual(written["a-policy-added-later"], edited["a-policy-added-later"]);
        assert.deepStrictEqual(Object.keys(written), Object.keys(edited), "key order kept");
        assert.deepStrictEqual(policyFactProblems(stale.config, packWith("prod", written)), []);
        assert.deepStrictEqual(
            policyFactProblems(stale.config, packWith("prod", edited)).map((p) => p.key),
            [
                "policies/config.prod.json team-namespace-label.teams",
                "policies/config.prod.json gpu-workload-team-quota.teamGpuQuotas.vision",
            ],
            "and the edited file is stale",
        );
    });

    it("derives each team's GPU quota from its quota in the stack file, as its ResourceQuota gets it", () => {
        // Pulumi.prod.yaml by hand: pools a100-shared (p4d.24xlarge, 8 GPUs x 3 time-slice replicas = 24
        // nvidia.com/gpu.shared), a100-mig (p4de.24xlarge cut into 8 3g.40gb, 8 2g.20gb, 16 1g.10gb), h100
        // (p5.48xlarge, 8 whole GPUs); a team's unset quota is one node's worth of each.
        const pools = {
            "nvidia.com/gpu.shared": 24,
            "nvidia.com/mig-1g.10gb": 16,
            "nvidia.com/mig-2g.20gb": 8,
            "nvidia.com/mig-3g.40gb": 8,
        };
        assert.deepStrictEqual(fileOf("prod")["gpu-workload-team-quota"], {
            enforcementLevel: "mandatory",
            teamGpuQuotas: {
                // quota.gpus: 16
                "ml-research": { "nvidia.com/gpu": 16, ...pools },
                // quota.gpus: 8 and mig 3g.40gb 16, 2g.20gb 8, 1g.10gb 16
                inference: { "nvidia.com/gpu": 8, ...pools, "nvidia.com/mig-3g.40gb": 16 },
                // no quota: the defaults
                "applied-ml": { "nvidia.com/gpu": 8, ...pools },
            },
        });
        // Pulumi.dev.yaml: two time-sliced pools, g5.xlarge (1 GPU x 3 replicas) and p4d.24xlarge (8 x 3 = 24), no
        // whole GPUs, and no team quota set: one node's worth of the larger, 24 shared GPUs each.
        assert.deepStrictEqual(fileOf("dev")["gpu-workload-team-quota"].teamGpuQuotas, {
            "ml-research": { "nvidia.com/gpu.shared": 24 },
            "applied-ml": { "nvidia.com/gpu.shared": 24 },
        });

        const raw = stackConfig("prod");
        (raw.teams as any[])[2].quota = { gpus: 0, sharedGpus: 4 };
        const result = validatePlatformConfig(raw, PROJECT, "prod", { ...policyPackSettings("prod"), file: undefined });
        assert.ok(result.config, result.problems.map((p) => `${p.key}: ${p.message}`).join("\n"));
        const written = withPolicyFacts(fileOf("prod"), result.config) as Record<string, any>;
        // gpus 0 drops the resource (0 to the policy, as to the quota); sharedGpus 4 replaces the default 24.
        assert.deepStrictEqual(written["gpu-workload-team-quota"].teamGpuQuotas["applied-ml"], {
            ...pools,
            "nvidia.com/gpu.shared": 4,
        });
        assert.deepStrictEqual(
            policyFactProblems(result.config, packWith("prod", fileOf("prod"))).map((p) => `${p.key}: ${p.message}`),
            [
                'policies/config.prod.json gpu-workload-team-quota.teamGpuQuotas.applied-ml: is {"nvidia.com/gpu":8,"nvidia.com/gpu.shared":24,' +
                    '"nvidia.com/mig-1g.10gb":16,"nvidia.com/mig-2g.20gb":8,"nvidia.com/mig-3g.40gb":8}, but Pulumi.prod.yaml makes it ' +
                    '{"nvidia.com/gpu.shared":4,"nvidia.com/mig-1g.10gb":16,"nvidia.com/mig-2g.20gb":8,"nvidia.com/mig-3g.40gb":8}: ' +
                    "the policy pack would judge this stack by stale facts; run `npm run policy-config -- --stack prod` and commit the file",
            ],
        );
    });

    it("judges a team stack by the shipped quotas: 3 replicas x 8 GPUs is past ml-research's 16 on the prod cluster", async () => {
        const deployment = (replicas: number) =>
            resource("kubernetes:apps/v1:Deployment", "serve", {
                metadata: { name: "serve", namespace: "ml-research" },
                spec: {
                    replicas,
                    selector: { matchLabels: { app: "serve" } },
                    template: {
                        metadata: { labels: { app: "serve" } },
                        spec: {
                            containers: [
                                { name: "serve", image: "serve:1", resources: { limits: { "nvidia.com/gpu": "8" } } },
                            ],
                        },
                    },
                },
            });
        const prod = { teamGpuQuotas: fileOf("prod")["gpu-workload-team-quota"].teamGpuQuotas };
        assert.deepStrictEqual(await violationsOf(gpuWorkloadTeamQuota, [deployment(2)], prod), []);
        const [refused] = await violationsOf(gpuWorkloadTeamQuota, [deployment(3)], prod);
        assert.match(
            refused.message,
            /^team namespace "ml-research" asks for up to 24 nvidia\.com\/gpu at once .* above its quota of 16 \(teamGpuQuotas in the stack's policy config\)/,
        );
        // The dev cluster has no whole GPUs: one replica is already past its quota (0).
        const dev = { teamGpuQuotas: fileOf("dev")["gpu-workload-team-quota"].teamGpuQuotas };
        assert.match(
            (await violationsOf(gpuWorkloadTeamQuota, [deployment(1)], dev))[0].message,
            /asks for up to 8 nvidia\.com\/gpu at once .* above its quota of 0/,
        );
    });

    it("derives the class limits from the stack's priority classes", () => {
        const raw = stackConfig("dev");
        raw.priorityClasses = [
            { name: "serving", value: 1000, maxGpusPerPod: 2 },
            { name: "development", value: 100, maxGpusPerPod: 1, preempts: false },
        ];
        const noFile = { ...policyPackSettings("dev"), classLimits: [], file: undefined };
        const result = validatePlatformConfig(raw, PROJECT, "dev", noFile);
        const config = result.config;
        assert.ok(config, result.problems.map((p) => `${p.key}: ${p.message}`).join("\n"));
        const written = withPolicyFacts(fileOf("dev"), config) as Record<string, any>;
        for (const policy of ["gpu-workload-priority-class", "gpu-workload-class-limit"])
            assert.deepStrictEqual(written[policy].maxGpusPerPodByClass, { serving: 2, development: 1 }, policy);
    });

    it("fails the offline plan of a stack whose teams changed without the policy config, naming the command", async () => {
        const run = await new Promise<{ code: number; output: string }>((resolve) =>
            execFile(
                process.execPath,
                [path.join(REPO_ROOT, "tools/plan/bin.js"), "--stack", "dev", "--set", "teams[1].name=vision-lab"],
                { cwd: REPO_ROOT },
                (error, stdout, stderr) =>
                    resolve({ code: error ? Number(error.code ?? 1) : 0, output: stdout + stderr }),
            ),
        );
        assert.strictEqual(run.code, 2, run.output);
        assert.match(run.output, /policies\/config\.dev\.json team-namespace-label\.teams: .*"vision-lab"/);
        assert.match(run.output, /run `npm run policy-config -- --stack dev`/);
    });

    it("takes one --stack, names a missing stack file, and exits 2 on bad arguments", async () => {
        const lines: string[] = [];
        assert.strictEqual(await runPolicyConfig(["--stack", "staging"], (l) => lines.push(l)), 2);
        assert.match(lines[0], /^--stack: there is no Pulumi\.staging\.yaml/);
        lines.length = 0;
        assert.strictEqual(await runPolicyConfig(["--stak", "prod"], (l) => lines.push(l)), 2);
        assert.deepStrictEqual(lines.slice(0, 2), ["--stak: unknown argument", "prod: unknown argument"]);
    });
});
