/**
 * The deploy and preview workflows, checked by reading them: GitHub Actions cannot run here. What
 * is checked: each job that runs Pulumi against a stack runs where that stack's Kubernetes API is
 * reachable, and prod's deploy runs after dev's, never after a cancellation. Not checked (needs
 * GitHub, AWS and a runner): that the CodeBuild webhook delivers the job, that the OIDC roles can
 * be assumed, that the runner image has what the steps need.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { named, record, REPO_ROOT, validStackConfig } from "./harness";
import { buildPlatform } from "../platform";

type Job = {
    "runs-on": string;
    if?: string;
    needs?: string | string[];
    steps: { uses?: string; with?: any }[];
    strategy?: any;
};

function workflow(file: string): { jobs: Record<string, Job> } {
    return parse(fs.readFileSync(path.join(REPO_ROOT, ".github/workflows", file), "utf8")) as {
        jobs: Record<string, Job>;
    };
}

/**
 * A GitHub Actions `if:` evaluated for one run (the expression syntax the workflows use: `!`,
 * `&&`, `||`, `==`, `!=`, parentheses, 'strings', dotted names and the status functions). As
 * GitHub does, an expression without a status function is `success() && (…)`.
 */
function evaluateIf(
    expression: string,
    run: { values: Record<string, string>; needsSucceeded: boolean; cancelled: boolean },
): boolean {
    const source = expression.trim().replace(/^\$\{\{([\s\S]*)\}\}$/, "$1");
    const tokens = source.match(/'[^']*'|&&|\|\||==|!=|!|\(|\)|[\w.-]+\(\)|[\w.-]+/g) ?? [];
    let at = 0;
    const statusFunctions = {
        "success()": run.needsSucceeded && !run.cancelled,
        "always()": true,
        "cancelled()": run.cancelled,
        "failure()": !run.needsSucceeded,
    };
    const primary = (): unknown => {
        const token = tokens[at++];
        if (token === "(") {
            const value = or();
            assert.strictEqual(tokens[at++], ")", source);
            return value;
        }
        if (token === "!") return !truthy(primary());
        if (token.startsWith("'")) return token.slice(1, -1);
        if (Object.hasOwn(statusFunctions, token)) return statusFunctions[token as keyof typeof statusFunctions];
        assert.ok(/^[\w.-]+$/.test(token), `unexpected "${token}" in ${source}`);
        return run.values[token] ?? "";
    };
    const comparison = (): unknown => {
        const left = primary();
        if (tokens[at] === "==" || tokens[at] === "!=") {
            const op = tokens[at++];
            const right = primary();
            return op === "==" ? String(left) === String(right) : String(left) !== String(right);
        }
        return left;
    };
    const and = (): unknown => {
        let value = comparison();
        while (tokens[at] === "&&") {
            at++;
            const right = comparison();
            value = truthy(value) && truthy(right);
        }
        return value;
    };
    const or = (): unknown => {
        let value = and();
        while (tokens[at] === "||") {
            at++;
            const right = and();
            value = truthy(value) || truthy(right);
        }
        return value;
    };
    const truthy = (v: unknown) => v !== "" && v !== false && v !== undefined;
    const result = truthy(or());
    assert.strictEqual(at, tokens.length, `did not read all of ${source}`);
    const hasStatus = /\b(success|always|cancelled|failure)\(\)/.test(source);
    return hasStatus ? result : statusFunctions["success()"] && result;
}

/** The stack a job's Pulumi step works on, from its stack-name input. */
function stackOf(step: { with?: any }, matrixStack?: string): string {
    const name = String(step.with["stack-name"]);
    if (name.includes("matrix.stack")) return matrixStack!;
    return /'(\w+)'\s*\}\}$/.exec(name)![1];
}

describe("the deploy and preview workflows", function () {
    // Each builds whole platforms; the machine may be shared.
    this.timeout(120_000);
    const labels: Record<string, string> = {};
    before(async () => {
        for (const stack of ["dev", "prod"]) {
            // The bootstrap phase builds the runner too, and far fewer resources.
            const { resources } = await record(() => buildPlatform({ ...validStackConfig(stack), bootstrap: true }));
            const project = named(
                resources,
                "aws:codebuild/project:Project",
                `gpu-platform-${stack}-deploy-runner-project`,
            );
            // CodeBuild's GitHub Actions runners take jobs labelled codebuild-<project name>-<run id>-<attempt>.
            labels[stack] =
                `codebuild-${project.inputs.name as string}-\${{ github.run_id }}-\${{ github.run_attempt }}`;
        }
    });

    it("runs each stack's Pulumi jobs on that stack's runner in its VPC: hosted runners have no address the API admits", () => {
        for (const stack of ["dev", "prod"]) {
            const cluster = validStackConfig(stack).cluster;
            // Dev admits the office range only; prod's endpoint is private. Neither admits a hosted runner.
            assert.ok(cluster.endpointAccess === "private" || !cluster.publicAccessCidrs?.includes("0.0.0.0/0"), stack);
        }
        const deploy = workflow("deploy.yml").jobs;
        for (const [name, job] of Object.entries(deploy)) {
            const pulumiStep = job.steps.find((s) => s.uses?.startsWith("pulumi/actions"))!;
            assert.strictEqual(job["runs-on"], labels[stackOf(pulumiStep)], `deploy.yml ${name}`);
        }
        const preview = workflow("preview.yml").jobs.preview;
        assert.strictEqual(preview["runs-on"], "${{ matrix.runner }}");
        const stacks = (preview.strategy.matrix.include as { stack: string; runner: string }[]).map(
            ({ stack, runner }) => {
                assert.strictEqual(runner, labels[stack], `preview.yml ${stack}`);
                return stack;
            },
        );
        assert.deepStrictEqual(stacks.sort(), ["dev", "prod"]);
    });

    it("deploys prod after dev succeeded on a push, alone when started for prod, and never after a cancellation", () => {
        const jobs = workflow("deploy.yml").jobs;
        assert.deepStrictEqual([jobs.prod.needs].flat(), ["dev"]);
        const prodRuns = (event: string, input: string, devResult: string, cancelled: boolean) =>
            evaluateIf(jobs.prod.if!, {
                values: { "github.event_name": event, "inputs.stack": input, "needs.dev.result": devResult },
                needsSucceeded: devResult === "success",
                cancelled,
            });
        assert.strictEqual(prodRuns("push", "", "success", false), true, "push, dev deployed");
        assert.strictEqual(prodRuns("push", "", "failure", false), false, "push, dev failed");
        assert.strictEqual(prodRuns("push", "", "success", true), false, "cancelled after dev deployed");
        assert.strictEqual(prodRuns("push", "", "cancelled", true), false, "cancelled during dev");
        assert.strictEqual(prodRuns("workflow_dispatch", "prod", "skipped", false), true, "started by hand for prod");
        assert.strictEqual(
            prodRuns("workflow_dispatch", "prod", "skipped", true),
            false,
            "started for prod, cancelled",
        );
        assert.strictEqual(prodRuns("workflow_dispatch", "dev", "success", false), false, "started by hand for dev");
        const devRuns = (event: string, input: string) =>
            evaluateIf(jobs.dev.if!, {
                values: { "github.event_name": event, "inputs.stack": input },
                needsSucceeded: true,
                cancelled: false,
            });
        assert.deepStrictEqual(
            [devRuns("push", ""), devRuns("workflow_dispatch", "dev"), devRuns("workflow_dispatch", "prod")],
            [true, true, false],
        );
    });

    it("reads an always() condition the way GitHub does: it runs even after a cancellation", () => {
        // The evaluator itself, on the condition issue 21 found in deploy.yml.
        const old =
            "always() && (github.event_name == 'push' && needs.dev.result == 'success' || inputs.stack == 'prod')";
        const values = { "github.event_name": "push", "needs.dev.result": "success" };
        assert.strictEqual(evaluateIf(old, { values, needsSucceeded: true, cancelled: true }), true);
        assert.strictEqual(
            evaluateIf("github.event_name == 'push'", { values, needsSucceeded: false, cancelled: false }),
            false,
            "implicit success()",
        );
    });
});
