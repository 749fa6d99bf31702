/**
 * What a team does with the package, from a clean checkout: pack it, install the tarball into
 * a copy of examples/team-stack from the npm cache (offline), type-check the copy with the
 * compiler options of Pulumi's TypeScript template, load it as Pulumi's Node.js language host
 * does, and plan it offline. Then all of it again with the team on a newer @pulumi/pulumi
 * than the platform's.
 *
 * Not part of `npm test`: installing and type-checking @pulumi/aws's typings take tens of
 * seconds per project. Run it alone with
 *
 *   npx mocha --no-config --require esbuild-register --timeout 300000 test/integration/team-project.spec.ts
 *
 * The example's own lockfile needs only packages the root's `npm ci` puts in the npm cache.
 * The newer @pulumi/pulumi's are in no other lockfile: run scripts/prime-team-project-cache.sh
 * once, online, before the first run on a machine.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PRIME_SCRIPT, REPO_ROOT, buildAndPack, pulumiCopies, run, succeeded } from "./npm-project";

const EXAMPLE = path.join(REPO_ROOT, "examples", "team-stack");
const NEWER_PULUMI = path.join(REPO_ROOT, "test", "fixtures", "team-stack-newer-pulumi");

/**
 * Loads the program as @pulumi/pulumi's cmd/run/run.js does for a TypeScript program that is not
 * an ES module: ts-node registered with the project's typescript, its tsconfig.json, and the
 * language host's defaults under the project's compilerOptions (target ES2020, module and
 * moduleResolution nodenext), type-checking unless the project sets noCheck. ts-node compiles
 * the program, never node_modules. Pulumi's mocks count registrations: requiring the program
 * (it exports a function) and every entry point it can load must register nothing.
 */
const LOAD_AS_PULUMI_DOES = `
const fs = require("fs");
const path = require("path");
const ts = require("typescript");
const compilerOptions = ts.parseConfigFileTextToJson("tsconfig.json", fs.readFileSync("tsconfig.json", "utf8")).config.compilerOptions ?? {};
require("ts-node").register({
    compiler: "typescript",
    transpileOnly: compilerOptions.noCheck,
    project: "tsconfig.json",
    skipProject: false,
    compilerOptions: { target: "ES2020", module: "nodenext", moduleResolution: "nodenext", sourceMap: "true", ...compilerOptions },
});
const pulumi = require("@pulumi/pulumi");
const settle = () => require("@pulumi/pulumi/runtime/settings").waitForRPCs();
let registered = 0;
pulumi.runtime.setMocks({ newResource: (args) => (registered++, { id: args.name, state: args.inputs }), call: () => ({}) }, "vision-captions", "dev");
const program = require(path.resolve("index.ts"));
for (const area of ["catalog", "gpu", "tenancy", "inference"]) require("@gpu-platform/components/" + area);
settle().then(async () => {
    const onImport = registered;
    // The count sees a registration: a component built after the imports is counted.
    new (require("@gpu-platform/components/tenancy").TeamNamespace)("probe", { team: "probe", costCenter: "CC-0000" });
    await settle();
    process.stdout.write(JSON.stringify({ exported: typeof program, onImport, afterBuild: registered }));
});
`;

describe("a team's own project, installed from the packed package", function () {
    this.timeout(300_000);
    let work: string;
    let tarball: string;

    before(async () => {
        work = fs.mkdtempSync(path.join(os.tmpdir(), "team-project-"));
        const packed = await buildAndPack(REPO_ROOT, work);
        tarball = packed.tarball;
        const outside = packed.files.filter(
            (p) => !/^(dist\/(components|catalog)\/.+\.(js|d\.ts)|package\.json|README\.md|CHANGELOG\.md)$/.test(p),
        );
        assert.deepStrictEqual(
            outside,
            [],
            "the package holds the built components and catalog, the changelog and the manifest, nothing else",
        );
    });

    after(() => {
        if (work) fs.rmSync(work, { recursive: true, force: true });
    });

    const variants = [
        { name: "on the platform's @pulumi/pulumi", lockfile: undefined, pulumi: "3.248.0" },
        { name: "on a newer @pulumi/pulumi than the platform's", lockfile: NEWER_PULUMI, pulumi: "3.270.0" },
    ];
    for (const variant of variants) {
        describe(variant.name, () => {
            let project: string;

            before(() => {
                project = path.join(work, variant.lockfile ? "newer-pulumi" : "example");
                fs.cpSync(EXAMPLE, project, { recursive: true, filter: (src) => !/(node_modules|\.tgz)$/.test(src) });
                if (variant.lockfile) {
                    for (const file of ["package.json", "package-lock.json"])
                        fs.copyFileSync(path.join(variant.lockfile, file), path.join(project, file));
                }
                fs.copyFileSync(tarball, path.join(project, path.basename(tarball)));
            });

            it("installs offline from the npm cache, with the team's @pulumi/pulumi the one copy", async () => {
                // Scripts off: @pulumi/* install scripts fetch provider plugins, which the plan does not need.
                const install = await run(
                    "npm",
                    ["ci", "--offline", "--ignore-scripts", "--no-audit", "--no-fund"],
                    project,
                );
                if (install.code !== 0 && /ENOTCACHED/.test(install.stderr)) {
                    const lockfile = path.relative(
                        REPO_ROOT,
                        path.join(variant.lockfile ?? EXAMPLE, "package-lock.json"),
                    );
                    const fix = variant.lockfile
                        ? `run ${PRIME_SCRIPT} once, online`
                        : "run `npm ci` at the repository root first";
                    assert.fail(
                        `the npm cache lacks packages of ${lockfile} (${/ENOTCACHED.*\n.*?(https:\S+)/.exec(install.stderr)?.[1] ?? "see npm's error"}): ${fix}`,
                    );
                }
                succeeded("npm ci --offline", install);
                assert.deepStrictEqual(pulumiCopies(project), [path.join("node_modules", "@pulumi", "pulumi")]);
                const installed = JSON.parse(
                    fs.readFileSync(path.join(project, "node_modules", "@pulumi", "pulumi", "package.json"), "utf8"),
                ) as { version: string };
                assert.strictEqual(installed.version, variant.pulumi);
            });

            it("type-checks with the compiler options of Pulumi's TypeScript template (no skipLibCheck)", async () => {
                succeeded(
                    "tsc --noEmit",
                    await run(
                        process.execPath,
                        [path.join("node_modules", "typescript", "bin", "tsc"), "--noEmit"],
                        project,
                    ),
                );
            });

            it("loads as the Pulumi language host loads it, creating nothing on import", async () => {
                const loaded = succeeded(
                    "loading index.ts with ts-node",
                    await run(process.execPath, ["-e", LOAD_AS_PULUMI_DOES], project),
                );
                const { exported, onImport, afterBuild } = JSON.parse(loaded.stdout) as {
                    exported: string;
                    onImport: number;
                    afterBuild: number;
                };
                assert.strictEqual(exported, "function", "the program is `export = async () => …`");
                assert.strictEqual(
                    onImport,
                    0,
                    "importing the program and the package's entry points registers no resource",
                );
                assert.ok(afterBuild > 0, "the count sees registrations");
            });

            it("plans offline: the pipeline's resources and the program's outputs, no mandatory violation", async () => {
                const plan = await run(
                    "npm",
                    ["run", "-s", "plan", "--", "--program", project, "--stack", "dev", "--json"],
                    REPO_ROOT,
                );
                succeeded("npm run plan", plan);
                const doc = JSON.parse(plan.stdout) as {
                    resources: { type: string; name: string }[];
                    outputs: Record<string, unknown>;
                };
                const has = (type: string, name: string) =>
                    doc.resources.some((r) => r.type === type && r.name === name);
                for (const [type, name] of [
                    ["gpu-platform:inference:InferencePipeline", "vision-captions"],
                    ["aws:sqs/queue:Queue", "vision-captions-queue"],
                    ["aws:s3/bucket:Bucket", "vision-captions-input"],
                    ["kubernetes:keda.sh/v1alpha1:ScaledJob", "vision-captions-scaled-job"],
                ]) {
                    assert.ok(has(type, name), `the plan holds ${type} ${name}`);
                }
                assert.deepStrictEqual(Object.keys(doc.outputs ?? {}).sort(), [
                    "inputBucket",
                    "outputBucket",
                    "queueUrl",
                ]);
                assert.match(String(doc.outputs.queueUrl), /vision-captions-queue$/);
            });
        });
    }
});
