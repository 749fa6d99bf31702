/**
 * The offline plan: runs a Pulumi program with a stack's config under an in-process engine
 * (no credentials, no CLI, no network), then reports what would be created, what the policy
 * pack says and what it would cost.
 *
 * Exit codes: 0 no mandatory violation; 1 mandatory violations; 2 bad input.
 */
import * as path from "path";
import { PolicyConfigError, loadPackConfig, runPolicies } from "../../policies/runner";
import { estimateCost } from "./cost";
import { PlanInputError, parseOptions } from "./options";
import { PlanResult, toJson, toMermaid, toText } from "./render";
import { runProgram } from "./run-program";
import { readProject, resolveStackConfig } from "./stack-config";

const REPO_ROOT = path.resolve(__dirname, "..", "..");

export async function main(argv: string[]): Promise<number> {
    try {
        const options = parseOptions(argv, REPO_ROOT);
        const project = readProject(options.programDir);
        const config = resolveStackConfig(project, options.stack, options.configFile, options.sets);
        const resources = await runProgram(project, options.stack, config);

        const policyConfig = loadPackConfig(options.stack);
        // Recorded resources carry what the policies read: inputs, computed outputs, provider and dependencies.
        const violations = await runPolicies(resources, policyConfig);
        const plan: PlanResult = {
            stack: options.stack,
            program: path.relative(process.cwd(), project.main) || project.main,
            resources,
            violations,
            cost: estimateCost(resources),
            policyConfig: policyConfig.source,
            stackRegion: config[`${project.name}:region`] ?? config["aws:region"],
        };
        const rendered = options.format === "json" ? toJson(plan) : options.format === "mermaid" ? toMermaid(plan) : toText(plan, project.name);
        process.stdout.write(`${rendered}\n`);
        return violations.some((v) => v.level === "mandatory") ? 1 : 0;
    } catch (err) {
        if (err instanceof PlanInputError) {
            for (const line of err.lines) process.stderr.write(`error: ${line}\n`);
            return 2;
        }
        if (err instanceof PolicyConfigError) {
            process.stderr.write(`error: ${err.message}\n`);
            return 2;
        }
        throw err;
    }
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => {
            process.exitCode = code;
        },
        (err: unknown) => {
            // Not a user error: keep the trace, it is a bug in the plan itself.
            console.error(err);
            process.exitCode = 3;
        },
    );
}
