/**
 * The service as a process and under faults: start-up with a bad config, a database that is
 * down (writes 503, not ready, retried), graceful shutdown, and the built dashboard served.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { buildDashboard } from "../build";
import { postgresDatabase } from "../src/db/database";
import { AUTH, TOKEN, testApp, testConfig, testDatabase } from "./helpers";
import { closedPort, startService, waitFor } from "./service-process";

describe("cost tracker: the service process", () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "cost-tracker-"));
    after(() => fs.rmSync(tmp, { recursive: true, force: true }));

    it("refuses a bad config document with one line per field and no stack trace", async () => {
        const file = path.join(tmp, "bad.json");
        const doc = JSON.parse(JSON.stringify(testConfig()));
        doc.teams[0].monthlyBudgetUsd = "lots";
        // 3g.20gb is an A100 40 GB profile; an H100 80 GB makes 3g.40gb.
        doc.pools[2].gpuSharing = { mode: "mig", layout: { "3g.20gb": 1 } };
        fs.writeFileSync(file, JSON.stringify(doc));
        const run = startService({ COST_TRACKER_CONFIG: file, COST_TRACKER_API_TOKEN: TOKEN });
        assert.strictEqual(await run.exited, 2);
        assert.strictEqual(
            run.output(),
            [
                `${file}: invalid cost tracker config (2 problems):`,
                '  - teams[0].monthlyBudgetUsd: must be a number more than 0 (found "lots")',
                "  - pools[2].gpuSharing.layout.3g.20gb: is not a MIG profile of NVIDIA H100 80GB HBM3; allowed: 1g.10gb, 1g.20gb, 2g.20gb, 3g.40gb, 4g.40gb, 7g.80gb",
                "",
            ].join("\n"),
        );
    });

    it("starts with the database down: live, not ready, writes 503; stops cleanly on SIGTERM", async () => {
        const file = path.join(tmp, "config.json");
        fs.writeFileSync(file, JSON.stringify(testConfig()));
        const port = await closedPort();
        const dbPort = await closedPort();
        const run = startService({
            PORT: String(port),
            HOST: "127.0.0.1",
            DATABASE_URL: `postgres://tracker@127.0.0.1:${dbPort}/tracker`,
            COST_TRACKER_CONFIG: file,
            COST_TRACKER_API_TOKEN: TOKEN,
        });
        try {
            const base = `http://127.0.0.1:${port}`;
            await waitFor("/healthz", async () => ((await fetch(`${base}/healthz`)).ok ? true : undefined));
            const ready = await fetch(`${base}/readyz`);
            assert.deepStrictEqual(
                [ready.status, await ready.json()],
                [503, { status: "not ready", reason: "database not reached or migrations not applied yet" }],
            );
            const write = await fetch(`${base}/v1/gpu-requests`, {
                method: "POST",
                headers: { ...AUTH, "idempotency-key": "k", "content-type": "application/json" },
                body: JSON.stringify({
                    team: "inference",
                    pool: "h100",
                    gpus: 1,
                    hours: 1,
                    priorityClass: "training",
                    requester: "ada",
                }),
            });
            assert.deepStrictEqual(
                [write.status, write.headers.get("retry-after"), await write.json()],
                [
                    503,
                    "5",
                    {
                        error: "Service Unavailable",
                        message: "the database is unavailable; nothing was written, retry later",
                    },
                ],
            );
            await waitFor("a logged retry", async () =>
                run.output().includes('"msg":"database not reachable yet"') ? true : undefined,
            );
            assert.ok(!run.output().includes(TOKEN), "the token never reaches the log");
            run.child.kill("SIGTERM");
            assert.strictEqual(await run.exited, 0);
            assert.match(
                run.output(),
                /"signal":"SIGTERM".*"msg":"shutting down: no new requests, finishing those in flight"/,
            );
        } finally {
            run.child.kill("SIGKILL");
        }
    });
});

describe("cost tracker: faults in process", () => {
    it("answers reads and writes 503 and /readyz not ready when the database is unreachable", async () => {
        const db = postgresDatabase(`postgres://tracker@127.0.0.1:${await closedPort()}/tracker`);
        const app = await testApp(db);
        try {
            const teams = await app.inject({ method: "GET", url: "/v1/teams" });
            assert.strictEqual(teams.statusCode, 503);
            const push = await app.inject({
                method: "POST",
                url: "/v1/usage",
                headers: { ...AUTH, "idempotency-key": "k" },
                payload: {
                    records: [
                        { team: "inference", category: "ai-api", amountUsd: 3, occurredAt: "2026-11-20T10:00:00Z" },
                    ],
                },
            });
            assert.deepStrictEqual(
                [push.statusCode, push.json().message],
                [503, "the database is unavailable; nothing was written, retry later"],
            );
            const ready = await app.inject({ method: "GET", url: "/readyz" });
            assert.strictEqual(ready.statusCode, 503);
            assert.match(ready.json().reason, /^database unreachable: connect ECONNREFUSED 127\.0\.0\.1:\d+$/);
        } finally {
            await app.close();
            await db.close();
        }
    });

    it("serves the built dashboard at / with its bundled script, no CDN", async () => {
        const publicDir = fs.mkdtempSync(path.join(os.tmpdir(), "cost-tracker-public-"));
        await buildDashboard(publicDir);
        const app = await testApp(await testDatabase(), { publicDir });
        try {
            const page = await app.inject({ method: "GET", url: "/" });
            assert.strictEqual(page.statusCode, 200);
            assert.match(page.headers["content-type"] as string, /^text\/html/);
            assert.ok(page.body.includes('<script src="app.js"></script>'));
            assert.ok(
                !/https?:\/\//.test(page.body.replace(/<html[^>]*>/, "")),
                "the page loads nothing from elsewhere",
            );
            const script = await app.inject({ method: "GET", url: "/app.js" });
            assert.strictEqual(script.statusCode, 200);
            assert.ok(script.body.includes("/v1/teams"), "the bundle holds the dashboard's code");
            assert.ok(script.body.length > 100_000, "and Chart.js with it");
        } finally {
            await app.close();
            fs.rmSync(publicDir, { recursive: true, force: true });
        }
    });
});
