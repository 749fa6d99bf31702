import * as assert from "assert";
import * as fs from "fs";
import { builtinModules } from "module";
import * as path from "path";
import * as ts from "typescript";

/**
 * The dependency direction of the source tree (DESIGN.md, "Dependency direction"), read from
 * the import statements themselves: catalog ← components ← stacks ← platform.ts ← index.ts,
 * with the policy pack and the offline plan reading leaves only.
 */
const REPO_ROOT = path.resolve(__dirname, "..");
const WALKED = ["components", "catalog", "stacks", "policies", "tools"];
const PROGRAM_FILES = ["platform.ts", "index.ts"];

interface SourceFile {
    /** Repo-relative, with forward slashes. */
    readonly file: string;
    /** Repo-relative files it imports (type-only imports, re-exports and `require` included). */
    readonly files: string[];
    /** Packages it imports, by package name. */
    readonly packages: string[];
    /** Repo files it imports by the name of a workspace package (`@gpu-platform/catalog/json` is catalog/json.ts). */
    readonly linked: string[];
}

/** Folders no source of the graph lives in: installed packages, build output, reports, recorded fixtures. */
const NOT_SOURCES = new Set(["node_modules", "dist", "reports", ".stryker-tmp", "fixtures", "test-results", ".data"]);
const SOURCE_FILE = /\.(ts|tsx|js|mjs|cjs)$/;
/** A team project's template, which the initializer copies into a team's folder: like examples/, not part of this graph. */
const TEAM_PROJECT_TEMPLATES = new Set(["tools/create-team/template"]);

function walk(dir: string): string[] {
    return fs.readdirSync(path.join(REPO_ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
        const rel = `${dir}/${entry.name}`;
        if (entry.isDirectory()) return NOT_SOURCES.has(entry.name) || TEAM_PROJECT_TEMPLATES.has(rel) ? [] : walk(rel);
        return SOURCE_FILE.test(entry.name) && !entry.name.endsWith(".d.ts") ? [rel] : [];
    });
}

/** The repo file a relative specifier names, as Node and TypeScript resolve it. */
function resolveRelative(from: string, specifier: string): string {
    const base = path.join(path.dirname(from), specifier);
    const candidates = [`${base}.ts`, `${base}.js`, `${base}.json`, path.join(base, "index.ts"), base];
    const found = candidates.find(
        (c) => fs.existsSync(path.join(REPO_ROOT, c)) && fs.statSync(path.join(REPO_ROOT, c)).isFile(),
    );
    assert.ok(found, `${from} imports "${specifier}", which names no file`);
    return found.split(path.sep).join("/");
}

function packageName(specifier: string): string {
    const bare = specifier.replace(/^node:/, "");
    const parts = bare.split("/");
    return bare.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

/** The root's workspaces by package name, each with its folder and its entry file. */
const ROOT_MANIFEST = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as {
    workspaces: string[];
};
const WORKSPACE_FOLDERS = new Map(
    ROOT_MANIFEST.workspaces.map((dir) => {
        const manifest = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, dir, "package.json"), "utf8")) as {
            name: string;
            main?: string;
        };
        return [manifest.name, { dir, main: manifest.main ?? "index.ts" }];
    }),
);

/** The repo file a specifier names through a workspace link, or undefined for any other package. */
function linkedFile(specifier: string): string | undefined {
    const workspace = WORKSPACE_FOLDERS.get(packageName(specifier));
    if (!workspace) return undefined;
    const subpath = specifier.slice(packageName(specifier).length);
    return resolveRelative("package.json", `./${workspace.dir}${subpath || `/${workspace.main}`}`);
}

function parse(file: string): SourceFile {
    const text = fs.readFileSync(path.join(REPO_ROOT, file), "utf8");
    const specifiers = ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
    const named = specifiers.filter((s) => !s.startsWith("."));
    return {
        file,
        files: specifiers.filter((s) => s.startsWith(".")).map((s) => resolveRelative(file, s)),
        packages: named.map(packageName),
        linked: named.flatMap((s) => linkedFile(s) ?? []),
    };
}

/**
 * Workspace packages the package's build puts inside the tarball (tsconfig.build.json's `paths`,
 * which tsc-alias turns into relative paths): the catalog, imported by name in this repository.
 */
const INLINED_BY_THE_BUILD = Object.keys(
    (
        ts.readConfigFile(path.join(REPO_ROOT, "tsconfig.build.json"), (file) => ts.sys.readFile(file)).config as {
            compilerOptions: { paths?: Record<string, string[]> };
        }
    ).compilerOptions.paths ?? {},
).filter((alias) => !alias.endsWith("/*"));

const SOURCES = new Map([...WALKED.flatMap(walk), ...PROGRAM_FILES].map((file) => [file, parse(file)]));

/**
 * Every source of every package in the root's graph: the root package (the components, the
 * catalog's users, the specs, the benchmarks), each npm workspace, and the folders between.
 * Not examples/ (a team's project, installed from the packed package) nor backstage/ (its own
 * Yarn workspace, which starts the services as processes and imports nothing of this graph).
 */
const PACKAGE_GRAPH_DIRS = [
    "components",
    "catalog",
    "stacks",
    "policies",
    "tools",
    "test",
    "bench",
    "packages",
    "services",
];
const ALL_SOURCES = new Map(
    [
        ...PACKAGE_GRAPH_DIRS.filter((dir) => fs.existsSync(path.join(REPO_ROOT, dir))).flatMap(walk),
        ...PROGRAM_FILES,
    ].map((file) => [file, SOURCES.get(file) ?? parse(file)]),
);

interface PackageManifest {
    readonly name: string;
    readonly dependencies?: Record<string, string>;
    readonly devDependencies?: Record<string, string>;
    readonly peerDependencies?: Record<string, string>;
}

/** A package is a folder with a package.json: the repository root, each workspace. */
function packageDirOf(file: string): string {
    for (let dir = path.posix.dirname(file); dir !== "."; dir = path.posix.dirname(dir))
        if (fs.existsSync(path.join(REPO_ROOT, dir, "package.json"))) return dir;
    return ".";
}

function manifestOf(dir: string): PackageManifest {
    return JSON.parse(fs.readFileSync(path.join(REPO_ROOT, dir, "package.json"), "utf8")) as PackageManifest;
}

/** The known relative imports from the policy pack's specs into the root package (see the spec that lists them). */
const ROOT_PROGRAM_SPECS_IN_POLICIES = [
    "policies/test/platform-stacks.spec.ts → test/harness.ts (policies → .)",
    "policies/test/platform-stacks.spec.ts → platform.ts (policies → .)",
    "policies/test/team-pod-security.spec.ts → test/pod-security.ts (policies → .)",
];

/** Relative imports that leave the importing file's package, as `a.ts → b.ts (pkg → pkg)` lines. */
function crossPackageImports(): string[] {
    return [...ALL_SOURCES.values()].flatMap((source) => {
        const from = packageDirOf(source.file);
        return source.files
            .filter((target) => packageDirOf(target) !== from)
            .map((target) => `${source.file} → ${target} (${from} → ${packageDirOf(target)})`);
    });
}

/** Packages imported by name that the importing file's package.json does not declare, as `a.ts → pkg` lines. */
function undeclaredPackageImports(): string[] {
    const builtins = new Set(builtinModules);
    return [...ALL_SOURCES.values()].flatMap((source) => {
        const manifest = manifestOf(packageDirOf(source.file));
        const declared = new Set([
            manifest.name,
            ...Object.keys(manifest.dependencies ?? {}),
            ...Object.keys(manifest.devDependencies ?? {}),
            ...Object.keys(manifest.peerDependencies ?? {}),
        ]);
        return source.packages
            .filter((name) => !builtins.has(name) && !declared.has(name))
            .map(
                (name) =>
                    `${source.file} → ${name} (not in ${path.posix.join(packageDirOf(source.file), "package.json")})`,
            );
    });
}

/** Every import from a file under `from` to a file under one of `to`, as `a.ts → b.ts` lines. */
function importsBetween(from: string, to: string[]): string[] {
    const under = (file: string, dir: string) => file === dir || file.startsWith(`${dir}/`);
    return [...SOURCES.values()]
        .filter((s) => under(s.file, from))
        .flatMap((s) =>
            [...s.files, ...s.linked]
                .filter((target) => to.some((dir) => under(target, dir)))
                .map((target) => `${s.file} → ${target}`),
        );
}

/** A file's folder; the program's entry files at the root are each their own. */
const folderOf = (file: string) => (file.includes("/") ? path.posix.dirname(file) : file);

/** Cycles in the graph of folders, each as `a → b → a`, each reported once. */
function folderCycles(): string[] {
    const edges = new Map<string, Set<string>>();
    for (const source of SOURCES.values()) {
        for (const target of [...source.files, ...source.linked]) {
            const [a, b] = [folderOf(source.file), folderOf(target)];
            if (a !== b) edges.set(a, new Set([...(edges.get(a) ?? []), b]));
        }
    }
    const cycles = new Set<string>();
    const visit = (node: string, trail: string[]) => {
        const at = trail.indexOf(node);
        if (at >= 0) {
            const loop = trail.slice(at);
            // Start each cycle at its smallest folder, so a cycle found from two places is one line.
            const start = loop.indexOf([...loop].sort()[0]);
            const rotated = [...loop.slice(start), ...loop.slice(0, start)];
            cycles.add([...rotated, rotated[0]].join(" → "));
            return;
        }
        for (const next of edges.get(node) ?? []) visit(next, [...trail, node]);
    };
    for (const node of edges.keys()) visit(node, []);
    return [...cycles];
}

describe("package boundaries", () => {
    it("reads every package: the root, the catalog, the services and the other workspaces", () => {
        const packages = new Set([...ALL_SOURCES.keys()].map(packageDirOf));
        for (const dir of [".", "catalog", "policies", "tools/plan", "services/cost-tracker", "services/budget-gate"])
            assert.ok(packages.has(dir), `${dir} has sources`);
    });

    it("no relative import leaves its package: another package is imported by its name", () => {
        assert.deepStrictEqual(
            crossPackageImports().filter((line) => !ROOT_PROGRAM_SPECS_IN_POLICIES.includes(line)),
            [],
        );
    });

    it("the policy pack's specs that run the platform program still reach into the root package, and only those", () => {
        // The root package (the program, its mock harness) has no entry point to import by name.
        // These specs belong beside the root's specs; they stay in policies/test while the
        // mutation run of the policies (tools/mutation/policies.config.mjs) counts them.
        assert.deepStrictEqual(
            crossPackageImports().filter((line) => line.endsWith("(policies → .)")),
            ROOT_PROGRAM_SPECS_IN_POLICIES,
        );
    });

    it("every package imported by name is declared in the importing package's package.json", () => {
        assert.deepStrictEqual(undeclaredPackageImports(), []);
    });
});

describe("dependency direction", () => {
    it("reads the tree: every folder it checks holds sources", () => {
        for (const dir of WALKED)
            assert.ok(
                [...SOURCES.keys()].some((f) => f.startsWith(`${dir}/`)),
                `${dir}/ has .ts files`,
            );
    });

    it("components never import the stack config: stacks/ maps config to component arguments, not the reverse", () => {
        assert.deepStrictEqual(importsBetween("components", ["stacks", ...PROGRAM_FILES]), []);
    });

    it("catalog/ imports nothing but catalog/: it is the leaf every other part reads", () => {
        assert.deepStrictEqual(
            importsBetween("catalog", [...WALKED.filter((d) => d !== "catalog"), ...PROGRAM_FILES]),
            [],
        );
    });

    it("the policy pack and the offline plan never import components: they read leaf modules", () => {
        assert.deepStrictEqual(importsBetween("policies", ["components"]), []);
        assert.deepStrictEqual(importsBetween("tools", ["components"]), []);
    });

    it("no folder imports one that imports it back, directly or through others", () => {
        assert.deepStrictEqual(folderCycles(), []);
    });

    it("the packaged components and catalog import only the package's dependencies, peer dependencies and Node built-ins", () => {
        const manifest = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as Record<
            string,
            Record<string, string> | undefined
        >;
        const declared = new Set([
            ...Object.keys(manifest.dependencies ?? {}),
            ...Object.keys(manifest.peerDependencies ?? {}),
            ...builtinModules,
            ...INLINED_BY_THE_BUILD,
        ]);
        const undeclared = [...SOURCES.values()]
            .filter((s) => s.file.startsWith("components/") || s.file.startsWith("catalog/"))
            .flatMap((s) => s.packages.filter((p) => !declared.has(p)).map((p) => `${s.file} → ${p}`));
        assert.deepStrictEqual(
            undeclared,
            [],
            "a built component needing zod or a dev tool would fail in a team's project",
        );
    });

    it("an area needs @pulumi/eks or @pulumi/awsx only where the package says so: /cluster and /network", () => {
        const optional = new Set(["@pulumi/eks", "@pulumi/awsx"]);
        const needs = (entry: string): string[] => {
            const seen = new Set<string>();
            const packages = new Set<string>();
            const visit = (file: string) => {
                if (seen.has(file)) return;
                seen.add(file);
                const source = SOURCES.get(file)!;
                source.packages.filter((p) => optional.has(p)).forEach((p) => packages.add(p));
                [...source.files, ...source.linked].forEach(visit);
            };
            visit(entry);
            return [...packages].sort();
        };
        const areas = fs
            .readdirSync(path.join(REPO_ROOT, "components"))
            .filter((area) => SOURCES.has(`components/${area}/index.ts`));
        assert.deepStrictEqual(
            Object.fromEntries(areas.map((area) => [area, needs(`components/${area}/index.ts`)])),
            Object.fromEntries(
                areas.map((area) => [
                    area,
                    area === "cluster" ? ["@pulumi/eks"] : area === "network" ? ["@pulumi/awsx"] : [],
                ]),
            ),
        );
    });
});
