/**
 * `npm run policy-config -- --stack <stack>`: writes the per-stack facts of `Pulumi.<stack>.yaml`
 * (stacks/policy-facts.ts: teams, the environment, the priority classes' GPU limits) into
 * `policies/config.<stack>.json`, the file CI's `pulumi preview` passes to the pack. Every other
 * key of the file is kept as it is. `--check` writes nothing and exits 1 when the file is stale.
 * The file is written as Prettier formats it, so `npm test`'s format check passes.
 */
import * as fs from "fs";
import * as path from "path";
import * as prettier from "prettier";
import { parse } from "yaml";
import { parseJsonOr } from "@gpu-platform/catalog/json";
import { policyPackSettingsOf, validatePlatformConfig, withPolicyFacts } from "../../stacks";

const ROOT = path.resolve(__dirname, "..", "..");
const USAGE = "usage: npm run policy-config -- --stack <stack> [--check]";

interface Options {
    stack: string;
    check: boolean;
}

function parseArgs(argv: string[]): Options | string[] {
    const problems: string[] = [];
    let stack: string | undefined;
    let check = false;
    for (let i = 0; i < argv.length; i++) {
        if (argv[i] === "--check") check = true;
        else if (argv[i] === "--stack") stack = argv[++i];
        else if (argv[i].startsWith("--stack=")) stack = argv[i].slice("--stack=".length);
        else problems.push(`${argv[i]}: unknown argument`);
    }
    if (!stack) problems.push("--stack: required, e.g. --stack prod");
    else if (!/^[\w.-]+$/.test(stack)) problems.push(`--stack: "${stack}" is not a stack name`);
    else if (!fs.existsSync(path.join(ROOT, `Pulumi.${stack}.yaml`)))
        problems.push(`--stack: there is no Pulumi.${stack}.yaml in ${ROOT}`);
    return problems.length > 0 ? problems : { stack: stack!, check };
}

/** The project's config values of a stack file, keyed without the project's namespace, as the program gets them. */
function stackValues(stack: string): { project: string; values: Record<string, unknown> } {
    const project = (parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as { name: string }).name;
    const file = parse(fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as {
        config?: Record<string, unknown>;
    };
    const prefix = `${project}:`;
    const values = Object.fromEntries(
        Object.entries(file.config ?? {})
            .filter(([key]) => key.startsWith(prefix))
            .map(([key, value]) => [key.slice(prefix.length), value]),
    );
    return { project, values };
}

/** Writes (or checks) the file; returns the process's exit code. */
export async function runPolicyConfig(argv: string[], log: (line: string) => void): Promise<number> {
    const options = parseArgs(argv);
    if (Array.isArray(options)) {
        for (const problem of options) log(problem);
        log(USAGE);
        return 2;
    }
    const { project, values } = stackValues(options.stack);
    // Validated without the file's own facts: a stale file must not keep it from being rewritten.
    const noPack = { ...policyPackSettingsOf({}, "no policy config"), classLimits: [] };
    const result = validatePlatformConfig(values, project, options.stack, noPack);
    if (!result.config) {
        log(`Pulumi.${options.stack}.yaml is invalid; fix it first:`);
        for (const p of result.problems) log(`  - ${p.key}: ${p.message}`);
        return 1;
    }
    const file = path.join(ROOT, "policies", `config.${options.stack}.json`);
    const current = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "{}";
    const document = parseJsonOr(current, undefined);
    if (typeof document !== "object" || document === null || Array.isArray(document)) {
        log(`policies/config.${options.stack}.json: is not a JSON object; fix or delete it first`);
        return 1;
    }
    const text = await prettier.format(
        JSON.stringify(withPolicyFacts(document as Record<string, unknown>, result.config)),
        {
            ...(await prettier.resolveConfig(file)),
            filepath: file,
        },
    );
    if (text === current) {
        log(`policies/config.${options.stack}.json is up to date with Pulumi.${options.stack}.yaml`);
        return 0;
    }
    if (options.check) {
        log(
            `policies/config.${options.stack}.json is stale; run \`npm run policy-config -- --stack ${options.stack}\``,
        );
        return 1;
    }
    fs.writeFileSync(file, text);
    log(`wrote the facts of Pulumi.${options.stack}.yaml into policies/config.${options.stack}.json`);
    return 0;
}

if (require.main === module) {
    runPolicyConfig(process.argv.slice(2), (line) => console.log(line)).then(
        (code) => (process.exitCode = code),
        (err: unknown) => {
            console.error(err instanceof Error ? err.message : String(err));
            process.exitCode = 1;
        },
    );
}
