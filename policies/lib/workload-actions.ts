/**
 * What each of the platform's IAM roles is for: the AWS actions its workload calls, each list
 * taken from the workload's code or its project's documented policy (named per entry). The pack
 * compares every grant of these roles with the list (iam-least-privilege): a grant the workload
 * never uses is a permission an attacker who takes the pod or task gets for free.
 *
 * A role is known by the component that creates it (its Pulumi type, in the resource's URN) and
 * the end of its policy's resource name, so the pack reads no component code. Data only: a leaf.
 */
export interface WorkloadActions {
    /** The component type that creates the policy (`gpu-platform:costs:CostTracker`). */
    readonly component: string;
    /** How the policy's resource name ends (`-task-policy`). */
    readonly policyNameEnd: string;
    /** Who uses the role, for messages. */
    readonly workload: string;
    /** The IAM actions it calls, as IAM names them. */
    readonly actions: readonly string[];
    /** Where the list comes from. */
    readonly source: string;
}

/** The reads External Secrets makes of one secret (external-secrets docs, "AWS Secrets Manager": the policy it documents). */
const EXTERNAL_SECRETS_READ = [
    "secretsmanager:GetResourcePolicy",
    "secretsmanager:GetSecretValue",
    "secretsmanager:DescribeSecret",
    "secretsmanager:ListSecretVersionIds",
];
const secretRead = (component: string, policyNameEnd: string, what: string): WorkloadActions => ({
    component,
    policyNameEnd,
    workload: `External Secrets reading ${what}`,
    actions: EXTERNAL_SECRETS_READ,
    source: 'external-secrets docs, provider "AWS Secrets Manager"',
});

export const WORKLOAD_ACTIONS: readonly WorkloadActions[] = [
    {
        component: "gpu-platform:costs:CostTracker",
        policyNameEnd: "-task-policy",
        workload: "the cost tracker service",
        // The AWS SDK commands services/cost-tracker/src sends (policies/test/workload-actions.spec.ts reads them from the code).
        actions: ["ce:GetCostAndUsage", "cloudwatch:GetMetricData", "sns:Publish"],
        source: "the AWS SDK commands services/cost-tracker/src sends",
    },
    {
        component: "gpu-platform:costs:CostTracker",
        policyNameEnd: "-execution-policy",
        workload: "the ECS agent starting the cost tracker's tasks",
        actions: [
            "ecr:GetAuthorizationToken",
            "ecr:BatchCheckLayerAvailability",
            "ecr:GetDownloadUrlForLayer",
            "ecr:BatchGetImage",
            "logs:CreateLogStream",
            "logs:PutLogEvents",
            "secretsmanager:GetSecretValue",
            "kms:Decrypt",
        ],
        source: 'Amazon ECS Developer Guide, "Amazon ECS task execution IAM role" (AmazonECSTaskExecutionRolePolicy; secrets: secretsmanager:GetSecretValue, kms:Decrypt for a customer key)',
    },
    {
        component: "gpu-platform:inference:InferencePipeline",
        policyNameEnd: "-worker-irsa-policy",
        workload: "the pipeline's worker",
        actions: [
            "s3:GetObject",
            "s3:PutObjectTagging",
            "s3:PutObject",
            "sqs:ReceiveMessage",
            "sqs:DeleteMessage",
            "sqs:ChangeMessageVisibility",
            "sqs:GetQueueAttributes",
            "kms:Decrypt",
            "kms:GenerateDataKey",
        ],
        source: "the worker contract, docs/inference-worker.md (SSE-KMS buckets add kms:Decrypt and kms:GenerateDataKey)",
    },
    {
        component: "gpu-platform:inference:InferencePipeline",
        policyNameEnd: "-scaler-irsa-policy",
        workload: "KEDA's aws-sqs-queue scaler",
        actions: ["sqs:GetQueueAttributes"],
        source: 'KEDA docs, scaler "AWS SQS Queue" (it reads ApproximateNumberOfMessages with GetQueueAttributes)',
    },
    {
        component: "gpu-platform:cluster:ClusterAutoscaler",
        policyNameEnd: "-irsa-policy",
        workload: "the cluster autoscaler",
        actions: [
            "autoscaling:DescribeAutoScalingGroups",
            "autoscaling:DescribeAutoScalingInstances",
            "autoscaling:DescribeLaunchConfigurations",
            "autoscaling:DescribeScalingActivities",
            "autoscaling:DescribeTags",
            "autoscaling:SetDesiredCapacity",
            "autoscaling:TerminateInstanceInAutoScalingGroup",
            "ec2:DescribeImages",
            "ec2:DescribeInstanceTypes",
            "ec2:DescribeLaunchTemplateVersions",
            "ec2:GetInstanceTypesFromInstanceRequirements",
            "eks:DescribeNodegroup",
        ],
        source: 'kubernetes/autoscaler, cluster-autoscaler/cloudprovider/aws/README.md, "Full Cluster Autoscaler Features Policy"',
    },
    {
        component: "gpu-platform:network:Network",
        policyNameEnd: "-flow-logs-policy",
        workload: "VPC Flow Logs delivering to CloudWatch Logs",
        actions: [
            "logs:CreateLogGroup",
            "logs:CreateLogStream",
            "logs:PutLogEvents",
            "logs:DescribeLogGroups",
            "logs:DescribeLogStreams",
        ],
        source: 'Amazon VPC User Guide, "IAM role for publishing flow logs to CloudWatch Logs"',
    },
    {
        component: "gpu-platform:cluster:DeployRunner",
        policyNameEnd: "-deploy-runner-policy",
        workload: "CodeBuild running the deploy runner in the VPC",
        actions: [
            "logs:CreateLogGroup",
            "logs:CreateLogStream",
            "logs:PutLogEvents",
            "ec2:CreateNetworkInterface",
            "ec2:DeleteNetworkInterface",
            "ec2:DescribeDhcpOptions",
            "ec2:DescribeNetworkInterfaces",
            "ec2:DescribeSecurityGroups",
            "ec2:DescribeSubnets",
            "ec2:DescribeVpcs",
            "ec2:CreateNetworkInterfacePermission",
            "codeconnections:GetConnection",
            "codeconnections:GetConnectionToken",
            "codestar-connections:GetConnection",
            "codestar-connections:GetConnectionToken",
        ],
        source: 'AWS CodeBuild User Guide, "Allow CodeBuild to interact with other AWS services" (the VPC and CloudWatch Logs statements) and "GitHub App connections"',
    },
    {
        component: "gpu-platform:portal:Mlflow",
        policyNameEnd: "-irsa-policy",
        workload: "MLflow's S3 artifact store",
        actions: ["s3:ListBucket", "s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
        source: 'MLflow docs, "Artifact Stores" (S3: list, get, put, delete; boto3\'s multipart uploads abort on failure)',
    },
    {
        component: "gpu-platform:portal:ServiceDatabases",
        policyNameEnd: "-irsa-policy",
        workload: "the database bootstrap job",
        actions: ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue", "secretsmanager:GetRandomPassword"],
        source: "the aws-cli calls of its job (components/portal/service-databases.ts, bootstrapJobSpec)",
    },
    {
        component: "gpu-platform:portal:LoadBalancerController",
        policyNameEnd: "-irsa-policy",
        workload: "the AWS Load Balancer Controller",
        actions: [
            "iam:CreateServiceLinkedRole",
            "ec2:DescribeAccountAttributes",
            "ec2:DescribeAddresses",
            "ec2:DescribeAvailabilityZones",
            "ec2:DescribeInternetGateways",
            "ec2:DescribeVpcs",
            "ec2:DescribeVpcPeeringConnections",
            "ec2:DescribeSubnets",
            "ec2:DescribeSecurityGroups",
            "ec2:DescribeInstances",
            "ec2:DescribeNetworkInterfaces",
            "ec2:DescribeTags",
            "ec2:GetCoipPoolUsage",
            "ec2:DescribeCoipPools",
            "ec2:GetSecurityGroupsForVpc",
            "ec2:DescribeIpamPools",
            "ec2:DescribeRouteTables",
            "elasticloadbalancing:DescribeLoadBalancers",
            "elasticloadbalancing:DescribeLoadBalancerAttributes",
            "elasticloadbalancing:DescribeListeners",
            "elasticloadbalancing:DescribeListenerCertificates",
            "elasticloadbalancing:DescribeSSLPolicies",
            "elasticloadbalancing:DescribeRules",
            "elasticloadbalancing:DescribeTargetGroups",
            "elasticloadbalancing:DescribeTargetGroupAttributes",
            "elasticloadbalancing:DescribeTargetHealth",
            "elasticloadbalancing:DescribeTags",
            "elasticloadbalancing:DescribeTrustStores",
            "elasticloadbalancing:DescribeListenerAttributes",
            "elasticloadbalancing:DescribeCapacityReservation",
            "cognito-idp:DescribeUserPoolClient",
            "acm:ListCertificates",
            "acm:DescribeCertificate",
            "iam:ListServerCertificates",
            "iam:GetServerCertificate",
            "waf-regional:GetWebACL",
            "waf-regional:GetWebACLForResource",
            "waf-regional:AssociateWebACL",
            "waf-regional:DisassociateWebACL",
            "wafv2:GetWebACL",
            "wafv2:GetWebACLForResource",
            "wafv2:AssociateWebACL",
            "wafv2:DisassociateWebACL",
            "shield:GetSubscriptionState",
            "shield:DescribeProtection",
            "shield:CreateProtection",
            "shield:DeleteProtection",
            "ec2:AuthorizeSecurityGroupIngress",
            "ec2:RevokeSecurityGroupIngress",
            "ec2:CreateSecurityGroup",
            "ec2:CreateTags",
            "ec2:DeleteTags",
            "ec2:DeleteSecurityGroup",
            "elasticloadbalancing:CreateLoadBalancer",
            "elasticloadbalancing:CreateTargetGroup",
            "elasticloadbalancing:CreateListener",
            "elasticloadbalancing:DeleteListener",
            "elasticloadbalancing:CreateRule",
            "elasticloadbalancing:DeleteRule",
            "elasticloadbalancing:AddTags",
            "elasticloadbalancing:RemoveTags",
            "elasticloadbalancing:ModifyLoadBalancerAttributes",
            "elasticloadbalancing:SetIpAddressType",
            "elasticloadbalancing:SetSecurityGroups",
            "elasticloadbalancing:SetSubnets",
            "elasticloadbalancing:DeleteLoadBalancer",
            "elasticloadbalancing:ModifyTargetGroup",
            "elasticloadbalancing:ModifyTargetGroupAttributes",
            "elasticloadbalancing:DeleteTargetGroup",
            "elasticloadbalancing:ModifyListenerAttributes",
            "elasticloadbalancing:ModifyCapacityReservation",
            "elasticloadbalancing:ModifyIpPools",
            "elasticloadbalancing:RegisterTargets",
            "elasticloadbalancing:DeregisterTargets",
            "elasticloadbalancing:SetWebAcl",
            "elasticloadbalancing:ModifyListener",
            "elasticloadbalancing:AddListenerCertificates",
            "elasticloadbalancing:RemoveListenerCertificates",
            "elasticloadbalancing:ModifyRule",
            "elasticloadbalancing:SetRulePriorities",
        ],
        // policies/test/workload-actions.spec.ts compares this list with a copy of that file (policies/test/fixtures).
        source: "kubernetes-sigs/aws-load-balancer-controller docs/install/iam_policy.json at tag v3.5.0 (the pinned chart's app version)",
    },
    secretRead("gpu-platform:portal:ServiceDatabases", "-master-secret-read", "the database's master secret"),
    secretRead("gpu-platform:portal:Mlflow", "-database-secret-read", "MLflow's database secret"),
    secretRead("gpu-platform:portal:ArgoCd", "-sso-secret-read", "Argo CD's SSO client secret"),
    secretRead("gpu-platform:portal:GitOps", "-repository-read", "the GitOps repository credentials"),
    secretRead("gpu-platform:portal:Backstage", "-secret-read", "Backstage's secrets"),
];

/** The entry for a policy resource: `typeChain` is the `$`-separated types of its URN. */
export function workloadOf(typeChain: readonly string[], name: string): WorkloadActions | undefined {
    return WORKLOAD_ACTIONS.find((w) => typeChain.includes(w.component) && name.endsWith(w.policyNameEnd));
}
