import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import { CPU_NODE_SELECTOR, PORTAL_NAMESPACES, partitionOf } from "@gpu-platform/catalog";
import { TEAM_INGRESS_CLASS_PREFIX } from "@gpu-platform/catalog/admission";
import { CHARTS } from "../shared/charts";
import { HelmValues, mergeValues, pinnedRelease } from "../shared/helm";
import { IrsaRole, OidcProvider, PolicyStatement } from "../shared/irsa";
import { SettingProblem, countProblems, throwIfInvalid } from "../shared/problems";
import { PACKAGE } from "../shared/tokens";

export const LOAD_BALANCER_CONTROLLER_TYPE = `${PACKAGE}:portal:LoadBalancerController`;

/** Where the controller runs and as whom; its IRSA role trusts exactly this service account. */
export const LOAD_BALANCER_CONTROLLER = {
    namespace: CHARTS.awsLoadBalancerController.namespace,
    serviceAccount: "aws-load-balancer-controller",
} as const;

export interface LoadBalancerControllerArgs {
    /** The EKS cluster's name; the chart requires it, and the controller tags what it creates with it. */
    clusterName: pulumi.Input<string>;
    /** AWS region, set explicitly: pods may not reach the instance metadata service (IMDSv2, one hop). */
    region: string;
    /** The VPC the load balancers go in, set explicitly for the same reason. */
    vpcId: pulumi.Input<string>;
    /** The VPC's CIDR block: what a team's internal ALB admits. */
    vpcCidr: pulumi.Input<string>;
    /** The cluster's OIDC provider, for the controller's IRSA role. */
    oidc: OidcProvider;
    /** Tags the controller puts on every load balancer, target group and security group it creates (the stack's budget tags). Default none. */
    defaultTags?: Record<string, string>;
    /** Controller replicas. Default 2 (leader election; one may be drained while the other serves webhooks). */
    replicas?: number;
    /**
     * What the portal's class (`alb`) admits. Its IngressClassParams fix these for every Ingress
     * of the class; an Ingress's own scheme, group or inbound-cidrs annotation cannot change them.
     */
    portalClass: PortalClassScope;
    /**
     * Team namespaces: each gets a class of its own, `team-<namespace>` (an internal ALB per team,
     * admitting the VPC), usable only from that namespace. Default none.
     */
    teamNamespaces?: string[];
    /** Helm values merged over the component's, last. Default none. */
    values?: HelmValues;
}

export interface PortalClassScope {
    /** Namespaces whose Ingresses may take the class. Default the portal's (PORTAL_NAMESPACES). */
    namespaces?: string[];
    scheme: "internal" | "internet-facing";
    groupName: string;
    /** Source CIDRs the ALB admits: the VPC's for an internal ALB, the named ranges for an internet-facing one. */
    inboundCidrs: pulumi.Input<string[]>;
}

/**
 * The AWS Load Balancer Controller (pinned `aws-load-balancer-controller` chart), which turns
 * `Ingress` objects of class `alb` into Application Load Balancers at run time. Its IRSA role
 * carries the IAM policy the controller documents (`docs/install/iam_policy.json` at the
 * chart's app version), statement by statement.
 *
 * ```ts
 * new LoadBalancerController("portal-alb", { clusterName, region: "us-east-1", vpcId, oidc: cluster.oidcProvider },
 *     { providers: { aws: awsProvider, kubernetes: cluster.provider } });
 * ```
 *
 * Two settings differ from the chart's defaults:
 * - `defaultTargetType: ip`: ALBs send traffic straight to pod IPs, so ClusterIP services work
 *   (the default `instance` needs NodePort services);
 * - `enableServiceMutatorWebhook: false`: that webhook intercepts every Service CREATE in the
 *   cluster with `failurePolicy: Fail`, so while the controller is not ready (first install,
 *   a node drain) no Service anywhere could be created. It only steers Services of type
 *   LoadBalancer to this controller, which the platform does not use. Ingresses are still
 *   validated by the controller's webhook, so they must wait for this release (`release`).
 *
 * Cost: two small pods on the CPU pool; the ALBs it creates are billed per hour (priced in the
 * plan from the Ingress objects, one ALB per ingress group).
 */
export class LoadBalancerController extends pulumi.ComponentResource {
    public readonly role: aws.iam.Role;
    public readonly release: k8s.helm.v3.Release;
    /** The ingress class its Ingresses name. */
    public readonly ingressClassName = "alb";
    /** Per team namespace, its own class. */
    public readonly teamClasses: Record<string, k8s.networking.v1.IngressClass> = {};

    constructor(name: string, args: LoadBalancerControllerArgs, opts?: pulumi.ComponentResourceOptions) {
        throwIfInvalid("LoadBalancerController", name, loadBalancerControllerArgsProblems(args));
        super(LOAD_BALANCER_CONTROLLER_TYPE, name, {}, opts);
        this.role = new IrsaRole(
            `${name}-irsa`,
            {
                oidc: args.oidc,
                ...LOAD_BALANCER_CONTROLLER,
                statements: loadBalancerControllerStatements(partitionOf(args.region) ?? "aws"),
            },
            { parent: this },
        ).role;
        this.release = pinnedRelease(
            `${name}-release`,
            CHARTS.awsLoadBalancerController,
            pulumi
                .all([args.clusterName, args.vpcId, this.role.arn, args.portalClass.inboundCidrs])
                .apply(([clusterName, vpcId, roleArn, inboundCidrs]) =>
                    mergeValues(
                        loadBalancerControllerValues({
                            clusterName,
                            region: args.region,
                            vpcId,
                            roleArn,
                            defaultTags: args.defaultTags,
                            replicas: args.replicas ?? 2,
                            portalClass: { ...args.portalClass, inboundCidrs },
                        }),
                        args.values,
                    ),
                ),
            { parent: this },
        );
        for (const namespace of args.teamNamespaces ?? [])
            this.teamClasses[namespace] = this.teamClass(name, namespace, args.vpcCidr);
        this.registerOutputs({ roleArn: this.role.arn });
    }

    /** A team's class and its parameters: that namespace only, internal, one group, the VPC's range. */
    private teamClass(name: string, namespace: string, vpcCidr: pulumi.Input<string>): k8s.networking.v1.IngressClass {
        const className = `${TEAM_INGRESS_CLASS_PREFIX}${namespace}`;
        const params = new k8s.apiextensions.CustomResource(
            `${name}-${className}-params`,
            {
                apiVersion: "elbv2.k8s.aws/v1beta1",
                kind: "IngressClassParams",
                metadata: { name: className },
                spec: pulumi
                    .output(vpcCidr)
                    .apply((cidr) => ingressClassParamsSpec([namespace], "internal", className, [cidr])),
            },
            { parent: this, dependsOn: [this.release] },
        );
        return new k8s.networking.v1.IngressClass(
            `${name}-${className}`,
            {
                metadata: { name: className },
                spec: {
                    controller: "ingress.k8s.aws/alb",
                    parameters: { apiGroup: "elbv2.k8s.aws", kind: "IngressClassParams", name: className },
                },
            },
            { parent: this, dependsOn: [params] },
        );
    }
}

export function loadBalancerControllerArgsProblems(
    args: Pick<LoadBalancerControllerArgs, "region" | "replicas">,
): SettingProblem[] {
    const problems: SettingProblem[] = [];
    if (!partitionOf(args.region))
        problems.push({ key: "region", message: `"${args.region}" is not an AWS region the catalog knows` });
    return [...problems, ...countProblems("replicas", args.replicas, 1)];
}

/** The chart values (aws-load-balancer-controller 3.5.0). */
export function loadBalancerControllerValues(s: {
    clusterName: string;
    region: string;
    vpcId: string;
    roleArn: string;
    defaultTags?: Record<string, string>;
    replicas: number;
    portalClass: PortalClassScope & { inboundCidrs: string[] };
}): HelmValues {
    const portal = s.portalClass;
    return {
        clusterName: s.clusterName,
        region: s.region,
        vpcId: s.vpcId,
        replicaCount: s.replicas,
        serviceAccount: {
            create: true,
            name: LOAD_BALANCER_CONTROLLER.serviceAccount,
            annotations: { "eks.amazonaws.com/role-arn": s.roleArn },
        },
        defaultTargetType: "ip",
        enableServiceMutatorWebhook: false,
        ingressClassParams: {
            create: true,
            spec: ingressClassParamsSpec(
                portal.namespaces ?? Object.values(PORTAL_NAMESPACES),
                portal.scheme,
                portal.groupName,
                portal.inboundCidrs,
            ),
        },
        defaultTags: { ...s.defaultTags },
        podDisruptionBudget: { maxUnavailable: 1 },
        nodeSelector: { ...CPU_NODE_SELECTOR },
        resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "256Mi" } },
    };
}

/**
 * An IngressClassParams spec (elbv2.k8s.aws/v1beta1 at v3.5.0, apis/elbv2/v1beta1/ingressclassparams_types.go):
 * the class admits Ingresses of these namespaces only (the controller refuses to reconcile any
 * other), and fixes their scheme, their group (one ALB) and the sources the ALB admits, whatever
 * the Ingresses' annotations say (docs/guide/ingress/ingress_class.md at v3.5.0).
 */
export function ingressClassParamsSpec(
    namespaces: readonly string[],
    scheme: "internal" | "internet-facing",
    groupName: string,
    inboundCidrs: readonly string[],
): HelmValues {
    return {
        namespaceSelector: {
            matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "In", values: [...namespaces] }],
        },
        scheme,
        group: { name: groupName },
        inboundCIDRs: [...inboundCidrs],
    };
}

/**
 * The controller's IAM policy, as `docs/install/iam_policy.json` of
 * kubernetes-sigs/aws-load-balancer-controller at tag v3.5.0 (16 statements, no Sids; sha256
 * 16f232c9…a20a6a), with `arn:aws` replaced by the region's partition as the repository's
 * partition variants do. Wildcard resources are the controller's own: it creates and discovers
 * load balancers, target groups and security groups by tag, and the tag conditions below are
 * what confine its writes to what it created (`elbv2.k8s.aws/cluster`).
 */
export function loadBalancerControllerStatements(partition: string): PolicyStatement[] {
    return [
        ...discoveryStatements(),
        ...securityGroupStatements(partition),
        ...loadBalancerCreationStatements(partition),
        ...loadBalancerChangeStatements(partition),
    ];
}

/** Only a request that sets the cluster tag: what the controller creates carries it. */
const CREATED_BY_CLUSTER = { Null: { "aws:RequestTag/elbv2.k8s.aws/cluster": "false" } };
/** Only a resource that carries the cluster tag: what the controller created. */
const OWNED_BY_CLUSTER = { Null: { "aws:ResourceTag/elbv2.k8s.aws/cluster": "false" } };
/** A tag change on an owned resource that does not set the cluster tag itself. */
const TAG_CHANGE_ON_OWNED = {
    Null: { "aws:RequestTag/elbv2.k8s.aws/cluster": "true", "aws:ResourceTag/elbv2.k8s.aws/cluster": "false" },
};

function allow(
    Action: string[],
    Resource: string | string[],
    Condition?: PolicyStatement["Condition"],
): PolicyStatement {
    return { Effect: "Allow", Action, Resource, ...(Condition ? { Condition } : {}) };
}

/** A wildcard-region, wildcard-account ARN in the given partition. */
function anyRegionArn(partition: string, service: string, resource: string): string {
    return `arn:${partition}:${service}:*:*:${resource}`;
}

function loadBalancersAndTargetGroups(partition: string): string[] {
    return ["targetgroup/*/*", "loadbalancer/net/*/*", "loadbalancer/app/*/*"].map((r) =>
        anyRegionArn(partition, "elasticloadbalancing", r),
    );
}

const EC2_DISCOVERY = [
    ...[
        "DescribeAccountAttributes",
        "DescribeAddresses",
        "DescribeAvailabilityZones",
        "DescribeInternetGateways",
        "DescribeVpcs",
        "DescribeVpcPeeringConnections",
    ],
    ...[
        "DescribeSubnets",
        "DescribeSecurityGroups",
        "DescribeInstances",
        "DescribeNetworkInterfaces",
        "DescribeTags",
        "GetCoipPoolUsage",
        "DescribeCoipPools",
    ],
    ...["GetSecurityGroupsForVpc", "DescribeIpamPools", "DescribeRouteTables"],
].map((a) => `ec2:${a}`);

const ELB_DISCOVERY = [
    ...[
        "DescribeLoadBalancers",
        "DescribeLoadBalancerAttributes",
        "DescribeListeners",
        "DescribeListenerCertificates",
        "DescribeSSLPolicies",
        "DescribeRules",
    ],
    ...[
        "DescribeTargetGroups",
        "DescribeTargetGroupAttributes",
        "DescribeTargetHealth",
        "DescribeTags",
        "DescribeTrustStores",
        "DescribeListenerAttributes",
    ],
    "DescribeCapacityReservation",
].map((a) => `elasticloadbalancing:${a}`);

const LISTENER_ADD_ONS = [
    ...[
        "cognito-idp:DescribeUserPoolClient",
        "acm:ListCertificates",
        "acm:DescribeCertificate",
        "iam:ListServerCertificates",
        "iam:GetServerCertificate",
    ],
    ...["waf-regional:GetWebACL", "waf-regional:GetWebACLForResource"],
    ...["waf-regional:AssociateWebACL", "waf-regional:DisassociateWebACL"],
    ...["wafv2:GetWebACL", "wafv2:GetWebACLForResource", "wafv2:AssociateWebACL", "wafv2:DisassociateWebACL"],
    ...["shield:GetSubscriptionState", "shield:DescribeProtection"],
    ...["shield:CreateProtection", "shield:DeleteProtection"],
];

/** Statements 0-2 of iam_policy.json @ v3.5.0: the service-linked role, discovery, listener add-ons. */
function discoveryStatements(): PolicyStatement[] {
    return [
        allow(["iam:CreateServiceLinkedRole"], "*", {
            StringEquals: { "iam:AWSServiceName": "elasticloadbalancing.amazonaws.com" },
        }),
        allow([...EC2_DISCOVERY, ...ELB_DISCOVERY], "*"),
        // certificates, WAF and Shield for the listeners
        allow(LISTENER_ADD_ONS, "*"),
    ];
}

/** Statements 3-7: the security groups the controller creates for its load balancers. */
function securityGroupStatements(partition: string): PolicyStatement[] {
    const securityGroups = anyRegionArn(partition, "ec2", "security-group/*");
    return [
        allow(["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"], "*"),
        allow(["ec2:CreateSecurityGroup"], "*"),
        // tag a security group only as it is created, with the cluster tag
        allow(["ec2:CreateTags"], securityGroups, {
            StringEquals: { "ec2:CreateAction": "CreateSecurityGroup" },
            ...CREATED_BY_CLUSTER,
        }),
        allow(["ec2:CreateTags", "ec2:DeleteTags"], securityGroups, TAG_CHANGE_ON_OWNED),
        allow(
            ["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress", "ec2:DeleteSecurityGroup"],
            "*",
            OWNED_BY_CLUSTER,
        ),
    ];
}

/** Statements 8-11: creating load balancers, target groups, listeners and rules, and tagging them. */
function loadBalancerCreationStatements(partition: string): PolicyStatement[] {
    const listenersAndRules = [
        "listener/net/*/*/*",
        "listener/app/*/*/*",
        "listener-rule/net/*/*/*",
        "listener-rule/app/*/*/*",
    ].map((r) => anyRegionArn(partition, "elasticloadbalancing", r));
    return [
        allow(
            ["elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:CreateTargetGroup"],
            "*",
            CREATED_BY_CLUSTER,
        ),
        allow(
            ["CreateListener", "DeleteListener", "CreateRule", "DeleteRule"].map((a) => `elasticloadbalancing:${a}`),
            "*",
        ),
        allow(
            ["elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"],
            loadBalancersAndTargetGroups(partition),
            TAG_CHANGE_ON_OWNED,
        ),
        allow(["elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"], listenersAndRules),
    ];
}

const OWNED_LOAD_BALANCER_CHANGES = [
    ...["ModifyLoadBalancerAttributes", "SetIpAddressType", "SetSecurityGroups", "SetSubnets"],
    ...["DeleteLoadBalancer", "ModifyTargetGroup", "ModifyTargetGroupAttributes", "DeleteTargetGroup"],
    ...["ModifyListenerAttributes", "ModifyCapacityReservation", "ModifyIpPools"],
].map((a) => `elasticloadbalancing:${a}`);

const LISTENER_CHANGES = [
    ...["SetWebAcl", "ModifyListener", "AddListenerCertificates", "RemoveListenerCertificates"],
    ...["ModifyRule", "SetRulePriorities"],
].map((a) => `elasticloadbalancing:${a}`);

/** Statements 12-15: changing what the controller owns, tagging on creation, targets, listeners. */
function loadBalancerChangeStatements(partition: string): PolicyStatement[] {
    return [
        allow(OWNED_LOAD_BALANCER_CHANGES, "*", OWNED_BY_CLUSTER),
        allow(["elasticloadbalancing:AddTags"], loadBalancersAndTargetGroups(partition), {
            StringEquals: { "elasticloadbalancing:CreateAction": ["CreateTargetGroup", "CreateLoadBalancer"] },
            ...CREATED_BY_CLUSTER,
        }),
        allow(
            ["elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"],
            anyRegionArn(partition, "elasticloadbalancing", "targetgroup/*/*"),
        ),
        allow(LISTENER_CHANGES, "*"),
    ];
}
