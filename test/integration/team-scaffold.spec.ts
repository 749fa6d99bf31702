/**
 * A team in an empty folder, with the platform's checkout beside it, types the three commands of
 * docs/team-project.md: `npm init @gpu-platform/team …`, `cd … && npm install`, `npm run plan`.
 * This runs exactly those lines, offline: @gpu-platform/* from the packed tarballs on a loopback
 * registry, everything else from the npm cache (the root's `npm ci` and
 * scripts/prime-team-project-cache.sh fill it). Then it type-checks the project under the
 * tsconfig the initializer wrote and reads the plan as a team would.
 *
 *   npx mocha --no-config --require esbuild-register --timeout 600000 test/integration/team-scaffold.spec.ts
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { PRIME_SCRIPT, pulumiCopies, run, succeeded, type Run } from "./npm-project";
import {
    closeTeamWorkspace,
    documentedCommands,
    openTeamWorkspace,
    runDocumentedCommands,
    type TeamWorkspace,
} from "./team-scaffold";

const PROJECT = "vision-captions";

/** Fails with the fix when the run needed a package the npm cache does not hold. */
function offlineRun(what: string, result: Run): Run {
    if (result.code !== 0 && /ENOTCACHED|127\.0\.0\.1:9\b/.test(result.stderr))
        assert.fail(`${what} needs packages the npm cache lacks: run ${PRIME_SCRIPT} once, online\n${result.stderr}`);
    return succeeded(what, result);
}

describe("a new team project in three commands (docs/team-project.md)", function () {
    this.timeout(600_000);
    let workspace: TeamWorkspace;
    let commands: Run;
    let project: string;

    before(async () => {
        workspace = await openTeamWorkspace({ offline: true });
        project = path.join(workspace.teams, PROJECT);
        commands = offlineRun("the documented commands", await runDocumentedCommands(workspace));
    });

    after(() => closeTeamWorkspace(workspace));

    it("are three commands, and the first names the project this spec reads", () => {
        const lines = documentedCommands();
        assert.strictEqual(lines.length, 3, lines.join("\n"));
        assert.match(lines[0], new RegExp(`^npm init @gpu-platform/team ${PROJECT} -- `));
        assert.strictEqual(lines[1], `cd ${PROJECT} && npm install`);
        assert.strictEqual(lines[2], "npm run plan");
    });

    it("take both packages from the scope's registry and leave one @pulumi/pulumi, on TypeScript 5", () => {
        assert.ok(workspace.registry.requests.includes("200 /@gpu-platform/create-team"), "npm init asked for it");
        assert.ok(workspace.registry.requests.includes("200 /@gpu-platform/components"), "npm install asked for it");
        assert.deepStrictEqual(fs.readdirSync(project).sort(), [
            ".gitignore",
            "Pulumi.dev.yaml",
            "Pulumi.yaml",
            "index.ts",
            "node_modules",
            "package-lock.json",
            "package.json",
            "tsconfig.json",
        ]);
        assert.deepStrictEqual(pulumiCopies(project), [path.join("node_modules", "@pulumi", "pulumi")]);
        const version = (name: string) =>
            (
                JSON.parse(fs.readFileSync(path.join(project, "node_modules", name, "package.json"), "utf8")) as {
                    version: string;
                }
            ).version;
        assert.match(version("typescript"), /^5\./, "a plain install takes TypeScript 6, which is not checked");
        assert.strictEqual(version("@pulumi/pulumi"), "3.248.0");
    });

    it("plan the pipeline on the platform's H100 pool, its outputs, and its monthly cost", () => {
        const plan = commands.stdout.slice(commands.stdout.indexOf("Offline plan of stack dev"));
        for (const [type, name] of [
            ["gpu-platform:inference:InferencePipeline", PROJECT],
            ["aws:sqs/queue:Queue", `${PROJECT}-queue`],
            ["aws:s3/bucket:Bucket", `${PROJECT}-input`],
            ["kubernetes:keda.sh/v1alpha1:ScaledJob", `${PROJECT}-scaled-job`],
        ]) {
            assert.match(plan, new RegExp(`\\+ .*${type.replace(/[./]/g, "\\$&")} +${name}\\n`), `${type} ${name}`);
        }
        assert.match(
            plan,
            /queueUrl {4}: "https:\/\/sqs\.us-east-1\.amazonaws\.com\/123456789012\/vision-captions-queue"/,
        );
        // By hand: 4 workers × 1 GPU at p5.48xlarge's $55.04/h ÷ 8 GPUs = $6.88/h, × 730 h = $20,089.60,
        // plus two CloudWatch alarms at $0.10 = $20,089.80; dev's stack budget is $20,000
        // (policies/config.dev.json), so the advisory budget policy speaks and the plan still exits 0.
        assert.match(
            plan,
            /monthly max \$20,089\.80 of budget \$20,000\.00 \(stack-monthly-budget, advisory\): \$89\.80 over/,
        );
        assert.match(plan, /0 mandatory, 1 advisory/);
    });

    it("type-checks under the tsconfig it wrote: strict, no unchecked index access, exact optional properties, no skipLibCheck", async () => {
        const tsconfig = JSON.parse(fs.readFileSync(path.join(project, "tsconfig.json"), "utf8")) as {
            compilerOptions: Record<string, unknown>;
        };
        for (const option of ["strict", "noUncheckedIndexedAccess", "exactOptionalPropertyTypes"])
            assert.strictEqual(tsconfig.compilerOptions[option], true, option);
        assert.strictEqual(tsconfig.compilerOptions.skipLibCheck, undefined);
        succeeded("tsc --noEmit", await run(path.join("node_modules", ".bin", "tsc"), ["--noEmit"], project));
    });

    it("stops a pool the platform lacks with one line naming the key", async () => {
        const result = await run(
            "npm",
            ["run", "-s", "plan", "--", "--set", `${PROJECT}:pool=a100`],
            project,
            workspace.env,
        );
        assert.strictEqual(result.code, 2, result.stderr);
        assert.match(
            result.stderr,
            /^error: pool: the platform stack has no node pool "a100" \(it has h100, system\)$/m,
        );
    });

    it("refuses a stack the platform's pack does not know, writing nothing", async () => {
        const result = await run(
            "sh",
            ["-c", documentedCommands()[0].replace(PROJECT, "other-team").replace("--stack dev", "--stack qa")],
            workspace.teams,
            workspace.env,
        );
        assert.notStrictEqual(result.code, 0);
        assert.match(
            result.stderr,
            /^error: --stack "qa" has no policy config in the platform \(policies\/config\.<stack>\.json: dev, prod\)$/m,
        );
        assert.ok(!fs.existsSync(path.join(workspace.teams, "other-team")));
    });
});
