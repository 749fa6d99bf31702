import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import { GPU_RESOURCE, LABELS, MIG_RESOURCE_PREFIX, PACKAGE, SHARED_GPU_RESOURCE } from "../shared/tokens";

export const TEAM_NAMESPACE_TYPE = `${PACKAGE}:tenancy:TeamNamespace`;

/** EKS access policy a team's role gets, limited to its namespace: the Kubernetes `edit` role. */
export const TEAM_ACCESS_POLICY_ARN = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy";

/** Defaults of a team's quota and of its containers' requests. */
export const TEAM_NAMESPACE_DEFAULTS = {
    cpu: "64",
    memory: "512Gi",
    gpus: 8,
    /** Requests a container gets when it sets none, so every pod counts against the quota. */
    containerRequests: { cpu: "250m", memory: "512Mi" },
} as const;

export interface TeamQuota {
    /** CPU all the team's pods may request at once. Default `"64"`. */
    cpu?: string;
    /** Memory all the team's pods may request at once. Default `"512Gi"`. */
    memory?: string;
    /** Whole GPUs (`nvidia.com/gpu`) requested at once. Default 8. */
    gpus?: number;
    /**
     * Time-sliced GPU replicas (`nvidia.com/gpu.shared`) requested at once. Left out, replicas
     * are not limited (the platform stack gives one node's worth by default). Default none.
     */
    sharedGpus?: number;
    /**
     * MIG slices requested at once, by profile, e.g. `{ "3g.40gb": 4 }`. A profile left out is not
     * limited at all, so name every profile the cluster makes (the platform stack gives each one
     * node's worth by default). Default none.
     */
    mig?: Record<string, number>;
}

export interface TeamNamespaceArgs {
    /** Team name: the namespace's name and its `gpu-platform/team` label. */
    team: string;
    /** Finance cost center, labelled on the namespace. */
    costCenter: string;
    /** Monthly budget in USD, annotated on the namespace for cost reports. Default none. */
    monthlyBudgetUsd?: number;
    /** What the namespace may request at once. */
    quota?: TeamQuota;
    /** Pod Security Standard enforced on the namespace. Default `"restricted"`. */
    podSecurity?: "restricted" | "baseline";
    /**
     * Allow pods to reach HTTPS endpoints outside the namespace (S3, STS for IRSA, model hubs).
     * Default true. With false, pods reach only their own namespace and DNS.
     */
    httpsEgress?: boolean;
    /** The EKS cluster, for the team's access entry. Required with `iamRoleArn`. */
    clusterName?: pulumi.Input<string>;
    /** IAM role whose sessions get `edit` in this namespace and nothing outside it. Default none. */
    iamRoleArn?: pulumi.Input<string>;
}

/**
 * A team's namespace on the shared GPU cluster: labelled with its team and cost center, Pod
 * Security enforced, a ResourceQuota on CPU, memory, GPUs and MIG slices, LimitRange defaults
 * so every container counts against that quota, default-deny networking with traffic inside
 * the namespace and DNS allowed, and the team's IAM role given `edit` in this namespace only.
 *
 * ```ts
 * new TeamNamespace("ml-research", {
 *     team: "ml-research", costCenter: "CC-1001", clusterName: cluster.clusterName,
 *     iamRoleArn: "arn:aws:iam::123456789012:role/ml-research", quota: { gpus: 16, mig: { "3g.40gb": 8 } },
 * }, { providers: { aws: awsProvider, kubernetes: cluster.provider } });
 * ```
 *
 * GPU quotas count what pods request, whole GPUs, time-sliced replicas and each MIG profile
 * apart. Kubernetes quotas on extended resources exist only as `requests.<resource>`.
 *
 * Cost: none of its own; it caps what the team's pods may run.
 */
export class TeamNamespace extends pulumi.ComponentResource {
    public readonly namespace: k8s.core.v1.Namespace;
    public readonly namespaceName: string;
    public readonly quota: k8s.core.v1.ResourceQuota;
    public readonly limitRange: k8s.core.v1.LimitRange;
    public readonly networkPolicies: k8s.networking.v1.NetworkPolicy[];
    public readonly accessEntry?: aws.eks.AccessEntry;

    constructor(name: string, args: TeamNamespaceArgs, opts?: pulumi.ComponentResourceOptions) {
        super(TEAM_NAMESPACE_TYPE, name, {}, opts);
        if (args.iamRoleArn && !args.clusterName) {
            throw new pulumi.InputPropertyError({ propertyPath: "clusterName", reason: "is required with iamRoleArn: the access entry belongs to a cluster" });
        }
        this.namespaceName = args.team;
        this.namespace = new k8s.core.v1.Namespace(
            `${name}-namespace`,
            {
                metadata: {
                    name: args.team,
                    labels: namespaceLabels(args.team, args.costCenter, args.podSecurity ?? "restricted"),
                    annotations: args.monthlyBudgetUsd !== undefined ? { "gpu-platform/monthly-budget-usd": String(args.monthlyBudgetUsd) } : undefined,
                },
            },
            { parent: this },
        );
        const inNamespace: pulumi.CustomResourceOptions = { parent: this, dependsOn: [this.namespace] };
        const metadata = (object: string) => ({ name: object, namespace: args.team });

        this.quota = new k8s.core.v1.ResourceQuota(`${name}-quota`, { metadata: metadata("team-quota"), spec: { hard: quotaHard(args.quota ?? {}) } }, inNamespace);
        this.limitRange = new k8s.core.v1.LimitRange(
            `${name}-limits`,
            {
                metadata: metadata("container-defaults"),
                // Default requests only. A default limit would be applied to containers that request
                // more than it and get them refused; CPU limits would also throttle data loaders.
                spec: { limits: [{ type: "Container", defaultRequest: { ...TEAM_NAMESPACE_DEFAULTS.containerRequests } }] },
            },
            inNamespace,
        );
        this.networkPolicies = networkPolicySpecs(args.httpsEgress ?? true).map(
            ([policy, spec]) => new k8s.networking.v1.NetworkPolicy(`${name}-${policy}`, { metadata: metadata(policy), spec }, inNamespace),
        );
        if (args.iamRoleArn) this.accessEntry = this.grantAccess(name, args.clusterName!, args.iamRoleArn, args.team);
        this.registerOutputs({ namespace: this.namespaceName });
    }

    /** The team's role, `edit` in its namespace only, through EKS access entries (no aws-auth ConfigMap). */
    private grantAccess(name: string, clusterName: pulumi.Input<string>, principalArn: pulumi.Input<string>, namespace: string): aws.eks.AccessEntry {
        const entry = new aws.eks.AccessEntry(`${name}-access`, { clusterName, principalArn, type: "STANDARD" }, { parent: this });
        new aws.eks.AccessPolicyAssociation(
            `${name}-access-edit`,
            { clusterName, principalArn, policyArn: TEAM_ACCESS_POLICY_ARN, accessScope: { type: "namespace", namespaces: [namespace] } },
            { parent: this, dependsOn: [entry] },
        );
        return entry;
    }
}

function namespaceLabels(team: string, costCenter: string, podSecurity: "restricted" | "baseline"): Record<string, string> {
    return {
        [LABELS.team]: team,
        [LABELS.costCenter]: costCenter,
        "pod-security.kubernetes.io/enforce": podSecurity,
        "pod-security.kubernetes.io/enforce-version": "latest",
        // Warn and audit at "restricted" even where "baseline" is enforced, so teams see what to fix.
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/audit": "restricted",
    };
}

/** The quota's `hard` limits: compute by requests, GPUs and each MIG profile as `requests.<resource>`. */
export function quotaHard(quota: TeamQuota): Record<string, string> {
    const defaults = TEAM_NAMESPACE_DEFAULTS;
    const hard: Record<string, string> = {
        "requests.cpu": quota.cpu ?? defaults.cpu,
        "requests.memory": quota.memory ?? defaults.memory,
        [`requests.${GPU_RESOURCE}`]: String(quota.gpus ?? defaults.gpus),
    };
    if (quota.sharedGpus !== undefined) hard[`requests.${SHARED_GPU_RESOURCE}`] = String(quota.sharedGpus);
    for (const [profile, n] of Object.entries(quota.mig ?? {})) hard[`requests.${MIG_RESOURCE_PREFIX}${profile}`] = String(n);
    return hard;
}

type NetworkPolicySpec = k8s.types.input.networking.v1.NetworkPolicySpec;

/**
 * Default deny in both directions, then: traffic among the namespace's own pods, DNS to
 * CoreDNS, and (unless turned off) HTTPS out of the cluster, but not to the instance metadata
 * service, whose node credentials pods must not use.
 */
export function networkPolicySpecs(httpsEgress: boolean): [string, NetworkPolicySpec][] {
    const allPods = {};
    const policies: [string, NetworkPolicySpec][] = [
        ["default-deny", { podSelector: allPods, policyTypes: ["Ingress", "Egress"] }],
        [
            "allow-same-namespace",
            { podSelector: allPods, policyTypes: ["Ingress", "Egress"], ingress: [{ from: [{ podSelector: allPods }] }], egress: [{ to: [{ podSelector: allPods }] }] },
        ],
        [
            "allow-dns",
            {
                podSelector: allPods,
                policyTypes: ["Egress"],
                egress: [
                    {
                        to: [
                            {
                                namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
                                podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
                            },
                        ],
                        ports: [
                            { protocol: "UDP", port: 53 },
                            { protocol: "TCP", port: 53 },
                        ],
                    },
                ],
            },
        ],
    ];
    if (httpsEgress) {
        policies.push([
            "allow-https-egress",
            {
                podSelector: allPods,
                policyTypes: ["Egress"],
                egress: [{ to: [{ ipBlock: { cidr: "0.0.0.0/0", except: ["169.254.169.254/32"] } }], ports: [{ protocol: "TCP", port: 443 }] }],
            },
        ]);
    }
    return policies;
}
