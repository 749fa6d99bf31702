/**
 * The services' images are built from declared dependencies only: each Dockerfile copies from the
 * repository the root manifests npm needs, the workspaces' package.json files (the root lockfile
 * names every workspace, so `npm ci` wants each manifest), and the folders of the service and of
 * the workspace packages it declares in its package.json, nothing else; its .dockerignore
 * allowlist sends exactly that; and npm installs the service's workspace alone. No Docker engine
 * here: docs/service-packages.md says how the build steps were run by hand.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";

const REPO_ROOT = path.resolve(__dirname, "..");
const SERVICES = ["services/cost-tracker", "services/budget-gate"];
/** What npm ci and esbuild read at the root: the manifest, the lockfile, the TypeScript settings the services extend. */
const ROOT_FILES = ["package.json", "package-lock.json", "tsconfig.json"];

interface Manifest {
    name: string;
    workspaces?: string[];
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
}

interface Instruction {
    readonly keyword: string;
    /** The words after the keyword, flags (`--from=…`) included. */
    readonly args: string[];
}

const readManifest = (dir: string) =>
    JSON.parse(fs.readFileSync(path.join(REPO_ROOT, dir, "package.json"), "utf8")) as Manifest;

const WORKSPACES = readManifest(".").workspaces ?? [];
const WORKSPACE_BY_NAME = new Map(WORKSPACES.map((dir) => [readManifest(dir).name, dir]));

/** The workspace folders a service declares, and those they declare in turn. */
function declaredWorkspaces(dir: string, seen = new Set<string>()): Set<string> {
    const manifest = readManifest(dir);
    for (const name of Object.keys({ ...manifest.dependencies, ...manifest.devDependencies })) {
        const folder = WORKSPACE_BY_NAME.get(name);
        if (folder && !seen.has(folder)) {
            seen.add(folder);
            declaredWorkspaces(folder, seen);
        }
    }
    return seen;
}

/** The Dockerfile's stages, each a list of instructions; continuation lines joined, comments dropped. */
function stages(dockerfile: string): Instruction[][] {
    const text = fs.readFileSync(path.join(REPO_ROOT, dockerfile), "utf8").replace(/\\\n/g, " ");
    const instructions = text
        .split("\n")
        .map((line) => line.trim())
        .filter((line) => line !== "" && !line.startsWith("#"))
        .map((line) => {
            const [keyword, ...args] = line.split(/\s+/);
            return { keyword: keyword.toUpperCase(), args };
        });
    return instructions.reduce<Instruction[][]>((all, instruction) => {
        if (instruction.keyword === "FROM") all.push([]);
        all[all.length - 1]?.push(instruction);
        return all;
    }, []);
}

/** What a COPY takes from the build context (none for `COPY --from=<stage>`), as repository paths. */
function contextSources(instruction: Instruction): string[] {
    if (instruction.keyword !== "COPY" || instruction.args.some((a) => a.startsWith("--from="))) return [];
    const words = instruction.args.filter((a) => !a.startsWith("--"));
    return words.slice(0, -1).map((source) => source.replace(/\/$/, ""));
}

const under = (file: string, dir: string) => file === dir || file.startsWith(`${dir}/`);

/** The `!<path>` lines of the Dockerfile's allowlist. */
function allowlisted(dockerfile: string): string[] {
    return fs
        .readFileSync(path.join(REPO_ROOT, `${dockerfile}.dockerignore`), "utf8")
        .split("\n")
        .map((line) => line.trim())
        .filter((line) => line.startsWith("!"))
        .map((line) => line.slice(1).replace(/\/$/, ""));
}

/** Every copy from the context that is not a manifest npm needs, the service, or a workspace package it declares. */
function undeclaredCopies(service: string): string[] {
    const dockerfile = `${service}/Dockerfile`;
    const declared = [service, ...declaredWorkspaces(service)];
    const manifests = [...ROOT_FILES, ...WORKSPACES.map((dir) => `${dir}/package.json`)];
    return stages(dockerfile)
        .flat()
        .flatMap(contextSources)
        .filter((source) => !manifests.includes(source) && !declared.some((dir) => under(source, dir)))
        .map((source) => `${dockerfile}: COPY ${source}: neither ${service} nor a workspace package it declares`);
}

for (const service of SERVICES) {
    const dockerfile = `${service}/Dockerfile`;
    describe(`${service}'s image`, () => {
        const all = stages(dockerfile);
        const copied = all.flat().flatMap(contextSources);

        it("copies from the repository only manifests, the service and the workspace packages it declares", () => {
            assert.ok(copied.includes(service) || copied.some((c) => under(c, service)), "the service is copied");
            assert.deepStrictEqual(undeclaredCopies(service), []);
        });

        it("sends exactly what it copies: each allowlisted path is copied, each copy allowlisted", () => {
            const sent = allowlisted(dockerfile);
            assert.deepStrictEqual(
                sent.filter((entry) => !copied.some((source) => under(source, entry))),
                [],
                "allowlisted but never copied",
            );
            assert.deepStrictEqual(
                copied.filter((source) => !sent.some((entry) => under(source, entry))),
                [],
                "copied but not sent",
            );
        });

        it("installs the service's workspace alone, without the root's own dependencies", () => {
            const installs = all.flat().filter((i) => i.keyword === "RUN" && i.args.join(" ").includes("npm ci"));
            assert.strictEqual(installs.length, 2, "one install to build, one of the production dependencies");
            for (const install of installs) {
                const words = install.args.join(" ");
                assert.ok(words.includes(`npm ci --workspace ${service} --include-workspace-root=false`), words);
            }
            assert.ok(installs[1].args.includes("--omit=dev"), "the image gets production dependencies only");
        });

        it("builds on the build machine's platform and runs as a non-root user from a last stage that only copies", () => {
            assert.ok(all.length >= 3, "multi-stage");
            for (const stage of all.slice(0, -1)) assert.strictEqual(stage[0].args[0], "--platform=$BUILDPLATFORM");
            const last = all[all.length - 1];
            assert.deepStrictEqual(
                last.filter((i) => i.keyword === "RUN" || i.keyword === "ADD").map((i) => i.keyword),
                [],
                "no RUN in the target platform's stage: no emulation",
            );
            assert.deepStrictEqual(last.filter((i) => i.keyword === "COPY").flatMap(contextSources), []);
            assert.deepStrictEqual(
                last.filter((i) => i.keyword === "USER").map((i) => i.args),
                [["node"]],
            );
        });
    });
}

describe("services/cost-tracker's image, for RDS", () => {
    it("trusts RDS's certificate authorities, fetched at build time", () => {
        const all = stages("services/cost-tracker/Dockerfile");
        const add = all.flat().find((i) => i.keyword === "ADD")!;
        assert.deepStrictEqual(add.args.slice(-2), [
            "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem",
            "certs/rds-global-bundle.pem",
        ]);
        const env = all[all.length - 1].find((i) => i.keyword === "ENV")!;
        assert.ok(env.args.includes("NODE_EXTRA_CA_CERTS=/app/certs/rds-global-bundle.pem"));
    });
});
