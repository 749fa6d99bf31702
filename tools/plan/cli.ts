/**
 * The offline plan: runs a Pulumi program with a stack's config against an offline engine (no
 * credentials, no CLI, no network), then reports what would be created, what the policy pack
 * says and what it would cost.
 *
 * Exit codes: 0 no mandatory violation; 1 mandatory violations; 2 bad input.
 */
import * as path from "path";
import { PolicyConfigError } from "gpu-dev-platform-policies/lib/config-error";
import { HELP, PlanInputError, parseOptions, wantsHelp } from "./options";
import { plan } from "./plan";
import { toJson, toMermaid, toText } from "./render";

const REPO_ROOT = path.resolve(__dirname, "..", "..");

export async function main(argv: string[]): Promise<number> {
    if (wantsHelp(argv)) {
        process.stdout.write(`${HELP}\n`);
        return 0;
    }
    try {
        const options = parseOptions(argv, REPO_ROOT);
        const result = await plan(options);
        const rendered =
            options.format === "json"
                ? toJson(result)
                : options.format === "mermaid"
                  ? toMermaid(result)
                  : toText(result);
        process.stdout.write(`${rendered}\n`);
        return result.violations.some((v) => v.level === "mandatory") ? 1 : 0;
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
