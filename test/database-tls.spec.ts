/**
 * Issue 21 item 12: every client of the platform's RDS databases verifies the server's
 * certificate against RDS's CA bundle, and the bundle is there before the client starts.
 * Expected values come from outside the code under test:
 * - the bundle URLs: Amazon RDS user guide, "Using SSL/TLS to encrypt a connection to a DB
 *   instance or cluster" (per-region bundles; GovCloud's on truststore.pki.us-gov-west-1…; China's
 *   on rds-truststore.s3.cn-north-1.amazonaws.com.cn, docs.amazonaws.cn);
 * - libpq: `sslmode=verify-full` checks the chain against `sslrootcert` and the host name
 *   (PostgreSQL 17 docs, "SSL Support", table "SSL Mode Descriptions"); PGSSLMODE/PGSSLROOTCERT
 *   are its environment names ("Environment Variables");
 * - Node: `NODE_EXTRA_CA_CERTS` extends the trust store (Node CLI docs), and node-postgres passes
 *   `ssl` to `tls.connect`, where `rejectUnauthorized: true` refuses an unverified chain;
 * - the charts' order of init containers: backstage 2.8.2 templates/backstage-deployment.yaml,
 *   mlflow 1.11.5 templates/deployment.yaml (the chart's migration runs before ours).
 */
import * as assert from "assert";
import { execFile } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { named, ofType, record, validStackConfig } from "./harness";
import { buildPlatform } from "../platform";
import { rdsCaBundleUrl } from "@gpu-platform/catalog/rds-ca";
import { RDS_CA_FETCH_SCRIPT } from "../components/shared/rds-ca";

const RELEASE = "kubernetes:helm.sh/v3:Release";
const BUNDLE_FILE = "/etc/rds-ca/rds-ca-bundle.pem";
const US_EAST_1_BUNDLE = "https://truststore.pki.rds.amazonaws.com/us-east-1/us-east-1-bundle.pem";

describe("database TLS verified against the RDS CA bundle", function () {
    this.timeout(120_000);

    it("fetches each partition's bundle from where RDS publishes it", () => {
        assert.strictEqual(rdsCaBundleUrl("us-east-1"), US_EAST_1_BUNDLE);
        assert.strictEqual(
            rdsCaBundleUrl("us-gov-west-1"),
            "https://truststore.pki.us-gov-west-1.rds.amazonaws.com/us-gov-west-1/us-gov-west-1-bundle.pem",
        );
        assert.strictEqual(
            rdsCaBundleUrl("cn-northwest-1"),
            "https://rds-truststore.s3.cn-north-1.amazonaws.com.cn/cn-northwest-1/cn-northwest-1-bundle.pem",
        );
    });

    describe("the fetch script the init containers run", () => {
        let server: http.Server;
        let base: string;
        let dir: string;
        const PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".repeat(2);
        before(async () => {
            dir = fs.mkdtempSync(path.join(os.tmpdir(), "rds-ca-"));
            server = http.createServer((req, res) => {
                if (req.url === "/bundle.pem") res.end(PEM);
                else if (req.url === "/portal") res.end("<html>sign in</html>");
                else if (req.url === "/redirect") res.writeHead(302, { location: "/bundle.pem" }).end();
                else res.writeHead(404).end();
            });
            await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
            base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
        });
        after(() => {
            server.close();
            fs.rmSync(dir, { recursive: true, force: true });
        });
        const run = (url: string, file: string) =>
            new Promise<{ code: number; stderr: string; stdout: string }>((resolve) =>
                execFile(
                    process.execPath,
                    ["-e", RDS_CA_FETCH_SCRIPT],
                    { env: { RDS_CA_URL: url, RDS_CA_FILE: file } },
                    (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
                ),
            );

        it("writes the bundle read-only and says how many certificates it holds", async () => {
            const file = path.join(dir, "ok.pem");
            const result = await run(`${base}/bundle.pem`, file);
            assert.strictEqual(result.code, 0, result.stderr);
            assert.strictEqual(fs.readFileSync(file, "utf8"), PEM);
            assert.strictEqual(fs.statSync(file).mode & 0o777, 0o444);
            assert.match(result.stdout, /RDS CA bundle: 2 certificates from /);
        });

        it("fails, writing nothing, on an error status, a page that is not PEM, or a redirect", async () => {
            for (const [route, reason] of [
                ["/missing", /answered HTTP 404/],
                ["/portal", /did not answer a PEM certificate bundle/],
                ["/redirect", /cannot fetch the RDS CA bundle/],
            ] as const) {
                const file = path.join(dir, `${route.slice(1)}.pem`);
                const result = await run(`${base}${route}`, file);
                assert.strictEqual(result.code, 1, route);
                assert.match(result.stderr, reason);
                assert.ok(!fs.existsSync(file), `${route} left a file`);
            }
        });
    });

    describe("the dev platform's clients", () => {
        let resources: Awaited<ReturnType<typeof record>>["resources"];
        before(async () => {
            ({ resources } = await record(() => buildPlatform(validStackConfig("dev"))));
        });
        const fetcher = (container: any) => {
            assert.strictEqual(container.name, "rds-ca");
            const env = Object.fromEntries((container.env ?? container.environment).map((e: any) => [e.name, e.value]));
            assert.deepStrictEqual(env, { RDS_CA_URL: US_EAST_1_BUNDLE, RDS_CA_FILE: BUNDLE_FILE });
        };
        const libpqEnv = (container: any) =>
            Object.fromEntries((container.env ?? container.environment).map((e: any) => [e.name, e.value]));

        it("Backstage: the bundle fetched first, in Node's trust store, and the connection verified", () => {
            const values = (named(resources, RELEASE, "gpu-platform-dev-backstage-release").inputs as any).values;
            const backstage = values.backstage;
            fetcher(backstage.initContainers[0]);
            const env = Object.fromEntries(backstage.extraEnvVars.map((e: any) => [e.name, e.value]));
            assert.strictEqual(env.NODE_EXTRA_CA_CERTS, BUNDLE_FILE);
            assert.deepStrictEqual(backstage.extraVolumeMounts, [
                { name: "rds-ca", mountPath: "/etc/rds-ca", readOnly: true },
            ]);
            assert.deepStrictEqual(
                backstage.extraVolumes.map((v: any) => v.name),
                ["rds-ca"],
            );
            assert.deepStrictEqual(backstage.appConfig.backend.database.connection.ssl, { rejectUnauthorized: true });
        });

        it("MLflow: its migration and its server use verify-full, after the fetch", () => {
            const values = (named(resources, RELEASE, "gpu-platform-dev-mlflow-release").inputs as any).values;
            assert.strictEqual(
                values.backendStore.databaseMigration,
                false,
                "the chart's own would run before the fetch",
            );
            const [first, migration] = values.initContainers;
            fetcher(first);
            assert.match(migration.command.join(" "), /_initialize_tables/);
            assert.strictEqual(libpqEnv(migration).PGSSLMODE, "verify-full");
            assert.strictEqual(libpqEnv(migration).PGSSLROOTCERT, BUNDLE_FILE);
            assert.ok(migration.volumeMounts.some((m: any) => m.name === "rds-ca" && m.mountPath === "/etc/rds-ca"));
            assert.strictEqual(values.extraEnvVars.PGSSLMODE, "verify-full");
            assert.strictEqual(values.extraEnvVars.PGSSLROOTCERT, BUNDLE_FILE);
            assert.deepStrictEqual(values.extraVolumeMounts, [
                { name: "rds-ca", mountPath: "/etc/rds-ca", readOnly: true },
            ]);
        });

        it("the database bootstrap job: psql with verify-full, after the fetch", () => {
            const job = named(resources, "kubernetes:batch/v1:Job", "gpu-platform-dev-portal-databases-bootstrap")
                .inputs as any;
            const pod = job.spec.template.spec;
            fetcher(pod.initContainers[0]);
            const [psql] = pod.containers;
            assert.strictEqual(libpqEnv(psql).PGSSLMODE, "verify-full");
            assert.strictEqual(libpqEnv(psql).PGSSLROOTCERT, BUNDLE_FILE);
            assert.ok(pod.volumes.some((v: any) => v.name === "rds-ca" && v.emptyDir));
            assert.ok(psql.volumeMounts.some((m: any) => m.name === "rds-ca"));
        });

        it("the cost tracker's database-user container: waits for the fetch, then verify-full", () => {
            const task = named(resources, "aws:ecs/taskDefinition:TaskDefinition", "cost-tracker-task").inputs as any;
            const containers = JSON.parse(task.containerDefinitions);
            const byName = Object.fromEntries(containers.map((c: any) => [c.name, c]));
            fetcher(byName["rds-ca"]);
            assert.strictEqual(byName["rds-ca"].essential, false);
            const user = byName["database-user"];
            assert.deepStrictEqual(user.dependsOn, [{ containerName: "rds-ca", condition: "SUCCESS" }]);
            assert.strictEqual(libpqEnv(user).PGSSLMODE, "verify-full");
            assert.strictEqual(libpqEnv(user).PGSSLROOTCERT, BUNDLE_FILE);
            assert.deepStrictEqual(task.volumes, [{ name: "rds-ca" }]);
        });

        it("leaves no database client anywhere unverified (dev and prod)", async () => {
            for (const stack of ["dev", "prod"]) {
                const { resources: all } = await record(() => buildPlatform(validStackConfig(stack)));
                const found = tlsSettings(all.map((r) => r.inputs));
                // Backstage's app-config, MLflow's server and migration, the bootstrap job, the database-user container.
                assert.ok(found.sslModes.length >= 4, `${stack}: ${found.sslModes.join()}`);
                assert.deepStrictEqual([...new Set(found.sslModes)], ["verify-full"], stack);
                assert.deepStrictEqual([...new Set(found.rejectUnauthorized)], [true], stack);
                assert.ok(ofType(all, RELEASE).length > 0);
            }
        });
    });
});

/** Every libpq sslmode (PGSSLMODE entries, `sslmode=` in URLs) and node-postgres `rejectUnauthorized` in the inputs, JSON strings included. */
function tlsSettings(value: unknown, found = { sslModes: [] as string[], rejectUnauthorized: [] as unknown[] }) {
    if (typeof value === "string") {
        for (const m of value.matchAll(/sslmode=([a-z-]+)/g)) found.sslModes.push(m[1]);
        if (/^\s*[[{]/.test(value)) {
            try {
                tlsSettings(JSON.parse(value), found);
            } catch {
                // Not JSON: text only.
            }
        }
    } else if (Array.isArray(value)) {
        for (const item of value) tlsSettings(item, found);
    } else if (value && typeof value === "object") {
        const object = value as Record<string, unknown>;
        if (object.name === "PGSSLMODE" && typeof object.value === "string") found.sslModes.push(object.value);
        if (typeof object.PGSSLMODE === "string") found.sslModes.push(object.PGSSLMODE);
        if ("rejectUnauthorized" in object) found.rejectUnauthorized.push(object.rejectUnauthorized);
        for (const [key, item] of Object.entries(object)) if (key !== "PGSSLMODE") tlsSettings(item, found);
    }
    return found;
}
