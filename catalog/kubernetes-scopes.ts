/**
 * Which kinds are cluster-scoped: an object of one has no namespace, so the provider's default
 * namespace never applies to it (ProviderArgs.namespace "is ignored for cluster-scoped
 * resources", @pulumi/kubernetes 4.x provider.d.ts). Every other kind is read as namespaced, the
 * stricter reading for a kind the list does not know.
 *
 * Built-in kinds: the Kubernetes API reference (kubernetes/website, content/en/docs/reference/
 * kubernetes-api, v1.33: the resources whose endpoints have no `/namespaces/{namespace}/`).
 * Custom kinds: the CRDs' `spec.scope: Cluster` of the add-ons the platform installs.
 */
export const CLUSTER_SCOPED_KINDS: Readonly<Record<string, readonly string[]>> = {
    "": ["Namespace", "Node", "PersistentVolume", "ComponentStatus"],
    "rbac.authorization.k8s.io": ["ClusterRole", "ClusterRoleBinding"],
    "storage.k8s.io": ["StorageClass", "CSIDriver", "CSINode", "VolumeAttachment", "VolumeAttributesClass"],
    "scheduling.k8s.io": ["PriorityClass"],
    "node.k8s.io": ["RuntimeClass"],
    "networking.k8s.io": ["IngressClass", "IPAddress", "ServiceCIDR"],
    "apiextensions.k8s.io": ["CustomResourceDefinition"],
    "apiregistration.k8s.io": ["APIService"],
    "admissionregistration.k8s.io": [
        "ValidatingWebhookConfiguration",
        "MutatingWebhookConfiguration",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
        "MutatingAdmissionPolicy",
        "MutatingAdmissionPolicyBinding",
    ],
    "certificates.k8s.io": ["CertificateSigningRequest", "ClusterTrustBundle"],
    "flowcontrol.apiserver.k8s.io": ["FlowSchema", "PriorityLevelConfiguration"],
    "resource.k8s.io": ["DeviceClass", "ResourceSlice"],
    // external-secrets v2.x config/crds; Kueue v0.x config/components/crd; Karpenter v1 pkg/apis/crds.
    "external-secrets.io": ["ClusterSecretStore", "ClusterExternalSecret", "ClusterPushSecret"],
    "generators.external-secrets.io": ["ClusterGenerator"],
    "kueue.x-k8s.io": [
        "ClusterQueue",
        "ResourceFlavor",
        "AdmissionCheck",
        "Cohort",
        "Topology",
        "WorkloadPriorityClass",
    ],
    "karpenter.sh": ["NodePool", "NodeClaim"],
    "karpenter.k8s.aws": ["EC2NodeClass"],
    "cert-manager.io": ["ClusterIssuer"],
    "elbv2.k8s.aws": ["IngressClassParams"],
    "keda.sh": ["ClusterTriggerAuthentication"],
    "nvidia.com": ["ClusterPolicy", "NVIDIADriver"],
};

/** True when objects of `kind` in API group `group` ("" for core) have no namespace. */
export function isClusterScoped(group: string, kind: string): boolean {
    return CLUSTER_SCOPED_KINDS[group]?.includes(kind) ?? false;
}
