/**
 * Runs a Pulumi program under the offline plan's engine and then the pack, the way the plan's
 * CLI does, and prints `{ resources, violations }` as JSON. A separate process, because the
 * engine installs its own mocks, which must not meet the test harness' ones.
 *
 *   node -r esbuild-register policies/test/support/plan-program.ts <program dir> <stack>
 */
import * as path from "path";
import { runProgram } from "../../../tools/plan/run-program";
import { readProject, resolveStackConfig } from "../../../tools/plan/stack-config";
import { loadPackConfig, runPolicies } from "../../runner";

async function main([dir, stack]: string[]): Promise<void> {
    const project = readProject(path.resolve(dir));
    const resources = await runProgram(project, stack, resolveStackConfig(project, stack, undefined, []));
    const violations = await runPolicies(resources, loadPackConfig(stack));
    process.stdout.write(JSON.stringify({ resources: resources.map(({ urn, type, name }) => ({ urn, type, name })), violations }));
}

main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
});
