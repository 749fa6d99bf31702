import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { IrsaRole, OidcProvider } from "../shared/irsa";
import { PACKAGE } from "../shared/tokens";

export const CLUSTER_ADDONS_TYPE = `${PACKAGE}:cluster:ClusterAddons`;

export interface ClusterAddonsArgs {
    /** The EKS cluster to add them to (the `Cluster`'s `clusterName`). Required. */
    clusterName: pulumi.Input<string>;
    /** The cluster's OIDC provider, for the EBS CSI driver's IRSA role. Required. */
    oidc: OidcProvider;
}

/**
 * The EKS managed add-ons a GPU cluster needs beyond the network and DNS add-ons the cluster
 * brings: the Pod Identity agent, and the EBS CSI driver for model caches and checkpoints on
 * volumes. Created after the CPU pool, since an add-on with no node to run on never turns
 * active.
 */
export class ClusterAddons extends pulumi.ComponentResource {
    public readonly podIdentityAgent: aws.eks.Addon;
    public readonly ebsCsiDriver: aws.eks.Addon;

    constructor(name: string, args: ClusterAddonsArgs, opts?: pulumi.ComponentResourceOptions) {
        super(CLUSTER_ADDONS_TYPE, name, {}, opts);
        this.podIdentityAgent = new aws.eks.Addon(
            `${name}-pod-identity-agent`,
            { clusterName: args.clusterName, addonName: "eks-pod-identity-agent", resolveConflictsOnUpdate: "OVERWRITE" },
            { parent: this },
        );

        const ebsRole = new IrsaRole(
            `${name}-ebs-csi`,
            {
                oidc: args.oidc,
                namespace: "kube-system",
                serviceAccount: "ebs-csi-controller-sa",
                // AWS keeps this policy in step with the driver; it limits volume actions by EBS CSI tags.
                managedPolicyArns: ["arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"],
            },
            { parent: this },
        ).role;
        this.ebsCsiDriver = new aws.eks.Addon(
            `${name}-ebs-csi-driver`,
            { clusterName: args.clusterName, addonName: "aws-ebs-csi-driver", serviceAccountRoleArn: ebsRole.arn, resolveConflictsOnUpdate: "OVERWRITE" },
            { parent: this },
        );
        this.registerOutputs({});
    }
}
