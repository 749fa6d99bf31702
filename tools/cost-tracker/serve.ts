/**
 * Starts the real cost tracker (the app services/cost-tracker/src/main.ts builds, on embedded PGlite) on loopback at a
 * fixed instant, for specs outside the service's package that need it running: the Backstage workspace's
 * action and plugin specs, and the portal's end-to-end run. Prints one JSON line,
 * `{"url": …, "token": …, "portalToken": …, "now": …}`, when it listens, and stops on SIGTERM or
 * SIGINT. `token` is the admin's (seeding, pushing spend); `portalToken` is a `portal` credential,
 * the kind Backstage holds in a deployment (COST_TRACKER_TOKEN_PORTAL): it acts only for the
 * signed-in user's teams, and what it reserves is recorded as `<user> via portal`.
 *
 *   node -r esbuild-register tools/cost-tracker/serve.ts [--demo] [--now 2026-11-20T12:00:00.000Z] [--port 0]
 *
 * The teams, pools and classes are the prod stack's (Pulumi.prod.yaml), as the templates'
 * forms are; --demo seeds the demo's month of spend and decisions.
 */
import { seedDemo } from "@gpu-platform/cost-tracker/src/demo/seed";
import { TOKEN, clock, resetDatabase, testApp, testDatabase } from "@gpu-platform/cost-tracker/test/helpers";
import { costTrackerConfigFromStack } from "./stack-config";

/** The portal's credential here (services/cost-tracker/src/http/callers.ts, kind `portal`). */
export const PORTAL_TOKEN = "portal-token-0123456789abcdef";

/** The instant the specs of the Backstage workspace are written for (their hand-computed figures assume it). */
export const DEFAULT_NOW = "2026-11-20T12:00:00.000Z";

function option(args: string[], name: string): string | undefined {
    const at = args.indexOf(name);
    return at === -1 ? undefined : args[at + 1];
}

async function serve(args: string[]): Promise<void> {
    const now = option(args, "--now") ?? DEFAULT_NOW;
    if (Number.isNaN(Date.parse(now))) throw new Error(`--now: "${now}" is not an ISO 8601 instant`);
    const port = Number(option(args, "--port") ?? "0");
    const config = costTrackerConfigFromStack("prod");
    const db = await testDatabase();
    await resetDatabase(db, config);
    const fixed = clock(now);
    if (args.includes("--demo")) await seedDemo(db, config, fixed.now());
    const app = await testApp(db, {
        config,
        now: fixed.now,
        credentials: [{ kind: "portal", tokens: [PORTAL_TOKEN] }],
    });
    const url = await app.listen({ host: "127.0.0.1", port });
    process.stdout.write(`${JSON.stringify({ url, token: TOKEN, portalToken: PORTAL_TOKEN, now })}\n`);
    const stop = () => void app.close().then(() => db.close().then(() => process.exit(0)));
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
}

serve(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`cost tracker (test) failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
});
