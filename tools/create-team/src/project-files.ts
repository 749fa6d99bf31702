/**
 * The files of a team's new project. index.ts, tsconfig.json and .gitignore are copied from
 * template/ as they are (index.ts is examples/team-stack/index.ts, byte for byte); what differs
 * between teams is config, written into Pulumi.<stack>.yaml.
 */
import * as fs from "fs";
import * as path from "path";
import { PLATFORM_STACK, type ScaffoldRequest } from "./options";

const PACKAGE_ROOT = path.resolve(__dirname, "..");
const TEMPLATE = path.join(PACKAGE_ROOT, "template");

/**
 * Exactly the versions the platform builds and tests the components with (its package.json's
 * devDependencies; test/create-team.spec.ts keeps them equal), each inside the components'
 * peer ranges. TypeScript stays on 5.x: a plain `npm install typescript` takes 6.x, which the
 * platform has not been checked with.
 */
export const PULUMI_VERSIONS: Readonly<Record<string, string>> = {
    "@pulumi/aws": "7.48.0",
    "@pulumi/kubernetes": "4.34.2",
    "@pulumi/pulumi": "3.248.0",
};
export const TOOL_VERSIONS: Readonly<Record<string, string>> = {
    "@types/node": "^20.19.0",
    "ts-node": "^10.9.2",
    typescript: "~5.9.3",
};

/** File name (relative to the project) → content. */
export type ProjectFiles = Record<string, string>;

export function projectFiles(request: ScaffoldRequest): ProjectFiles {
    const template = (name: string) => fs.readFileSync(path.join(TEMPLATE, name), "utf8");
    return {
        "Pulumi.yaml": pulumiYaml(request),
        [`Pulumi.${request.stack}.yaml`]: stackYaml(request),
        "package.json": `${JSON.stringify(packageJson(request), null, 2)}\n`,
        "tsconfig.json": template("tsconfig.json"),
        "index.ts": template("index.ts"),
        // npm leaves any .gitignore out of a package, so the template keeps it under another name.
        ".gitignore": template("gitignore"),
    };
}

function componentsVersion(): string {
    const own = JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, "package.json"), "utf8")) as { version: string };
    // Released together: this initializer's version is the components' version it was made for.
    return `^${own.version}`;
}

function packageJson(request: ScaffoldRequest): object {
    const checkout = path.relative(request.dir, request.platformDir).split(path.sep).join("/") || ".";
    return {
        name: request.project,
        private: true,
        main: "index.ts",
        scripts: {
            // The offline plan and the policy pack live in the platform's checkout (they are not published).
            plan: `node "${checkout}/tools/plan/bin.js" --program . --stack ${request.stack}`,
            typecheck: "tsc --noEmit",
        },
        dependencies: { "@gpu-platform/components": componentsVersion(), ...PULUMI_VERSIONS },
        devDependencies: { ...TOOL_VERSIONS },
    };
}

function pulumiYaml({ project, team }: ScaffoldRequest): string {
    const declare = (key: string, description: string) => [
        `  ${key}:`,
        "    type: string",
        `    description: ${yamlString(description)}`,
    ];
    return [
        `name: ${project}`,
        "runtime:",
        "  name: nodejs",
        "  options:",
        "    typescript: true",
        `description: ${yamlString(`${team}'s batch inference pipeline on the platform's GPU cluster (@gpu-platform/components)`)}`,
        "config:",
        ...declare(
            "platformStack",
            "The platform's stack whose cluster this project uses: <organization>/<project>/<stack>.",
        ),
        ...declare(
            "team",
            "The team, one of the platform's teams: its namespace, quota and budget are the platform's.",
        ),
        ...declare(
            "costCenter",
            "The team's cost center, as the platform's config has it; every AWS resource is tagged with it.",
        ),
        ...declare("pool", "The platform's GPU node pool the workers run on (a key of its nodePools output)."),
        ...declare("image", "The worker's container image, pinned by tag or digest."),
        "",
    ].join("\n");
}

function stackYaml(request: ScaffoldRequest): string {
    const key = (name: string) => `${request.project}:${name}`;
    return [
        `# The ${request.stack} stack of ${request.project}; Pulumi.yaml says what each key means.`,
        "config:",
        "  # FILL IN: replace acme with the Pulumi organization that holds the platform stack.",
        `  ${key("platformStack")}: ${yamlString(`acme/${request.platformProject}/${PLATFORM_STACK}`)}`,
        `  # From the platform's Pulumi.${PLATFORM_STACK}.yaml (${request.platformProject}:teams).`,
        `  ${key("team")}: ${yamlString(request.team)}`,
        `  ${key("costCenter")}: ${yamlString(request.costCenter)}`,
        `  # One of the platform's GPU pools (${request.platformProject}:nodePools in its Pulumi.${PLATFORM_STACK}.yaml).`,
        `  ${key("pool")}: h100`,
        "  # FILL IN: your worker's image, pushed to your team's ECR repository.",
        `  ${key("image")}: 123456789012.dkr.ecr.us-east-1.amazonaws.com/${request.team}/${request.project}:0.1.0`,
        "",
    ].join("\n");
}

/** A plain scalar when YAML reads it back as the same string, else a double-quoted one. */
function yamlString(value: string): string {
    return /^[A-Za-z][A-Za-z0-9._/-]*$/.test(value) && !/^(true|false|yes|no|on|off|null)$/i.test(value)
        ? value
        : JSON.stringify(value);
}
