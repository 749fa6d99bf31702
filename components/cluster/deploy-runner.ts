import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import type { PolicyStatement } from "../shared/irsa";
import type { Partition } from "@gpu-platform/catalog";
import { partitionOrProblem } from "../shared/arns";
import { SettingProblem, throwIfInvalid } from "../shared/problems";
import { PACKAGE } from "../shared/tokens";

export const DEPLOY_RUNNER_TYPE = `${PACKAGE}:cluster:DeployRunner`;

/** CodeBuild's Amazon Linux 2023 standard image (x86_64); GitHub Actions steps bring their own tools (setup-node, the Pulumi CLI). */
const RUNNER_IMAGE = "aws/codebuild/amazonlinux-x86_64-standard:5.0";

export interface DeployRunnerArgs {
    /** The VPC of the cluster. Required. */
    vpcId: pulumi.Input<string>;
    /** Private subnets the runner works in; it reaches GitHub, npm, Pulumi's backend and AWS APIs through NAT. Required. */
    subnetIds: pulumi.Input<pulumi.Input<string>[]>;
    /** AWS region; its partition goes into the role's ARNs. Required. */
    region: string;
    /** The GitHub repository, `owner/name`, whose workflow jobs the runner takes. Required. */
    repository: string;
    /**
     * A CodeConnections connection to GitHub (`arn:aws:codeconnections:…`). Default none: the
     * account's CodeBuild credential for GitHub (CodeBuild console, "Connect to GitHub").
     */
    connectionArn?: string;
    /** The CodeBuild project's name; workflows pick the runner with `runs-on: codebuild-<name>-${{ github.run_id }}-${{ github.run_attempt }}`. Default `name`. */
    projectName?: string;
    /** CodeBuild compute type. Default `"BUILD_GENERAL1_MEDIUM"` (4 GiB, 2 vCPUs: a `pulumi up` of this program runs in it). */
    computeType?: string;
    /** Minutes a job may run. Default 180: a first `up` waits on node groups and Helm releases. */
    jobTimeoutMinutes?: number;
    /** Days the runner's logs are kept. Default 30. */
    logRetentionDays?: number;
    /**
     * The workflows (their `name:`) whose jobs the runner takes; a job of any other workflow never
     * starts a build. Default `["deploy", "preview"]`, this repository's workflows that need the
     * private API endpoint.
     */
    workflows?: string[];
    /**
     * GitHub account IDs (numeric, `sender.id` of the webhook payload: the account that triggered
     * the run) whose jobs the runner takes, e.g. the maintainers who may push to the protected
     * branch and the bot that merges. Default none: any account's job of a named workflow.
     */
    actorAccountIds?: string[];
}

export const DEPLOY_RUNNER_DEFAULTS = { workflows: ["deploy", "preview"] } as const;

/**
 * A GitHub Actions runner inside the cluster's VPC, for stacks whose Kubernetes API endpoint is
 * private: a CodeBuild project in the private subnets that takes the repository's workflow jobs
 * labelled `codebuild-<project>-…` (CodeBuild's managed GitHub Actions runners: a webhook on
 * WORKFLOW_JOB_QUEUED events), with a security group the `Cluster` admits to its API on 443
 * (`apiAccess.securityGroupIds`). GitHub-hosted runners have no stable address and cannot reach
 * a private endpoint.
 *
 * The runner adds a network path, not privileges: its role can write its logs and place its
 * network interfaces, nothing else. Jobs get AWS credentials as before, from GitHub's OIDC
 * provider (`aws-actions/configure-aws-credentials`), so the roles they assume keep their trust
 * conditions (repository, branch, environment). The webhook starts a build only for jobs of the
 * named workflows (`workflows`, filtered by CodeBuild, not by the workflow file); a job of any
 * other workflow that names the label never runs here. Use it with a private repository, or
 * require approval for outside contributors' workflows: a branch's copy of a named workflow
 * still matches, since CodeBuild cannot filter workflow jobs by branch (`runnerFilterGroups`).
 *
 * Cost: CodeBuild bills the minutes jobs run (usage, not estimated by the plan); nothing while idle.
 */
export class DeployRunner extends pulumi.ComponentResource {
    public readonly securityGroup: aws.ec2.SecurityGroup;
    public readonly role: aws.iam.Role;
    public readonly project: aws.codebuild.Project;
    public readonly webhook: aws.codebuild.Webhook;
    /** The `runs-on` label prefix; a job adds `-${{ github.run_id }}-${{ github.run_attempt }}`. */
    public readonly runsOn: string;

    constructor(name: string, args: DeployRunnerArgs, opts?: pulumi.ComponentResourceOptions) {
        const region = partitionOrProblem("region", args.region);
        throwIfInvalid("DeployRunner", name, [...region.problems, ...deployRunnerProblems("", args)]);
        super(DEPLOY_RUNNER_TYPE, name, {}, opts);
        const partition = region.partition!;
        const projectName = args.projectName ?? name;
        this.runsOn = `codebuild-${projectName}`;

        this.securityGroup = new aws.ec2.SecurityGroup(
            `${name}-sg`,
            {
                vpcId: args.vpcId,
                description: `GitHub Actions runner ${projectName}: no inbound, any outbound (GitHub, npm, Pulumi, AWS APIs through NAT)`,
                egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }],
            },
            { parent: this },
        );
        const logGroup = new aws.cloudwatch.LogGroup(
            `${name}-logs`,
            { name: `/aws/codebuild/${projectName}`, retentionInDays: args.logRetentionDays ?? 30 },
            { parent: this },
        );
        const { role, policy } = this.createRole(name, partition, args, logGroup);
        this.role = role;
        this.project = this.createProject(name, projectName, args, logGroup, policy);
        // CodeBuild-hosted GitHub Actions runners: one build per queued workflow job that names the
        // project in its runs-on label (AWS CodeBuild user guide, "Self-hosted GitHub Actions runners").
        this.webhook = new aws.codebuild.Webhook(
            `${name}-webhook`,
            {
                projectName: this.project.name,
                buildType: "BUILD",
                filterGroups: runnerFilterGroups(
                    args.workflows ?? [...DEPLOY_RUNNER_DEFAULTS.workflows],
                    args.actorAccountIds,
                ),
            },
            { parent: this },
        );
        this.registerOutputs({
            securityGroupId: this.securityGroup.id,
            roleArn: this.role.arn,
            projectName: this.project.name,
        });
    }

    /** The role CodeBuild runs the jobs as, with the runner's own statements; the policy, which the project waits for. */
    private createRole(
        name: string,
        partition: Partition,
        args: DeployRunnerArgs,
        logGroup: aws.cloudwatch.LogGroup,
    ): { role: aws.iam.Role; policy: aws.iam.RolePolicy } {
        const role = new aws.iam.Role(
            `${name}-role`,
            {
                assumeRolePolicy: JSON.stringify({
                    Version: "2012-10-17",
                    Statement: [
                        {
                            Effect: "Allow",
                            Principal: { Service: "codebuild.amazonaws.com" },
                            Action: "sts:AssumeRole",
                        },
                    ],
                }),
            },
            { parent: this },
        );
        const account = aws.getCallerIdentityOutput({}, { parent: this }).accountId;
        const policy = new aws.iam.RolePolicy(
            `${name}-policy`,
            {
                role: role.id,
                policy: pulumi.jsonStringify({
                    Version: "2012-10-17",
                    Statement: deployRunnerStatements(
                        partition,
                        args.region,
                        account,
                        logGroup.arn,
                        args.subnetIds,
                        args.connectionArn,
                    ),
                }),
            },
            { parent: this },
        );
        return { role, policy };
    }

    private createProject(
        name: string,
        projectName: string,
        args: DeployRunnerArgs,
        logGroup: aws.cloudwatch.LogGroup,
        policy: aws.iam.RolePolicy,
    ): aws.codebuild.Project {
        return new aws.codebuild.Project(
            `${name}-project`,
            {
                name: projectName,
                description: `GitHub Actions runner for ${args.repository} inside the VPC, for stacks with a private Kubernetes API`,
                serviceRole: this.role.arn,
                source: {
                    type: "GITHUB",
                    location: `https://github.com/${args.repository}.git`,
                    auth: args.connectionArn ? { type: "CODECONNECTIONS", resource: args.connectionArn } : undefined,
                },
                artifacts: { type: "NO_ARTIFACTS" },
                // Privileged: a deploy builds the cost tracker's image with BuildKit (@pulumi/docker-build),
                // and CodeBuild runs a Docker daemon only in privileged mode (CodeBuild user guide,
                // "Docker in custom image sample"). Set costTracker.image to deploy without building.
                environment: {
                    type: "LINUX_CONTAINER",
                    computeType: args.computeType ?? "BUILD_GENERAL1_MEDIUM",
                    image: RUNNER_IMAGE,
                    privilegedMode: true,
                },
                vpcConfig: { vpcId: args.vpcId, subnets: args.subnetIds, securityGroupIds: [this.securityGroup.id] },
                logsConfig: { cloudwatchLogs: { groupName: logGroup.name } },
                buildTimeout: args.jobTimeoutMinutes ?? 180,
            },
            // CodeBuild checks the role can manage network interfaces when the project is saved.
            { parent: this, dependsOn: [policy] },
        );
    }
}

/**
 * The webhook's one filter group: a queued workflow job (EVENT `WORKFLOW_JOB_QUEUED`) of one of
 * the named workflows (WORKFLOW_NAME, an anchored regular expression of the exact names) and,
 * when given, triggered by one of the named accounts (ACTOR_ACCOUNT_ID, documented with no event
 * restriction). The CodeBuild API reference (WebhookFilter; botocore
 * botocore/data/codebuild/2016-10-06/service-2.json) documents WORKFLOW_NAME for
 * WORKFLOW_JOB_QUEUED events only; HEAD_REF and BASE_REF for push and pull request events only,
 * so a workflow job cannot be filtered by branch; REPOSITORY_NAME and ORGANIZATION_NAME for
 * organization and global webhooks only, and this webhook belongs to one repository already. The
 * branch is held by the deploy roles' OIDC trust (`deployRoleTrustPolicy`: the environment and
 * the ref) and by the environments' deployment-branch rules.
 */
export function runnerFilterGroups(workflows: readonly string[], actorAccountIds: readonly string[] = []) {
    const names = workflows.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
    const filters = [
        { type: "EVENT", pattern: "WORKFLOW_JOB_QUEUED" },
        { type: "WORKFLOW_NAME", pattern: `^(${names.join("|")})$` },
    ];
    if (actorAccountIds.length > 0)
        filters.push({ type: "ACTOR_ACCOUNT_ID", pattern: `^(${actorAccountIds.join("|")})$` });
    return [{ filters }];
}

/**
 * The trust policy of a role that GitHub Actions jobs assume to deploy one stack: only a job of
 * `repository` in `environment` running on `branch`, through GitHub's OIDC provider. `sub` is
 * GitHub's default subject for a job with an environment (`repo:<repo>:environment:<env>`, GitHub
 * docs "OpenID Connect reference"), which does not name the branch; the `ref` claim does, and IAM
 * reads it as the condition key `token.actions.githubusercontent.com:ref` (AWS Service
 * Authorization Reference, AWS STS condition keys for AssumeRoleWithWebIdentity, with
 * `:repository` and `:environment`). So a job of another branch that names the environment, a
 * pull request, a tag or a fork is refused. The runner's own role holds no deploy permission
 * (`deployRunnerStatements`).
 */
export function deployRoleTrustPolicy(s: {
    partition: string;
    accountId: string;
    repository: string;
    environment: string;
    branch: string;
}) {
    const issuer = "token.actions.githubusercontent.com";
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Effect: "Allow",
                Principal: { Federated: `arn:${s.partition}:iam::${s.accountId}:oidc-provider/${issuer}` },
                Action: "sts:AssumeRoleWithWebIdentity",
                Condition: {
                    StringEquals: {
                        [`${issuer}:aud`]: "sts.amazonaws.com",
                        [`${issuer}:sub`]: `repo:${s.repository}:environment:${s.environment}`,
                        [`${issuer}:repository`]: s.repository,
                        [`${issuer}:environment`]: s.environment,
                        [`${issuer}:ref`]: `refs/heads/${s.branch}`,
                    },
                },
            },
        ],
    };
}

/** Problems with the runner's settings: a repository GitHub would accept, `owner/name`, and at least one named workflow. */
export function deployRunnerProblems(
    prefix: string,
    args: Pick<DeployRunnerArgs, "repository" | "workflows" | "actorAccountIds">,
): SettingProblem[] {
    const problems: SettingProblem[] = [];
    if (!/^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+$/.test(args.repository))
        problems.push({
            key: `${prefix}repository`,
            message: `is "${args.repository}"; name the GitHub repository as owner/name, e.g. acme/gpu-platform`,
        });
    (args.actorAccountIds ?? []).forEach((id, i) => {
        if (!/^[1-9]\d*$/.test(id))
            problems.push({
                key: `${prefix}actorAccountIds[${i}]`,
                message: `is "${id}"; give the account's numeric GitHub ID (GET https://api.github.com/users/<login>, field id)`,
            });
    });
    if (args.workflows && (args.workflows.length === 0 || args.workflows.some((w) => w.trim() === "")))
        problems.push({
            key: `${prefix}workflows`,
            message:
                "must name at least one workflow, each by its non-empty name: (an empty list would take every job)",
        });
    return problems;
}

/**
 * What a CodeBuild project in a VPC needs (AWS CodeBuild user guide, "Use CodeBuild with Amazon
 * VPC", service role policy): write its logs, create and clean up its network interfaces (the
 * Describe/Create/Delete calls take no resource scope), and attach them only to its subnets. Its
 * image is CodeBuild's own, pulled without ECR permissions. Every job on the runner can use this
 * role (CodeBuild hands it to the build container), so it holds nothing a deploy needs: the jobs
 * deploy as the roles they assume through GitHub's OIDC provider (`deployRoleTrustPolicy`).
 */
export function deployRunnerStatements(
    partition: string,
    region: string,
    account: pulumi.Input<string>,
    logGroupArn: pulumi.Input<string>,
    subnetIds: pulumi.Input<pulumi.Input<string>[]>,
    connectionArn: string | undefined,
): PolicyStatement[] {
    const subnetArns = pulumi
        .all([subnetIds, account])
        .apply(([ids, accountId]) => ids.map((id) => `arn:${partition}:ec2:${region}:${accountId}:subnet/${id}`));
    const statements: PolicyStatement[] = [
        {
            Sid: "WriteLogs",
            Effect: "Allow",
            Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
            Resource: [logGroupArn, pulumi.interpolate`${logGroupArn}:*`],
        },
        {
            Sid: "ManageNetworkInterfaces",
            Effect: "Allow",
            Action: [
                "ec2:CreateNetworkInterface",
                "ec2:DeleteNetworkInterface",
                "ec2:DescribeDhcpOptions",
                "ec2:DescribeNetworkInterfaces",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeSubnets",
                "ec2:DescribeVpcs",
            ],
            Resource: "*",
        },
        {
            Sid: "AttachInterfacesInItsSubnets",
            Effect: "Allow",
            Action: ["ec2:CreateNetworkInterfacePermission"],
            Resource: pulumi.interpolate`arn:${partition}:ec2:${region}:${account}:network-interface/*`,
            Condition: {
                StringEquals: { "ec2:AuthorizedService": "codebuild.amazonaws.com" },
                ArnEquals: { "ec2:Subnet": subnetArns },
            },
        },
    ];
    if (connectionArn) {
        statements.push({
            Sid: "UseGitHubConnection",
            Effect: "Allow",
            Action: [
                "codeconnections:GetConnection",
                "codeconnections:GetConnectionToken",
                "codestar-connections:GetConnection",
                "codestar-connections:GetConnectionToken",
            ],
            Resource: [connectionArn],
        });
    }
    return statements;
}
