/**
 * What a real `pulumi up` of the platform stacks needs beyond what a preview shows: rule types
 * that converge, secrets that can be re-created, values that exist before the tasks read them,
 * and keys the operator may use (issue 21).
 */
import * as assert from "assert";
import { named, ofType, record, stackConfig, PROJECT } from "./harness";
import type { RecordedResource } from "@gpu-platform/offline/recorder";
import { buildPlatform } from "../platform";
import { validatePlatformConfig } from "../stacks";

const SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule";
const SG_INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
const SG_EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule";
const SECRET = "aws:secretsmanager/secret:Secret";

/** The platform of a stack's config after `edit`, recorded. */
async function platformOf(stack: string, edit: (raw: any) => void = () => undefined): Promise<RecordedResource[]> {
    const raw = stackConfig(stack);
    edit(raw);
    const result = validatePlatformConfig(raw, PROJECT, stack);
    if (!result.config) throw new Error(result.problems.map((p) => `${p.key}: ${p.message}`).join("\n"));
    const config = result.config;
    return (await record(() => buildPlatform(config))).resources;
}

describe("a real pulumi up: rules, secrets and their values", () => {
    let prod: RecordedResource[];
    let dev: RecordedResource[];
    before(async () => {
        prod = await platformOf("prod");
        dev = await platformOf("dev");
    });

    it("puts rules of one type only on each security group (@pulumi/aws: mixing SecurityGroupRule with the vpc rule types conflicts)", () => {
        for (const resources of [prod, dev]) {
            const groupsOf = (...types: string[]) =>
                new Set(types.flatMap((t) => ofType(resources, t)).map((r) => String(r.inputs.securityGroupId)));
            const ec2 = groupsOf(SG_RULE);
            // pulumi-eks puts its own aws.ec2.SecurityGroupRule on the cluster security group it makes
            // (v4.3.0 nodejs/eks/cluster/cluster.ts, eksClusterInternetEgressRule), out of the mocks' sight.
            const eks = ofType(resources, "eks:index:Cluster")[0];
            ec2.add(String(eks.outputs.clusterSecurityGroupId));
            const vpc = groupsOf(SG_INGRESS, SG_EGRESS);
            assert.deepStrictEqual(
                [...vpc].filter((group) => ec2.has(group)),
                [],
                "groups with both rule types",
            );
            assert.ok(vpc.size > 0 && ec2.size > 0, "both kinds are in use, on different groups");
        }
    });

    it("deletes fixed-name secrets at once where the stack does not keep them, so a destroyed dev stack can be re-created", () => {
        const fixed = (resources: RecordedResource[]) => ofType(resources, SECRET).filter((s) => s.inputs.name);
        assert.ok(fixed(dev).length >= 2, "the portal's database users' secrets");
        for (const secret of fixed(dev)) {
            // Secrets Manager keeps a deleted secret's name for the recovery window, 30 days unless 0 (DeleteSecret).
            assert.strictEqual(secret.inputs.recoveryWindowInDays, 0, secret.name);
            assert.notStrictEqual(secret.retainOnDelete, true, secret.name);
        }
        for (const secret of fixed(prod)) {
            assert.strictEqual(secret.inputs.recoveryWindowInDays, undefined, `${secret.name}: kept, with its window`);
            assert.strictEqual(secret.retainOnDelete, true, secret.name);
        }
    });

    it("starts no cost tracker task before its tokens', database user's and webhook's values exist", async () => {
        const resources = await platformOf("prod", (raw) => {
            raw.costTracker = { alertWebhookUrl: "https://hooks.example.com/services/T000/B000/XXXX" };
        });
        // The cost tracker's own (MLflow's admin and team users have theirs, under the Mlflow component).
        const versions = ofType(resources, "aws:secretsmanager/secretVersion:SecretVersion")
            .map((v) => v.urn)
            .filter((urn) => urn.includes(":costs:CostTracker$"));
        // The admin's token, the gate's and the portal's, one per prod team (3), the database user's and the webhook's.
        assert.strictEqual(versions.length, 8, "every caller's token, the database user's and the webhook's");
        for (const [type, name] of [
            ["aws:ecs/taskDefinition:TaskDefinition", "cost-tracker-task"],
            ["aws:ecs/service:Service", "cost-tracker-service"],
        ]) {
            const dependsOn = named(resources, type, name).dependencies;
            for (const version of versions) assert.ok(dependsOn.includes(version), `${name} waits for ${version}`);
        }
        const webhook = named(
            resources,
            "aws:secretsmanager/secretVersion:SecretVersion",
            "cost-tracker-alert-webhook-value",
        );
        // Write-only: the provider returns no value in its outputs (the engine keeps the input, encrypted).
        assert.strictEqual(webhook.inputs.secretString, undefined);
        assert.strictEqual(typeof webhook.inputs.secretStringWoVersion, "number");
    });

    it("lets the secrets operator decrypt with the key of the user's secrets, through Secrets Manager only", async () => {
        const key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
        const resources = await platformOf("dev", (raw) => (raw.portal.secretsKmsKeyArn = key));
        const policy = JSON.parse(
            named(resources, "aws:iam/rolePolicy:RolePolicy", "gpu-platform-dev-external-secrets-kms").inputs
                .policy as string,
        );
        assert.deepStrictEqual(policy.Statement, [
            {
                Sid: "DecryptSecretsThroughSecretsManager",
                Effect: "Allow",
                Action: ["kms:Decrypt"],
                Resource: [key],
                // AWS KMS developer guide, kms:ViaService: secretsmanager.<region>.amazonaws.com.
                Condition: { StringEquals: { "kms:ViaService": "secretsmanager.us-east-1.amazonaws.com" } },
            },
        ]);
        assert.ok(
            !ofType(dev, "aws:iam/rolePolicy:RolePolicy").some((p) => p.name.endsWith("external-secrets-kms")),
            "no key, no grant",
        );
    });
});
