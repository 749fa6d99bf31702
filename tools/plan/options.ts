/**
 * The offline plan's command line:
 *   npx gpu-platform-plan --stack <name> [--json | --format tree|json|mermaid] [--config-file FILE] [--set KEY=VALUE]... [--program DIR] [--ts-node]
 */
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
}

/** Bad input to the plan: each line is printed on stderr and the plan exits 2. */
export class PlanInputError extends Error {
    constructor(public readonly lines: string[]) {
        super(lines.join("\n"));
        this.name = "PlanInputError";
    }
}

export const USAGE =
    "usage: npx gpu-platform-plan --stack <name> [--json | --format tree|json|mermaid] [--config-file FILE] [--set KEY=VALUE]... [--program DIR] [--ts-node]";

const FORMATS: readonly OutputFormat[] = ["tree", "json", "mermaid"];

export function parseOptions(argv: string[], defaultProgramDir: string): PlanOptions {
    const problems: string[] = [];
    let stack: string | undefined;
    let format: OutputFormat | undefined;
    let configFile: string | undefined;
    let programDir = defaultProgramDir;
    let tsNode = false;
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
            default:
                problems.push(`unknown flag "${arg}"`);
        }
    }
    if (stack === undefined && !problems.some((p) => p.startsWith("--stack")))
        problems.push("--stack is required, e.g. --stack dev");
    if (problems.length > 0) throw new PlanInputError([...problems, USAGE]);
    return { stack: stack!, format: format ?? "tree", configFile, sets, programDir, tsNode };
}

function pickFormat(current: OutputFormat | undefined, wanted: OutputFormat, problems: string[]): OutputFormat {
    if (current !== undefined && current !== wanted)
        problems.push(`choose one output format: ${current} conflicts with ${wanted}`);
    return wanted;
}
