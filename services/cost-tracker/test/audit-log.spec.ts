/**
 * The audit log as written and read (audit.ts): an entry keeps its target, a team's view holds
 * only the entries naming that team, newest first, and `before` pages back by id. The log is
 * append-only, so the spec reads what it wrote after a mark. Embedded PGlite.
 */
import * as assert from "assert";
import { appendAudit, listAudit } from "../src/audit";
import { testDatabase } from "./helpers";

describe("cost tracker: the audit log's entries and a team's view of them", function () {
    this.timeout(60_000);
    it("keeps each entry's target and teams, and lists a team's entries newest first", async () => {
        const db = await testDatabase();
        const mark = Number(
            (await db.query<{ id: string }>("SELECT coalesce(max(id), 0) AS id FROM audit_log")).rows[0].id,
        );
        const at = new Date("2026-11-20T12:00:00.000Z");
        const entry = (teams: string[], target: string | undefined, outcome: string) =>
            appendAudit(db, {
                at,
                caller: "platform",
                action: "POST /v1/gpu-requests",
                teams,
                target,
                statusCode: 201,
                outcome,
            });
        await entry(["inference"], "req-1", "approved");
        await entry(["applied-ml"], "req-2", "approved");
        await entry(["inference", "applied-ml"], undefined, "accepted");

        const mine = (rows: Awaited<ReturnType<typeof listAudit>>) =>
            rows.filter((r) => Number(r.id) > mark).map((r) => [r.teams.join("+"), r.target ?? "(none)", r.outcome]);
        assert.deepStrictEqual(mine(await listAudit(db, { team: "inference", limit: 50 })), [
            ["inference+applied-ml", "(none)", "accepted"],
            ["inference", "req-1", "approved"],
        ]);
        const all = await listAudit(db, { limit: 50 });
        assert.deepStrictEqual(mine(all), [
            ["inference+applied-ml", "(none)", "accepted"],
            ["applied-ml", "req-2", "approved"],
            ["inference", "req-1", "approved"],
        ]);
        // Paging back from the newest of the three: the two before it.
        const newest = all.find((r) => Number(r.id) > mark)!;
        assert.deepStrictEqual(mine(await listAudit(db, { before: newest.id, limit: 50 })), [
            ["applied-ml", "req-2", "approved"],
            ["inference", "req-1", "approved"],
        ]);
    });
});
