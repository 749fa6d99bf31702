/**
 * What the team-project specs share: running a command as a team would, and packing this
 * repository's packages as `npm publish` would.
 */
import * as assert from "assert";
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");
export const PRIME_SCRIPT = "scripts/prime-team-project-cache.sh";

export interface Run {
    code: number;
    stdout: string;
    stderr: string;
}

export function run(command: string, args: string[], cwd: string, env?: NodeJS.ProcessEnv): Promise<Run> {
    return new Promise((resolve) => {
        execFile(command, args, { cwd, env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) =>
            resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr }),
        );
    });
}

/** Fails with the command's own output when it did not exit 0. */
export function succeeded(what: string, result: Run): Run {
    assert.strictEqual(result.code, 0, `${what} exited ${result.code}:\n${result.stderr}${result.stdout}`);
    return result;
}

export interface Packed {
    /** The folder whose package.json was packed. */
    readonly dir: string;
    /** The tarball, in the destination folder. */
    readonly tarball: string;
    /** The paths inside the tarball. */
    readonly files: string[];
}

/** Builds the package in `dir` with its `build` script, then packs it into `destination`. */
export async function buildAndPack(dir: string, destination: string): Promise<Packed> {
    succeeded(
        `npm run build in ${path.relative(REPO_ROOT, dir) || "."}`,
        await run("npm", ["run", "-s", "build"], dir),
    );
    const packed = succeeded(
        "npm pack",
        await run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", destination], dir),
    );
    const [manifest] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
    return { dir, tarball: path.join(destination, manifest.filename), files: manifest.files.map((f) => f.path) };
}

/** Every `@pulumi/pulumi` package installed under `dir`, by its folder. */
export function pulumiCopies(dir: string): string[] {
    const found: string[] = [];
    const visit = (modules: string) => {
        if (!fs.existsSync(modules)) return;
        if (fs.existsSync(path.join(modules, "@pulumi", "pulumi", "package.json")))
            found.push(path.relative(dir, path.join(modules, "@pulumi", "pulumi")));
        for (const entry of fs.readdirSync(modules)) {
            const packages = entry.startsWith("@")
                ? fs.readdirSync(path.join(modules, entry)).map((p) => path.join(modules, entry, p))
                : [path.join(modules, entry)];
            for (const pkg of packages) visit(path.join(pkg, "node_modules"));
        }
    };
    visit(path.join(dir, "node_modules"));
    return found;
}
