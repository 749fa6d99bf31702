import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";

/**
 * A namespace for one of the portal's services, created before its secrets and its release so
 * that the synced Secrets exist when the pods start. It is the platform's own (catalog
 * `PORTAL_NAMESPACES`, among the policy pack's system namespaces), so it carries no team label.
 * Pod Security "baseline" is enforced, since third-party charts do not all meet "restricted";
 * "restricted" is warned and audited, so the gaps show.
 */
export function portalNamespace(
    name: string,
    namespace: string,
    opts: pulumi.CustomResourceOptions,
): k8s.core.v1.Namespace {
    return new k8s.core.v1.Namespace(
        name,
        {
            metadata: {
                name: namespace,
                labels: {
                    "pod-security.kubernetes.io/enforce": "baseline",
                    "pod-security.kubernetes.io/enforce-version": "latest",
                    "pod-security.kubernetes.io/warn": "restricted",
                    "pod-security.kubernetes.io/audit": "restricted",
                },
            },
        },
        opts,
    );
}
