import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";

/**
 * The package teams install (package.json) and the team project that uses it
 * (examples/team-stack), checked for the drift no build would notice. Packing, installing and
 * running them is test/integration/team-project.spec.ts.
 */
const REPO_ROOT = path.resolve(__dirname, "..");
const EXAMPLE = path.join(REPO_ROOT, "examples", "team-stack");

type Manifest = {
    name: string;
    version: string;
    private?: boolean;
    main?: string;
    exports: Record<string, string | { types: string; default: string }>;
    files: string[];
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
    peerDependencies?: Record<string, string>;
    peerDependenciesMeta?: Record<string, { optional?: boolean }>;
};
type Lockfile = { packages: Record<string, { version?: string; resolved?: string; integrity?: string }> };

const read = <T>(file: string): T => JSON.parse(fs.readFileSync(file, "utf8")) as T;
const manifest = read<Manifest>(path.join(REPO_ROOT, "package.json"));

describe("the package teams install", () => {
    it("is importable only by area: each entry point's types and code are built from that area's index.ts", () => {
        assert.strictEqual(manifest.main, undefined, "no main: importing the package must not run the platform");
        assert.strictEqual(manifest.private, undefined);
        assert.ok(!("." in manifest.exports), "no root entry point");
        assert.strictEqual(manifest.exports["./package.json"], "./package.json");
        const areas = Object.entries(manifest.exports).filter(([subpath]) => subpath !== "./package.json");
        for (const [subpath, target] of areas) {
            assert.ok(typeof target === "object", `${subpath} names its types and its code`);
            const source = target.default.replace(/^\.\/dist\//, "").replace(/\.js$/, ".ts");
            assert.strictEqual(target.types, target.default.replace(/\.js$/, ".d.ts"), subpath);
            assert.ok(fs.existsSync(path.join(REPO_ROOT, source)), `${subpath} is built from ${source}`);
            assert.strictEqual(
                path.basename(path.dirname(source)),
                subpath.slice(2),
                `${subpath} is the ${subpath.slice(2)} area`,
            );
        }
        for (const area of ["network", "cluster", "gpu", "tenancy", "inference", "costs", "catalog"])
            assert.ok(Object.hasOwn(manifest.exports, `./${area}`), `./${area} is exported`);
    });

    it("takes @pulumi packages as peers, at caret ranges of the versions the platform is tested with; eks, awsx and docker-build optional", () => {
        const peers = manifest.peerDependencies ?? {};
        assert.deepStrictEqual(Object.keys(peers).sort(), [
            "@pulumi/aws",
            "@pulumi/awsx",
            "@pulumi/docker-build",
            "@pulumi/eks",
            "@pulumi/kubernetes",
            "@pulumi/pulumi",
        ]);
        for (const [name, range] of Object.entries(peers))
            assert.strictEqual(range, `^${manifest.devDependencies?.[name]}`, name);
        assert.deepStrictEqual(manifest.peerDependenciesMeta, {
            "@pulumi/awsx": { optional: true },
            "@pulumi/docker-build": { optional: true },
            "@pulumi/eks": { optional: true },
        });
        assert.deepStrictEqual(Object.keys(manifest.dependencies ?? {}), ["yaml"]);
    });

    it("ships the built components and catalog and its changelog, which describes this version", () => {
        assert.deepStrictEqual(manifest.files, ["dist/components/", "dist/catalog/", "CHANGELOG.md"]);
        assert.match(
            fs.readFileSync(path.join(REPO_ROOT, "CHANGELOG.md"), "utf8"),
            new RegExp(`^## ${manifest.version.replace(/\./g, "\\.")}$`, "m"),
        );
    });
});

describe("the team project (examples/team-stack)", () => {
    const example = read<Manifest>(path.join(EXAMPLE, "package.json"));
    const lock = read<Lockfile>(path.join(EXAMPLE, "package-lock.json"));
    // What `npm pack` names the tarball: the scope's "@" dropped, its "/" a "-".
    const tarball = `${manifest.name.replace(/^@/, "").replace("/", "-")}-${manifest.version}.tgz`;

    it("depends on the tarball `npm pack` makes of this version, and on the @pulumi versions the platform is tested with", () => {
        assert.strictEqual(example.dependencies?.[manifest.name], `file:${tarball}`);
        for (const name of ["@pulumi/pulumi", "@pulumi/aws", "@pulumi/kubernetes"]) {
            assert.strictEqual(example.dependencies?.[name], manifest.devDependencies?.[name], name);
        }
    });

    it("locks the tarball without a checksum, so npm ci installs the one just packed", () => {
        const entry = lock.packages[`node_modules/${manifest.name}`];
        assert.strictEqual(entry?.resolved, `file:${tarball}`);
        assert.strictEqual(entry.integrity, undefined);
    });

    it("installs offline after the root's npm ci: every package it locks is in the root's lockfile at the same version", () => {
        const root = read<Lockfile>(path.join(REPO_ROOT, "package-lock.json"));
        const nameOf = (key: string) => key.slice(key.lastIndexOf("node_modules/") + "node_modules/".length);
        const cached = new Set(Object.entries(root.packages).map(([key, p]) => `${nameOf(key)}@${p.version}`));
        const missing = Object.entries(lock.packages)
            .filter(([key]) => key !== "" && key !== `node_modules/${manifest.name}`)
            .map(([key, p]) => `${nameOf(key)}@${p.version}`)
            .filter((pkg) => !cached.has(pkg));
        assert.deepStrictEqual(
            missing,
            [],
            "regenerate examples/team-stack/package-lock.json from the root's (its README says how)",
        );
    });
});
