import * as assert from "assert";
import { stringify } from "yaml";
import { helmValuesNoPlaintextSecrets } from "../helm-secrets";
import { ASSET_SIG, SIG_KEY } from "../lib/wire";
import { changed, resource, theViolation, violationsOf } from "./support/check";

const RELEASE = "kubernetes:helm.sh/v3:Release";

/** Values in the shapes the portal's charts take, every credential a reference. */
const inputs = {
    chart: "backstage",
    values: {
        backstage: {
            extraEnvVars: [
                { name: "POSTGRES_HOST", value: "portal-db.example.internal" },
                {
                    name: "POSTGRES_PASSWORD",
                    valueFrom: { secretKeyRef: { name: "backstage-database", key: "POSTGRES_PASSWORD" } },
                },
            ],
            extraEnvVarsSecrets: ["backstage-database"],
            appConfig: {
                backend: { database: { connection: { user: "${POSTGRES_USER}", password: "${POSTGRES_PASSWORD}" } } },
                integrations: { github: [{ host: "github.com", token: "${GITHUB_TOKEN}" }] },
                proxy: {
                    endpoints: {
                        "/cost-tracker": {
                            target: "http://tracker",
                            headers: { Authorization: "Bearer ${COST_TRACKER_TOKEN}" },
                        },
                        "/argocd": {
                            target: "http://argocd",
                            headers: { Cookie: "argocd.token=${ARGOCD_AUTH_TOKEN}" },
                        },
                    },
                },
            },
        },
        configs: {
            cm: {
                "oidc.config": stringify({
                    issuer: "https://login.example.com",
                    clientID: "argocd",
                    clientSecret: "$argocd-sso:clientSecret",
                }),
            },
            secret: { argocdServerAdminPasswordMtime: "2026-01-01T00:00:00Z" },
        },
        backendStore: {
            existingDatabaseSecret: { name: "mlflow-db", usernameKey: "username", passwordKey: "password" },
        },
        artifactRoot: { s3: { existingSecret: { name: "", keyOfSecretAccessKey: "AWS_SECRET_ACCESS_KEY" } } },
        external: { tokenSecretArn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:token-AbCdEf", password: "" },
    },
};
const release = (i: Record<string, unknown> = inputs) => resource(RELEASE, "portal-release", i);
const message = (path: string) =>
    `Helm release "portal-release" has a credential in ${path}; keep it in Secrets Manager, sync it into a Kubernetes Secret with an ExternalSecret, ` +
    "and point the chart at that Secret (or at an environment variable filled from it).";

describe("policies: Helm values", () => {
    describe("helm-values-no-plaintext-secrets", () => {
        it("passes references: ${ENV} in app-config, Argo CD's $secret:key, Secret names, ARNs, env from Secrets", async () => {
            assert.deepStrictEqual(await violationsOf(helmValuesNoPlaintextSecrets, [release()]), []);
        });

        it("refuses a literal database password in app-config", async () => {
            const v = await theViolation(helmValuesNoPlaintextSecrets, [
                release(changed(inputs, "values.backstage.appConfig.backend.database.connection.password", "hunter2")),
            ]);
            assert.strictEqual(v.message, message("values.backstage.appConfig.backend.database.connection.password"));
        });

        it("refuses a literal token in a proxy header", async () => {
            const headers = { Authorization: "Bearer 9f8e7d6c5b4a" };
            const v = await theViolation(helmValuesNoPlaintextSecrets, [
                release(changed(inputs, "values.backstage.appConfig.proxy.endpoints./cost-tracker.headers", headers)),
            ]);
            assert.match(
                v.message,
                /values\.backstage\.appConfig\.proxy\.endpoints\["\/cost-tracker"\]\.headers\.Authorization;/,
            );
        });

        it("refuses an env entry whose name is a credential and whose value is literal", async () => {
            const env = [{ name: "PGPASSWORD", value: "hunter2" }];
            const v = await theViolation(helmValuesNoPlaintextSecrets, [
                release(changed(inputs, "values.backstage.extraEnvVars", env)),
            ]);
            assert.strictEqual(v.message, message("values.backstage.extraEnvVars[0].value (PGPASSWORD)"));
        });

        it("refuses a client secret inside YAML text (Argo CD's oidc.config)", async () => {
            const oidc = stringify({
                issuer: "https://login.example.com",
                clientID: "argocd",
                clientSecret: "s3cr3t-value",
            });
            const v = await theViolation(helmValuesNoPlaintextSecrets, [
                release({ ...inputs, values: { configs: { cm: { "oidc.config": oidc } } } }),
            ]);
            assert.strictEqual(v.message, message('values.configs.cm["oidc.config"] (YAML).clientSecret'));
        });

        it("refuses a credential in a values file as in the inline values", async () => {
            const file = {
                [SIG_KEY]: ASSET_SIG,
                text: stringify({ artifactRoot: { s3: { awsSecretAccessKey: "wJalrXUtnFEMI/K7MDENG" } } }),
            };
            const v = await theViolation(helmValuesNoPlaintextSecrets, [
                release({ ...inputs, valueYamlFiles: [file] }),
            ]);
            assert.strictEqual(v.message, message("values.artifactRoot.s3.awsSecretAccessKey"));
        });

        describe("other spellings", () => {
            const only = async (values: Record<string, unknown>) =>
                (await violationsOf(helmValuesNoPlaintextSecrets, [release({ chart: "x", values })])).map((v) =>
                    v.message.replace(/^Helm release "portal-release" has a credential in (.*?); keep it.*$/, "$1"),
                );

            it("refuses a password inside a URL, under any key and inside longer text", async () => {
                assert.deepStrictEqual(
                    await only({ database: { url: "postgres://mlflow:s3cr3t@db.internal:5432/mlflow" } }),
                    ["values.database.url (a password inside a URL)"],
                );
                assert.deepStrictEqual(
                    await only({ args: ["--backend-store-uri=mysql+pymysql://u:hunter2@db/mlflow"] }),
                    ["values.args[0] (a password inside a URL)"],
                );
                assert.deepStrictEqual(await only({ redis: { address: "redis://:Pa55word@cache:6379/0" } }), [
                    "values.redis.address (a password inside a URL)",
                ]);
            });

            it("passes a URL with a user and no password, or with the password as a reference", async () => {
                assert.deepStrictEqual(
                    await only({
                        a: "https://git@github.com/acme/repo.git",
                        b: "postgres://mlflow:${DB_PASSWORD}@db:5432/mlflow",
                        c: "postgres://mlflow:$(DB_PASSWORD)@db:5432/mlflow",
                        d: "https://docs.example.com/a:b@c", // no scheme://user: before it
                    }),
                    [],
                );
            });

            it("refuses every literal in passwords and tokens maps and apiKeys lists", async () => {
                assert.deepStrictEqual(
                    await only({
                        auth: { passwords: { alice: "hunter2", bob: "${BOB_PASSWORD}" } },
                        server: { apiKeys: ["k-1", "${KEY_2}"], Tokens: { ci: "abc" } },
                    }),
                    ["values.auth.passwords.alice", "values.server.apiKeys[0]", "values.server.Tokens.ci"],
                );
            });

            it("refuses literals in a secrets map, but passes Secret names in a secrets list", async () => {
                assert.deepStrictEqual(
                    await only({ secrets: { db: "p@ss w0rd!" }, extraEnvVarsSecrets: ["backstage-database"] }),
                    ["values.secrets.db"],
                );
            });

            it("reads token, secret and key suffixes in any case and separator", async () => {
                assert.deepStrictEqual(
                    await only({
                        GITHUB_TOKEN: "x1",
                        "Slack-Webhook-Secret": "x2",
                        mlflowTrackingTOKEN: "x3",
                        webhook_api_key: "x4",
                    }),
                    [
                        "values.GITHUB_TOKEN",
                        'values["Slack-Webhook-Secret"]',
                        "values.mlflowTrackingTOKEN",
                        "values.webhook_api_key",
                    ],
                );
            });

            it("refuses generated-looking values under keys ending in key or naming auth, and a PEM private key anywhere", async () => {
                assert.deepStrictEqual(
                    await only({
                        signingKey: "3q2+7wAAAAAAAAAAAAAAAA==",
                        tls: { key: "LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0t" },
                        dockerconfig: { auths: { "ghcr.io": { auth: "dXNlcjpnaHBfMTIzNDU2Nzg5MA==" } } },
                        license: "8F3A92KD77QX0P1ZAB",
                        sidecar: {
                            config: "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----",
                        },
                    }),
                    [
                        "values.signingKey",
                        "values.tls.key",
                        'values.dockerconfig.auths["ghcr.io"].auth',
                        "values.license",
                        "values.sidecar.config (a private key)",
                    ],
                );
            });

            it("passes what only looks like a key: label keys, public keys, digests, key names inside a Secret and Secret names", async () => {
                assert.deepStrictEqual(
                    await only({
                        tolerations: [{ key: "nvidia.com/gpu", operator: "Exists" }],
                        selector: { matchExpressions: [{ key: "gpu-platform/team", operator: "Exists" }] },
                        ssh: { publicKey: "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl" },
                        podAnnotations: {
                            "checksum/secret": "5f4dcc3b5aa765d61d8327deb882cf995f4dcc3b5aa765d61d8327deb882cf99",
                        },
                        auth: { existingSecret: "mlflow-auth", passwordKey: "password", usernameKey: "username" },
                        secretKeyRef: { name: "db", key: "PASSWORD" },
                        sessionName: "ml-research-2024-01",
                    }),
                    [],
                );
            });
        });
    });
});
