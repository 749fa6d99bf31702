/**
 * The initializer's command line, checked against the platform's checkout before anything is
 * written: every problem is one line naming its argument, all reported at once.
 *
 *   npm init @gpu-platform/team <dir> -- --team <team> --stack <stack> --platform <checkout>
 */
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";

export const USAGE =
    "usage: npm init @gpu-platform/team <dir> -- --team <team> --stack <stack> --platform <platform checkout>";

export const HELP = [
    USAGE,
    "",
    "Writes a team's own Pulumi project into <dir> (a new or empty folder): Pulumi.yaml, Pulumi.<stack>.yaml,",
    "package.json, tsconfig.json, index.ts (a batch inference pipeline on the platform's GPU cluster) and .gitignore.",
    "Then: cd <dir> && npm install && npm run plan",
    "",
    "arguments:",
    "  <dir>                  the project's folder; its name is the project's name (lowercase letters, digits, dashes)",
    "  --team TEAM            one of the platform's teams (<platform project>:teams in its Pulumi.prod.yaml)",
    "  --stack STACK          the project's first stack: one the platform's pack has a config for (policies/config.<stack>.json)",
    "  --platform DIR         the platform's checkout, with npm ci done: `npm run plan` runs its offline plan and pack",
    "  --help, -h             print this and exit",
].join("\n");

/** The platform stack whose cluster every team's stacks share (examples/team-stack reads it too). */
export const PLATFORM_STACK = "prod";

/** A project name that is also a valid npm package name, Pulumi project name and S3 bucket name prefix. */
const PROJECT_NAME = /^[a-z][a-z0-9-]{1,38}[a-z0-9]$/;

export interface ScaffoldRequest {
    /** The project's folder, absolute. */
    readonly dir: string;
    /** The folder's name: the Pulumi project, the npm package and the pipeline. */
    readonly project: string;
    readonly team: string;
    /** The team's cost center, from the platform's stack config. */
    readonly costCenter: string;
    readonly stack: string;
    /** The platform's checkout, absolute. */
    readonly platformDir: string;
    /** The platform's Pulumi project name (its Pulumi.yaml). */
    readonly platformProject: string;
}

/** Bad input: one line per problem; the initializer prints them, then USAGE, and writes nothing. */
export class ScaffoldInputError extends Error {
    constructor(public readonly lines: string[]) {
        super(lines.join("\n"));
        this.name = "ScaffoldInputError";
    }
}

interface RawArguments {
    readonly positionals: string[];
    readonly flags: Map<string, string>;
}

export function wantsHelp(argv: string[]): boolean {
    return argv.some((arg) => arg === "--help" || arg === "-h");
}

/** Parses and checks the command line; `cwd` resolves relative paths. Throws ScaffoldInputError. */
export function resolveRequest(argv: string[], cwd: string): ScaffoldRequest {
    const problems: string[] = [];
    const { positionals, flags } = splitArguments(argv, problems);
    if (positionals.length > 1) problems.push(`give one project folder (found ${positionals.join(", ")})`);
    const dirArgument = positionals[0];
    const project = dirArgument === undefined ? undefined : folderProblems(path.resolve(cwd, dirArgument), problems);
    if (dirArgument === undefined) problems.push("<dir> is required: the new project's folder, e.g. vision-captions");

    const platform = platformOf(flags.get("--platform"), cwd, problems);
    const stack = flags.get("--stack");
    if (stack === undefined) problems.push("--stack is required, e.g. --stack dev");
    else if (platform && !platform.stacks.includes(stack))
        problems.push(
            `--stack "${stack}" has no policy config in the platform (policies/config.<stack>.json: ${platform.stacks.join(", ")})`,
        );
    const team = flags.get("--team");
    const costCenter = team === undefined ? undefined : platform?.costCenters.get(team);
    if (team === undefined) problems.push(`--team is required${platform ? `: one of ${platform.teamList}` : ""}`);
    else if (platform && costCenter === undefined)
        problems.push(`--team "${team}" is not one of the platform's teams (${platform.teamList})`);

    if (problems.length > 0) throw new ScaffoldInputError(problems);
    return {
        dir: path.resolve(cwd, dirArgument),
        project: project!,
        team: team!,
        costCenter: costCenter!,
        stack: stack!,
        platformDir: platform!.dir,
        platformProject: platform!.project,
    };
}

const VALUE_FLAGS = ["--team", "--stack", "--platform"];

function splitArguments(argv: string[], problems: string[]): RawArguments {
    const positionals: string[] = [];
    const flags = new Map<string, string>();
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        if (!arg.startsWith("-")) {
            positionals.push(arg);
            continue;
        }
        const [flag, inline] = arg.includes("=")
            ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
            : [arg];
        if (!VALUE_FLAGS.includes(flag)) {
            problems.push(`unknown flag "${arg}"`);
            continue;
        }
        const value = inline ?? (argv[i + 1]?.startsWith("-") ? undefined : argv[++i]);
        if (value === undefined || value === "") problems.push(`${flag} needs a value`);
        else if (flags.has(flag) && flags.get(flag) !== value)
            problems.push(`${flag} given twice ("${flags.get(flag)}" and "${value}")`);
        else flags.set(flag, value);
    }
    return { positionals, flags };
}

/** The project's name if the folder can hold a new project; problems otherwise. */
function folderProblems(dir: string, problems: string[]): string {
    const name = path.basename(dir);
    if (!PROJECT_NAME.test(name))
        problems.push(
            `<dir> "${name}" cannot name a project: 3 to 40 lowercase letters, digits and dashes, starting with a letter ` +
                "(it names the Pulumi project, the npm package and the pipeline's buckets)",
        );
    if (fs.existsSync(dir)) {
        if (!fs.statSync(dir).isDirectory()) problems.push(`<dir> ${dir} exists and is not a folder`);
        else if (fs.readdirSync(dir).length > 0)
            problems.push(`<dir> ${dir} is not empty: choose a new folder, or empty this one`);
    }
    return name;
}

interface PlatformCheckout {
    readonly dir: string;
    readonly project: string;
    /** Stacks the policy pack has a config for. */
    readonly stacks: string[];
    /** Team name → cost center, from the platform stack's `teams`. */
    readonly costCenters: Map<string, string>;
    readonly teamList: string;
}

/** What the project needs from the platform's checkout, or undefined after recording why not. */
function platformOf(argument: string | undefined, cwd: string, problems: string[]): PlatformCheckout | undefined {
    if (argument === undefined) {
        problems.push(
            "--platform is required: the platform's checkout, where the offline plan and the policy pack live, e.g. --platform ../gpu-platform",
        );
        return undefined;
    }
    const dir = path.resolve(cwd, argument);
    const missing = ["Pulumi.yaml", `Pulumi.${PLATFORM_STACK}.yaml`, "tools/plan/bin.js", "policies"].find(
        (entry) => !fs.existsSync(path.join(dir, entry)),
    );
    if (missing !== undefined) {
        problems.push(`--platform ${argument}: not the platform's checkout (it has no ${missing})`);
        return undefined;
    }
    if (!fs.existsSync(path.join(dir, "node_modules"))) {
        problems.push(`--platform ${argument}: run npm ci there first (the offline plan runs from its node_modules)`);
        return undefined;
    }
    const project = String((parse(fs.readFileSync(path.join(dir, "Pulumi.yaml"), "utf8")) as { name?: unknown }).name);
    const stacks = fs
        .readdirSync(path.join(dir, "policies"))
        .map((file) => /^config\.(.+)\.json$/.exec(file)?.[1])
        .filter((stack): stack is string => stack !== undefined)
        .sort();
    const costCenters = teamsOf(path.join(dir, `Pulumi.${PLATFORM_STACK}.yaml`), project);
    const teamList = `${project}:teams in ${path.join(argument, `Pulumi.${PLATFORM_STACK}.yaml`)}: ${[...costCenters.keys()].join(", ")}`;
    return { dir, project, stacks, costCenters, teamList };
}

function teamsOf(stackFile: string, project: string): Map<string, string> {
    const config = (parse(fs.readFileSync(stackFile, "utf8")) as { config?: Record<string, unknown> } | null)?.config;
    const teams = config?.[`${project}:teams`];
    const costCenters = new Map<string, string>();
    for (const team of Array.isArray(teams) ? (teams as unknown[]) : []) {
        const { name, costCenter } = (team ?? {}) as { name?: unknown; costCenter?: unknown };
        if (typeof name === "string" && typeof costCenter === "string") costCenters.set(name, costCenter);
    }
    return costCenters;
}
