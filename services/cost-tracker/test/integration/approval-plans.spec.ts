/**
 * How PostgreSQL runs the approval's money read (migration 8), checked on the server's own
 * plans: the profile of the approval bench found the time in re-planned SQL functions, a
 * per-row function call and a scan of every team's spend, not in the rows that matter. These
 * specs fail if any of the three comes back. PGlite has no auto_explain, so they run on a server.
 */
import * as assert from "assert";
import { Client } from "pg";
import type { Database } from "../../src/db/database";
import { resetDatabase, testConfig, testDatabase } from "../helpers";

interface ExplainedPlan {
    "Query Text": string;
    Plan: PlanNode;
}

interface PlanNode {
    "Node Type": string;
    "Relation Name"?: string;
    "Index Name"?: string;
    "Actual Rows"?: number;
    "Rows Removed by Filter"?: number;
    "Rows Removed by Index Recheck"?: number;
    Output?: string[];
    Plans?: PlanNode[];
}

function nodes(plan: PlanNode): PlanNode[] {
    return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

/** Runs `sql` on a connection of its own with auto_explain reporting every nested statement's plan to the client. */
async function nestedPlans(sql: string, params: unknown[]): Promise<ExplainedPlan[]> {
    const client = new Client({ connectionString: process.env.TEST_DATABASE_URL });
    await client.connect();
    const plans: ExplainedPlan[] = [];
    client.on("notice", (notice) => {
        const json = notice.message?.replace(/^duration: [\d.]+ ms\s+plan:\s*/, "");
        if (json?.startsWith("{")) plans.push(JSON.parse(json) as ExplainedPlan);
    });
    try {
        // auto_explain ships with PostgreSQL (contrib); LOAD needs the superuser the test server runs as.
        await client.query("LOAD 'auto_explain'");
        await client.query(
            `SET auto_explain.log_min_duration = 0; SET auto_explain.log_nested_statements = on;
             SET auto_explain.log_analyze = on; SET auto_explain.log_verbose = on;
             SET auto_explain.log_format = json; SET client_min_messages = log`,
        );
        await client.query(sql, params);
        // Notices arrive before the query's answer; one round trip more makes sure every one was read.
        await client.query("SELECT 1");
    } finally {
        await client.end();
    }
    return plans;
}

describe("cost tracker on PostgreSQL: the approval's money read", () => {
    let db: Database;

    before(async () => {
        db = await testDatabase();
        assert.strictEqual(db.kind, "postgres");
    });
    beforeEach(() => resetDatabase(db, testConfig()));

    it("reads a team's month of spend from that team's rows only, however many other teams spend", async () => {
        // A month's roll-up as 31 teams leave it: 31 teams × 31 days × 5 categories × 2 pools = 9,610
        // rows in December 2026 (daily_spend names teams without a foreign key), 310 of them applied-ml's.
        const teams = ["applied-ml", ...Array.from({ length: 30 }, (_, i) => `other-${i + 1}`)];
        await db.query(
            `INSERT INTO daily_spend (line, team, day, category, pool, gpu_resource, amount_usd, gpu_hours)
             SELECT 'team', t, d::date, c, p, '', 1, 0
               FROM unnest($1::text[]) t, generate_series('2026-12-01'::date, '2026-12-31', interval '1 day') d,
                    unnest(ARRAY['gpu', 'cpu-memory', 'storage', 'ai-api', 'other-aws']) c, unnest(ARRAY['', 'h100']) p`,
            [teams],
        );
        await db.query("ANALYZE daily_spend");
        const plans = await nestedPlans("SELECT * FROM team_money($1, $2, $3, $4)", [
            "applied-ml",
            new Date("2026-12-15T12:00:00Z"),
            "2026-12-01",
            "2027-01-01",
        ]);
        const spendRead = plans.find((p) => /FROM daily_spend/.test(p["Query Text"]));
        assert.ok(spendRead, `team_money's read of daily_spend is among its statements: ${plans.length} plans seen`);
        const scans = nodes(spendRead.Plan).filter((n) => n["Relation Name"] === "daily_spend" || n["Index Name"]);
        const removed = scans.reduce(
            (sum, n) => sum + (n["Rows Removed by Filter"] ?? 0) + (n["Rows Removed by Index Recheck"] ?? 0),
            0,
        );
        assert.strictEqual(removed, 0, `no other team's row is read and thrown away: ${JSON.stringify(scans)}`);
        assert.ok(scans.some((n) => n["Index Name"] === "daily_spend_team_day"));
        const { rows } = await db.query<{ spent: number }>(
            "SELECT spent FROM team_money('applied-ml', '2026-12-15T12:00:00Z', '2026-12-01', '2027-01-01')",
        );
        assert.strictEqual(rows[0].spent, 310, "31 days × 5 categories × 2 pools × $1");
    });

    it("sums a team's live reservations as one expression, without a function call per reservation", async () => {
        const plans = await nestedPlans("SELECT team_reserved_in($1, $2, $3, $4)", [
            "applied-ml",
            new Date("2026-12-15T12:00:00Z"),
            "2026-12-01",
            "2027-01-01",
        ]);
        const sum = plans.find((p) => /FROM gpu_requests/.test(p["Query Text"]));
        assert.ok(sum, `team_reserved_in's sum is among its statements: ${plans.length} plans seen`);
        const outputs = nodes(sum.Plan).flatMap((n) => n.Output ?? []);
        assert.ok(outputs.length > 0, "the verbose plan names what each node computes");
        assert.ok(
            outputs.every((o) => !o.includes("reservation_held_in")),
            `reservation_held_in is inlined: ${outputs.join(" | ")}`,
        );
    });

    it("splits a reservation across a month's end in UTC whatever the session's time zone", async () => {
        // $100 over 4 h from 2026-01-31 22:00 UTC: 2 h in January, 2 h in February, $50 each; a
        // session in Chatham (UTC+13:45) or New York would see another local midnight.
        for (const zone of ["UTC", "Pacific/Chatham", "America/New_York"]) {
            const client = new Client({ connectionString: process.env.TEST_DATABASE_URL });
            await client.connect();
            try {
                await client.query(`SET TimeZone = '${zone}'`);
                const { rows } = await client.query<{ january: string; february: string }>(
                    `SELECT reservation_held_in(100, 0, '2026-01-31T22:00:00Z', 4, '2026-01-01', '2026-02-01') AS january,
                            reservation_held_in(100, 0, '2026-01-31T22:00:00Z', 4, '2026-02-01', '2026-03-01') AS february`,
                );
                assert.deepStrictEqual([Number(rows[0].january), Number(rows[0].february)], [50, 50], zone);
            } finally {
                await client.end();
            }
        }
    });
});
