/**
 * A team's SecretStore and its IAM role: the role's policy evaluated by a real IAM policy
 * evaluator (@cloud-copilot/iam-simulate) against what a team's workload (or someone holding
 * the role's credentials) would try; the store's shape against the cluster's admission rules.
 */
import * as assert from "assert";
import { named, record } from "./harness";
import { iamDecision, teamSecretsPolicy } from "./iam-simulate";
import { refusals, tenancyRule } from "./admission";
import { TENANCY_RULES } from "@gpu-platform/catalog/admission";
import { TeamSecretStore, teamSecretStoreSpec } from "../components/portal";

const ACCOUNT = "123456789012";
const OIDC = {
    arn: `arn:aws:iam::${ACCOUNT}:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE`,
    url: "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE",
};
const ROLE = `arn:aws:iam::${ACCOUNT}:role/gpu-platform-dev-ml-research-secrets`;
// Secrets Manager appends "-" and six characters to every secret's ARN.
const secret = (name: string) => `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:${name}-AbCdEf`;

const policy = teamSecretsPolicy({ accountId: ACCOUNT, stackPrefix: "gpu-platform-dev", team: "ml-research" });

async function decision(action: string, resource: string): Promise<string> {
    return iamDecision({ principal: ROLE, accountId: ACCOUNT, policy, action, resource });
}

describe("a team's secret store: its role's policy, evaluated by iam-simulate", () => {
    it("reads the team's own secrets, by value and metadata", async () => {
        for (const action of ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"])
            assert.strictEqual(
                await decision(action, secret("gpu-platform-dev/teams/ml-research/hf-token")),
                "Allowed",
                action,
            );
        assert.strictEqual(
            await decision("secretsmanager:GetSecretValue", secret("gpu-platform-dev/teams/ml-research/db/password")),
            "Allowed",
            "nested names under the prefix",
        );
    });

    for (const [what, name] of [
        ["another team's secret", "gpu-platform-dev/teams/applied-ml/hf-token"],
        ["a team whose name extends this one's", "gpu-platform-dev/teams/ml-research-2/hf-token"],
        ["the platform's own secrets", "gpu-platform-dev/portal/backstage-database"],
        ["the same team in another stack", "gpu-platform-prod/teams/ml-research/hf-token"],
        ["the prefix's parent", "gpu-platform-dev/teams/ml-research"],
    ])
        it(`cannot read ${what} (${name})`, async () => {
            assert.strictEqual(await decision("secretsmanager:GetSecretValue", secret(name)), "ImplicitlyDenied");
        });

    for (const action of [
        "secretsmanager:PutSecretValue",
        "secretsmanager:UpdateSecret",
        "secretsmanager:DeleteSecret",
        "secretsmanager:PutResourcePolicy",
        "secretsmanager:RestoreSecret",
    ])
        it(`cannot ${action.split(":")[1]} even its own secrets`, async () => {
            assert.strictEqual(
                await decision(action, secret("gpu-platform-dev/teams/ml-research/hf-token")),
                "ImplicitlyDenied",
            );
        });

    it("cannot list or batch-read secrets, create one, decrypt with KMS or assume another role", async () => {
        assert.strictEqual(await decision("secretsmanager:ListSecrets", "*"), "ImplicitlyDenied");
        assert.strictEqual(await decision("secretsmanager:BatchGetSecretValue", "*"), "ImplicitlyDenied");
        assert.strictEqual(
            await decision("secretsmanager:CreateSecret", secret("gpu-platform-dev/teams/ml-research/new")),
            "ImplicitlyDenied",
        );
        assert.strictEqual(
            await decision("kms:Decrypt", `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`),
            "ImplicitlyDenied",
        );
        assert.strictEqual(
            await decision("sts:AssumeRole", `arn:aws:iam::${ACCOUNT}:role/platform-admin`),
            "ImplicitlyDenied",
        );
    });
});

describe("TeamSecretStore", () => {
    it("puts the store, its service account and the role's trust in the team's namespace only", async () => {
        const { resources } = await record(
            () =>
                new TeamSecretStore("ml-research-secrets", {
                    team: "ml-research",
                    stackPrefix: "gpu-platform-dev",
                    region: "us-east-1",
                    oidc: OIDC,
                    operator: undefined as never,
                }),
        );
        const store = named(resources, "kubernetes:external-secrets.io/v1:SecretStore", "ml-research-secrets-store")
            .inputs as any;
        assert.deepStrictEqual(
            { name: store.metadata.name, namespace: store.metadata.namespace },
            { name: "team-secrets", namespace: "ml-research" },
        );
        assert.deepStrictEqual(store.spec.provider.aws.auth, {
            jwt: { serviceAccountRef: { name: "team-secrets" } },
        });
        const account = named(resources, "kubernetes:core/v1:ServiceAccount", "ml-research-secrets-sa").inputs as any;
        assert.strictEqual(account.metadata.namespace, "ml-research");
        assert.strictEqual(account.automountServiceAccountToken, false);
        const trust = JSON.parse(
            named(resources, "aws:iam/role:Role", "ml-research-secrets-irsa-role").inputs.assumeRolePolicy as string,
        ).Statement[0];
        assert.strictEqual(
            trust.Condition.StringEquals[`${OIDC.url}:sub`],
            "system:serviceaccount:ml-research:team-secrets",
        );
        const rolePolicy = JSON.parse(
            named(resources, "aws:iam/rolePolicy:RolePolicy", "ml-research-secrets-irsa-policy").inputs
                .policy as string,
        );
        assert.deepStrictEqual(rolePolicy.Statement[0].Resource, [
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:gpu-platform-dev/teams/ml-research/*",
        ]);
    });

    it("is the one store shape the cluster's admission rule admits, and the rule refuses it without its auth", () => {
        const rule = tenancyRule(TENANCY_RULES.secretStores);
        const request = (spec: unknown) => ({
            operation: "CREATE" as const,
            group: "external-secrets.io",
            version: "v1",
            kind: "SecretStore",
            resource: "secretstores",
            namespace: "ml-research",
            namespaceLabels: { "gpu-platform/team": "ml-research" },
            name: "team-secrets",
            userInfo: { username: "arn:aws:sts::123456789012:assumed-role/ml-research/alice" },
            object: {
                apiVersion: "external-secrets.io/v1",
                kind: "SecretStore",
                metadata: { name: "team-secrets" },
                spec,
            },
        });
        assert.deepStrictEqual(refusals(rule, request(teamSecretStoreSpec("us-east-1"))), []);
        const noAuth = structuredClone(teamSecretStoreSpec("us-east-1")) as any;
        delete noAuth.provider.aws.auth;
        assert.strictEqual(refusals(rule, request(noAuth)).length, 1);
    });

    it("refuses a team that is not a namespace name and a prefix with a wildcard, naming each key", () => {
        assert.throws(
            () =>
                new TeamSecretStore("bad", {
                    team: "ML Research",
                    stackPrefix: "gpu-platform-*",
                    region: "us-east-1",
                    oidc: OIDC,
                    operator: undefined as never,
                }),
            (err: any) =>
                err.errors.map((e: any) => e.propertyPath).join() === "team,stackPrefix" &&
                /must be a namespace name/.test(err.errors[0].reason),
        );
    });
});
