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
}

function walk(dir: string): string[] {
    return fs.readdirSync(path.join(REPO_ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
        const rel = `${dir}/${entry.name}`;
        if (entry.isDirectory()) return entry.name === "node_modules" ? [] : walk(rel);
        return entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts") ? [rel] : [];
    });
}

/** The repo file a relative specifier names, as Node and TypeScript resolve it. */
function resolveRelative(from: string, specifier: string): string {
    const base = path.join(path.dirname(from), specifier);
    const candidates = [`${base}.ts`, `${base}.js`, path.join(base, "index.ts"), base];
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

function parse(file: string): SourceFile {
    const text = fs.readFileSync(path.join(REPO_ROOT, file), "utf8");
    const specifiers = ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
    return {
        file,
        files: specifiers.filter((s) => s.startsWith(".")).map((s) => resolveRelative(file, s)),
        packages: specifiers.filter((s) => !s.startsWith(".")).map(packageName),
    };
}

const SOURCES = new Map([...WALKED.flatMap(walk), ...PROGRAM_FILES].map((file) => [file, parse(file)]));

/** Every import from a file under `from` to a file under one of `to`, as `a.ts → b.ts` lines. */
function importsBetween(from: string, to: string[]): string[] {
    const under = (file: string, dir: string) => file === dir || file.startsWith(`${dir}/`);
    return [...SOURCES.values()]
        .filter((s) => under(s.file, from))
        .flatMap((s) =>
            s.files.filter((target) => to.some((dir) => under(target, dir))).map((target) => `${s.file} → ${target}`),
        );
}

/** A file's folder; the program's entry files at the root are each their own. */
const folderOf = (file: string) => (file.includes("/") ? path.posix.dirname(file) : file);

/** Cycles in the graph of folders, each as `a → b → a`, each reported once. */
function folderCycles(): string[] {
    const edges = new Map<string, Set<string>>();
    for (const source of SOURCES.values()) {
        for (const target of source.files) {
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
                source.files.forEach(visit);
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
