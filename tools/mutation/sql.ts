// `npm run mutation:sql [-- <mutant id>...]`: applies each SQL mutant of tools/mutation/sql-mutants.ts
// to a copy of its migration file, runs the specs that should notice it with every import of that
// file redirected to the copy (tools/mutation/sql-redirect.ts), and prints killed/survived and the
// score. The fast specs run on embedded PGlite; the lock mutants need concurrent connections, so
// they run the concurrency specs on the PostgreSQL server of scripts/with-postgres.sh (a fresh
// database each), and are reported as not run when TEST_DATABASE_URL is unset.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { SQL_MUTANTS, type SqlMutant } from "./sql-mutants";

const FAST_SPECS = "services/cost-tracker/test/*.spec.ts";
const POSTGRES_SPECS = "services/cost-tracker/test/integration/concurrency.spec.ts";

type Outcome = "killed" | "survived" | "invalid" | "not run";

const wanted = process.argv.slice(2);
const unknown = wanted.filter((id) => !SQL_MUTANTS.some((m) => m.id === id));
for (const id of unknown) console.error(`mutation:sql: no SQL mutant "${id}"`);
const problems = SQL_MUTANTS.flatMap(problemOf);
for (const p of problems) console.error(`mutation:sql: ${p}`);
if (unknown.length + problems.length > 0) process.exit(2);

const chosen = wanted.length > 0 ? SQL_MUTANTS.filter((m) => wanted.includes(m.id)) : SQL_MUTANTS;
const scratch = mkdtempSync(join(tmpdir(), "sql-mutants-"));
const outcomes: Array<[SqlMutant, Outcome]> = [];
try {
    for (const [i, mutant] of chosen.entries()) {
        console.log(`\n[${i + 1}/${chosen.length}] ${mutant.id}: ${mutant.why}`);
        const outcome = judge(mutant);
        console.log(`  → ${outcome}`);
        outcomes.push([mutant, outcome]);
    }
} finally {
    rmSync(scratch, { recursive: true, force: true });
}
report(outcomes);

/** Why a mutant cannot be applied: its file is missing, or its text is not there exactly once. */
function problemOf(mutant: SqlMutant): string[] {
    if (!existsSync(mutant.file)) return [`${mutant.id}: file ${mutant.file} does not exist`];
    const found = readFileSync(mutant.file, "utf8").split(mutant.find).length - 1;
    if (found === 1) return [];
    return [`${mutant.id}: "${mutant.find}" occurs ${found} times in ${mutant.file}; it must occur exactly once`];
}

function judge(mutant: SqlMutant): Outcome {
    const database = mutant.suite === "postgres" ? freshDatabase(mutant) : undefined;
    if (mutant.suite === "postgres" && database === undefined) return "not run";
    const source = resolve(mutant.file);
    // Beside the original, so that the copy's own relative imports resolve as the original's do;
    // named by this process, so that two runs never write one copy.
    const copy = join(dirname(source), `${basename(source, ".ts")}.sql-mutant-${process.pid}.ts`);
    const mark = join(scratch, `${mutant.id}.loaded`);
    writeFileSync(
        copy,
        readFileSync(source, "utf8").replace(mutant.find, () => mutant.replace),
    );
    try {
        const env: NodeJS.ProcessEnv = {
            ...process.env,
            SQL_MUTANT_SOURCE: source,
            SQL_MUTANT_COPY: copy,
            SQL_MUTANT_MARK: mark,
        };
        if (database === undefined) delete env.TEST_DATABASE_URL;
        else env.TEST_DATABASE_URL = database;
        // A mutant whose SQL PostgreSQL refuses is not a valid mutant (like a compile error), not a kill.
        if (!migrates(env)) return "invalid";
        if (!existsSync(mark))
            throw new Error(`${mutant.id}: the specs never loaded ${mutant.file}; nothing was tested`);
        const specs = mutant.suite === "postgres" ? POSTGRES_SPECS : FAST_SPECS;
        const run = node(
            env,
            ["node_modules/mocha/bin/mocha.js", "--no-config", "--bail", "--timeout", "120000"],
            [specs],
        );
        return run === 0 ? "survived" : "killed";
    } finally {
        rmSync(copy, { force: true });
    }
}

/** Applies every migration, mutant included, to a new database: true when PostgreSQL accepts them. */
function migrates(env: NodeJS.ProcessEnv): boolean {
    return node(env, ["tools/mutation/sql-migrate.ts"], []) === 0;
}

function node(env: NodeJS.ProcessEnv, head: string[], tail: string[]): number | null {
    const args = ["-r", "esbuild-register", "-r", "./tools/mutation/sql-redirect.ts", ...head];
    const reporter = head.some((a) => a.includes("mocha")) ? ["--reporter", "dot"] : [];
    return spawnSync("node", [...args, ...reporter, ...tail], { env, stdio: ["ignore", "ignore", "pipe"] }).status;
}

/** A new, empty database on the server TEST_DATABASE_URL points at, or undefined without one. */
function freshDatabase(mutant: SqlMutant): string | undefined {
    const server = process.env.TEST_DATABASE_URL;
    if (!server) return undefined;
    const name = `sql_mutant_${mutant.id.replace(/-/g, "_")}`;
    const psql = join(process.env.PG_BIN ?? "", "psql");
    const created = spawnSync(
        psql,
        ["-q", server, "-c", `DROP DATABASE IF EXISTS ${name}`, "-c", `CREATE DATABASE ${name}`],
        {
            stdio: ["ignore", "ignore", "inherit"],
        },
    );
    if (created.status !== 0) throw new Error(`${mutant.id}: could not create database ${name}`);
    const url = new URL(server);
    url.pathname = `/${name}`;
    return url.toString();
}

function report(results: ReadonlyArray<[SqlMutant, Outcome]>): void {
    console.log("\nSQL mutant                            suite     outcome");
    for (const [m, outcome] of results) console.log(`${m.id.padEnd(37)} ${m.suite.padEnd(9)} ${outcome}`);
    const count = (o: Outcome) => results.filter(([, r]) => r === o).length;
    const killed = count("killed");
    const valid = killed + count("survived");
    const score = valid === 0 ? "n/a" : `${((100 * killed) / valid).toFixed(1)}%`;
    console.log(
        `\nkilled ${killed}, survived ${count("survived")}, invalid ${count("invalid")}, not run ${count("not run")}: score ${score}`,
    );
    process.exitCode = count("survived") > 0 ? 1 : 0;
}
