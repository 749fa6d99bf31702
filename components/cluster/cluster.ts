import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as eks from "@pulumi/eks";
import * as k8s from "@pulumi/kubernetes";
import { OidcProvider } from "../shared/irsa";
import { SettingProblem, throwIfInvalid } from "../shared/problems";
import { PACKAGE } from "../shared/tokens";

export const CLUSTER_TYPE = `${PACKAGE}:cluster:Cluster`;

/** Every control-plane log type EKS offers. */
export const CONTROL_PLANE_LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"];

export interface ClusterArgs {
    /** The EKS cluster's name; node group ASG tags and the autoscaler find the cluster by it. Required. */
    clusterName: string;
    /** Kubernetes minor version, e.g. `"1.35"`. Required. */
    kubernetesVersion: string;
    /** The VPC (the `Network`'s `vpcId`). Required. */
    vpcId: pulumi.Input<string>;
    /** Subnets for nodes and the control plane's network interfaces. Required. */
    privateSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
    /** Subnets for internet-facing load balancers. Required. */
    publicSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
    /**
     * `"private"`: the API is reachable only from inside the VPC. `"public-and-private"`: also from
     * `publicAccessCidrs`. Default `"private"`.
     */
    endpointAccess?: "public-and-private" | "private";
    /**
     * CIDRs allowed to reach the public endpoint, e.g. `["203.0.113.0/24"]`. Required with
     * `"public-and-private"` (EKS would open the endpoint to 0.0.0.0/0 without them), refused with
     * `"private"`. Default none.
     */
    publicAccessCidrs?: string[];
    /** IAM roles given cluster-admin through EKS access entries. Default none. */
    adminRoleArns?: pulumi.Input<string>[];
    /** Days control-plane logs are kept. Default 30. */
    logRetentionDays?: number;
    /** Refuse to delete the cluster (EKS deletion protection and Pulumi protect). Default false. */
    protect?: boolean;
    /**
     * What happens when the Kubernetes version leaves standard support: `"STANDARD"` upgrades the
     * control plane automatically; `"EXTENDED"` keeps the version at six times the hourly price.
     * Default `"STANDARD"` (EKS itself defaults to `"EXTENDED"`, a cost nobody chose).
     */
    supportType?: "STANDARD" | "EXTENDED";
}

/**
 * An EKS cluster for GPU workloads, with no node group of its own (add `NodePool`s):
 * API authentication through access entries, an OIDC provider for IRSA, secrets encrypted
 * with a customer-managed KMS key, every control-plane log type, NetworkPolicy enforcement by
 * the VPC CNI, and a private endpoint where configured.
 *
 * ```ts
 * const cluster = new Cluster("platform", {
 *     clusterName: "platform-prod", kubernetesVersion: "1.35",
 *     vpcId: network.vpcId, privateSubnetIds: network.privateSubnetIds, publicSubnetIds: network.publicSubnetIds,
 * });
 * ```
 *
 * Cost: the EKS control plane is billed per hour (about $73/month in standard support), the
 * KMS key per month; nodes come from the pools.
 */
export class Cluster extends pulumi.ComponentResource {
    public readonly eksCluster: eks.Cluster;
    public readonly clusterName: pulumi.Output<string>;
    public readonly kubeconfig: pulumi.Output<string>;
    public readonly oidc: { arn: pulumi.Output<string>; url: pulumi.Output<string> };
    public readonly secretsKey: aws.kms.Key;
    /** The IAM role every node pool's instances use. */
    public readonly nodeRole: aws.iam.Role;
    /** A Kubernetes provider for this cluster, for children that create Kubernetes objects. */
    public readonly provider: k8s.Provider;
    /** The API server's URL, for clients outside the cluster that authenticate with EKS tokens. */
    public readonly endpoint: pulumi.Output<string>;
    /** The cluster's certificate authority (base64 PEM), which such clients verify the API server against. */
    public readonly certificateAuthorityData: pulumi.Output<string>;
    /** The security group EKS gives the control plane and managed nodes; a rule naming it admits the cluster's nodes. */
    public readonly nodeSecurityGroupId: pulumi.Output<string>;
    /** An extra security group on the control plane's network interfaces only; an ingress rule on 443 admits a client to the API. */
    public readonly apiSecurityGroupId: pulumi.Output<string>;

    constructor(name: string, args: ClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        throwIfInvalid("Cluster", name, endpointAccessProblems("", args));
        super(CLUSTER_TYPE, name, {}, opts);
        const endpointAccess = args.endpointAccess ?? "private";
        const protect = args.protect ?? false;

        this.secretsKey = this.createSecretsKey(name, args.clusterName);
        const controlPlaneLogs = new aws.cloudwatch.LogGroup(
            `${name}-control-plane-logs`,
            // EKS writes to this fixed name; creating it first sets a retention instead of "never expire".
            { name: `/aws/eks/${args.clusterName}/cluster`, retentionInDays: args.logRetentionDays ?? 30 },
            { parent: this },
        );
        this.nodeRole = this.createNodeRole(name);

        this.eksCluster = new eks.Cluster(
            `${name}-eks`,
            {
                name: args.clusterName,
                version: args.kubernetesVersion,
                vpcId: args.vpcId,
                privateSubnetIds: args.privateSubnetIds,
                publicSubnetIds: args.publicSubnetIds,
                nodeAssociatePublicIpAddress: false,
                skipDefaultNodeGroup: true,
                authenticationMode: eks.AuthenticationMode.Api,
                accessEntries: adminAccessEntries(args.adminRoleArns ?? []),
                createOidcProvider: true,
                encryptionConfigKeyArn: this.secretsKey.arn,
                enabledClusterLogTypes: CONTROL_PLANE_LOG_TYPES,
                // The VPC CNI as a managed add-on with its network policy agent on: without it
                // EKS accepts NetworkPolicies and enforces none, and team isolation is a fiction.
                useDefaultVpcCni: false,
                vpcCniOptions: { enableNetworkPolicy: true },
                endpointPrivateAccess: true,
                endpointPublicAccess: endpointAccess === "public-and-private",
                publicAccessCidrs: endpointAccess === "public-and-private" ? args.publicAccessCidrs : undefined,
                deletionProtection: protect,
                upgradePolicy: { supportType: args.supportType ?? "STANDARD" },
            },
            { parent: this, dependsOn: [controlPlaneLogs], protect },
        );

        this.clusterName = this.eksCluster.eksCluster.name;
        this.kubeconfig = pulumi.secret(this.eksCluster.kubeconfigJson);
        this.oidc = { arn: this.eksCluster.oidcProviderArn, url: this.eksCluster.oidcProviderUrl };
        this.provider = new k8s.Provider(`${name}-k8s`, { kubeconfig: this.kubeconfig, enableServerSideApply: true }, { parent: this });
        this.endpoint = this.eksCluster.eksCluster.endpoint;
        this.certificateAuthorityData = this.eksCluster.eksCluster.certificateAuthority.data;
        this.nodeSecurityGroupId = this.eksCluster.eksCluster.vpcConfig.clusterSecurityGroupId;
        this.apiSecurityGroupId = this.eksCluster.clusterSecurityGroupId;

        this.registerOutputs({ clusterName: this.clusterName, kubeconfig: this.kubeconfig, oidcProviderArn: this.oidc.arn });
    }

    /** The OIDC details a component outside this stack needs for IRSA. */
    get oidcProvider(): OidcProvider {
        return this.oidc;
    }

    private createSecretsKey(name: string, clusterName: string): aws.kms.Key {
        const key = new aws.kms.Key(
            `${name}-secrets-key`,
            { description: `Envelope encryption of Kubernetes secrets in ${clusterName}`, enableKeyRotation: true, deletionWindowInDays: 30 },
            { parent: this },
        );
        new aws.kms.Alias(`${name}-secrets-key-alias`, { name: `alias/${clusterName}-secrets`, targetKeyId: key.keyId }, { parent: this });
        return key;
    }

    private createNodeRole(name: string): aws.iam.Role {
        const role = new aws.iam.Role(
            `${name}-node-role`,
            {
                assumeRolePolicy: JSON.stringify({
                    Version: "2012-10-17",
                    Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
                }),
            },
            { parent: this },
        );
        // What a managed node needs to join the cluster and pull images; SSM instead of SSH keys.
        const managedPolicies = {
            worker: "AmazonEKSWorkerNodePolicy",
            cni: "AmazonEKS_CNI_Policy",
            ecr: "AmazonEC2ContainerRegistryReadOnly",
            ssm: "AmazonSSMManagedInstanceCore",
        };
        const partition = aws.getPartitionOutput({}, { parent: this }).partition;
        for (const [short, policy] of Object.entries(managedPolicies)) {
            new aws.iam.RolePolicyAttachment(
                `${name}-node-${short}`,
                { role: role.name, policyArn: pulumi.interpolate`arn:${partition}:iam::aws:policy/${policy}` },
                { parent: this },
            );
        }
        return role;
    }
}

/**
 * Problems with the API endpoint's settings: a public endpoint must name the CIDRs it is open
 * to (EKS opens it to 0.0.0.0/0 when given none), and a private one takes none. Keys are
 * `prefix` + the argument's name, e.g. `cluster.` + `publicAccessCidrs`.
 */
export function endpointAccessProblems(prefix: string, args: Pick<ClusterArgs, "endpointAccess" | "publicAccessCidrs">): SettingProblem[] {
    const access = args.endpointAccess ?? "private";
    const cidrs = args.publicAccessCidrs ?? [];
    if (access === "public-and-private" && cidrs.length === 0) {
        return [
            {
                key: `${prefix}publicAccessCidrs`,
                message: 'is required with endpointAccess "public-and-private": list the CIDRs allowed to reach the API (none would open it to 0.0.0.0/0)',
            },
        ];
    }
    if (access === "private" && cidrs.length > 0) {
        return [
            {
                key: `${prefix}publicAccessCidrs`,
                message: `must be empty when the API endpoint is private; drop the CIDRs or set ${prefix}endpointAccess to "public-and-private"`,
            },
        ];
    }
    return [];
}

/** Access entries granting each admin role the EKS cluster-admin access policy, cluster-wide. */
export function adminAccessEntries(roleArns: pulumi.Input<string>[]): Record<string, eks.types.input.AccessEntryArgs> {
    return Object.fromEntries(
        roleArns.map((principalArn, i) => [
            `admin-${i}`,
            {
                principalArn,
                accessPolicies: {
                    clusterAdmin: {
                        policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
                        accessScope: { type: "cluster" },
                    },
                },
            },
        ]),
    );
}
