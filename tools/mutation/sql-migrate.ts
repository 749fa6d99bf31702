// Run by `npm run mutation:sql` before a mutant's specs: applies every migration (the mutant's copy
// loaded in place of its file by tools/mutation/sql-redirect.ts) to the database the specs would use,
// and exits non-zero with PostgreSQL's message when it refuses them.
import { pgliteDatabase, postgresDatabase } from "@gpu-platform/cost-tracker/src/db/database";
import { migrate } from "@gpu-platform/cost-tracker/src/db/migrations";

async function main(): Promise<void> {
    const url = process.env.TEST_DATABASE_URL;
    const db = url ? postgresDatabase(url, { max: 1 }) : await pgliteDatabase(undefined);
    try {
        await migrate(db);
    } finally {
        await db.close();
    }
}

main().catch((err: unknown) => {
    console.error(`sql-migrate: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
});
