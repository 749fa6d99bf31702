/**
 * EKS baseline: Kubernetes secrets encrypted with a KMS key, and, where the stack's config asks
 * for it (prod), an API endpoint reachable only from inside the VPC.
 *
 * Both the `eks.Cluster` component (`eks:index:Cluster`) and the EKS resource it creates
 * (`aws:eks/cluster:Cluster`) are checked. The component's inputs are visible only in the
 * offline plan (the engine does not receive a component's inputs); in a real preview the
 * component arrives empty and its child cluster carries the settings, so each resource is
 * checked on what it shows and an empty component is passed over.
 */
import { CheckedResource, resourcePolicy } from "./lib/define";
import { asList, asRecord, isSet, isTrue, isUnknown } from "./lib/values";

const EKS_COMPONENT = "eks:index:Cluster";
const EKS_CLUSTER = "aws:eks/cluster:Cluster";

/** A component whose inputs the engine did not pass shows no properties at all. */
const inputsHidden = ({ type, props }: CheckedResource) => type === EKS_COMPONENT && Object.keys(props).length === 0;

export const eksSecretsEncryption = resourcePolicy({
    name: "eks-secrets-encryption",
    description:
        "EKS clusters encrypt Kubernetes secrets with a KMS key (envelope encryption): encryptionConfigKeyArn on eks.Cluster, " +
        'encryptionConfig { provider.keyArn, resources: ["secrets"] } on aws.eks.Cluster.',
    enforcementLevel: "mandatory",
    config: {},
    resourceTypes: [EKS_COMPONENT, EKS_CLUSTER],
    validate: (resource, _config, report) => {
        const { type, name, props } = resource;
        if (inputsHidden(resource)) return;
        if (type === EKS_COMPONENT) {
            if (!isSet(props.encryptionConfigKeyArn)) {
                report(
                    `EKS cluster "${name}" does not encrypt Kubernetes secrets; set encryptionConfigKeyArn to the ARN of a KMS key (with key rotation on).`,
                );
            }
            return;
        }
        const encryption = props.encryptionConfig;
        if (isUnknown(encryption)) return;
        const config = asRecord(encryption);
        const resources = config?.resources;
        const coversSecrets = isUnknown(resources) || asList(resources).includes("secrets");
        const keyArn = asRecord(config?.provider)?.keyArn;
        if (config && coversSecrets && isSet(keyArn)) return;
        report(
            `EKS cluster "${name}" does not encrypt Kubernetes secrets with a KMS key; set encryptionConfig to ` +
                '{ provider: { keyArn: <a KMS key ARN> }, resources: ["secrets"] }.',
        );
    },
});

export const eksPrivateEndpoint = resourcePolicy({
    name: "eks-private-endpoint",
    description:
        "With requirePrivateEndpoint (prod), the EKS API endpoint is reachable only from inside the VPC: endpointPublicAccess false and " +
        "endpointPrivateAccess true (eks.Cluster, or vpcConfig on aws.eks.Cluster; EKS makes the endpoint public when unset).",
    enforcementLevel: "mandatory",
    config: {
        requirePrivateEndpoint: { type: "boolean", description: "Require a private-only API endpoint.", default: true },
    },
    resourceTypes: [EKS_COMPONENT, EKS_CLUSTER],
    validate: (resource, { requirePrivateEndpoint }, report) => {
        if (!requirePrivateEndpoint || inputsHidden(resource)) return;
        const { type, name, props } = resource;
        const settings = type === EKS_COMPONENT ? props : asRecord(props.vpcConfig);
        const prefix = type === EKS_COMPONENT ? "" : "vpcConfig.";
        if (!settings || isUnknown(settings.endpointPublicAccess) || isUnknown(settings.endpointPrivateAccess)) return;
        // Unset, EKS opens the public endpoint and closes the private one.
        const problems = [
            ...(settings.endpointPublicAccess === false || settings.endpointPublicAccess === "false"
                ? []
                : [`${prefix}endpointPublicAccess to false`]),
            ...(isTrue(settings.endpointPrivateAccess) ? [] : [`${prefix}endpointPrivateAccess to true`]),
        ];
        if (problems.length === 0) return;
        report(
            `EKS cluster "${name}" exposes its API endpoint outside the VPC, which this stack does not allow; set ${problems.join(" and ")}.`,
        );
    },
});
