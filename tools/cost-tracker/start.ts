/**
 * `npm run cost-tracker -- [--demo]` at the repository root: starts the service
 * (services/cost-tracker's own `start` script). With --demo and no config document of the
 * caller's (COST_TRACKER_CONFIG or COST_TRACKER_CONFIG_JSON), it hands the service the prod
 * stack's document as COST_TRACKER_CONFIG_JSON, the variable the CostTracker component sets on
 * Fargate, so the service reads its config one way everywhere and never reads stack files.
 *
 * It stays the parent of the service and passes on the signals a process manager sends (npm
 * forwards them to this process), so stopping `npm run cost-tracker` stops the server.
 */
import { spawn } from "child_process";
import { PlanInputError } from "@gpu-platform/plan/options";
import { costTrackerConfigFromStack, StackConfigError } from "./stack-config";

const FORWARDED_SIGNALS: NodeJS.Signals[] = ["SIGTERM", "SIGINT", "SIGHUP"];

/** The environment the service starts with: the caller's, plus the prod stack's document for a demo without one. */
export function serviceEnvironment(
    env: NodeJS.ProcessEnv,
    args: readonly string[],
    stackDocument: () => unknown,
): NodeJS.ProcessEnv {
    const hasDocument = Boolean(env.COST_TRACKER_CONFIG) || Boolean(env.COST_TRACKER_CONFIG_JSON);
    if (!args.includes("--demo") || hasDocument) return env;
    return { ...env, COST_TRACKER_CONFIG_JSON: JSON.stringify(stackDocument()) };
}

function main(args: string[]): void {
    let env: NodeJS.ProcessEnv;
    try {
        env = serviceEnvironment(process.env, args, () => costTrackerConfigFromStack("prod"));
    } catch (err) {
        // A project or stack file that cannot be read, or a config that does not validate: the lines say which key.
        if (!(err instanceof StackConfigError) && !(err instanceof PlanInputError)) throw err;
        process.stderr.write(`cost tracker: ${err.message}\n`);
        process.exit(1);
    }
    const service = spawn("npm", ["run", "-s", "start", "-w", "services/cost-tracker", "--", ...args], {
        stdio: "inherit",
        env,
    });
    for (const signal of FORWARDED_SIGNALS) process.on(signal, () => service.kill(signal));
    service.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

if (require.main === module) main(process.argv.slice(2));
