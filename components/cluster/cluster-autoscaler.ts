import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import { CHARTS } from "../shared/charts";
import { HelmValues, mergeValues, pinnedRelease } from "../shared/helm";
import { IrsaRole, OidcProvider } from "../shared/irsa";
import { CLUSTER_AUTOSCALER_IMAGE_TAGS, CPU_NODE_SELECTOR } from "@gpu-platform/catalog";
import { partitionOrProblem } from "../shared/arns";
import { throwIfInvalid } from "../shared/problems";
import { PACKAGE } from "../shared/tokens";

export const CLUSTER_AUTOSCALER_TYPE = `${PACKAGE}:cluster:ClusterAutoscaler`;

const SERVICE_ACCOUNT = "cluster-autoscaler";

export interface ClusterAutoscalerArgs {
    /** The EKS cluster whose node groups it discovers. Required. */
    clusterName: pulumi.Input<string>;
    /** Kubernetes minor version of the cluster, e.g. `"1.35"`; picks the newest autoscaler patch of that minor (catalog `CLUSTER_AUTOSCALER_IMAGE_TAGS`). Required. */
    kubernetesVersion: string;
    /** AWS region of the cluster's Auto Scaling groups. Required. */
    region: string;
    /** The cluster's OIDC provider, for the autoscaler's IRSA role. Required. */
    oidc: OidcProvider;
    /** ASGs of the node pools the autoscaler may resize (each `NodePool`'s `autoscalingGroupName`); its IAM role can change no others. Required. */
    autoscalingGroupNames: pulumi.Input<string>[];
    /** Minutes a node must be unneeded before it is removed. Default 5: idle GPU nodes are expensive. */
    scaleDownUnneededMinutes?: number;
    /** Helm values merged over the component's, last. Default none. */
    values?: HelmValues;
}

/**
 * Cluster Autoscaler for the platform's managed node groups, tuned for GPU pools: nodes leave
 * soon after they fall idle, DaemonSets (GPU Operator, DCGM) do not keep a node alive, and
 * GPU nodes get time to boot before the autoscaler gives up on them.
 *
 * Cost: one small pod on the CPU pool.
 */
export class ClusterAutoscaler extends pulumi.ComponentResource {
    public readonly role: aws.iam.Role;
    public readonly release: k8s.helm.v3.Release;

    constructor(name: string, args: ClusterAutoscalerArgs, opts?: pulumi.ComponentResourceOptions) {
        const region = partitionOrProblem("region", args.region);
        const version = CLUSTER_AUTOSCALER_IMAGE_TAGS[args.kubernetesVersion]
            ? []
            : [
                  {
                      key: "kubernetesVersion",
                      message: `"${args.kubernetesVersion}" has no autoscaler image in the catalog; known: ${Object.keys(CLUSTER_AUTOSCALER_IMAGE_TAGS).join(", ")}`,
                  },
              ];
        throwIfInvalid("ClusterAutoscaler", name, [...region.problems, ...version]);
        super(CLUSTER_AUTOSCALER_TYPE, name, {}, opts);
        const pin = CHARTS.clusterAutoscaler;

        const identity = aws.getCallerIdentityOutput({}, { parent: this });
        const asgArns = args.autoscalingGroupNames.map(
            (asg) =>
                pulumi.interpolate`arn:${region.partition!}:autoscaling:${args.region}:${identity.accountId}:autoScalingGroup:*:autoScalingGroupName/${asg}`,
        );
        this.role = new IrsaRole(
            `${name}-irsa`,
            {
                oidc: args.oidc,
                namespace: pin.namespace,
                serviceAccount: SERVICE_ACCOUNT,
                statements: [
                    {
                        Sid: "ResizeThisClustersNodeGroups",
                        Effect: "Allow",
                        Action: ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
                        Resource: asgArns,
                    },
                    {
                        // Describe calls cannot be scoped to resources; they read, never change.
                        Sid: "DiscoverNodeGroups",
                        Effect: "Allow",
                        Action: [
                            "autoscaling:DescribeAutoScalingGroups",
                            "autoscaling:DescribeAutoScalingInstances",
                            "autoscaling:DescribeLaunchConfigurations",
                            "autoscaling:DescribeScalingActivities",
                            "autoscaling:DescribeTags",
                            "ec2:DescribeImages",
                            "ec2:DescribeInstanceTypes",
                            "ec2:DescribeLaunchTemplateVersions",
                            "ec2:GetInstanceTypesFromInstanceRequirements",
                            "eks:DescribeNodegroup",
                        ],
                        Resource: "*",
                    },
                ],
            },
            { parent: this },
        ).role;

        this.release = pinnedRelease(
            `${name}-release`,
            pin,
            pulumi
                .all([args.clusterName, this.role.arn])
                .apply(([clusterName, roleArn]) =>
                    mergeValues(autoscalerValues(clusterName, roleArn, args), args.values),
                ),
            { parent: this },
        );
        this.registerOutputs({ roleArn: this.role.arn });
    }
}

/** The chart values: auto-discovery of this cluster's groups, IRSA, and GPU-minded scale-down. */
export function autoscalerValues(
    clusterName: string,
    roleArn: string,
    args: Pick<ClusterAutoscalerArgs, "kubernetesVersion" | "region" | "scaleDownUnneededMinutes">,
): HelmValues {
    const unneeded = `${args.scaleDownUnneededMinutes ?? 5}m`;
    return {
        cloudProvider: "aws",
        awsRegion: args.region,
        autoDiscovery: { clusterName },
        // The autoscaler's minor must match the cluster's; the newest patch of it, not the chart's .0.
        image: { tag: CLUSTER_AUTOSCALER_IMAGE_TAGS[args.kubernetesVersion] },
        rbac: {
            serviceAccount: {
                create: true,
                name: SERVICE_ACCOUNT,
                annotations: { "eks.amazonaws.com/role-arn": roleArn },
            },
        },
        nodeSelector: { ...CPU_NODE_SELECTOR },
        priorityClassName: "system-cluster-critical",
        extraArgs: {
            "balance-similar-node-groups": true,
            expander: "least-waste",
            "scale-down-unneeded-time": unneeded,
            "scale-down-delay-after-add": unneeded,
            // GPU Operator and DCGM DaemonSets run on every GPU node; they must not keep one alive.
            "ignore-daemonsets-utilization": true,
            "skip-nodes-with-system-pods": false,
            "skip-nodes-with-local-storage": false,
            // p4d/p5 nodes take several minutes to boot and load drivers.
            "max-node-provision-time": "20m",
            // A time-sliced or MIG node keeps its startup taint, and counts as still starting, until
            // it offers its GPU layout; MIG mode may reboot it first. Past this it counts as unready
            // and is removed after scale-down-unready-time (flags.go l.128, default 15m).
            "max-node-startup-time": "30m",
        },
    };
}
