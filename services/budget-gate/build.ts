/**
 * Builds the gate for its image: one JavaScript file, dist/gate.js, with the catalog, the
 * cost tracker's pricing and the config document's module inside (they are TypeScript in this
 * repository), and the npm packages the gate depends on left to node_modules.
 *
 *   node -r esbuild-register build.ts
 */
import { build } from "esbuild";
import * as path from "path";
import { dependencies } from "./package.json";

const SERVICE_DIR = __dirname;

/**
 * The production dependencies stay external: the image installs them (npm ci --omit=dev). The
 * workspace packages the gate declares as devDependencies (@gpu-platform/…, TypeScript in this
 * repository) are bundled, and so is anything else it imports.
 */
export const EXTERNAL_PACKAGES = Object.keys(dependencies);

export async function buildGate(): Promise<void> {
    await build({
        entryPoints: [path.join(SERVICE_DIR, "src", "main.ts")],
        bundle: true,
        platform: "node",
        target: "node20",
        format: "cjs",
        external: EXTERNAL_PACKAGES,
        outfile: path.join(SERVICE_DIR, "dist", "gate.js"),
        logLevel: "warning",
    });
}

if (require.main === module) {
    buildGate().catch((err: unknown) => {
        process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(1);
    });
}
