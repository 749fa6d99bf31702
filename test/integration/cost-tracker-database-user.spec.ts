/**
 * Issue 21 item 7, on a real PostgreSQL server (scripts/with-postgres.sh): the SQL the cost
 * tracker's tasks run as the RDS master user before the service starts. The master is played
 * as RDS makes it: LOGIN CREATEROLE, not superuser, owner of the tracker's database (RDS docs,
 * "Master user account privileges"). Checked: it hands the service user what the migrations
 * need, on an empty database and on one an earlier version migrated as the master user; the
 * user has no server-wide privilege; it runs again without error; the password is in no output.
 */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as path from "path";
import { Client } from "pg";
import { DATABASE_USER, DATABASE_USER_SQL } from "../../components/costs/database-user";
import { postgresDatabase } from "@gpu-platform/cost-tracker/src/db/database";
import { LATEST_VERSION, migrate } from "@gpu-platform/cost-tracker/src/db/migrations";

const SERVER = process.env.TEST_DATABASE_URL;
const MASTER = "dbadmin_item7";
const PASSWORD = "Zq3pLw8xT2vN5kR7mB4cH9dF6gJ1sY0a";

function urlFor(user: string, database: string): string {
    const url = new URL(SERVER!);
    url.username = user;
    url.pathname = `/${database}`;
    return url.toString();
}

async function asSuperuser(sql: string): Promise<void> {
    const client = new Client({ connectionString: SERVER });
    await client.connect();
    try {
        await client.query(sql);
    } finally {
        await client.end();
    }
}

/** psql as the master user, the SQL on stdin and the user's name and password in the environment, as the container runs it. */
function runAsMaster(database: string): { status: number | null; output: string } {
    const url = new URL(SERVER!);
    const psql = process.env.PG_BIN ? path.join(process.env.PG_BIN, "psql") : "psql";
    const result = spawnSync(psql, ["-q", "-X"], {
        input: DATABASE_USER_SQL,
        encoding: "utf8",
        env: {
            ...process.env,
            PGHOST: url.hostname,
            PGPORT: url.port,
            PGUSER: MASTER,
            PGDATABASE: database,
            SERVICE_DATABASE_USER: DATABASE_USER.name,
            SERVICE_DATABASE_PASSWORD: PASSWORD,
        },
    });
    return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

async function query<T>(user: string, database: string, sql: string): Promise<T[]> {
    const client = new Client({ connectionString: urlFor(user, database) });
    await client.connect();
    try {
        return (await client.query(sql)).rows as T[];
    } finally {
        await client.end();
    }
}

(SERVER ? describe : describe.skip)("the cost tracker's own database user (PostgreSQL)", () => {
    const databases = ["ct_item7_fresh", "ct_item7_upgraded"];
    before(async () => {
        await asSuperuser(
            `DO $$BEGIN CREATE ROLE ${MASTER} LOGIN CREATEROLE; EXCEPTION WHEN duplicate_object THEN END$$`,
        );
        for (const database of databases) await asSuperuser(`CREATE DATABASE ${database} OWNER ${MASTER}`);
    });
    after(async () => {
        for (const database of databases) await asSuperuser(`DROP DATABASE IF EXISTS ${database}`);
    });

    it("lets the user run every migration on an empty database, and no more than that", async () => {
        const run = runAsMaster("ct_item7_fresh");
        assert.strictEqual(run.status, 0, run.output);
        assert.ok(!run.output.includes(PASSWORD), "the password is in no output");
        const db = postgresDatabase(urlFor(DATABASE_USER.name, "ct_item7_fresh"), { max: 2 });
        try {
            const applied = await migrate(db);
            assert.strictEqual(applied[applied.length - 1], LATEST_VERSION);
        } finally {
            await db.close();
        }
        const [role] = await query<Record<string, boolean>>(
            DATABASE_USER.name,
            "ct_item7_fresh",
            `SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls FROM pg_roles WHERE rolname = current_user`,
        );
        assert.deepStrictEqual(role, {
            rolsuper: false,
            rolcreatedb: false,
            rolcreaterole: false,
            rolreplication: false,
            rolbypassrls: false,
        });
    });

    it("takes over what an earlier version migrated as the master user, and a later migration can alter it", async () => {
        const asMaster = postgresDatabase(urlFor(MASTER, "ct_item7_upgraded"), { max: 2 });
        try {
            await migrate(asMaster);
        } finally {
            await asMaster.close();
        }
        const run = runAsMaster("ct_item7_upgraded");
        assert.strictEqual(run.status, 0, run.output);
        const foreign = await query<{ name: string }>(
            DATABASE_USER.name,
            "ct_item7_upgraded",
            `SELECT c.relname AS name FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace
               AND c.relkind IN ('r', 'p', 'S', 'v', 'm') AND c.relowner <> current_user::regrole
             UNION ALL
             SELECT p.proname FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace AND p.proowner <> current_user::regrole`,
        );
        assert.deepStrictEqual(foreign, [], "every table, sequence and function is the user's");
        // What a future migration does: alter a table, create one, and write.
        await query(
            DATABASE_USER.name,
            "ct_item7_upgraded",
            `BEGIN; ALTER TABLE teams ADD COLUMN item7 integer; CREATE TABLE item7 (id bigserial PRIMARY KEY); INSERT INTO item7 DEFAULT VALUES; ROLLBACK`,
        );
        const db = postgresDatabase(urlFor(DATABASE_USER.name, "ct_item7_upgraded"), { max: 2 });
        try {
            assert.deepStrictEqual(await migrate(db), [], "already at the latest version");
        } finally {
            await db.close();
        }
    });

    it("runs again at the next task start without error, and refuses a same-named role with a server-wide privilege", async () => {
        assert.strictEqual(runAsMaster("ct_item7_fresh").status, 0);
        await asSuperuser(`ALTER ROLE ${DATABASE_USER.name} CREATEDB`);
        try {
            const run = runAsMaster("ct_item7_fresh");
            assert.notStrictEqual(run.status, 0);
            assert.match(run.output, /role cost_tracker exists with a server-wide privilege/);
        } finally {
            await asSuperuser(`ALTER ROLE ${DATABASE_USER.name} NOCREATEDB`);
        }
    });
});
