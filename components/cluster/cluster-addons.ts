import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { GPU_CONFIG_STARTUP_TAINT, GPU_TAINT, managedPolicyArn } from "@gpu-platform/catalog";
import { partitionOrProblem } from "../shared/arns";
import { IrsaRole, OidcProvider } from "../shared/irsa";
import { throwIfInvalid } from "../shared/problems";
import { PACKAGE } from "../shared/tokens";

export const CLUSTER_ADDONS_TYPE = `${PACKAGE}:cluster:ClusterAddons`;

export interface ClusterAddonsArgs {
    /** The EKS cluster to add them to (the `Cluster`'s `clusterName`). Required. */
    clusterName: pulumi.Input<string>;
    /** The cluster's OIDC provider, for the EBS CSI driver's IRSA role. Required. */
    oidc: OidcProvider;
    /** AWS region of the cluster; its partition goes into the AWS-managed policy ARNs. Required. */
    region: string;
}

/**
 * The EKS managed add-ons a GPU cluster needs besides the VPC CNI (the `Cluster`'s own) and
 * kube-proxy (pulumi-eks's): CoreDNS, the Pod Identity agent, the EBS CSI driver for model
 * caches and checkpoints on volumes, and the node monitoring agent that lets node auto repair
 * see GPU failures. Created after the CPU pool, since an add-on whose pods have no node to run
 * on never turns active.
 */
export class ClusterAddons extends pulumi.ComponentResource {
    public readonly coreDns: aws.eks.Addon;
    public readonly podIdentityAgent: aws.eks.Addon;
    public readonly ebsCsiDriver: aws.eks.Addon;
    public readonly nodeMonitoringAgent: aws.eks.Addon;

    constructor(name: string, args: ClusterAddonsArgs, opts?: pulumi.ComponentResourceOptions) {
        const region = partitionOrProblem("region", args.region);
        throwIfInvalid("ClusterAddons", name, region.problems);
        super(CLUSTER_ADDONS_TYPE, name, {}, opts);
        const addon = (
            suffix: string,
            addonArgs: Omit<aws.eks.AddonArgs, "clusterName" | "resolveConflictsOnCreate" | "resolveConflictsOnUpdate">,
        ) =>
            new aws.eks.Addon(
                `${name}-${suffix}`,
                // OVERWRITE on create adopts what EKS installed itself with the cluster (CoreDNS).
                {
                    clusterName: args.clusterName,
                    resolveConflictsOnCreate: "OVERWRITE",
                    resolveConflictsOnUpdate: "OVERWRITE",
                    ...addonArgs,
                },
                { parent: this },
            );

        // pulumi-eks 4.3.0 creates the CoreDNS add-on only with a node group of its own, Fargate or
        // Auto Mode (nodejs/eks/cluster/cluster.ts l.1175-1184); the platform skips its node group,
        // so without this CoreDNS would stay the self-managed copy EKS installed, never updated.
        this.coreDns = addon("coredns", { addonName: "coredns" });
        this.podIdentityAgent = addon("pod-identity-agent", { addonName: "eks-pod-identity-agent" });

        const ebsRole = new IrsaRole(
            `${name}-ebs-csi`,
            {
                oidc: args.oidc,
                namespace: "kube-system",
                serviceAccount: "ebs-csi-controller-sa",
                // AWS keeps this policy in step with the driver; it limits volume actions by EBS CSI tags.
                managedPolicyArns: [managedPolicyArn(region.partition!, "service-role/AmazonEBSCSIDriverPolicy")],
            },
            { parent: this },
        ).role;
        this.ebsCsiDriver = addon("ebs-csi-driver", {
            addonName: "aws-ebs-csi-driver",
            serviceAccountRoleArn: ebsRole.arn,
        });

        // Node auto repair reacts to GPU failures only through this agent: it sets the node condition
        // AcceleratedHardwareReady (NVIDIA XID errors, DCGM diagnostics) that repair acts on; without
        // it repair sees kubelet readiness alone (EKS user guide, "Detect node health issues and
        // enable automatic node repair"). Its DCGM server tolerates nothing by default
        // (aws/eks-node-monitoring-agent v1.7.0 values.yaml dcgmAgent.tolerations: []), so it would
        // never run on the tainted GPU nodes it exists for; the add-on's schema allows tolerations.
        this.nodeMonitoringAgent = addon("node-monitoring-agent", {
            addonName: "eks-node-monitoring-agent",
            configurationValues: JSON.stringify({
                dcgmAgent: {
                    tolerations: [GPU_TAINT, GPU_CONFIG_STARTUP_TAINT].map((taint) => ({
                        key: taint.key,
                        operator: "Exists",
                        effect: taint.effect,
                    })),
                },
            }),
        });
        this.registerOutputs({});
    }
}
