import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { teamStack, teamStackName, withTeamStack } from "../bench/team-stacks";

/** The stacks `npm run bench` grows in teams: valid stacks, so their plans run to the end. */
describe("bench: prod grown in teams", () => {
    const prodTeams = [
        { name: "ml-research", budget: 120000 },
        { name: "inference", budget: 80000 },
        { name: "applied-ml", budget: 40000 },
    ]; // Pulumi.prod.yaml's teams, in order

    it("names each stack with four characters, as long as prod", () => {
        assert.deepStrictEqual([3, 30, 100].map(teamStackName), ["t003", "t030", "t100"]);
        assert.throws(() => teamStackName(0), /1 to 999/);
        assert.throws(() => teamStackName(1000), /1 to 999/);
    });

    for (const teams of [3, 30, 100]) {
        it(`${teams} teams: each copies a prod team and owns exactly one pipeline`, () => {
            const generated = teamStack(teams);
            const config = generated.stackFile.config as Record<string, unknown>;
            const teamList = config["gpu-platform:teams"] as Array<{ name: string; monthlyBudgetUsd: number }>;
            const pipelines = config["gpu-platform:inferencePipelines"] as Array<{ name: string; team: string }>;
            assert.strictEqual(teamList.length, teams);
            assert.strictEqual(new Set(teamList.map((t) => t.name)).size, teams);
            teamList.forEach((team, i) => {
                const template = prodTeams[i % 3];
                assert.strictEqual(team.name, i < 3 ? template.name : `${template.name}-${i}`);
                assert.strictEqual(team.monthlyBudgetUsd, template.budget);
            });
            assert.deepStrictEqual(
                pipelines.map((p) => p.team),
                teamList.map((t) => t.name),
            );
            assert.strictEqual(new Set(pipelines.map((p) => p.name)).size, teams);
            // prod's own pipeline stays with its team.
            assert.ok(pipelines.some((p) => p.name === "batch-embeddings" && p.team === "inference"));
        });
    }

    it("writes the stack's teams into its policy config and scales the stack budget with them", () => {
        const generated = teamStack(30);
        const policies = generated.policyConfig as Record<string, Record<string, unknown>>;
        assert.strictEqual((policies["team-namespace-label"].teams as string[]).length, 30);
        // policies/config.prod.json: $325,000 for prod's 3 teams; 30 teams: × 10.
        assert.strictEqual(policies["stack-monthly-budget"].monthlyBudgetUsd, 3_250_000);
        // The deploy runner's project is allowed privileged mode under this stack's name.
        assert.deepStrictEqual(policies["codebuild-privileged-mode"].allowedPrivilegedProjects, [
            "gpu-platform-t030-deploy-runner",
        ]);
        assert.strictEqual(
            (teamStack(3).policyConfig["stack-monthly-budget"] as { monthlyBudgetUsd: number }).monthlyBudgetUsd,
            325_000,
        );
    });

    describe("withTeamStack", () => {
        let root: string;
        beforeEach(() => {
            root = fs.mkdtempSync(path.join(os.tmpdir(), "bench-team-stacks-"));
            fs.mkdirSync(path.join(root, "policies"));
        });
        afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

        it("writes both files for the run and removes them after, also when the run fails", async () => {
            const generated = teamStack(3);
            const stackFile = path.join(root, "Pulumi.t003.yaml");
            const policyFile = path.join(root, "policies", "config.t003.json");
            await withTeamStack(
                generated,
                () => {
                    assert.deepStrictEqual(parse(fs.readFileSync(stackFile, "utf8")), generated.stackFile);
                    assert.deepStrictEqual(JSON.parse(fs.readFileSync(policyFile, "utf8")), generated.policyConfig);
                },
                root,
            );
            assert.ok(!fs.existsSync(stackFile) && !fs.existsSync(policyFile));
            await assert.rejects(
                withTeamStack(
                    generated,
                    () => {
                        throw new Error("plan failed");
                    },
                    root,
                ),
                /plan failed/,
            );
            assert.ok(!fs.existsSync(stackFile) && !fs.existsSync(policyFile));
        });

        it("refuses to overwrite a stack file that is already there", async () => {
            fs.writeFileSync(path.join(root, "Pulumi.t003.yaml"), "config: {}\n");
            await assert.rejects(
                withTeamStack(teamStack(3), () => undefined, root),
                /exists already/,
            );
            assert.strictEqual(fs.readFileSync(path.join(root, "Pulumi.t003.yaml"), "utf8"), "config: {}\n");
        });
    });
});
