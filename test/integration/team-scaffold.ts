/**
 * A new team's first commands, as docs/team-project.md shows them, run against this checkout:
 * the packed @gpu-platform/create-team and @gpu-platform/components served by a registry on
 * loopback for the @gpu-platform scope (what the organisation's registry is to a team), every
 * other package from the npm cache. Used by team-scaffold.spec.ts (offline) and, run as a
 * script, by scripts/prime-team-project-cache.sh (online, once) to fill the cache.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { REPO_ROOT, buildAndPack, run, succeeded, type Run } from "./npm-project";
import { startScopedRegistry, type ScopedRegistry } from "./scoped-registry";

export const DOCS_PAGE = path.join(REPO_ROOT, "docs", "team-project.md");
const CREATE_TEAM = path.join(REPO_ROOT, "tools", "create-team");

/** The page's first `sh` block: the commands a team types, one a line. */
export function documentedCommands(): string[] {
    const page = fs.readFileSync(DOCS_PAGE, "utf8");
    const block = /```sh\n([\s\S]*?)```/.exec(page)?.[1] ?? "";
    return block.split("\n").filter((line) => line.trim() !== "");
}

export interface TeamWorkspace {
    /** Holds `gpu-platform` (this checkout, linked) and `teams`, the empty folder the commands start in. */
    readonly root: string;
    readonly teams: string;
    readonly registry: ScopedRegistry;
    /** The environment of a fresh shell whose user npm config is `npmrc` in root. */
    readonly env: NodeJS.ProcessEnv;
}

/**
 * Packs both packages, serves them, and writes the npm config a team would have: the scope's
 * registry. Offline, the public registry is made unreachable (a proxy on a closed port), so a
 * package missing from the npm cache fails the run instead of being fetched.
 */
export async function openTeamWorkspace(options: { offline: boolean }): Promise<TeamWorkspace> {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "team-scaffold-"));
    const packages = path.join(root, "packages");
    fs.mkdirSync(packages);
    const packed = [await buildAndPack(REPO_ROOT, packages), await buildAndPack(CREATE_TEAM, packages)];
    const registry = await startScopedRegistry(packed);
    fs.symlinkSync(REPO_ROOT, path.join(root, "gpu-platform"), "dir");
    const teams = path.join(root, "teams");
    fs.mkdirSync(teams);
    const npmrc = path.join(root, "npmrc");
    fs.writeFileSync(
        npmrc,
        [
            `@gpu-platform:registry=${registry.url}`,
            // @pulumi/kubernetes's install script asks the Pulumi CLI for its provider plugin: not here.
            "ignore-scripts=true",
            "audit=false",
            "fund=false",
            "update-notifier=false",
            ...(options.offline
                ? ["prefer-offline=true", "proxy=http://127.0.0.1:9", "https-proxy=http://127.0.0.1:9"]
                : []),
            "noproxy=127.0.0.1",
            "fetch-retries=0",
            "",
        ].join("\n"),
    );
    await forgetInstalledInitializer();
    return { root, teams, registry, env: { ...freshEnvironment(), npm_config_userconfig: npmrc } };
}

export async function closeTeamWorkspace(workspace: TeamWorkspace | undefined): Promise<void> {
    if (!workspace) return;
    await workspace.registry.close();
    fs.rmSync(workspace.root, { recursive: true, force: true });
}

/** Runs the documented commands in one shell, stopping at the first that fails, as a reader pasting them would. */
export function runDocumentedCommands(workspace: TeamWorkspace, commands = documentedCommands()): Promise<Run> {
    return run("sh", ["-e", "-c", commands.join("\n")], workspace.teams, workspace.env);
}

/** The environment without what an npm script's would add (npm_config_*, npm_package_*, …). */
function freshEnvironment(): NodeJS.ProcessEnv {
    return Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(npm_|INIT_CWD$)/i.test(key)));
}

/**
 * `npm init` reuses an initializer it installed before (in the npm cache's _npx folder) when the
 * version matches: drop ours, so the run takes the one just packed.
 */
async function forgetInstalledInitializer(): Promise<void> {
    const cache = succeeded("npm config get cache", await run("npm", ["config", "get", "cache"], REPO_ROOT)).stdout;
    const npx = path.join(cache.trim(), "_npx");
    if (!fs.existsSync(npx)) return;
    for (const entry of fs.readdirSync(npx)) {
        if (fs.existsSync(path.join(npx, entry, "node_modules", "@gpu-platform", "create-team")))
            fs.rmSync(path.join(npx, entry), { recursive: true, force: true });
    }
}

/** Online, once: the first two commands, so that every package they install lands in the npm cache. */
async function primeNpmCache(): Promise<void> {
    const workspace = await openTeamWorkspace({ offline: false });
    try {
        const installing = documentedCommands().filter((command) => !/npm run plan/.test(command));
        succeeded("the documented commands (online)", await runDocumentedCommands(workspace, installing));
        process.stdout.write(`npm cache primed for the commands of ${path.relative(REPO_ROOT, DOCS_PAGE)}\n`);
    } finally {
        await closeTeamWorkspace(workspace);
    }
}

if (require.main === module) {
    primeNpmCache().catch((err: unknown) => {
        process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
        process.exitCode = 1;
    });
}
