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
            ["policies/config.prod.json team-namespace-label.teams"],
            "and the edited file is stale",
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
