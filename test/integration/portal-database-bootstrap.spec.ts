/**
 * The portal's database bootstrap (components/portal/service-databases.ts) on a real PostgreSQL
 * server (scripts/with-postgres.sh): the SQL the job's psql runs for each service, as a master
 * user played as RDS makes it, LOGIN CREATEROLE CREATEDB and not superuser (RDS docs, "Master
 * user account privileges"). Checked: each service gets a user with no server-wide privilege,
 * whose stored password is the one in its secret, and a database it owns that PUBLIC cannot
 * reach; a re-run succeeds and applies a new password; a same-named role with a privilege is
 * refused; no output holds a password.
 *
 * PostgreSQL 15 is what this machine has. What 16 and 17 add (ADMIN OPTION needed to alter
 * another role, CREATEDB/REPLICATION/BYPASSRLS changeable only by a holder) is not exercised
 * here: docs/portal-database-bootstrap.md says which and why.
 */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Client } from "pg";
import { SERVICE_DATABASE_SQL } from "../../components/portal/service-databases";

const SERVER = process.env.TEST_DATABASE_URL;
const MASTER = "rds_like_master";
const SERVICES = ["backstage_bootstrap_t", "mlflow_bootstrap_t"];

async function asSuperuser<T>(sql: string): Promise<T[]> {
    const client = new Client({ connectionString: SERVER });
    await client.connect();
    try {
        return (await client.query(sql)).rows as T[];
    } finally {
        await client.end();
    }
}

/** psql as the job runs it, as the master user, for one service whose secret file holds `password`. */
function bootstrap(service: string, password: string): { status: number | null; output: string } {
    const url = new URL(SERVER!);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "portal-db-"));
    const file = path.join(dir, `${service}.json`);
    fs.writeFileSync(file, JSON.stringify({ username: service, password }), { mode: 0o600 });
    try {
        const psql = process.env.PG_BIN ? path.join(process.env.PG_BIN, "psql") : "psql";
        const result = spawnSync(
            psql,
            ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-v", `service=${service}`, "-v", `file=${file}`],
            {
                input: SERVICE_DATABASE_SQL,
                encoding: "utf8",
                env: { ...process.env, PGHOST: url.hostname, PGPORT: url.port, PGUSER: MASTER, PGDATABASE: "postgres" },
            },
        );
        return { status: result.status, output: `${result.stdout}${result.stderr}` };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/**
 * Whether a SCRAM-SHA-256 verifier (`SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`,
 * PostgreSQL's rolpassword format) was made from `password`: StoredKey = SHA-256(HMAC(SaltedPassword,
 * "Client Key")), SaltedPassword = PBKDF2-HMAC-SHA-256(password, salt, iterations) (RFC 5802, RFC 7677).
 */
function scramMatches(verifier: string, password: string): boolean {
    const match = /^SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):/.exec(verifier);
    if (!match) return false;
    const salted = crypto.pbkdf2Sync(password, Buffer.from(match[2], "base64"), Number(match[1]), 32, "sha256");
    const clientKey = crypto.createHmac("sha256", salted).update("Client Key").digest();
    return crypto.createHash("sha256").update(clientKey).digest("base64") === match[3];
}

async function storedPassword(role: string): Promise<string> {
    const [row] = await asSuperuser<{ rolpassword: string }>(
        `SELECT rolpassword FROM pg_authid WHERE rolname = '${role}'`,
    );
    return row?.rolpassword ?? "";
}

(SERVER ? describe : describe.skip)("the portal's database bootstrap, as a non-superuser master (PostgreSQL)", () => {
    const first = "Hq7wLp2zX9cV4bN8mK3tR6yJ1sD5fG0a";
    const second = "Tn4kR8vB2xQ6mZ1pL9cW5hJ3sF7dG0yE";

    before(async () => {
        await asSuperuser(`DROP ROLE IF EXISTS ${MASTER}`);
        await asSuperuser(`CREATE ROLE ${MASTER} LOGIN CREATEROLE CREATEDB`);
    });
    after(async () => {
        for (const service of SERVICES) {
            await asSuperuser(`DROP DATABASE IF EXISTS ${service}`);
            await asSuperuser(`DROP ROLE IF EXISTS ${service}`);
        }
        await asSuperuser(`DROP ROLE IF EXISTS ${MASTER}`);
    });

    it("plays the master as RDS does: it may not name SUPERUSER in ALTER ROLE, as the job's old SQL did", async () => {
        await asSuperuser(`CREATE ROLE probe_bootstrap_t`);
        try {
            const result = spawnSync(
                process.env.PG_BIN ? path.join(process.env.PG_BIN, "psql") : "psql",
                ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", "ALTER ROLE probe_bootstrap_t WITH LOGIN NOSUPERUSER"],
                {
                    encoding: "utf8",
                    env: {
                        ...process.env,
                        PGHOST: new URL(SERVER!).hostname,
                        PGPORT: new URL(SERVER!).port,
                        PGUSER: MASTER,
                        PGDATABASE: "postgres",
                    },
                },
            );
            assert.notStrictEqual(result.status, 0);
            assert.match(
                result.stderr,
                /must be superuser to alter superuser roles or change superuser attribute|Only roles with the SUPERUSER attribute may change the SUPERUSER attribute/,
            );
        } finally {
            await asSuperuser(`DROP ROLE probe_bootstrap_t`);
        }
    });

    it("makes each service a user with no server-wide privilege, its password, and a database it owns that PUBLIC cannot reach", async () => {
        for (const service of SERVICES) {
            const run = bootstrap(service, first);
            assert.strictEqual(run.status, 0, run.output);
            assert.ok(!run.output.includes(first), "the password is in no output");
        }
        const roles = await asSuperuser<Record<string, unknown>>(
            `SELECT rolname, rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls
               FROM pg_roles WHERE rolname IN ('${SERVICES.join("', '")}') ORDER BY rolname`,
        );
        assert.deepStrictEqual(
            roles,
            SERVICES.map((rolname) => ({
                rolname,
                rolcanlogin: true,
                rolsuper: false,
                rolcreatedb: false,
                rolcreaterole: false,
                rolreplication: false,
                rolbypassrls: false,
            })),
        );
        for (const service of SERVICES) assert.ok(scramMatches(await storedPassword(service), first), service);
        const databases = await asSuperuser<{ datname: string; owner: string; publicConnect: boolean }>(
            `SELECT datname, pg_get_userbyid(datdba) AS owner, has_database_privilege('public', oid, 'CONNECT') AS "publicConnect"
               FROM pg_database WHERE datname IN ('${SERVICES.join("', '")}') ORDER BY datname`,
        );
        assert.deepStrictEqual(
            databases,
            SERVICES.map((datname) => ({ datname, owner: datname, publicConnect: false })),
        );
    });

    it("runs again without error, and applies the secret's new password", async () => {
        const [service] = SERVICES;
        const again = bootstrap(service, first);
        assert.strictEqual(again.status, 0, again.output);
        assert.ok(scramMatches(await storedPassword(service), first));
        const rotated = bootstrap(service, second);
        assert.strictEqual(rotated.status, 0, rotated.output);
        const stored = await storedPassword(service);
        assert.ok(scramMatches(stored, second) && !scramMatches(stored, first), "the new password, not the old");
    });

    it("on 16 and later, refuses a same-named role the master has no ADMIN OPTION on, in a line that says how to fix it", async () => {
        const stranger = "stranger_bootstrap_t";
        await asSuperuser(`CREATE ROLE ${stranger} LOGIN`);
        try {
            const run = bootstrap(stranger, first);
            const [{ version }] = await asSuperuser<{ version: number }>(
                "SELECT current_setting('server_version_num')::int AS version",
            );
            if (version >= 160000) {
                assert.notStrictEqual(run.status, 0);
                assert.match(run.output, new RegExp(`role ${stranger} exists and ${MASTER} has no ADMIN OPTION on it`));
            } else {
                // Before 16, CREATEROLE alone lets the master alter any role that is not a superuser.
                assert.strictEqual(run.status, 0, run.output);
            }
        } finally {
            await asSuperuser(`DROP DATABASE IF EXISTS ${stranger}`);
            await asSuperuser(`DROP ROLE ${stranger}`);
        }
    });

    it("refuses a same-named role with a server-wide privilege, and leaves it as it was", async () => {
        const [service] = SERVICES;
        await asSuperuser(`ALTER ROLE ${service} CREATEDB`);
        try {
            const run = bootstrap(service, first);
            assert.notStrictEqual(run.status, 0);
            assert.match(run.output, new RegExp(`role ${service} exists with a server-wide privilege`));
            assert.ok(scramMatches(await storedPassword(service), second), "its password untouched");
        } finally {
            await asSuperuser(`ALTER ROLE ${service} NOCREATEDB`);
        }
    });
});
