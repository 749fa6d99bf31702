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
    });
});
