/**
 * Builds the service once: the dashboard (Chart.js bundled with the page's script, no CDN) into
 * dist/public, and for the image the server as one JavaScript file, dist/server.js, with the
 * declared workspace package @gpu-platform/catalog (TypeScript in this repository) inside and
 * every other npm package left to node_modules.
 *
 *   node -r esbuild-register build.ts [dashboard|server|all]
 */
import { build } from "esbuild";
import * as fs from "fs";
import * as path from "path";
import { dependencies } from "./package.json";

const SERVICE_DIR = __dirname;
export const PUBLIC_DIR = path.join(SERVICE_DIR, "dist", "public");

export async function buildDashboard(outDir: string = PUBLIC_DIR): Promise<void> {
    fs.mkdirSync(outDir, { recursive: true });
    await build({
        entryPoints: [path.join(SERVICE_DIR, "dashboard", "main.ts")],
        bundle: true,
        minify: true,
        format: "iife",
        target: "es2020",
        outfile: path.join(outDir, "app.js"),
        logLevel: "warning",
    });
    for (const file of ["index.html", "app.css", "favicon.svg"])
        fs.copyFileSync(path.join(SERVICE_DIR, "dashboard", file), path.join(outDir, file));
}

/**
 * The production dependencies stay external: the image installs them (npm ci --omit=dev). The
 * workspace packages the service declares as devDependencies (@gpu-platform/…, TypeScript in
 * this repository) are bundled, and so is anything else it imports.
 */
export const EXTERNAL_PACKAGES = Object.keys(dependencies);

export async function buildServer(): Promise<void> {
    await build({
        entryPoints: [path.join(SERVICE_DIR, "src", "main.ts")],
        bundle: true,
        platform: "node",
        target: "node20",
        format: "cjs",
        external: EXTERNAL_PACKAGES,
        outfile: path.join(SERVICE_DIR, "dist", "server.js"),
        logLevel: "warning",
    });
}

if (require.main === module) {
    const what = process.argv[2] ?? "all";
    const steps = { dashboard: [buildDashboard], server: [buildServer], all: [buildDashboard, buildServer] }[what];
    if (!steps) {
        process.stderr.write(`unknown target "${what}"; one of dashboard, server, all\n`);
        process.exit(2);
    }
    (async () => {
        for (const step of steps) await step();
    })().catch((err) => {
        process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(1);
    });
}
