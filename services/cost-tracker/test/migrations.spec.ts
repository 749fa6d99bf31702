/**
 * Migrating a database (db/migrations.ts): each migration is one transaction, so one that fails
 * leaves none of its statements behind, records no version, and leaves the connection usable for
 * the next try. A fresh embedded PGlite of its own.
 */
import * as assert from "assert";
import { pgliteDatabase, type Database } from "../src/db/database";
import { migrate } from "../src/db/migrations";

describe("cost tracker: a migration that fails", function () {
    this.timeout(60_000);
    let db: Database;
    before(async () => {
        db = await pgliteDatabase(undefined);
    });
    after(() => db.close());

    const exists = async (table: string) =>
        (await db.query<{ present: boolean }>("SELECT to_regclass($1) IS NOT NULL AS present", [table])).rows[0]
            .present;

    it("rolls back its own statements, records no version, and runs in full once the cause is gone", async () => {
        // Migration 1 creates teams, then pools: a table already named pools stops it at its second statement.
        await db.query("CREATE TABLE pools (squatter integer)");
        await assert.rejects(migrate(db), /relation "pools" already exists/);
        assert.strictEqual(await exists("teams"), false, "migration 1's first table outlived its failure");
        const versions = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM schema_migrations");
        assert.strictEqual(versions.rows[0].n, 0);

        await db.query("DROP TABLE pools");
        const applied = await migrate(db);
        assert.strictEqual(applied[0], 1);
        assert.strictEqual(await exists("teams"), true);
        assert.deepStrictEqual(await migrate(db), [], "a second run applies nothing");
    });
});
