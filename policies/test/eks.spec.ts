import * as assert from "assert";
import { eksPrivateEndpoint, eksSecretsEncryption } from "../eks";
import { changed, resource, theViolation, violationsOf } from "./support/check";

/** What the engine sends for a value only the update will know (an ARN of a key created in the same update). */
const { unknownStringValue } = require("@pulumi/policy/proxy") as { unknownStringValue: string };

const COMPONENT = "eks:index:Cluster";
const CLUSTER = "aws:eks/cluster:Cluster";
const keyArn = "arn:aws:kms:us-east-1:123456789012:key/secrets";

/** The eks.Cluster component as the platform's Cluster creates it in prod (offline plan: its inputs are visible). */
const componentInputs = {
    name: "gpu-platform-prod",
    version: "1.35",
    encryptionConfigKeyArn: keyArn,
    endpointPrivateAccess: true,
    endpointPublicAccess: false,
};
/** The EKS cluster resource it creates (what a real preview shows). */
const clusterInputs = {
    name: "gpu-platform-prod",
    roleArn: "arn:aws:iam::123456789012:role/eks",
    encryptionConfig: { provider: { keyArn }, resources: ["secrets"] },
    vpcConfig: { subnetIds: ["subnet-1", "subnet-2"], endpointPrivateAccess: true, endpointPublicAccess: false },
};
const component = (inputs: Record<string, unknown> = componentInputs) =>
    resource(COMPONENT, "gpu-platform-prod-eks", inputs);
const cluster = (inputs: Record<string, unknown> = clusterInputs) =>
    resource(CLUSTER, "gpu-platform-prod-eks-eksCluster", inputs);

describe("policies: EKS", () => {
    describe("eks-secrets-encryption", () => {
        it("passes the component with a key and the cluster resource with encryptionConfig for secrets", async () => {
            assert.deepStrictEqual(await violationsOf(eksSecretsEncryption, [component(), cluster()]), []);
        });

        it("counts a key ARN that is unknown during preview as set", async () => {
            assert.deepStrictEqual(
                await violationsOf(eksSecretsEncryption, [
                    component(changed(componentInputs, "encryptionConfigKeyArn", unknownStringValue)),
                ]),
                [],
            );
        });

        it("passes over a component whose inputs the engine does not show (a real preview checks its child cluster)", async () => {
            assert.deepStrictEqual(await violationsOf(eksSecretsEncryption, [component({})]), []);
        });

        it("reports the component without encryptionConfigKeyArn", async () => {
            const v = await theViolation(eksSecretsEncryption, [
                component(changed(componentInputs, "encryptionConfigKeyArn", undefined)),
            ]);
            assert.strictEqual(
                v.message,
                'EKS cluster "gpu-platform-prod-eks" does not encrypt Kubernetes secrets; set encryptionConfigKeyArn to the ARN of a KMS key (with key rotation on).',
            );
        });

        it("reports the cluster resource without encryptionConfig, or with one that leaves secrets out", async () => {
            for (const inputs of [
                changed(clusterInputs, "encryptionConfig", undefined),
                changed(clusterInputs, "encryptionConfig.resources", []),
            ]) {
                const v = await theViolation(eksSecretsEncryption, [cluster(inputs)]);
                assert.match(
                    v.message,
                    /set encryptionConfig to \{ provider: \{ keyArn: <a KMS key ARN> \}, resources: \["secrets"\] \}\.$/,
                );
            }
        });
    });

    describe("eks-private-endpoint", () => {
        it("passes private-only endpoints, and a public endpoint where the stack allows it", async () => {
            assert.deepStrictEqual(
                await violationsOf(eksPrivateEndpoint, [component(), cluster()], { requirePrivateEndpoint: true }),
                [],
            );
            const publicToo = changed(componentInputs, "endpointPublicAccess", true);
            assert.deepStrictEqual(
                await violationsOf(eksPrivateEndpoint, [component(publicToo)], { requirePrivateEndpoint: false }),
                [],
            );
        });

        it("reports a public endpoint where the stack requires a private one", async () => {
            const v = await theViolation(
                eksPrivateEndpoint,
                [component(changed(componentInputs, "endpointPublicAccess", true))],
                { requirePrivateEndpoint: true },
            );
            assert.strictEqual(
                v.message,
                'EKS cluster "gpu-platform-prod-eks" exposes its API endpoint outside the VPC, which this stack does not allow; set endpointPublicAccess to false.',
            );
        });

        it("reports unset endpoint settings, since EKS then opens the public endpoint", async () => {
            const v = await theViolation(
                eksPrivateEndpoint,
                [cluster(changed(clusterInputs, "vpcConfig", { subnetIds: ["subnet-1"] }))],
                { requirePrivateEndpoint: true },
            );
            assert.match(
                v.message,
                /set vpcConfig\.endpointPublicAccess to false and vpcConfig\.endpointPrivateAccess to true\.$/,
            );
        });
    });
});
