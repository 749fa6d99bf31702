/**
 * The portal layer in the dev and prod plans, as a user runs them (`npx gpu-platform-plan`, in a
 * process of its own, where the engine keeps Pulumi secrets wrapped): present, without violations,
 * with no plaintext credential in any recorded input, and drawn as the template run's path.
 */
import * as assert from "assert";
import { execFile } from "child_process";
import * as path from "path";
import { REPO_ROOT } from "./harness";

function plan(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
        execFile(
            process.execPath,
            [path.join(REPO_ROOT, "tools/plan/bin.js"), ...args],
            { cwd: REPO_ROOT, maxBuffer: 64 * 1024 * 1024 },
            (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
        );
    });
}

const PORTAL_TYPES = [
    "gpu-platform:portal:LoadBalancerController",
    "gpu-platform:portal:ExternalSecrets",
    "gpu-platform:costs:PostgresDatabase",
    "gpu-platform:portal:ServiceDatabases",
    "gpu-platform:portal:ArgoCd",
    "gpu-platform:portal:GitOps",
    "gpu-platform:portal:Mlflow",
    "gpu-platform:portal:Backstage",
];

/** A key that holds a credential (by how it ends, without case): what the program must never hold in clear. */
const CREDENTIAL_KEY =
    /(password|passwd|passphrase|secret|secretstring|secretstringwo|token|apikey|privatekey|credential)$/i;
/** What may stand where a credential would: Pulumi's mask for a secret, an environment variable, an Argo CD secret reference, an ARN. */
const REFERENCE = /^(\[secret\]|\$\{[A-Z_][A-Z0-9_]*\}|\$[\w-]+:[\w-]+|arn:aws[a-z-]*:secretsmanager:\S+)$/;

/** Every input value under a credential's key that is not a reference, as `type::name path = value`. */
function plaintextCredentials(resources: { type: string; name: string; inputs: unknown }[]): string[] {
    const found: string[] = [];
    const walk = (value: unknown, where: string, key: string) => {
        if (Array.isArray(value)) return value.forEach((item, i) => walk(item, `${where}[${i}]`, key));
        if (value && typeof value === "object") {
            const entry = value as Record<string, unknown>;
            // An environment entry: {name: "PGPASSWORD", value: "…"}.
            if (
                typeof entry.name === "string" &&
                CREDENTIAL_KEY.test(entry.name.replace(/_/g, "")) &&
                typeof entry.value === "string" &&
                !REFERENCE.test(entry.value)
            ) {
                found.push(`${where}.value (${entry.name}) = ${entry.value}`);
            }
            return Object.entries(entry).forEach(([k, v]) => walk(v, `${where}.${k}`, k));
        }
        if (
            typeof value === "string" &&
            value !== "" &&
            CREDENTIAL_KEY.test(key.replace(/[-_]/g, "")) &&
            !REFERENCE.test(value)
        )
            found.push(`${where} = ${value}`);
    };
    for (const r of resources) walk(r.inputs, `${r.type}::${r.name}`, "");
    return found;
}

describe("the portal layer in the plans", function () {
    this.timeout(180_000);
    const runs: Record<string, Promise<{ code: number; stdout: string; stderr: string }>> = {};
    before(() => {
        runs.dev = plan("--stack", "dev", "--json");
        runs.prod = plan("--stack", "prod", "--json");
        runs.mermaid = plan("--stack", "prod", "--format", "mermaid");
    });

    for (const stack of ["dev", "prod"]) {
        it(`${stack}: installs every part, with no violation`, async () => {
            const run = await runs[stack];
            assert.strictEqual(run.code, 0, run.stderr);
            const doc = JSON.parse(run.stdout);
            const types = new Set(doc.resources.map((r: { type: string }) => r.type));
            for (const type of PORTAL_TYPES) assert.ok(types.has(type), `${stack} has a ${type}`);
            assert.deepStrictEqual(doc.violations, []);
        });

        it(`${stack}: holds no plaintext credential in any recorded input`, async () => {
            const doc = JSON.parse((await runs[stack]).stdout);
            assert.deepStrictEqual(plaintextCredentials(doc.resources), []);
        });

        it(`${stack}: prices the portal's database, its ALB (one per ingress group), the artifact bucket and its pods' share of the CPU pool`, async () => {
            const doc = JSON.parse((await runs[stack]).stdout);
            const described = (pattern: RegExp) =>
                doc.cost.items.filter((i: { description: string }) => pattern.test(i.description));
            assert.strictEqual(described(/^RDS instance gpu-platform-\w+-portal-db-instance: PostgreSQL/).length, 1);
            const albs = described(/^ALB of group portal/);
            assert.strictEqual(albs.length, 1, "three Ingresses, one ALB");
            assert.strictEqual(albs[0].monthlyMax, 16.43, "0.0225 × 730");
            assert.match(
                described(/^S3 bucket gpu-platform-\w+-mlflow-artifacts/)[0].description,
                /by use \(\$0\.023 per GB-month/,
            );
            assert.ok(described(/^Helm release gpu-platform-\w+-backstage-release: Backstage/).length === 1);
        });
    }

    it("refuses a plaintext credential: the scan itself", () => {
        assert.deepStrictEqual(
            plaintextCredentials([
                {
                    type: "t",
                    name: "n",
                    inputs: {
                        values: {
                            auth: { password: "hunter2", token: "${TOKEN}", clientSecret: "$argocd-sso:clientSecret" },
                            env: [{ name: "API_TOKEN", value: "abc" }],
                        },
                    },
                },
            ]),
            ["t::n.values.auth.password = hunter2", "t::n.values.env[0].value (API_TOKEN) = abc"],
        );
    });

    it("draws the template run: Backstage → cost tracker → GitOps repository → Argo CD → each team's namespace", async () => {
        const run = await runs.mermaid;
        assert.strictEqual(run.code, 0, run.stderr);
        const lines = run.stdout.split("\n");
        const id = (name: string, type: string) =>
            lines
                .find((l) => l.includes(`["${name}<br/><small>${type}</small>"]`))!
                .trim()
                .split("[")[0];
        const backstage = id("gpu-platform-prod-backstage", "gpu-platform:portal:Backstage");
        const tracker = id("cost-tracker", "gpu-platform:costs:CostTracker");
        const gitops = id("gpu-platform-prod-gitops", "gpu-platform:portal:GitOps");
        const argocd = id("gpu-platform-prod-argocd", "gpu-platform:portal:ArgoCd");
        const step = (from: string, to: string) =>
            lines.some((l) => new RegExp(`^    ${from} ==>\\|"[^"]+"\\| ${to}$`).test(l));
        assert.ok(step(backstage, tracker), "Backstage asks the cost tracker");
        assert.ok(step(tracker, gitops), "an approval becomes a pull request on the GitOps repository");
        assert.ok(step(gitops, argocd), "Argo CD syncs it");
        for (const team of ["ml-research", "inference", "applied-ml"])
            assert.ok(step(argocd, id(team, "gpu-platform:tenancy:TeamNamespace")), `into ${team}`);
    });
});
