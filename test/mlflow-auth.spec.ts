/**
 * MLflow's authentication: the chart values and the team-users Job as the component renders them
 * (Pulumi mocks), the Job's script run against a loopback stand-in of MLflow's user API, no
 * password in any plain input, and each team's credentials readable by its own SecretStore's
 * role only (iam-simulate).
 */
import * as assert from "assert";
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { named, ofType, record } from "./harness";
import { iamDecision, teamSecretsPolicy } from "./iam-simulate";
import { startFakeMlflow } from "./mlflow-auth-server";
import type { RecordedResource } from "@gpu-platform/offline/recorder";
import { FAKE_CREDENTIALS } from "@gpu-platform/offline/fake-cloud";
import { maskSecrets } from "gpu-dev-platform-policies/lib/wire";
import {
    ExternalSecrets,
    LoadBalancerController,
    MLFLOW_TEAM_USERS_SCRIPT,
    Mlflow,
    MlflowArgs,
    mlflowArgsProblems,
} from "../components/portal";

const ACCOUNT = "123456789012";
const OIDC = {
    arn: `arn:aws:iam::${ACCOUNT}:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE`,
    url: "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE",
};
const SECRET = (name: string) => `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:${name}-AbCdEf`;
const SECRET_TYPE = "aws:secretsmanager/secret:Secret";
const EXTERNAL_SECRET = "kubernetes:external-secrets.io/v1:ExternalSecret";
const TEAMS = ["ml-research", "applied-ml"];

function mlflowArgs(): MlflowArgs {
    const controller = new LoadBalancerController("lbc", {
        clusterName: "gpu-platform-dev",
        region: "us-east-1",
        vpcId: "vpc-1",
        vpcCidr: "10.0.0.0/16",
        oidc: OIDC,
        portalClass: { scheme: "internal", groupName: "portal", inboundCidrs: ["10.0.0.0/16"] },
    });
    const eso = new ExternalSecrets("eso", { oidc: OIDC, region: "us-east-1", namespaces: ["mlflow"] });
    const database = (name: string) => ({
        host: "portal-db.example.internal",
        port: 5432,
        region: "us-east-1",
        name,
        credentialsSecretArn: SECRET(`gpu-platform-dev/portal/${name}-database`),
    });
    return {
        oidc: OIDC,
        region: "us-east-1",
        host: "mlflow.dev.example.internal",
        loadBalancerController: controller.release,
        externalSecrets: eso,
        database: database("mlflow"),
        auth: {
            database: database("mlflow_auth"),
            secretNamePrefix: "gpu-platform-dev/portal",
            teams: TEAMS,
            teamSecretsPrefix: "gpu-platform-dev",
        },
    };
}

describe("MLflow authentication: what the component renders", () => {
    let resources: RecordedResource[];
    before(async () => {
        ({ resources } = await record(() => new Mlflow("mlflow", mlflowArgs())));
    });
    const release = () => named(resources, "kubernetes:helm.sh/v3:Release", "mlflow-release");
    const job = () => named(resources, "kubernetes:batch/v1:Job", "mlflow-team-users-job");
    const synced = (name: string) => named(resources, EXTERNAL_SECRET, name);

    it("turns on the basic-auth app with no permission by default, its database in PostgreSQL, credentials by Secret name only", () => {
        // The chart's keys (mlflow 1.11.5 values.yaml, `auth`); NO_PERMISSIONS from MLflow's permissions.py.
        assert.deepStrictEqual((release().inputs as any).values.auth, {
            enabled: true,
            appName: "basic-auth",
            defaultPermission: "NO_PERMISSIONS",
            existingAdminSecret: { name: "mlflow-auth-admin", usernameKey: "username", passwordKey: "password" },
            postgres: {
                enabled: true,
                host: "portal-db.example.internal",
                port: 5432,
                database: "mlflow_auth",
                existingSecret: { name: "mlflow-auth-db", usernameKey: "username", passwordKey: "password" },
            },
        });
    });

    it("syncs the auth database's and the admin's credentials from Secrets Manager before the release", () => {
        const authDb = synced("mlflow-auth-database-secret").inputs as any;
        assert.strictEqual(authDb.spec.target.name, "mlflow-auth-db");
        assert.deepStrictEqual(
            authDb.spec.data.map((d: any) => d.remoteRef.key),
            [
                SECRET("gpu-platform-dev/portal/mlflow_auth-database"),
                SECRET("gpu-platform-dev/portal/mlflow_auth-database"),
            ],
        );
        const admin = synced("mlflow-admin-secret");
        assert.strictEqual((admin.inputs as any).spec.target.name, "mlflow-auth-admin");
        const adminSecret = named(resources, SECRET_TYPE, "mlflow-admin-credentials");
        assert.strictEqual(adminSecret.inputs.name, "gpu-platform-dev/portal/mlflow-admin");
        assert.strictEqual((admin.inputs as any).spec.data[0].remoteRef.key, adminSecret.outputs.arn);
        for (const secret of [admin, synced("mlflow-auth-database-secret")])
            assert.ok(release().dependencies.includes(secret.urn), `${secret.name} before the release`);
    });

    it("keeps each team's credentials under the team's own secret prefix", () => {
        assert.deepStrictEqual(
            TEAMS.map((team) => named(resources, SECRET_TYPE, `mlflow-team-users-${team}-credentials`).inputs.name),
            ["gpu-platform-dev/teams/ml-research/mlflow", "gpu-platform-dev/teams/applied-ml/mlflow"],
        );
    });

    it("runs the Job after the server and the synced team secrets, as the admin, with each team's credentials as read-only files", () => {
        const spec = (job().inputs as any).spec;
        const pod = spec.template.spec;
        const [container] = pod.containers;
        assert.match(container.image, /^public\.ecr\.aws\/docker\/library\/python:\d+\.\d+\.\d+-alpine$/);
        assert.deepStrictEqual(container.command, ["python3", "-c", MLFLOW_TEAM_USERS_SCRIPT]);
        const env = Object.fromEntries(container.env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
        assert.strictEqual(env.MLFLOW_URL, "http://mlflow.mlflow.svc");
        assert.deepStrictEqual(env.ADMIN_PASSWORD, { secretKeyRef: { name: "mlflow-auth-admin", key: "password" } });
        assert.deepStrictEqual(
            pod.volumes.map((v: any) => v.secret.secretName),
            ["mlflow-team-ml-research", "mlflow-team-applied-ml"],
        );
        assert.deepStrictEqual(
            container.volumeMounts.map((m: any) => [m.mountPath, m.readOnly]),
            [
                ["/teams/ml-research", true],
                ["/teams/applied-ml", true],
            ],
        );
        assert.deepStrictEqual(
            [container.securityContext.allowPrivilegeEscalation, container.securityContext.readOnlyRootFilesystem],
            [false, true],
        );
        assert.strictEqual(pod.automountServiceAccountToken, false);
        for (const dependency of [release(), synced("mlflow-team-users-ml-research-synced")])
            assert.ok(job().dependencies.includes(dependency.urn), dependency.name);
    });

    it("puts no password in any plain input: generated write-only, secret, and read from Secrets by name", () => {
        const visible = JSON.stringify(resources.map((r) => maskSecrets(r.inputs)));
        assert.ok(!visible.includes(FAKE_CREDENTIALS.randomPassword), "a generated password is visible");
        const values = JSON.stringify((release().inputs as any).values);
        assert.ok(!/"(adminPassword|password|user)":/.test(values), values);
        const versions = ofType(resources, "aws:secretsmanager/secretVersion:SecretVersion");
        assert.strictEqual(versions.length, 1 + TEAMS.length, "the admin's and one per team");
        for (const version of versions)
            assert.deepStrictEqual(
                [(maskSecrets(version.inputs) as any).secretStringWo, version.inputs.secretString],
                ["[secret]", undefined],
            );
    });
});

describe("MLflow authentication: argument checks", () => {
    const base = () => ({ replicas: 1, auth: { ...mlflowArgs().auth } });

    it("refuses MLflow without authentication, naming the key", () => {
        assert.deepStrictEqual(
            mlflowArgsProblems({ replicas: 1, auth: undefined as any }).map((p) => p.key),
            ["auth"],
        );
    });

    it("refuses a team that is no namespace name, a team listed twice and a team named as the admin", () => {
        const args = base();
        args.auth.teams = ["ML_Research", "a", "a", "mlflow-admin"];
        assert.deepStrictEqual(
            mlflowArgsProblems(args).map((p) => `${p.key}: ${p.message}`),
            [
                'auth.teams[0]: must be a team\'s namespace name, e.g. ml-research (found "ML_Research")',
                'auth.teams[2]: "a" is listed twice',
                'auth.teams[3]: "mlflow-admin" is the MLflow admin\'s name; rename the team',
            ],
        );
    });

    it("refuses secret prefixes with wildcards", () => {
        const args = base();
        args.auth.secretNamePrefix = "gpu-platform-dev/*";
        args.auth.teamSecretsPrefix = "*";
        assert.deepStrictEqual(
            mlflowArgsProblems(args).map((p) => p.key),
            ["auth.secretNamePrefix", "auth.teamSecretsPrefix"],
        );
    });
});

describe("MLflow authentication: a team's credentials, evaluated by iam-simulate", () => {
    let secretNames: Record<string, string>;
    before(async () => {
        const { resources } = await record(() => new Mlflow("mlflow", mlflowArgs()));
        secretNames = {
            admin: named(resources, SECRET_TYPE, "mlflow-admin-credentials").inputs.name as string,
            ...Object.fromEntries(
                TEAMS.map((team) => [
                    team,
                    named(resources, SECRET_TYPE, `mlflow-team-users-${team}-credentials`).inputs.name as string,
                ]),
            ),
        };
    });
    const teamRead = (team: string, secretName: string) =>
        iamDecision({
            principal: `arn:aws:iam::${ACCOUNT}:role/gpu-platform-dev-${team}-secrets`,
            accountId: ACCOUNT,
            policy: teamSecretsPolicy({ accountId: ACCOUNT, stackPrefix: "gpu-platform-dev", team }),
            action: "secretsmanager:GetSecretValue",
            // Secrets Manager appends "-" and six characters to every secret's ARN.
            resource: SECRET(secretName),
        });

    it("each team's SecretStore role reads its own MLflow credentials", async () => {
        for (const team of TEAMS) assert.strictEqual(await teamRead(team, secretNames[team]), "Allowed", team);
    });

    it("no team reads another team's MLflow credentials, nor the admin's", async () => {
        assert.strictEqual(await teamRead("ml-research", secretNames["applied-ml"]), "ImplicitlyDenied");
        assert.strictEqual(await teamRead("applied-ml", secretNames["ml-research"]), "ImplicitlyDenied");
        for (const team of TEAMS) assert.strictEqual(await teamRead(team, secretNames.admin), "ImplicitlyDenied");
    });
});

describe("MLflow authentication: the team-users script against a loopback MLflow", () => {
    const ADMIN = { username: "mlflow-admin", password: "AdminPassw0rdFromTheSyncedSecret" };
    const STORED = {
        "ml-research": "ResearchPassw0rdStoredInSecretsManager",
        "applied-ml": "AppliedPassw0rdStoredToo",
    };
    let dir: string;
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "mlflow-users-"));
        for (const [team, password] of Object.entries(STORED)) {
            fs.mkdirSync(path.join(dir, team));
            fs.writeFileSync(path.join(dir, team, "username"), team);
            fs.writeFileSync(path.join(dir, team, "password"), `${password}\n`);
        }
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    function run(url: string, admin = ADMIN): Promise<{ code: number | null; stdout: string; stderr: string }> {
        return new Promise((resolve, reject) => {
            const child = spawn("python3", ["-c", MLFLOW_TEAM_USERS_SCRIPT], {
                env: {
                    PATH: process.env.PATH,
                    MLFLOW_URL: url,
                    CREDENTIALS_DIR: dir,
                    ADMIN_USERNAME: admin.username,
                    ADMIN_PASSWORD: admin.password,
                    HEALTH_ATTEMPTS: "2",
                    HEALTH_PAUSE_SECONDS: "0.05",
                },
            });
            let stdout = "";
            let stderr = "";
            child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
            child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
            child.on("error", reject);
            child.on("close", (code) => resolve({ code, stdout, stderr }));
        });
    }
    const noPassword = (output: string) => {
        for (const secret of [...Object.values(STORED), ADMIN.password])
            assert.ok(!output.includes(secret), `a password in the output: ${output}`);
    };

    it("creates each team's user with its stored password, not an admin", async () => {
        const mlflow = await startFakeMlflow({ admin: ADMIN });
        try {
            const result = await run(mlflow.url);
            assert.strictEqual(result.code, 0, result.stderr);
            assert.deepStrictEqual(mlflow.users.get("ml-research"), {
                password: STORED["ml-research"],
                isAdmin: false,
            });
            assert.deepStrictEqual(mlflow.users.get("applied-ml"), { password: STORED["applied-ml"], isAdmin: false });
            assert.match(result.stdout, /team ml-research: MLflow user ml-research created, not an admin/);
            noPassword(result.stdout + result.stderr);
        } finally {
            await mlflow.close();
        }
    });

    it("re-run on existing users: re-applies the stored password and takes an admin flag away", async () => {
        const mlflow = await startFakeMlflow({
            admin: ADMIN,
            users: {
                "ml-research": { password: "an-older-password", isAdmin: true },
                "applied-ml": { password: STORED["applied-ml"], isAdmin: false },
            },
        });
        try {
            for (let round = 0; round < 2; round++) {
                const result = await run(mlflow.url);
                assert.strictEqual(result.code, 0, result.stderr);
                assert.match(result.stdout, /team ml-research: MLflow user ml-research exists; password re-applied/);
                noPassword(result.stdout + result.stderr);
            }
            assert.deepStrictEqual(mlflow.users.get("ml-research"), {
                password: STORED["ml-research"],
                isAdmin: false,
            });
            assert.strictEqual(mlflow.users.size, 3, "the admin and two teams, none twice");
        } finally {
            await mlflow.close();
        }
    });

    it("a server error for one team fails the Job, naming the team, the call and the status, and still does the others", async () => {
        const mlflow = await startFakeMlflow({ admin: ADMIN, failFor: "applied-ml" });
        try {
            const result = await run(mlflow.url);
            assert.strictEqual(result.code, 1);
            assert.strictEqual(result.stderr.trim(), "team applied-ml: users/create answered HTTP 500: INTERNAL_ERROR");
            assert.ok(mlflow.users.has("ml-research"));
            noPassword(result.stdout + result.stderr);
        } finally {
            await mlflow.close();
        }
    });

    it("wrong admin credentials fail every team with MLflow's 401, and create nothing", async () => {
        const mlflow = await startFakeMlflow({ admin: ADMIN });
        try {
            const result = await run(mlflow.url, { ...ADMIN, password: "not-the-admin-password" });
            assert.strictEqual(result.code, 1);
            assert.match(result.stderr, /team ml-research: users\/create answered HTTP 401: You are not authenticated/);
            assert.deepStrictEqual([...mlflow.users.keys()], ["mlflow-admin"]);
        } finally {
            await mlflow.close();
        }
    });

    it("a server that never gets healthy fails the Job before any user call", async () => {
        const mlflow = await startFakeMlflow({ admin: ADMIN, healthy: false });
        try {
            const result = await run(mlflow.url);
            assert.strictEqual(result.code, 1);
            assert.match(result.stderr, /did not become healthy after 2 attempts/);
            assert.deepStrictEqual(mlflow.calls, ["GET /health", "GET /health"]);
        } finally {
            await mlflow.close();
        }
    });
});
