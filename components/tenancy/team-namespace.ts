import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import {
    GPU_RESOURCE,
    LABELS,
    MIG_RESOURCE_PREFIX,
    SHARED_GPU_RESOURCE,
    catalogGpuResources,
    isGpuResource,
} from "@gpu-platform/catalog";
import { PLATFORM_MANAGED_LABEL, TENANCY_RULES, admissionExemptionLabel } from "@gpu-platform/catalog/admission";
import { eksAccessPolicyArn, partitionOrProblem } from "../shared/arns";
import { SettingProblem, throwIfInvalid } from "../shared/problems";
import { PACKAGE } from "../shared/tokens";

export const TEAM_NAMESPACE_TYPE = `${PACKAGE}:tenancy:TeamNamespace`;

/** EKS access policy a team's role gets, limited to its namespace: the Kubernetes `edit` role. */
export const TEAM_ACCESS_POLICY = "AmazonEKSEditPolicy";

/** Defaults of a team's quota (GPUs aside, see `TeamQuota`) and of its containers' requests. */
export const TEAM_NAMESPACE_DEFAULTS = {
    cpu: "64",
    memory: "512Gi",
    /** Requests a container gets when it sets none, so every pod counts against the quota. */
    containerRequests: { cpu: "250m", memory: "512Mi" },
} as const;

/** A GPU pool as a team's quota sees it: what one of its nodes advertises. A `NodePool` fits. */
export interface GpuPoolResources {
    /** Extended resources one node advertises (`nvidia.com/gpu`, `nvidia.com/gpu.shared`, `nvidia.com/mig-…`) and how many. */
    readonly nodeResources: Readonly<Record<string, number>>;
}

/**
 * What all the team's pods may request at once. A ResourceQuota leaves every resource it does
 * not list unlimited, so the GPU limits always list every GPU resource the catalog knows: by
 * default one node's worth of each resource `gpuPools` offer (of the pool whose node offers the
 * most) and 0 of every other.
 */
export interface TeamQuota {
    /** CPU all the team's pods may request at once. Default `"64"`. */
    cpu?: string;
    /** Memory all the team's pods may request at once. Default `"512Gi"`. */
    memory?: string;
    /** Whole GPUs (`nvidia.com/gpu`). Default one node's worth of the `gpuPools` of whole GPUs (8 for a p5.48xlarge pool), else 0. */
    gpus?: number;
    /** Time-sliced GPU replicas (`nvidia.com/gpu.shared`). Default one node's worth of the time-sliced `gpuPools` (24 for p4d.24xlarge × 3 replicas), else 0. */
    sharedGpus?: number;
    /**
     * MIG slices by profile, e.g. `{ "3g.40gb": 4 }`. Default, for each profile: one node's worth
     * of the `gpuPools` that make it (8 `3g.40gb` for a p4de.24xlarge pool cutting one per GPU);
     * 0 for every other profile the catalog knows.
     */
    mig?: Record<string, number>;
}

export interface TeamNamespaceArgs {
    /** Team name: the namespace's name and its `gpu-platform/team` label. Required. */
    team: string;
    /** Finance cost center, labelled on the namespace. Required. */
    costCenter: string;
    /** Monthly budget in USD, annotated on the namespace for cost reports. Default none. */
    monthlyBudgetUsd?: number;
    /** What the namespace may request at once. Default: see `TeamQuota`, field by field. */
    quota?: TeamQuota;
    /**
     * The GPU pools the team's pods may run on (`NodePool`s, or the platform stack's `nodePools`
     * outputs with `nodeResources` from their `resources`): they set the default GPU quotas.
     * Default none: no GPU of any kind until `quota` grants some.
     */
    gpuPools?: GpuPoolResources[];
    /** Pod Security Standard enforced on the namespace. Default `"restricted"`. */
    podSecurity?: "restricted" | "baseline";
    /**
     * Allow pods to reach HTTPS endpoints outside the namespace (S3, STS for IRSA, model hubs).
     * Default true. With false, pods reach only their own namespace and DNS.
     */
    httpsEgress?: boolean;
    /** The EKS cluster, for the team's access entry. Required with `iamRoleArn`; default none. */
    clusterName?: pulumi.Input<string>;
    /** IAM role whose sessions get `edit` in this namespace and nothing outside it. Default none. */
    iamRoleArn?: pulumi.Input<string>;
    /** AWS region of the cluster; its partition goes into the access policy's ARN. Required with `iamRoleArn`; default none. */
    region?: string;
    /**
     * Tenancy admission rules (catalog/admission `TENANCY_RULES`, by name) this namespace is
     * exempt from: the platform team's way to grant an exception. Default none.
     */
    admissionExemptions?: string[];
}

/** Every problem with the arguments, each naming its key, before anything is created. */
export function teamNamespaceArgsProblems(
    args: Pick<TeamNamespaceArgs, "admissionExemptions" | "iamRoleArn" | "clusterName" | "region">,
): SettingProblem[] {
    const problems = [...exemptionProblems(args.admissionExemptions ?? [])];
    if (!args.iamRoleArn) return problems;
    if (!args.clusterName)
        problems.push({
            key: "clusterName",
            message: "is required with iamRoleArn: the access entry belongs to a cluster",
        });
    if (!args.region)
        problems.push({
            key: "region",
            message: "is required with iamRoleArn: its partition goes into the access policy's ARN",
        });
    else problems.push(...partitionOrProblem("region", args.region).problems);
    return problems;
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
        throwIfInvalid("TeamNamespace", name, teamNamespaceArgsProblems(args));
        super(TEAM_NAMESPACE_TYPE, name, {}, opts);
        this.namespaceName = args.team;
        this.namespace = new k8s.core.v1.Namespace(
            `${name}-namespace`,
            {
                metadata: {
                    name: args.team,
                    labels: {
                        ...namespaceLabels(args.team, args.costCenter, args.podSecurity ?? "restricted"),
                        ...Object.fromEntries(
                            (args.admissionExemptions ?? []).map((rule) => [admissionExemptionLabel(rule), "exempt"]),
                        ),
                    },
                    annotations:
                        args.monthlyBudgetUsd !== undefined
                            ? { "gpu-platform/monthly-budget-usd": String(args.monthlyBudgetUsd) }
                            : undefined,
                },
            },
            { parent: this },
        );
        const inNamespace: pulumi.CustomResourceOptions = { parent: this, dependsOn: [this.namespace] };
        // The platform's own objects: only the platform may change them (gpu-platform-platform-objects).
        const metadata = (object: string) => ({
            name: object,
            namespace: args.team,
            labels: { [PLATFORM_MANAGED_LABEL.key]: PLATFORM_MANAGED_LABEL.value },
        });

        this.quota = new k8s.core.v1.ResourceQuota(
            `${name}-quota`,
            { metadata: metadata("team-quota"), spec: { hard: quotaHard(args.quota ?? {}, args.gpuPools ?? []) } },
            inNamespace,
        );
        this.limitRange = new k8s.core.v1.LimitRange(
            `${name}-limits`,
            {
                metadata: metadata("container-defaults"),
                // Default requests only. A default limit would be applied to containers that request
                // more than it and get them refused; CPU limits would also throttle data loaders.
                spec: {
                    limits: [{ type: "Container", defaultRequest: { ...TEAM_NAMESPACE_DEFAULTS.containerRequests } }],
                },
            },
            inNamespace,
        );
        this.networkPolicies = networkPolicySpecs(args.httpsEgress ?? true).map(
            ([policy, spec]) =>
                new k8s.networking.v1.NetworkPolicy(
                    `${name}-${policy}`,
                    { metadata: metadata(policy), spec },
                    inNamespace,
                ),
        );
        if (args.iamRoleArn)
            this.accessEntry = this.grantAccess(
                name,
                args.clusterName!,
                args.iamRoleArn,
                args.team,
                eksAccessPolicyArn(partitionOrProblem("region", args.region!).partition!, TEAM_ACCESS_POLICY), // validated
            );
        this.registerOutputs({ namespace: this.namespaceName });
    }

    /** The team's role, `edit` in its namespace only, through EKS access entries (no aws-auth ConfigMap). */
    private grantAccess(
        name: string,
        clusterName: pulumi.Input<string>,
        principalArn: pulumi.Input<string>,
        namespace: string,
        policyArn: string,
    ): aws.eks.AccessEntry {
        const entry = new aws.eks.AccessEntry(
            `${name}-access`,
            { clusterName, principalArn, type: "STANDARD" },
            { parent: this },
        );
        new aws.eks.AccessPolicyAssociation(
            `${name}-access-edit`,
            { clusterName, principalArn, policyArn, accessScope: { type: "namespace", namespaces: [namespace] } },
            { parent: this, dependsOn: [entry] },
        );
        return entry;
    }
}

function exemptionProblems(exemptions: readonly string[]) {
    const known: readonly string[] = Object.values(TENANCY_RULES);
    return exemptions.flatMap((rule, i) =>
        known.includes(rule)
            ? []
            : [
                  {
                      key: `admissionExemptions[${i}]`,
                      message: `"${rule}" is not a tenancy rule; name one of ${known.join(", ")}`,
                  },
              ],
    );
}

function namespaceLabels(
    team: string,
    costCenter: string,
    podSecurity: "restricted" | "baseline",
): Record<string, string> {
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

/**
 * The quota's `hard` limits, each as `requests.<resource>` (Kubernetes quotas extended
 * resources by requests only): CPU, memory, and every GPU resource, with the defaults
 * `TeamQuota` describes for what `quota` leaves out.
 */
export function quotaHard(quota: TeamQuota, gpuPools: readonly GpuPoolResources[]): Record<string, string> {
    const gpus = defaultGpuQuota(gpuPools);
    if (quota.gpus !== undefined) gpus[GPU_RESOURCE] = quota.gpus;
    if (quota.sharedGpus !== undefined) gpus[SHARED_GPU_RESOURCE] = quota.sharedGpus;
    for (const [profile, n] of Object.entries(quota.mig ?? {})) gpus[`${MIG_RESOURCE_PREFIX}${profile}`] = n;
    return {
        "requests.cpu": quota.cpu ?? TEAM_NAMESPACE_DEFAULTS.cpu,
        "requests.memory": quota.memory ?? TEAM_NAMESPACE_DEFAULTS.memory,
        ...Object.fromEntries(Object.entries(gpus).map(([resource, n]) => [`requests.${resource}`, String(n)])),
    };
}

/**
 * The default GPU quota: of each GPU resource the pools offer, as many as the node that offers
 * the most has (one node's worth), and 0 of every other GPU resource the catalog knows.
 */
export function defaultGpuQuota(gpuPools: readonly GpuPoolResources[]): Record<string, number> {
    const quota: Record<string, number> = Object.fromEntries(catalogGpuResources().map((resource) => [resource, 0]));
    for (const pool of gpuPools) {
        for (const [resource, n] of Object.entries(pool.nodeResources)) {
            if (isGpuResource(resource)) quota[resource] = Math.max(quota[resource] ?? 0, n);
        }
    }
    return quota;
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
            {
                podSelector: allPods,
                policyTypes: ["Ingress", "Egress"],
                ingress: [{ from: [{ podSelector: allPods }] }],
                egress: [{ to: [{ podSelector: allPods }] }],
            },
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
                egress: [
                    {
                        to: [{ ipBlock: { cidr: "0.0.0.0/0", except: ["169.254.169.254/32"] } }],
                        ports: [{ protocol: "TCP", port: 443 }],
                    },
                ],
            },
        ]);
    }
    return policies;
}
