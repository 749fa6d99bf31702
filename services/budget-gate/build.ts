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

/** npm packages stay external; the workspace's own TypeScript (@gpu-platform/…) is bundled. */
export const EXTERNAL_PACKAGES = Object.keys(dependencies).filter((name) => !name.startsWith("@gpu-platform/"));

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
