/**
 * The initializer (`npm init @gpu-platform/team`, tools/create-team): what it refuses, one line
 * per problem and nothing written, and what it writes. Running its three documented commands
 * end to end is test/integration/team-scaffold.spec.ts.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { main } from "@gpu-platform/create-team/src/bin";
import { HELP, ScaffoldInputError, USAGE, resolveRequest } from "@gpu-platform/create-team/src/options";
import { PULUMI_VERSIONS, TOOL_VERSIONS } from "@gpu-platform/create-team/src/project-files";

const REPO_ROOT = path.resolve(__dirname, "..");
const TEMPLATE = path.join(REPO_ROOT, "tools", "create-team", "template");
const readJson = <T>(file: string): T => JSON.parse(fs.readFileSync(file, "utf8")) as T;
const rootManifest = readJson<{ version: string; devDependencies: Record<string, string> }>(
    path.join(REPO_ROOT, "package.json"),
);

/** A folder holding `gpu-platform` (this checkout, linked) and `teams`, empty, where commands start. */
function workspace(): { root: string; teams: string } {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "create-team-"));
    fs.symlinkSync(REPO_ROOT, path.join(root, "gpu-platform"), "dir");
    fs.mkdirSync(path.join(root, "teams"));
    return { root, teams: path.join(root, "teams") };
}

function problemsOf(argv: string[], cwd: string): string[] {
    try {
        resolveRequest(argv, cwd);
    } catch (err) {
        if (err instanceof ScaffoldInputError) return err.lines;
        throw err;
    }
    assert.fail(`accepted ${argv.join(" ")}`);
}

/** Runs the bin's main with its output captured. */
function runMain(argv: string[], cwd: string): { code: number; stdout: string; stderr: string } {
    const captured = { stdout: "", stderr: "" };
    const code = main(argv, cwd, {
        stdout: { write: (text: string) => (captured.stdout += text) },
        stderr: { write: (text: string) => (captured.stderr += text) },
    });
    return { code, ...captured };
}

const GOOD = ["--team", "ml-research", "--stack", "dev", "--platform", "../gpu-platform"];

describe("npm init @gpu-platform/team: bad input", () => {
    let root: string;
    let teams: string;
    beforeEach(() => ({ root, teams } = workspace()));
    afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

    it("names every missing argument at once", () => {
        assert.deepStrictEqual(problemsOf([], teams), [
            "<dir> is required: the new project's folder, e.g. vision-captions",
            "--platform is required: the platform's checkout, where the offline plan and the policy pack live, e.g. --platform ../gpu-platform",
            "--stack is required, e.g. --stack dev",
            "--team is required",
        ]);
    });

    it("refuses a folder name that cannot name a project, a stack without a pack config and a team the platform lacks, each in one line", () => {
        // The teams and cost centers are the platform's Pulumi.prod.yaml; the stacks, policies/config.{dev,prod}.json.
        assert.deepStrictEqual(
            problemsOf(
                ["Vision_Captions", "--team", "vision", "--stack", "qa", "--platform", "../gpu-platform"],
                teams,
            ),
            [
                '<dir> "Vision_Captions" cannot name a project: 3 to 40 lowercase letters, digits and dashes, starting with a letter (it names the Pulumi project, the npm package and the pipeline\'s buckets)',
                '--stack "qa" has no policy config in the platform (policies/config.<stack>.json: dev, prod)',
                '--team "vision" is not one of the platform\'s teams (gpu-platform:teams in ../gpu-platform/Pulumi.prod.yaml: ml-research, inference, applied-ml)',
            ],
        );
    });

    for (const name of ["ab", "a".repeat(41), "9lives", "team-", "vision.captions"]) {
        it(`refuses the project name "${name}"`, () => {
            assert.match(problemsOf([name, ...GOOD], teams)[0] ?? "", /^<dir> ".*" cannot name a project: /);
        });
    }

    it("refuses a folder that holds anything, and a file in its place", () => {
        fs.mkdirSync(path.join(teams, "vision-captions"));
        fs.writeFileSync(path.join(teams, "vision-captions", "notes.txt"), "mine");
        fs.writeFileSync(path.join(teams, "a-file"), "");
        assert.deepStrictEqual(problemsOf(["vision-captions", ...GOOD], teams), [
            `<dir> ${path.join(teams, "vision-captions")} is not empty: choose a new folder, or empty this one`,
        ]);
        assert.deepStrictEqual(problemsOf(["a-file", ...GOOD], teams), [
            `<dir> ${path.join(teams, "a-file")} exists and is not a folder`,
        ]);
    });

    it("accepts an empty folder that already exists", () => {
        fs.mkdirSync(path.join(teams, "vision-captions"));
        assert.strictEqual(resolveRequest(["vision-captions", ...GOOD], teams).project, "vision-captions");
    });

    it("refuses a --platform that is not the platform's checkout, or one without its node_modules", () => {
        fs.mkdirSync(path.join(root, "elsewhere"));
        assert.deepStrictEqual(
            problemsOf(["vision-captions", ...GOOD.slice(0, 4), "--platform", "../elsewhere"], teams),
            ["--platform ../elsewhere: not the platform's checkout (it has no Pulumi.yaml)"],
        );
        const bare = path.join(root, "bare-checkout");
        for (const entry of ["Pulumi.yaml", "Pulumi.prod.yaml", "tools/plan/bin.js", "policies/config.dev.json"]) {
            fs.mkdirSync(path.dirname(path.join(bare, entry)), { recursive: true });
            fs.writeFileSync(path.join(bare, entry), "");
        }
        assert.deepStrictEqual(
            problemsOf(["vision-captions", ...GOOD.slice(0, 4), "--platform", "../bare-checkout"], teams),
            ["--platform ../bare-checkout: run npm ci there first (the offline plan runs from its node_modules)"],
        );
    });

    it("refuses unknown flags, a flag without its value, a flag given twice with two values, and two folders", () => {
        assert.deepStrictEqual(
            problemsOf(["one-team", "two-team", ...GOOD, "--stack", "prod", "--force", "--team"], teams),
            [
                '--stack given twice ("dev" and "prod")',
                'unknown flag "--force"',
                "--team needs a value",
                "give one project folder (found one-team, two-team)",
            ],
        );
    });

    it("exits 2 with the lines and the usage on stderr, and writes nothing", () => {
        const result = runMain(
            ["vision-captions", "--team", "vision", "--stack", "dev", "--platform", "../gpu-platform"],
            teams,
        );
        assert.strictEqual(result.code, 2);
        assert.strictEqual(
            result.stderr,
            `error: --team "vision" is not one of the platform's teams (gpu-platform:teams in ../gpu-platform/Pulumi.prod.yaml: ml-research, inference, applied-ml)\n${USAGE}\n`,
        );
        assert.strictEqual(result.stdout, "");
        assert.deepStrictEqual(fs.readdirSync(teams), []);
    });

    it("prints its help and exits 0 with --help, whatever else the line holds", () => {
        assert.deepStrictEqual(runMain(["--bogus", "--help"], teams), { code: 0, stdout: `${HELP}\n`, stderr: "" });
    });
});

describe("npm init @gpu-platform/team: the project it writes", () => {
    let root: string;
    let project: string;
    let output: ReturnType<typeof runMain>;
    before(() => {
        const made = workspace();
        root = made.root;
        project = path.join(made.teams, "vision-captions");
        output = runMain(["vision-captions", ...GOOD], made.teams);
    });
    after(() => fs.rmSync(root, { recursive: true, force: true }));
    const read = (file: string) => fs.readFileSync(path.join(project, file), "utf8");

    it("writes the six files and says what to type next", () => {
        assert.strictEqual(output.code, 0, output.stderr);
        assert.deepStrictEqual(fs.readdirSync(project).sort(), [
            ".gitignore",
            "Pulumi.dev.yaml",
            "Pulumi.yaml",
            "index.ts",
            "package.json",
            "tsconfig.json",
        ]);
        assert.strictEqual(
            output.stdout,
            [
                "Wrote .gitignore, Pulumi.dev.yaml, Pulumi.yaml, index.ts, package.json, tsconfig.json to vision-captions.",
                "Next:",
                "  cd vision-captions && npm install",
                "  npm run plan",
                "Fill in the values marked FILL IN in Pulumi.dev.yaml before pulumi up.",
                "",
            ].join("\n"),
        );
    });

    it("sets every config key the program reads, each declared in Pulumi.yaml, from the platform's config", () => {
        const declared = parse(read("Pulumi.yaml")) as {
            name: string;
            runtime: unknown;
            config: Record<string, unknown>;
        };
        assert.strictEqual(declared.name, "vision-captions");
        assert.deepStrictEqual(declared.runtime, { name: "nodejs", options: { typescript: true } });
        const read_ = [...read("index.ts").matchAll(/config\.require\("(\w+)"\)/g)].map((m) => m[1]).sort();
        assert.deepStrictEqual(Object.keys(declared.config).sort(), read_);
        const stack = (parse(read("Pulumi.dev.yaml")) as { config: Record<string, string> }).config;
        // ml-research's cost center is CC-1001 in the platform's Pulumi.prod.yaml; its stack there is prod.
        assert.deepStrictEqual(stack, {
            "vision-captions:platformStack": "acme/gpu-platform/prod",
            "vision-captions:team": "ml-research",
            "vision-captions:costCenter": "CC-1001",
            "vision-captions:pool": "h100",
            "vision-captions:image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/ml-research/vision-captions:0.1.0",
        });
        assert.match(read("Pulumi.dev.yaml"), /# FILL IN: replace acme with the Pulumi organization/);
        assert.match(read("Pulumi.dev.yaml"), /# FILL IN: your worker's image/);
    });

    it("pins TypeScript 5 and the @pulumi versions the platform is tested with, and plans through the checkout beside it", () => {
        const manifest = JSON.parse(read("package.json")) as {
            name: string;
            scripts: Record<string, string>;
            dependencies: Record<string, string>;
            devDependencies: Record<string, string>;
        };
        assert.strictEqual(manifest.name, "vision-captions");
        assert.deepStrictEqual(manifest.dependencies, {
            "@gpu-platform/components": `^${rootManifest.version}`,
            "@pulumi/aws": rootManifest.devDependencies["@pulumi/aws"],
            "@pulumi/kubernetes": rootManifest.devDependencies["@pulumi/kubernetes"],
            "@pulumi/pulumi": rootManifest.devDependencies["@pulumi/pulumi"],
        });
        assert.strictEqual(manifest.devDependencies.typescript, "~5.9.3", "a plain install takes TypeScript 6");
        for (const [name, range] of Object.entries({ ...PULUMI_VERSIONS, ...TOOL_VERSIONS }))
            assert.strictEqual(range, rootManifest.devDependencies[name], `${name}: the platform's own`);
        // From teams/vision-captions, the checkout is ../../gpu-platform.
        assert.strictEqual(
            manifest.scripts.plan,
            'node "../../gpu-platform/tools/plan/bin.js" --program . --stack dev',
        );
        assert.strictEqual(manifest.scripts.typecheck, "tsc --noEmit");
    });

    it("copies the program, the tsconfig and the .gitignore from the template", () => {
        for (const [file, source] of [
            ["index.ts", "index.ts"],
            ["tsconfig.json", "tsconfig.json"],
            [".gitignore", "gitignore"],
        ])
            assert.strictEqual(read(file), fs.readFileSync(path.join(TEMPLATE, source), "utf8"), file);
        assert.deepStrictEqual(read(".gitignore").split("\n").filter(Boolean), ["node_modules/", "bin/", "*.tgz"]);
    });
});

describe("the initializer's package and its page", () => {
    const page = fs.readFileSync(path.join(REPO_ROOT, "docs", "team-project.md"), "utf8");

    it("is released with the components, at their version", () => {
        const own = readJson<{ name: string; version: string; bin: Record<string, string>; files: string[] }>(
            path.join(REPO_ROOT, "tools", "create-team", "package.json"),
        );
        // `npm init @gpu-platform/team` runs the bin of @gpu-platform/create-team (npm's init docs).
        assert.strictEqual(own.name, "@gpu-platform/create-team");
        assert.strictEqual(own.version, rootManifest.version);
        assert.deepStrictEqual(Object.values(own.bin), ["dist/bin.js"]);
        assert.deepStrictEqual(own.files, ["dist/", "template/"]);
    });

    it("shows the program the initializer writes, character for character", () => {
        assert.strictEqual(
            /```ts\n([\s\S]*?)```/.exec(page)?.[1],
            fs.readFileSync(path.join(TEMPLATE, "index.ts"), "utf8"),
        );
    });

    it("shows what the initializer prints for its bad-input example", () => {
        const example = /```\n\$ (npm init @gpu-platform\/team .*)\n([\s\S]*?)```/.exec(page);
        assert.ok(example, "the page shows a refused command and its output");
        const { root, teams } = workspace();
        try {
            const argv = [...example[1].matchAll(/"[^"]*"|\S+/g)].map((m) => m[0].replace(/^"|"$/g, "")).slice(3);
            const result = runMain(
                argv.filter((arg) => arg !== "--"),
                teams,
            );
            assert.strictEqual(result.code, 2);
            assert.strictEqual(result.stderr, example[2]);
        } finally {
            fs.rmSync(root, { recursive: true, force: true });
        }
    });
});
