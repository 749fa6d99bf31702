/**
 * Every route that is not a read needs the caller's credential. The routes are read from the
 * built app itself (Fastify's route tree), so a write route added later without writeRoute, or
 * one that lost its check, fails here without anyone listing it.
 */
import * as assert from "assert";
import type { FastifyInstance } from "fastify";
import type { Database } from "../src/db/database";
import { resetDatabase, testApp, testConfig, testDatabase } from "./helpers";

const READ_METHODS = new Set(["GET", "HEAD"]);

/** (method, path) of every route, from printRoutes' tree: each level indents 4 columns and prints the path below its parent. */
export function routesOf(app: FastifyInstance): Array<{ method: string; url: string }> {
    const routes: Array<{ method: string; url: string }> = [];
    const prefixes: string[] = [];
    for (const line of app.printRoutes({ commonPrefix: false }).split("\n")) {
        const match = /^([│ ]*)[├└]── (\S+)(?: \(([^)]+)\))?/.exec(line);
        if (!match) continue;
        const depth = match[1].length / 4;
        const url = (prefixes[depth - 1] ?? "") + match[2];
        prefixes[depth] = url;
        prefixes.length = depth + 1;
        for (const method of match[3]?.split(", ") ?? []) routes.push({ method, url });
    }
    return routes;
}

describe("cost tracker: every write route needs a credential", () => {
    let db: Database;
    let app: FastifyInstance;

    before(async () => {
        db = await testDatabase();
        await resetDatabase(db, testConfig());
        app = await testApp(db);
        await app.ready();
    });
    after(() => app.close());

    const writes = () => routesOf(app).filter((r) => !READ_METHODS.has(r.method));

    it("finds the routes that write (so the check below cannot pass on an empty list)", () => {
        const found = writes().map((r) => `${r.method} ${r.url}`);
        for (const known of ["POST /v1/gpu-requests", "POST /v1/gpu-requests/:id/release", "POST /v1/usage"])
            assert.ok(found.includes(known), `${known} among ${found.join(", ")}`);
        assert.ok(
            routesOf(app).some((r) => r.method === "GET" && r.url === "/v1/teams"),
            "reads are listed too",
        );
    });

    for (const [label, authorization] of [
        ["no Authorization header", undefined],
        ["a wrong bearer token", "Bearer wrong-token-wrong-token"],
        ["another scheme", "Basic dGVzdDp0ZXN0"],
    ] as const) {
        it(`answers 401 to every write route called with ${label}, before reading the body, and writes nothing`, async () => {
            const before = await db.query<{ n: number }>(
                "SELECT (SELECT count(*) FROM gpu_requests) + (SELECT count(*) FROM usage) + (SELECT count(*) FROM idempotency_keys) AS n",
            );
            for (const route of writes()) {
                const url = route.url.replace(/:[A-Za-z]+/g, "6f1c1f0e-2b8e-4c7a-9d55-0a4f6f3a2b10");
                const res = await app.inject({
                    method: route.method as "POST",
                    url,
                    // A body the route would refuse: the credential is checked first, so the answer is still 401.
                    payload: { not: "a valid body" },
                    headers: { "idempotency-key": "k", ...(authorization ? { authorization } : {}) },
                });
                assert.strictEqual(res.statusCode, 401, `${route.method} ${route.url}: ${res.body}`);
                assert.strictEqual(res.json().field, "Authorization");
            }
            const after = await db.query<{ n: number }>(
                "SELECT (SELECT count(*) FROM gpu_requests) + (SELECT count(*) FROM usage) + (SELECT count(*) FROM idempotency_keys) AS n",
            );
            assert.deepStrictEqual(after.rows, before.rows);
        });
    }
});
