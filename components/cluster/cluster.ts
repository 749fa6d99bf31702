import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as eks from "@pulumi/eks";
import * as k8s from "@pulumi/kubernetes";
import { Partition, managedPolicyArn } from "@gpu-platform/catalog";
import { eksAccessPolicyArn, partitionOrProblem, sameRole } from "../shared/arns";
import { IrsaRole, OidcProvider } from "../shared/irsa";
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
    /** AWS region of the cluster, e.g. `"us-east-1"`; its partition goes into every AWS-managed ARN (`arn:aws-us-gov:…` in GovCloud). Required. */
    region: string;
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
    /** IAM roles given cluster-admin through EKS access entries. Must not include `creatorRoleArn`. Default none. */
    adminRoleArns?: pulumi.Input<string>[];
    /**
     * IAM roles given read-only access cluster-wide (EKS's AmazonEKSViewPolicy: most objects, no
     * Secrets), e.g. the role CI's `pulumi preview` runs as. That is all a preview without
     * `--refresh` reads: it diffs against the state, and the Kubernetes provider falls back to a
     * client-side preview when a server-side dry run is forbidden (pulumi-kubernetes
     * provider/pkg/provider/provider.go, Create and Update on `IsForbidden` in preview); Helm
     * Releases preview from the chart alone. Must not include `creatorRoleArn` or an admin role
     * (one access entry per role). Default none.
     */
    viewerRoleArns?: string[];
    /**
     * The IAM role that creates the cluster (runs its first `pulumi up`), e.g.
     * `"arn:aws:iam::123456789012:role/platform-deployer"`. EKS gives it cluster-admin itself:
     * pulumi-eks 4.3.0 always sets `bootstrapClusterCreatorAdminPermissions: true`
     * (nodejs/eks/cluster/cluster.ts l.739, pulumi/pulumi-eks#2373, open), so listing it in
     * `adminRoleArns` too would make a second access entry, which EKS refuses (409
     * ResourceInUseException). Declared, it is refused there. Default none (not checked).
     */
    creatorRoleArn?: string;
    /**
     * What may reach the API on port 443 besides the nodes: security groups in the VPC (a deploy
     * runner, a bastion) and CIDRs of connected networks (VPN, peered VPCs). With a private
     * endpoint this is the only way `pulumi up` and `kubectl` reach the cluster: pulumi-eks opens
     * its cluster security group to nothing when it creates no node group of its own. Default none.
     */
    apiAccess?: { securityGroupIds?: pulumi.Input<string>[]; cidrs?: string[] };
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
    /** The node role's AWS-managed policies; a node group must not exist without them (nor be deleted after them). */
    public readonly nodeRolePolicies: aws.iam.RolePolicyAttachment[];
    /** The VPC CNI add-on, with its own IRSA role; nodes without it never turn ready. */
    public readonly vpcCni: aws.eks.Addon;
    /** Ingress rules that admit `apiAccess` to the API on 443. */
    public readonly apiAccessRules: aws.ec2.SecurityGroupRule[];
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
        const region = partitionOrProblem("region", args.region);
        throwIfInvalid("Cluster", name, [
            ...region.problems,
            ...endpointAccessProblems("", args),
            ...clusterAccessProblems("", args),
        ]);
        super(CLUSTER_TYPE, name, {}, opts);
        const partition = region.partition!;
        const endpointAccess = args.endpointAccess ?? "private";
        const protect = args.protect ?? false;

        this.secretsKey = this.createSecretsKey(name, args.clusterName);
        const controlPlaneLogs = new aws.cloudwatch.LogGroup(
            `${name}-control-plane-logs`,
            // EKS writes to this fixed name; creating it first sets a retention instead of "never expire".
            { name: `/aws/eks/${args.clusterName}/cluster`, retentionInDays: args.logRetentionDays ?? 30 },
            { parent: this },
        );
        ({ role: this.nodeRole, policies: this.nodeRolePolicies } = this.createNodeRole(name, partition));

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
                accessEntries: {
                    ...adminAccessEntries(args.adminRoleArns ?? [], partition),
                    ...viewerAccessEntries(args.viewerRoleArns ?? [], partition),
                },
                createOidcProvider: true,
                encryptionConfigKeyArn: this.secretsKey.arn,
                enabledClusterLogTypes: CONTROL_PLANE_LOG_TYPES,
                // The VPC CNI add-on is this component's own (`vpcCni`): its IRSA role trusts this
                // cluster's OIDC provider, an output of this resource, so pulumi-eks's vpcCniOptions
                // cannot take it. true here means pulumi-eks creates no add-on (cluster.ts l.1091-1092).
                useDefaultVpcCni: true,
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
        this.provider = new k8s.Provider(
            `${name}-k8s`,
            { kubeconfig: this.kubeconfig, enableServerSideApply: true },
            { parent: this },
        );
        this.vpcCni = this.createVpcCni(name, partition);
        this.apiAccessRules = this.createApiAccessRules(name, args.apiAccess ?? {});
        this.endpoint = this.eksCluster.eksCluster.endpoint;
        this.certificateAuthorityData = this.eksCluster.eksCluster.certificateAuthority.data;
        this.nodeSecurityGroupId = this.eksCluster.eksCluster.vpcConfig.clusterSecurityGroupId;
        this.apiSecurityGroupId = this.eksCluster.clusterSecurityGroupId;

        this.registerOutputs({
            clusterName: this.clusterName,
            kubeconfig: this.kubeconfig,
            oidcProviderArn: this.oidc.arn,
        });
    }

    /** The OIDC details a component outside this stack needs for IRSA. */
    get oidcProvider(): OidcProvider {
        return this.oidc;
    }

    /** What a node pool's node group waits for: its role's policies and the VPC CNI's role. Pass it as the pool's `dependsOn`. */
    get nodePrerequisites(): pulumi.Resource[] {
        return [...this.nodeRolePolicies, this.vpcCni];
    }

    /**
     * The VPC CNI as a managed add-on with its own IRSA role, as EKS recommends ("Configure Amazon
     * VPC CNI plugin to use IRSA": the plugin's `aws-node` service account in kube-system gets
     * AmazonEKS_CNI_Policy, which then leaves the node role). Its network policy agent is on:
     * without it EKS accepts NetworkPolicies and enforces none, and team isolation is a fiction.
     * OVERWRITE adopts the aws-node DaemonSet EKS installed with the cluster.
     */
    private createVpcCni(name: string, partition: Partition): aws.eks.Addon {
        const irsa = new IrsaRole(
            `${name}-vpc-cni`,
            {
                oidc: this.oidc,
                namespace: "kube-system",
                serviceAccount: "aws-node",
                managedPolicyArns: [managedPolicyArn(partition, "AmazonEKS_CNI_Policy")],
            },
            { parent: this },
        );
        return new aws.eks.Addon(
            `${name}-vpc-cni`,
            {
                clusterName: this.clusterName,
                addonName: "vpc-cni",
                serviceAccountRoleArn: irsa.role.arn,
                // The key pulumi-eks writes for enableNetworkPolicy (nodejs/eks/addons/cni-addon.ts, v4.3.0).
                configurationValues: JSON.stringify({ enableNetworkPolicy: "true" }),
                resolveConflictsOnCreate: "OVERWRITE",
                resolveConflictsOnUpdate: "OVERWRITE",
                // Deleting the add-on resource must not take pod networking down with it.
                preserve: true,
            },
            { parent: this, dependsOn: irsa.attachments },
        );
    }

    /**
     * Ingress on 443 to the security group pulumi-eks puts on the control plane's interfaces
     * (`clusterSecurityGroupId`; EKS attaches it to those interfaces only, not to nodes: EKS user
     * guide, "View Amazon EKS security group requirements"). With a private endpoint, "you must
     * ensure that your Amazon EKS control plane security group contains rules to allow ingress
     * traffic on port 443 from your connected network" (EKS user guide, "Cluster API server endpoint").
     */
    private createApiAccessRules(
        name: string,
        access: NonNullable<ClusterArgs["apiAccess"]>,
    ): aws.ec2.SecurityGroupRule[] {
        const rule = (
            suffix: string,
            source: Pick<aws.ec2.SecurityGroupRuleArgs, "sourceSecurityGroupId" | "cidrBlocks">,
            description: string,
        ) =>
            new aws.ec2.SecurityGroupRule(
                `${name}-api-from-${suffix}`,
                {
                    type: "ingress",
                    protocol: "tcp",
                    fromPort: 443,
                    toPort: 443,
                    securityGroupId: this.eksCluster.clusterSecurityGroupId,
                    description,
                    ...source,
                },
                { parent: this },
            );
        const rules = (access.securityGroupIds ?? []).map((sourceSecurityGroupId, i) =>
            rule(`sg-${i}`, { sourceSecurityGroupId }, "Kubernetes API from a deploy runner or bastion in the VPC"),
        );
        if (access.cidrs?.length)
            rules.push(rule("cidrs", { cidrBlocks: access.cidrs }, "Kubernetes API from connected networks"));
        return rules;
    }

    private createSecretsKey(name: string, clusterName: string): aws.kms.Key {
        const key = new aws.kms.Key(
            `${name}-secrets-key`,
            {
                description: `Envelope encryption of Kubernetes secrets in ${clusterName}`,
                enableKeyRotation: true,
                deletionWindowInDays: 30,
            },
            { parent: this },
        );
        new aws.kms.Alias(
            `${name}-secrets-key-alias`,
            { name: `alias/${clusterName}-secrets`, targetKeyId: key.keyId },
            { parent: this },
        );
        return key;
    }

    private createNodeRole(
        name: string,
        partition: Partition,
    ): { role: aws.iam.Role; policies: aws.iam.RolePolicyAttachment[] } {
        const role = new aws.iam.Role(
            `${name}-node-role`,
            {
                assumeRolePolicy: JSON.stringify({
                    Version: "2012-10-17",
                    Statement: [
                        { Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" },
                    ],
                }),
            },
            { parent: this },
        );
        // What a managed node needs to join the cluster and pull images; SSM instead of SSH keys.
        // No AmazonEKS_CNI_Policy: the VPC CNI has its own role (createVpcCni), as EKS advises
        // ("Amazon EKS node IAM role": remove it from the node role once aws-node has a role).
        const managedPolicies = {
            worker: "AmazonEKSWorkerNodePolicy",
            ecr: "AmazonEC2ContainerRegistryReadOnly",
            ssm: "AmazonSSMManagedInstanceCore",
        };
        const policies = Object.entries(managedPolicies).map(
            ([short, policy]) =>
                new aws.iam.RolePolicyAttachment(
                    `${name}-node-${short}`,
                    { role: role.name, policyArn: managedPolicyArn(partition, policy) },
                    { parent: this },
                ),
        );
        return { role, policies };
    }
}

/**
 * Problems with the API endpoint's settings: a public endpoint must name the CIDRs it is open
 * to (EKS opens it to 0.0.0.0/0 when given none), and a private one takes none. Keys are
 * `prefix` + the argument's name, e.g. `cluster.` + `publicAccessCidrs`.
 */
export function endpointAccessProblems(
    prefix: string,
    args: Pick<ClusterArgs, "endpointAccess" | "publicAccessCidrs">,
): SettingProblem[] {
    const access = args.endpointAccess ?? "private";
    const cidrs = args.publicAccessCidrs ?? [];
    if (access === "public-and-private" && cidrs.length === 0) {
        return [
            {
                key: `${prefix}publicAccessCidrs`,
                message:
                    'is required with endpointAccess "public-and-private": list the CIDRs allowed to reach the API (none would open it to 0.0.0.0/0)',
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

/**
 * Problems with who may reach and administer the cluster: the creator's role listed again as an
 * admin (EKS already made it one, and refuses a second entry), and API access open to the world.
 */
export function clusterAccessProblems(
    prefix: string,
    args: Pick<ClusterArgs, "creatorRoleArn" | "adminRoleArns" | "viewerRoleArns" | "apiAccess">,
    viewerKey = "viewerRoleArns",
): SettingProblem[] {
    const problems: SettingProblem[] = [...viewerRoleProblems(prefix, args, viewerKey)];
    const creator = args.creatorRoleArn;
    (args.adminRoleArns ?? []).forEach((arn, i) => {
        if (creator && typeof arn === "string" && sameRole(arn, creator)) {
            problems.push({
                key: `${prefix}adminRoleArns[${i}]`,
                message:
                    `is ${prefix}creatorRoleArn, which EKS already made cluster admin when it created the cluster (pulumi-eks 4.3.0 always sets ` +
                    "bootstrapClusterCreatorAdminPermissions, pulumi/pulumi-eks#2373); a second access entry fails with 409: remove it here",
            });
        }
    });
    (args.apiAccess?.cidrs ?? []).forEach((cidr, i) => {
        if (Number(cidr.split("/")[1]) === 0) {
            problems.push({
                key: `${prefix}apiAccess.cidrs[${i}]`,
                message: `is ${cidr}, the whole internet; list the networks of your runners and VPN`,
            });
        }
    });
    return problems;
}

/**
 * A viewer role that already has an access entry (the creator's, an admin's, or an earlier
 * viewer's): EKS allows one entry per principal and refuses a second with 409.
 */
function viewerRoleProblems(
    prefix: string,
    args: Pick<ClusterArgs, "creatorRoleArn" | "adminRoleArns" | "viewerRoleArns">,
    viewerKey: string,
): SettingProblem[] {
    const problems: SettingProblem[] = [];
    const admins = (args.adminRoleArns ?? []).filter((arn): arn is string => typeof arn === "string");
    const viewers = args.viewerRoleArns ?? [];
    viewers.forEach((arn, i) => {
        const key = `${prefix}${viewerKey}[${i}]`;
        const earlier = viewers.slice(0, i).findIndex((other) => sameRole(other, arn));
        if (args.creatorRoleArn && sameRole(arn, args.creatorRoleArn)) {
            problems.push({ key, message: `is ${prefix}creatorRoleArn, already cluster admin: use a read-only role` });
        } else if (admins.some((admin) => sameRole(admin, arn))) {
            problems.push({
                key,
                message: `is also in ${prefix}adminRoleArns; a role has one access entry: use a read-only role`,
            });
        } else if (earlier >= 0) {
            problems.push({ key, message: `duplicates ${prefix}${viewerKey}[${earlier}]; list each role once` });
        }
    });
    return problems;
}

/**
 * Access entries granting each viewer role EKS's AmazonEKSViewPolicy cluster-wide (EKS user
 * guide, "Review access policy permissions": read most objects, not Secrets).
 */
export function viewerAccessEntries(
    roleArns: string[],
    partition: Partition,
): Record<string, eks.types.input.AccessEntryArgs> {
    return Object.fromEntries(
        roleArns.map((principalArn, i) => [
            `viewer-${i}`,
            {
                principalArn,
                accessPolicies: {
                    view: {
                        policyArn: eksAccessPolicyArn(partition, "AmazonEKSViewPolicy"),
                        accessScope: { type: "cluster" },
                    },
                },
            },
        ]),
    );
}

/** Access entries granting each admin role the EKS cluster-admin access policy, cluster-wide, in the cluster's partition. */
export function adminAccessEntries(
    roleArns: pulumi.Input<string>[],
    partition: Partition,
): Record<string, eks.types.input.AccessEntryArgs> {
    return Object.fromEntries(
        roleArns.map((principalArn, i) => [
            `admin-${i}`,
            {
                principalArn,
                accessPolicies: {
                    clusterAdmin: {
                        policyArn: eksAccessPolicyArn(partition, "AmazonEKSClusterAdminPolicy"),
                        accessScope: { type: "cluster" },
                    },
                },
            },
        ]),
    );
}
