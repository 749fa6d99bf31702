/**
 * How a team's usage pusher gets its cost-tracker token, end to end on the dev platform as the
 * program builds it: the cost tracker writes the token to Secrets Manager; the team commits an
 * ExternalSecret that reads it through its namespace's SecretStore `team-secrets`; the cluster's
 * tenancy rules and the pack admit that ExternalSecret; and the store's IAM role (the one its
 * service account names), evaluated by @cloud-copilot/iam-simulate, may read that secret and not
 * another team's. Every name is read from the recorded program, none is written here by hand but
 * the team's.
 */
import * as assert from "assert";
import { runSimulation } from "@cloud-copilot/iam-simulate";
import { ofType, record, validStackConfig } from "./harness";
import { refusals, selects, tenancyRule } from "./admission";
import type { AdmissionRequest } from "gpu-dev-platform-policies/lib/admission";
import { TENANCY_RULES } from "@gpu-platform/catalog/admission";
import { buildPlatform } from "../platform";
import type { RecordedResource } from "@gpu-platform/offline/recorder";
import { teamNamespaceAdmission } from "gpu-dev-platform-policies/team-admission";
import { violationsOf } from "gpu-dev-platform-policies/test/support/check";

const TEAM = "ml-research";
const OTHER = "applied-ml";
const TEAM_USER = { username: "arn:aws:sts::123456789012:assumed-role/ml-research/alice" };
type Json = Record<string, any>;

/** The secret the cost tracker writes for `team`: its description names the team and its token. */
function tokenSecretName(resources: RecordedResource[], team: string): string {
    const secrets = ofType(resources, "aws:secretsmanager/secret:Secret").filter((s) =>
        String(s.inputs.description).includes(`team ${team}'s token`),
    );
    assert.strictEqual(secrets.length, 1, `one token secret for ${team}`);
    return String(secrets[0].inputs.name);
}

/** The team's SecretStore, and the policy of the IAM role its service account names. */
function teamStore(resources: RecordedResource[]): { store: Json; policy: Json; roleArn: string } {
    const inTeam = (r: RecordedResource) => (r.inputs.metadata as Json | undefined)?.namespace === TEAM;
    const store = ofType(resources, "kubernetes:external-secrets.io/v1:SecretStore").find(inTeam)!;
    const saName: string = (store.inputs.spec as Json).provider.aws.auth.jwt.serviceAccountRef.name;
    const sa = ofType(resources, "kubernetes:core/v1:ServiceAccount").find(
        (r) => inTeam(r) && (r.inputs.metadata as Json).name === saName,
    )!;
    const roleArn: string = (sa.inputs.metadata as Json).annotations["eks.amazonaws.com/role-arn"];
    const roleName = roleArn.split("/").pop()!;
    const rolePolicy = ofType(resources, "aws:iam/rolePolicy:RolePolicy").find((p) =>
        String(p.inputs.role).startsWith(roleName),
    )!;
    return { store: store.inputs, policy: JSON.parse(String(rolePolicy.inputs.policy)) as Json, roleArn };
}

function externalSecret(key: string, store = { kind: "SecretStore", name: "team-secrets" }): Json {
    return {
        apiVersion: "external-secrets.io/v1",
        kind: "ExternalSecret",
        metadata: { name: "cost-tracker-token", namespace: TEAM },
        spec: {
            secretStoreRef: store,
            target: { name: "cost-tracker-token" },
            data: [{ secretKey: "token", remoteRef: { key, property: "current" } }],
        },
    };
}

/** What the cluster's tenancy rules say to a team member creating `object` in the team's namespace. */
function admission(object: Json): string[] {
    const request: AdmissionRequest = {
        operation: "CREATE",
        group: "external-secrets.io",
        version: "v1",
        kind: "ExternalSecret",
        resource: "externalsecrets",
        namespace: TEAM,
        namespaceLabels: { "gpu-platform/team": TEAM },
        name: object.metadata.name,
        userInfo: TEAM_USER,
        object,
    };
    const rules = Object.values(TENANCY_RULES).map((name) => tenancyRule(name));
    assert.ok(
        rules.some((rule) => selects(rule, request)),
        "some tenancy rule judges ExternalSecrets",
    );
    return rules.filter((rule) => selects(rule, request)).flatMap((rule) => refusals(rule, request));
}

async function canRead(policy: Json, roleArn: string, secretName: string): Promise<string> {
    const account = roleArn.split(":")[4];
    // Secrets Manager appends "-" and six characters to a secret's name in its ARN.
    const resource = `arn:aws:secretsmanager:us-east-1:${account}:secret:${secretName}-AbCdEf`;
    const result = await runSimulation(
        {
            request: {
                principal: roleArn,
                action: "secretsmanager:GetSecretValue",
                resource: { resource, accountId: account },
                contextVariables: {},
            },
            identityPolicies: [{ name: "team-secrets", policy }],
            serviceControlPolicies: [],
            resourceControlPolicies: [],
        },
        {},
    );
    if (result.resultType === "error") throw new Error(JSON.stringify(result.errors));
    return result.overallResult;
}

describe("a team pusher's token path (dev platform, end to end)", function () {
    this.timeout(120_000);
    let resources: RecordedResource[];
    before(async () => {
        ({ resources } = await record(() => buildPlatform(validStackConfig("dev"))));
    });

    it("names the team's token under the team's own prefix, <project>-<stack>/teams/<team>/", () => {
        assert.strictEqual(tokenSecretName(resources, TEAM), `gpu-platform-dev/teams/${TEAM}/cost-tracker-token`);
    });

    it("admits the team's ExternalSecret for its token, in the cluster's rules and in the pack", async () => {
        const object = externalSecret(tokenSecretName(resources, TEAM));
        assert.deepStrictEqual(admission(object), []);
        const asResource = {
            urn: "urn:pulumi:team::pusher::kubernetes:external-secrets.io/v1:ExternalSecret::token",
            type: "kubernetes:external-secrets.io/v1:ExternalSecret",
            name: "token",
            parent: null,
            inputs: object,
        };
        assert.deepStrictEqual(await violationsOf(teamNamespaceAdmission, [asResource]), []);
    });

    it("lets the store's role read the team's token, and not another team's", async () => {
        const { store, policy, roleArn } = teamStore(resources);
        assert.strictEqual(store.metadata.name, "team-secrets");
        assert.strictEqual(await canRead(policy, roleArn, tokenSecretName(resources, TEAM)), "Allowed");
        // Admission judges the store, not the key: the other team's path passes admission and fails at sync, in IAM.
        assert.deepStrictEqual(admission(externalSecret(tokenSecretName(resources, OTHER))), []);
        assert.strictEqual(await canRead(policy, roleArn, tokenSecretName(resources, OTHER)), "ImplicitlyDenied");
    });

    it("refuses the other team's token through any store but team-secrets", () => {
        const viaCluster = externalSecret(tokenSecretName(resources, OTHER), {
            kind: "ClusterSecretStore",
            name: "platform-secrets",
        });
        assert.match(admission(viaCluster).join("\n"), /names ClusterSecretStore platform-secrets/);
    });
});
