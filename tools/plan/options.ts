/**
 * The offline plan's command line:
 *   npx gpu-platform-plan --stack <name> [--json | --format tree|json|mermaid] [--config-file FILE] [--set KEY=VALUE]... [--program DIR] [--policy-config STACK] [--ts-node]
 *   npx gpu-platform-plan --help
 */
import * as fs from "fs";
import * as path from "path";

export type OutputFormat = "tree" | "json" | "mermaid";

export interface PlanOptions {
    readonly stack: string;
    readonly format: OutputFormat;
    /** A stack-format YAML file whose values replace the stack's. */
    readonly configFile?: string;
    /** `KEY=VALUE` overrides, applied last, in order. */
    readonly sets: string[];
    /** The Pulumi TypeScript program to run (a folder with Pulumi.yaml). */
    readonly programDir: string;
    /** Load TypeScript with ts-node, type-checked, as Pulumi's language host does, instead of esbuild. */
    readonly tsNode: boolean;
    /**
     * The platform stack whose policy config (policies/config.<name>.json) judges the plan; default
     * `stack`. A team's stack names the platform stack whose cluster it deploys to.
     */
    readonly policyStack?: string;
}

/** Bad input to the plan: each line is printed on stderr and the plan exits 2. */
export class PlanInputError extends Error {
    constructor(public readonly lines: string[]) {
        super(lines.join("\n"));
        this.name = "PlanInputError";
    }
}

export const USAGE =
    "usage: npx gpu-platform-plan --stack <name> [--json | --format tree|json|mermaid] [--config-file FILE] [--set KEY=VALUE]... [--program DIR] [--policy-config STACK] [--ts-node] [--help]";

/** What `--help` prints: every flag, what it does, the exit codes. */
export const HELP = [
    USAGE,
    "",
    "Runs the Pulumi program with a stack's config offline (no AWS account, no Pulumi CLI, no network), then prints",
    "what it would create, what the policy pack says (policies/config.<stack>.json) and what it would cost a month.",
    "",
    "flags:",
    "  --stack NAME           read Pulumi.NAME.yaml (required)",
    "  --config-file FILE     a file in the stack-file format; each key in it replaces the stack's",
    "  --set KEY=VALUE        one override, applied last: region=eu-west-1, nodePools.h100.maxSize=8, teams[0].monthlyBudgetUsd=9000",
    "  --program DIR          plan the Pulumi program in DIR (a team's own project) instead of this repository's",
    "  --policy-config STACK  judge with policies/config.STACK.json: for a team's stack, the platform stack whose cluster it",
    "                         deploys to (default: the --stack name)",
    "  --ts-node              load TypeScript with ts-node, type-checked, as Pulumi's language host does (slower)",
    "  --json                 one JSON document on stdout, nothing else (same as --format json)",
    "  --format FORMAT        tree (default), json, or mermaid (a flowchart of the components)",
    "  --help, -h             print this and exit",
    "",
    "exit codes: 0 no mandatory policy violation; 1 a mandatory violation; 2 bad input (one line per problem on stderr)",
].join("\n");

/** True when the command line asks for the help text, whatever else it holds. */
export function wantsHelp(argv: string[]): boolean {
    return argv.some((arg) => arg === "--help" || arg === "-h");
}

const FORMATS: readonly OutputFormat[] = ["tree", "json", "mermaid"];

export function parseOptions(argv: string[], defaultProgramDir: string): PlanOptions {
    const problems: string[] = [];
    let stack: string | undefined;
    let format: OutputFormat | undefined;
    let configFile: string | undefined;
    let programDir = defaultProgramDir;
    let tsNode = false;
    let policyStack: string | undefined;
    const sets: string[] = [];

    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        const [flag, inline] =
            arg.startsWith("--") && arg.includes("=")
                ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
                : [arg, undefined];
        const value = (): string | undefined => {
            if (inline !== undefined) return inline;
            const next = argv[i + 1];
            if (next === undefined || next.startsWith("--")) {
                problems.push(`${flag} needs a value`);
                return undefined;
            }
            i++;
            return next;
        };
        switch (flag) {
            case "--stack": {
                const given = value();
                if (given !== undefined && stack !== undefined && given !== stack)
                    problems.push(`--stack given twice ("${stack}" and "${given}"); plan one stack at a time`);
                stack = given ?? stack;
                break;
            }
            case "--json":
                format = pickFormat(format, "json", problems);
                break;
            case "--format": {
                const requested = value();
                if (requested === undefined) break;
                if (!FORMATS.includes(requested as OutputFormat))
                    problems.push(`--format must be one of ${FORMATS.join(", ")} (found "${requested}")`);
                else format = pickFormat(format, requested as OutputFormat, problems);
                break;
            }
            case "--config-file":
                configFile = value();
                break;
            case "--set": {
                const assignment = value();
                if (assignment === undefined) break;
                if (!/^[^=]+=/.test(assignment)) problems.push(`--set takes KEY=VALUE (found "${assignment}")`);
                else sets.push(assignment);
                break;
            }
            case "--program": {
                const dir = value();
                if (dir !== undefined) programDir = path.resolve(dir);
                break;
            }
            case "--ts-node":
                tsNode = true;
                break;
            case "--policy-config":
                policyStack = platformPolicyStack(value(), problems) ?? policyStack;
                break;
            default:
                problems.push(`unknown flag "${arg}"`);
        }
    }
    if (stack === undefined && !problems.some((p) => p.startsWith("--stack")))
        problems.push("--stack is required, e.g. --stack dev");
    if (problems.length > 0) throw new PlanInputError([...problems, USAGE]);
    return { stack: stack!, format: format ?? "tree", configFile, sets, programDir, tsNode, policyStack };
}

const POLICY_DIR = path.resolve(__dirname, "..", "..", "policies");

/** A platform stack that has a policy config, or a problem naming the ones there are. */
function platformPolicyStack(name: string | undefined, problems: string[]): string | undefined {
    if (name === undefined) return undefined;
    const known = fs
        .readdirSync(POLICY_DIR)
        .map((file) => /^config\.([\w.-]+)\.json$/.exec(file)?.[1])
        .filter((stack): stack is string => stack !== undefined);
    if (known.includes(name)) return name;
    problems.push(
        `--policy-config: "${name.slice(0, 60)}" is no platform stack with a policy config (policies/config.<stack>.json: ${known.join(", ")})`,
    );
    return undefined;
}

function pickFormat(current: OutputFormat | undefined, wanted: OutputFormat, problems: string[]): OutputFormat {
    if (current !== undefined && current !== wanted)
        problems.push(`choose one output format: ${current} conflicts with ${wanted}`);
    return wanted;
}
